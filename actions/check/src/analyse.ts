import {
  checkRepo,
  createSpecMemo,
  CODEOWNERS_FILE,
  hasErrors,
  planChange,
  renderStaleDiagnostics,
  sortDiagnostics,
  USERS_FILE,
  validateRepo,
  type Diagnostic,
  type Plan,
  type RenderDiff,
  type RepoSnapshot,
  type Timestamps,
} from "../../../generator/src";
import { createGit, readCommitSnapshot } from "../../../generator/src/io/git";
import { emptySnapshot } from "../../../generator/src/io/working-tree";
import { codeownersDiagnostics } from "./codeowners-check";
import type { CheckContext } from "./context";
import { changedFiles, commitTime, fileAt, mergeBase, remoteBranchTip, resolveCommit } from "./git-changes";
import { checkOwnership } from "./ownership";
import { RENDER_COMMAND, RESTORE_FROM } from "./render-check";

export interface Analysis {
  /** One line for the summary: what was checked. */
  readonly subject: string;
  /** The commit the plan and served names are for: the PR head, or the pushed commit. */
  readonly headSha: string;
  /** The commit whose tree was validated: the checkout (on a PR, GitHub's merge commit). */
  readonly treeSha: string;
  readonly changed: readonly string[];
  /** False when the change touches nothing the core reads: only ownership was checked. */
  readonly relevant: boolean;
  /** Every diagnostic, sorted. */
  readonly diagnostics: readonly Diagnostic[];
  readonly plan: Plan;
  /** Present when the tree validated and was rendered. */
  readonly render?: { readonly diff: RenderDiff; readonly fragments: number };
  /** What served names and new fragments are based on, for commit-rendered. */
  readonly now: Date;
  readonly baseTimestamps: Timestamps;
}

/** Does a change touch what the core reads, or the file it renders? Otherwise the check exits fast. */
export const isRelevant = (path: string): boolean =>
  path.startsWith("models/") || path.startsWith("clusters/") || path === CODEOWNERS_FILE;

/** Read base and head from git and run every check. The judging itself is the core's and the pure modules'. */
export async function analyse(ctx: CheckContext): Promise<Analysis> {
  const git = createGit(ctx.workspace);
  const treeSha = await resolveCommit(git, "HEAD");
  const pull = ctx.pull;
  const headSha = pull ? await resolveCommit(git, pull.headSha) : treeSha;
  const base = pull
    ? await mergeBase(git, treeSha, headSha, pull.baseSha)
    : ctx.before
      ? await resolveCommit(git, ctx.before).catch(() => undefined)
      : undefined;
  const changed = base ? await changedFiles(git, base, headSha) : [];
  const subject = pull
    ? `Pull request #${pull.number} by @${pull.author}: ${changed.length} changed file${changed.length === 1 ? "" : "s"}, base \`${base!.slice(0, 7)}\`, head \`${headSha.slice(0, 7)}\`, validated as \`${treeSha.slice(0, 7)}\`${pull.fork ? " (from a fork)" : ""}.`
    : `${ctx.eventName || "push"} at \`${treeSha.slice(0, 7)}\`${base ? ` (since \`${base.slice(0, 7)}\`: ${changed.length} changed files)` : ""}.`;

  const ownership: Diagnostic[] = [];
  if (pull && base) {
    // Rights come from the default branch: a PR that edits users.yaml cannot grant itself anything, and
    // neither can a PR into a branch its author controls (retargeted to main later, it runs again: `edited`).
    const onDefault = pull.baseRef === pull.defaultBranch;
    const rights = onDefault ? base : await remoteBranchTip(git, pull.defaultBranch);
    const text = await fileAt(git, rights, USERS_FILE);
    const users =
      text === undefined ? undefined : validateRepo(snapshotOf(USERS_FILE, text, rights)).model.users;
    const source = onDefault ? "the base branch" : `the default branch ${pull.defaultBranch}`;
    ownership.push(...checkOwnership(pull.author, changed, users, { source }));
    // The person who started this run (pushed, or edited or reopened the PR) must be entitled as well: an
    // author's rights do not extend to commits someone else pushes to the branch.
    if (pull.sender)
      ownership.push(
        ...checkOwnership(pull.sender, changed, users, { source, role: "who triggered this check" }),
      );
  }

  const now = await commitTime(git, headSha);
  // A push without a known base (a new branch, a manual run) has nothing to diff against: check everything.
  const relevant = base === undefined || changed.some(isRelevant);
  if (!relevant) {
    const diagnostics = sortDiagnostics(ownership);
    const plan: Plan = {
      base: base ?? "",
      head: treeSha,
      ok: !hasErrors(diagnostics),
      changed: false,
      clusters: [],
      diagnostics: [],
    };
    return {
      subject,
      headSha,
      treeSha,
      changed,
      relevant,
      diagnostics,
      plan,
      now,
      baseTimestamps: new Map(),
    };
  }

  const [head, baseSnapshot] = await Promise.all([
    readCommitSnapshot(ctx.workspace, treeSha),
    base ? readCommitSnapshot(ctx.workspace, base) : Promise.resolve(emptySnapshot()),
  ]);
  // Base and head share almost every spec: one memo validates each unchanged file once.
  const memo = createSpecMemo();
  const baseCheck = checkRepo(baseSnapshot, { now, memo });
  const baseTimestamps = baseCheck.timestamps;
  const check = checkRepo(head, { now, timestamps: [baseTimestamps], blame: new Set(changed), memo });
  const plan = planChange(baseSnapshot, head, { now, checks: { base: baseCheck, head: check } });
  const found: Diagnostic[] = [...check.diagnostics, ...ownership];
  let render: Analysis["render"];
  if (check.render && check.renderDiff) {
    render = { diff: check.renderDiff, fragments: check.render.files.size };
    found.push(
      ...renderStaleDiagnostics({
        head,
        render: check.render,
        diff: check.renderDiff,
        baseTimestamps,
        headTimestamps: check.timestamps,
        command: RENDER_COMMAND,
        restoreFrom: RESTORE_FROM,
      }),
    );
  }
  found.push(...codeownersDiagnostics(head, await fileAt(git, treeSha, CODEOWNERS_FILE)));
  return {
    subject,
    headSha,
    treeSha,
    changed,
    relevant,
    diagnostics: sortDiagnostics(found),
    plan,
    render,
    now,
    baseTimestamps,
  };
}

/**
 * The render of the PR head itself (not the merge commit): the files commit-rendered writes on top of it.
 * Empty when the head has errors: nothing is rendered from a tree with errors.
 */
export async function headRenderChanges(
  ctx: CheckContext,
  analysis: Analysis,
): Promise<Map<string, string | null>> {
  const head = await readCommitSnapshot(ctx.workspace, analysis.headSha);
  const check = checkRepo(head, { now: analysis.now, timestamps: [analysis.baseTimestamps] });
  const changes = new Map<string, string | null>();
  if (!check.render || !check.renderDiff) return changes;
  const diff = check.renderDiff;
  for (const path of [...diff.stale, ...diff.missing]) changes.set(path, check.render.files.get(path)!);
  for (const path of diff.extra) changes.set(path, null);
  return changes;
}

function snapshotOf(path: string, text: string, label: string): RepoSnapshot {
  return { files: new Map([[path, { path, kind: "file", bytes: Buffer.from(text) }]]), label };
}
