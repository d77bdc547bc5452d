import type { SimpleGit } from "simple-git";

/** Typed failure of the checkout, so the edge can say what the workflow must change. */
export class CheckoutError extends Error {
  override name = "CheckoutError";
}

/**
 * Answers that cannot change during one run of the check, per git client: the parents of a commit, and the tip
 * of a remote branch once read (or fetched). The check asks both more than once: a git process saved each time.
 */
const answered = new WeakMap<SimpleGit, Map<string, Promise<unknown>>>();
function once<T>(git: SimpleGit, key: string, ask: () => Promise<T>): Promise<T> {
  let answers = answered.get(git);
  if (!answers) answered.set(git, (answers = new Map<string, Promise<unknown>>()));
  if (!answers.has(key)) answers.set(key, ask());
  return answers.get(key) as Promise<T>;
}

/** The parents of a commit, first parent first. */
const parentsOf = (git: SimpleGit, rev: string): Promise<string[]> =>
  once(git, `parents ${rev}`, async () =>
    (await git.raw(["rev-list", "--parents", "-n", "1", rev])).trim().split(" ").slice(1),
  );

export async function resolveCommit(git: SimpleGit, rev: string): Promise<string> {
  // simple-git resolves a failed command that printed nothing, so an empty answer is a failure too.
  const sha = await git
    .raw(["rev-parse", "--verify", `${rev}^{commit}`])
    .then((out) => out.trim())
    .catch(() => "");
  if (!/^[0-9a-f]{40}$/.test(sha)) {
    throw new CheckoutError(
      `commit ${rev} is not in the checkout: check out with actions/checkout and fetch-depth: 0 so base and head are both present`,
    );
  }
  return sha;
}

/**
 * Files a change touches: what landing it does to the base. --no-renames lists both sides of a rename: moving
 * a file out of someone else's folder changes that folder.
 * - `tree` is GitHub's merge commit of `head` into `base` (its parents): the two trees' difference is exactly
 *   what merging changes, whatever the branch's history.
 * - Otherwise, for a pull request: from the merge base, so commits that landed on the base branch meanwhile
 *   are not blamed on the author. After criss-cross merges there are several merge bases and `base...head`
 *   silently takes one of them; a change that one side made and the other reverted would hide behind it (a
 *   users.yaml edit, say). Every merge base is diffed and the union taken.
 * - For a push (`pullRequest` false): the difference between the two tips.
 */
export async function changedFiles(
  git: SimpleGit,
  range: {
    readonly base: string;
    readonly head: string;
    readonly tree: string;
    readonly pullRequest: boolean;
  },
): Promise<string[]> {
  const diff = async (from: string, to: string) =>
    (await git.raw(["diff", "--name-only", "--no-renames", "-z", from, to]))
      .split("\0")
      .filter((p) => p !== "");
  const { base, head, tree } = range;
  if (!range.pullRequest) return diff(base, head);
  const parents = await parentsOf(git, tree);
  if (parents.length === 2 && parents[0] === base && parents[1] === head) return diff(base, tree);
  const bases = (await git.raw(["merge-base", "--all", base, head]).catch(() => ""))
    .split("\n")
    .filter((sha) => /^[0-9a-f]{40}$/.test(sha));
  // Unrelated histories have no merge base: then everything that differs counts.
  const all = await Promise.all((bases.length > 0 ? bases : [base]).map((from) => diff(from, head)));
  return [...new Set(all.flat())].sort();
}

/** The committer time of a commit: what a model first rendered by the check is named after. */
export async function commitTime(git: SimpleGit, rev: string): Promise<Date> {
  const iso = (await git.raw(["show", "-s", "--format=%cI", rev])).trim();
  return new Date(iso);
}

/**
 * A file's content at a commit, or undefined when the commit has no such file: one process, since git's
 * "path does not exist" goes to stderr and simple-git rejects on it (an existing empty file reads as "").
 */
export async function fileAt(git: SimpleGit, rev: string, path: string): Promise<string | undefined> {
  return git.raw(["cat-file", "blob", `${rev}:${path}`]).catch(() => undefined);
}

/**
 * The base the checkout was merged against. On a pull_request event actions/checkout leaves GitHub's merge
 * commit, whose second parent is the PR head: its first parent is the base branch as GitHub merged it, which
 * can be newer than the payload's base.sha (GitHub refreshes the merge when the base branch moves). Diffing
 * against the older base.sha would count other people's merged changes as the PR's.
 */
export async function mergeBase(
  git: SimpleGit,
  tree: string,
  head: string,
  payloadBase: string,
  /** The pull request's base branch: a merge commit's first parent must be on it. */
  baseBranch?: string,
): Promise<string> {
  const parents = await parentsOf(git, tree);
  if (parents.length === 2 && parents[1] === head) {
    // GitHub's merge commit of a retargeted pull request can still merge into the old base (actions/checkout
    // #919): diffed from there, what the old base brings into the new one would go unjudged.
    if (baseBranch !== undefined) {
      const tip = await remoteBranchTip(
        git,
        baseBranch,
        `the pull request's base branch ${baseBranch} is not in the checkout and could not be fetched: the merge commit is checked against it`,
      );
      // parents[0] is on the base branch when it is the merge base of the two (simple-git resolves a bare
      // non-zero exit such as --is-ancestor's "no" without an error, so the answer is read, not the status).
      const common = await git
        .raw(["merge-base", parents[0]!, tip])
        .then((out) => out.trim())
        .catch(() => undefined);
      // No answer at all: the history is not in the checkout (a shallow clone), not a stale merge.
      if (common === undefined)
        throw new CheckoutError(
          `cannot tell whether ${parents[0]!.slice(0, 7)} (the merge's first parent) is on the base branch ${baseBranch}: the history is not in the checkout. Check out with actions/checkout and fetch-depth: 0`,
        );
      if (common !== parents[0])
        throw new CheckoutError(
          `the checkout ${tree.slice(0, 7)} merges the head into ${parents[0]!.slice(0, 7)}, which is not on the base branch ${baseBranch}: GitHub's merge commit is stale (a retargeted pull request). Re-run the check once GitHub has updated the pull request`,
        );
    }
    return parents[0]!;
  }
  // GitHub builds the merge commit in the background and may not have rebuilt it for this head yet
  // (actions/checkout#919): its tree is not what the event's head would merge as. A merge whose first parent
  // is the head (the base merged into it by the workflow itself) is the head's own.
  if (parents.length === 2 && tree !== head && parents[0] !== head)
    throw new CheckoutError(
      `the checkout ${tree.slice(0, 7)} merges ${parents[1]!.slice(0, 7)}, not the pull request's head ${head.slice(0, 7)}: GitHub's merge commit is stale. Re-run the check once GitHub has updated the pull request`,
    );
  return resolveCommit(git, payloadBase);
}

/**
 * The tip of a branch of the remote, fetched when the checkout lacks it (actions/checkout with
 * fetch-depth: 0 fetches every branch, so it is normally there already).
 */
export function remoteBranchTip(
  git: SimpleGit,
  branch: string,
  /** What the branch is read for, in the message when it cannot be had. */
  purpose = `the default branch ${branch} is not in the checkout and could not be fetched: rights are read from its models/users.yaml`,
): Promise<string> {
  // Once had, the tip stays what it was for the rest of the run (a failure is not kept: its message is the caller's).
  const tip = once(git, `tip ${branch}`, () => readRemoteBranchTip(git, branch, purpose));
  void tip.catch(() => answered.get(git)?.delete(`tip ${branch}`));
  return tip;
}

async function readRemoteBranchTip(git: SimpleGit, branch: string, purpose: string): Promise<string> {
  const valid = await git
    .raw(["check-ref-format", "--branch", branch])
    .then(() => true)
    .catch(() => false);
  if (!valid) throw new CheckoutError(`"${branch}" is not a valid branch name`);
  const ref = `refs/remotes/origin/${branch}`;
  const known = await resolveCommit(git, ref).catch(() => undefined);
  if (known) return known;
  await git.raw(["fetch", "--no-tags", "--quiet", "origin", `+refs/heads/${branch}:${ref}`]).catch(() => "");
  return resolveCommit(git, ref).catch(() => {
    throw new CheckoutError(`${purpose}. Check out with actions/checkout and fetch-depth: 0`);
  });
}

/** A rendered fragment: `clusters/<cluster>/rendered/...`, what `serve-gitops render` writes. */
export const isRenderedPath = (path: string): boolean => /^clusters\/[^/]+\/rendered\//.test(path);

/**
 * The one parent of `head` when `head` changes nothing but rendered fragments on top of it (what the check's
 * `commit-rendered` push is); undefined for a merge, a root commit, or any other change.
 */
export async function renderOnlyParent(git: SimpleGit, head: string): Promise<string | undefined> {
  const parents = await parentsOf(git, head);
  if (parents.length !== 1 || !/^[0-9a-f]{40}$/.test(parents[0]!)) return undefined;
  const files = (await git.raw(["diff", "--name-only", "--no-renames", "-z", parents[0]!, head]))
    .split("\0")
    .filter((p) => p !== "");
  return files.length > 0 && files.every(isRenderedPath) ? parents[0] : undefined;
}
