import {
  checkRepo,
  diagnostic,
  diffRendered,
  renderFragments,
  createSpecMemo,
  CODEOWNERS_FILE,
  hasErrors,
  salvageAdmins,
  planChange,
  renderStaleDiagnostics,
  sortDiagnostics,
  USERS_FILE,
  validateRepo,
  type Diagnostic,
  type Plan,
  type RenderDiff,
  type RepoCheck,
  type RepoSnapshot,
  type Timestamps,
} from "../../../generator/src";
import { createGit, readCommitSnapshot } from "../../../generator/src/io/git";
import { emptySnapshot } from "../../../generator/src/io/working-tree";
import { codeownersDiagnostics, judgeCodeowners } from "./codeowners-check";
import type { CheckContext } from "./context";
import { changedFiles, commitTime, fileAt, mergeBase, remoteBranchTip, resolveCommit } from "./git-changes";
import { checkOwnership, mayChange } from "./ownership";
import { unknownPusherMessage, whomToJudge, type PusherEvidence } from "./pusher";
import { inheritedStaleWarnings, splitStaleness, type RenderSide } from "./render-blame";
import { QUEUE_RENDER_NOTE, RENDER_COMMAND, RESTORE_FROM } from "./render-check";

export interface Analysis {
  /** One line for the summary: what was checked. */
  readonly subject: string;
  /** The commit the plan and served names are for: the PR head, or the pushed commit. */
  readonly headSha: string;
  /** The commit whose tree was validated: the checkout (on a PR, GitHub's merge commit). */
  readonly treeSha: string;
  readonly changed: readonly string[];
  /** False when the change touches only documentation: only ownership was checked. */
  readonly relevant: boolean;
  /** Every diagnostic, sorted. */
  readonly diagnostics: readonly Diagnostic[];
  readonly plan: Plan;
  /**
   * Present when the tree validated and was rendered. `diff` is the staleness the change causes (errors);
   * `inherited` what the base branch already had and the change left alone (warnings, PRs only).
   */
  readonly render?: {
    readonly diff: RenderDiff;
    readonly inherited: RenderDiff;
    readonly fragments: number;
  };
  /** What served names and new fragments are based on, for commit-rendered. */
  readonly now: Date;
  readonly baseTimestamps: Timestamps;
}

/** Documentation outside models/ and clusters/: nothing the check validates or renders depends on it. */
export const isDocumentation = (path: string): boolean =>
  !path.startsWith("models/") &&
  !path.startsWith("clusters/") &&
  (path.startsWith("docs/") || /\.(md|markdown|txt|rst)$/i.test(path) || /(^|\/)LICENSE$/.test(path));

/**
 * A path of the tool itself (generator, schemas, the Action and its bundle, dependencies, workflows...):
 * anything besides the data (models/, clusters/, CODEOWNERS) and documentation. A change to one can change
 * what every spec renders to, so it gets the full check.
 */
export const isToolPath = (path: string): boolean =>
  !path.startsWith("models/") &&
  !path.startsWith("clusters/") &&
  path !== CODEOWNERS_FILE &&
  !isDocumentation(path);

/** Does a change touch anything but documentation? Otherwise the check exits fast after ownership. */
export const isRelevant = (path: string): boolean => !isDocumentation(path);

/** Read base and head from git and run every check. The judging itself is the core's and the pure modules'. */
export async function analyse(ctx: CheckContext, pusher: PusherEvidence = {}): Promise<Analysis> {
  const git = createGit(ctx.workspace);
  const treeSha = await resolveCommit(git, "HEAD");
  const pull = ctx.pull;
  const headSha = pull ? await resolveCommit(git, pull.headSha) : treeSha;
  const base = pull
    ? await mergeBase(git, treeSha, headSha, pull.baseSha, pull.baseRef)
    : ctx.before
      ? await resolveCommit(git, ctx.before).catch(() => undefined)
      : undefined;
  const changed = base
    ? await changedFiles(git, { base, head: headSha, tree: treeSha, pullRequest: !!pull })
    : [];
  const subject = pull
    ? `Pull request #${pull.number} by @${pull.author}: ${changed.length} changed file${changed.length === 1 ? "" : "s"}, base \`${base!.slice(0, 7)}\`, head \`${headSha.slice(0, 7)}\`, validated as \`${treeSha.slice(0, 7)}\`${pull.fork ? " (from a fork)" : ""}.`
    : `${ctx.eventName || "push"} at \`${treeSha.slice(0, 7)}\`${base ? ` (since \`${base.slice(0, 7)}\`: ${changed.length} changed file${changed.length === 1 ? "" : "s"})` : ""}.`;

  const ownership: Diagnostic[] = [];
  // Which fragments the author may re-render, for the base's own staleness.
  let own: ((path: string) => boolean) | undefined;
  if (pull && base) {
    // Rights come from the default branch: a PR that edits users.yaml cannot grant itself anything, and
    // neither can a PR into a branch its author controls (retargeted to main later, it runs again: `edited`).
    // Read at the default branch's tip as fetched, not at the merge's first parent nor the payload's base.sha:
    // GitHub's merge commit can be stale (actions/checkout#919: a retargeted PR still merged into the old base)
    // and the payload's base.sha can predate a change of users.yaml (a revoked admin).
    const onDefault = pull.baseRef === pull.defaultBranch;
    const rights = await remoteBranchTip(git, pull.defaultBranch);
    const text = await fileAt(git, rights, USERS_FILE);
    const snapshot = text === undefined ? undefined : snapshotOf(USERS_FILE, text, rights);
    const valid = snapshot && validateRepo(snapshot).model.users;
    // A broken users.yaml keeps its admins' rights when their list is sound, so they can fix it by a PR.
    const admins = snapshot && !valid ? salvageAdmins(snapshot.files.get(USERS_FILE)!) : undefined;
    const users = valid ?? (admins ? { admins, users: new Map() } : undefined);
    const broken = !valid && admins !== undefined;
    own = mayChange(pull.author, users);
    const source = onDefault ? "the base branch" : `the default branch ${pull.defaultBranch}`;
    ownership.push(...checkOwnership(pull.author, changed, users, { source, broken }));
    // Who pushed the head (and who edited or reopened the PR) must be entitled as well: an author's rights
    // do not extend to commits someone else pushes to the branch.
    const judged = whomToJudge(pull, pusher.pushers);
    for (const person of judged.people)
      ownership.push(...checkOwnership(person.login, changed, users, { source, broken, role: person.role }));
    if (judged.unknown !== undefined && changed.length > 0)
      ownership.push(
        diagnostic(
          "ownership",
          changed[0]!,
          { line: 1, column: 1 },
          unknownPusherMessage(pull, judged.unknown, pusher.runsWhy),
        ),
      );
  }

  const now = await commitTime(git, headSha);
  // A push without a known base (a new branch, a manual run) has nothing to diff against: check everything.
  const relevant = base === undefined || changed.some(isRelevant);
  // The one place the result is put together, for the fast exit and the full check alike.
  const analysis = (
    outcome: Pick<Analysis, "diagnostics" | "plan" | "render" | "baseTimestamps">,
  ): Analysis => ({
    subject,
    headSha,
    treeSha,
    changed,
    relevant,
    now,
    ...outcome,
  });
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
    return analysis({ diagnostics, plan, baseTimestamps: new Map() });
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
  // What the clusters' sync agents will refuse after the merge: warnings, since an admin may mean it.
  const refusals = plan.diagnostics.filter((d) => d.rule === "agent-will-refuse");
  const found: Diagnostic[] = [...check.diagnostics, ...refusals, ...ownership];
  let render: Analysis["render"];
  // The branch a PR or a merge-queue group lands on: what it inherits from there is judged more mildly.
  const baseRef = pull?.baseRef ?? (base !== undefined ? ctx.queueBase : undefined);
  if (check.render && check.renderDiff) {
    // On a PR, staleness the base already had is not the author's: re-rendering it would touch other
    // people's fragments. A merge-queue group is the PRs on top of its base, judged the same way (the PRs
    // passed with those warnings; failing them in the queue would strand them). A push reports the branch's
    // own state: every staleness is an error there.
    const { caused, inherited } = baseRef
      ? splitStaleness(
          { snapshot: head, render: check.render, diff: check.renderDiff },
          baseSide(baseSnapshot, baseCheck, now),
          changed.some(isToolPath),
        )
      : { caused: check.renderDiff, inherited: { stale: [], missing: [], extra: [] } };
    render = { diff: caused, inherited, fragments: check.render.files.size };
    const causedDiagnostics = renderStaleDiagnostics({
      head,
      render: check.render,
      diff: caused,
      baseTimestamps,
      headTimestamps: check.timestamps,
      command: RENDER_COMMAND,
      restoreFrom: baseRef ? `origin/${baseRef}` : RESTORE_FROM,
    });
    found.push(
      ...(pull || !ctx.queueBase
        ? causedDiagnostics
        : causedDiagnostics.map((d) => ({ ...d, message: d.message + QUEUE_RENDER_NOTE }))),
    );
    if (baseRef) found.push(...inheritedStaleWarnings(inherited, check.render, head, baseRef, own));
  }
  const committed = await fileAt(git, treeSha, CODEOWNERS_FILE);
  const codeowners = codeownersDiagnostics(head, committed);
  // The base's file is read only when the head's is stale: is that staleness the change's own?
  found.push(
    ...(codeowners.length > 0 && baseRef && base
      ? judgeCodeowners(
          codeowners,
          { snapshot: head, committed },
          { snapshot: baseSnapshot, committed: await fileAt(git, base, CODEOWNERS_FILE) },
          baseRef,
          changed.some(isToolPath),
        )
      : codeowners),
  );
  return analysis({ diagnostics: sortDiagnostics(found), plan, render, baseTimestamps });
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
  // The base's own staleness is left alone: those fragments belong to other people.
  const { stale, missing, extra } = analysis.render?.inherited ?? { stale: [], missing: [], extra: [] };
  const inherited = new Set([...stale, ...missing, ...extra]);
  for (const path of [...diff.stale, ...diff.missing])
    if (!inherited.has(path)) changes.set(path, check.render.files.get(path)!);
  for (const path of diff.extra) if (!inherited.has(path)) changes.set(path, null);
  return changes;
}

function snapshotOf(path: string, text: string, label: string): RepoSnapshot {
  return { files: new Map([[path, { path, kind: "file", bytes: Buffer.from(text) }]]), label };
}

/**
 * The base's render side. A base with errors renders nothing, yet what its valid specs render is still
 * what its committed fragments should hold: without it every staleness the base already had would be
 * blamed on a PR (one that fixes the base's error included) as its own.
 */
function baseSide(snapshot: RepoSnapshot, check: RepoCheck, now: Date): RenderSide {
  if (check.render && check.renderDiff) return { snapshot, render: check.render, diff: check.renderDiff };
  const render = renderFragments(check.validation.model, { now, timestamps: [check.timestamps] });
  return { snapshot, render, diff: diffRendered(snapshot, render.files) };
}
