// Who may lift the prune guard. A `Serve-Gitops-Allow-Prune: N` trailer is an admin's confirmation that N
// models may go, so it counts only where an admin wrote it: on a commit that landed on the branch (git-source
// reads first-parent commits only) as the merge or squash commit of a pull request merged into the branch by
// an admin of models/users.yaml as it stood before that commit, and only when none of the pull request's own
// commits carries the trailer. Whoever merges writes the merge commit's message, so a merger who is not an
// admin could otherwise lift the guard for anyone's models; GitHub's default squash message concatenates the
// branch's messages and a rebase merge keeps them verbatim, so a trailer the branch carries is its author's
// word, not the merging admin's. For the same reason it does not count when the pull request's title or
// description mentions the trailer's key at all: GitHub's default merge message is "Merge pull request #N
// from ..." followed by the title (and, depending on the repository's settings, the description), and a
// squash's default can end with the description, so an admin's ordinary merge click would otherwise sign
// what the author wrote. What counts is the text as it stood at the merge, and the agent asks after it (an
// author can edit a merged pull request): so the trailer does not count when the description was edited at
// or after the merge (GraphQL lastEditedAt: GitHub keeps when, but the author may delete an old revision's
// text from the edit history, https://github.blog/changelog/2018-05-24-comment-edit-history/, so what it
// said cannot be known), nor when any title the pull request ever had mentions the key (every title change
// is a RenamedTitleEvent with both titles; any, not only the one at the merge, because the merge dialog
// shows the title as it was when the admin opened it). A direct push (no pull request) never counts: its
// pusher can raise sync.prune_limit in clusters/<name>/cluster.yaml in the same push instead, in plain sight.
//
// GitHub is asked only when the guard would refuse and a trailer could lift it, once per commit: a sync the
// guard does not block costs no request.
import { salvageAdmins, USERS_FILE } from "../../../generator/src/index";
import { safeError } from "../errors";
import type { Logger } from "../log";
import { ALLOW_PRUNE_TRAILER, pruneAllowance } from "../model/guards";
import type { DesiredStateSource, StatusReporter, TrailerCommit } from "../ports";

export interface PruneApprovalOptions {
  readonly source: Pick<DesiredStateSource, "snapshot">;
  /** GitHub; without it (a dry run, no token) no trailer can be verified, so none counts. */
  readonly reporter: Pick<StatusReporter, "mergedAs"> | undefined;
  readonly branch: string;
  readonly log: Logger;
  readonly now: () => number;
}

type Verdict =
  | { readonly ok: true; readonly why: string }
  /** `until`: a verdict asked again after then (GitHub may not list a just-merged pull request yet). */
  | { readonly ok: false; readonly why: string; readonly until?: number };

/** The most trailer commits verified for one sync (newest first). */
const MAX_VERIFIED = 5;
/** After a GitHub failure, or while a merge may not be indexed yet: ask again after this long... */
const RETRY_MS = 60_000;
/** ...for at most this long after the first answer. */
const INDEXING_MS = 10 * 60_000;

const TRAILER_LINE = new RegExp(`^\\s*${ALLOW_PRUNE_TRAILER}\\s*:`, "im");
/**
 * Whether an author's text mentions the trailer's key anywhere, in any case. Stricter than git's trailer
 * syntax on purpose: git matches the key ASCII case-insensitively, allows spaces before the separator and
 * takes its separators from its config, so a rule that parsed like git could miss a form git accepts; and a
 * pull request has no need to name the key.
 */
const mentionsTrailer = (text: string): boolean =>
  text.toLowerCase().includes(ALLOW_PRUNE_TRAILER.toLowerCase());

export class PruneApproval {
  private readonly verdicts = new Map<string, Verdict>();
  private readonly firstAsked = new Map<string, number>();
  private retryAt = 0;

  constructor(private readonly options: PruneApprovalOptions) {}

  /**
   * The allowance the admins' trailers among `commits` give a sync that would undeploy `needed` models: the
   * largest verified value, or 0. Only trailers that would lift the guard are verified.
   */
  async allowance(commits: readonly TrailerCommit[], needed: number): Promise<number> {
    let best = 0;
    const candidates = commits.filter((c) => pruneAllowance(c.values) >= needed).slice(0, MAX_VERIFIED);
    for (const commit of candidates) {
      const verdict = await this.verdict(commit);
      if (verdict?.ok) best = Math.max(best, pruneAllowance(commit.values));
    }
    return best;
  }

  private async verdict(commit: TrailerCommit): Promise<Verdict | undefined> {
    const { log, now } = this.options;
    const cached = this.verdicts.get(commit.sha);
    if (cached && (cached.ok || cached.until === undefined || now() < cached.until)) return cached;
    if (now() < this.retryAt) return cached;
    let verdict: Verdict;
    try {
      verdict = await this.judge(commit);
    } catch (error) {
      this.retryAt = now() + RETRY_MS;
      log.warn(
        { sha: commit.sha, err: safeError(error) },
        `cannot verify who merged the ${ALLOW_PRUNE_TRAILER} trailer; the prune stays refused for now`,
      );
      return cached;
    }
    this.verdicts.set(commit.sha, verdict);
    if (cached?.why !== verdict.why) {
      log[verdict.ok ? "info" : "warn"](
        { sha: commit.sha, trailer: ALLOW_PRUNE_TRAILER, honoured: verdict.ok, why: verdict.why },
        verdict.ok ? "prune confirmed by an admin's merge" : "prune trailer not honoured",
      );
    }
    return verdict;
  }

  private async judge(commit: TrailerCommit): Promise<Verdict> {
    const { reporter, branch, now } = this.options;
    if (!reporter)
      return { ok: false, why: "no GitHub access to verify who merged it (dry run or no token)" };
    const merged = await reporter.mergedAs(commit.sha);
    if (!merged) {
      const first = this.firstAsked.get(commit.sha) ?? now();
      this.firstAsked.set(commit.sha, first);
      const until = now() + RETRY_MS <= first + INDEXING_MS ? now() + RETRY_MS : undefined;
      return {
        ok: false,
        why: "not the merge or squash commit of a merged pull request (a direct push counts no trailer)",
        ...(until !== undefined ? { until } : {}),
      };
    }
    const pr = `pull request #${merged.number}`;
    if (merged.base_ref !== branch)
      return { ok: false, why: `${pr} was merged into ${merged.base_ref}, not ${branch}` };
    // The admins before the merge: a pull request cannot make its own merger an admin.
    const admins = commit.parent ? await this.adminsAt(commit.parent) : undefined;
    if (!admins || admins.length === 0)
      return { ok: false, why: `${USERS_FILE} before ${commit.sha.slice(0, 7)} names no admins` };
    const by = merged.merged_by;
    if (!by || !admins.some((a) => a.toLowerCase() === by.toLowerCase()))
      return { ok: false, why: `${pr} was merged by ${by ?? "no one known"}, not an admin` };
    const titles = [merged.title, ...merged.renamed.flatMap((r) => [r.from, r.to])];
    if (titles.some(mentionsTrailer) || mentionsTrailer(merged.body))
      return {
        ok: false,
        why: `the title or description of ${pr} carries ${ALLOW_PRUNE_TRAILER} (or a former title did): its author wrote it and GitHub's default merge message copies it; an admin must type the trailer in the merge dialog of a pull request whose title and description do not carry it`,
      };
    if (merged.renames > merged.renamed.length)
      return {
        ok: false,
        why: `GitHub lists only ${merged.renamed.length} of the ${merged.renames} title changes of ${pr}`,
      };
    // Not "before" (also false for a time that does not parse): an edit in the merge's second counts as after.
    const edited = merged.body_edited_at;
    if (edited !== undefined && !(Date.parse(edited) < Date.parse(merged.merged_at ?? "")))
      return {
        ok: false,
        why: `the description of ${pr} was edited at or after its merge (${edited}): what it said when the admin merged, which GitHub's default merge message copies, is not known; merge the trailer in another pull request`,
      };
    if (merged.commits > merged.messages.length)
      return {
        ok: false,
        why: `GitHub lists only ${merged.messages.length} of the ${merged.commits} commits of ${pr}`,
      };
    if (merged.messages.some((m) => TRAILER_LINE.test(m)))
      return {
        ok: false,
        why: `a commit of ${pr} carries the trailer itself (a squash or rebase merge brought it in): the admin writes it when merging`,
      };
    return { ok: true, why: `${pr} merged by admin ${by}` };
  }

  private async adminsAt(sha: string): Promise<readonly string[] | undefined> {
    const file = (await this.options.source.snapshot(sha)).files.get(USERS_FILE);
    return file ? salvageAdmins(file) : undefined;
  }
}
