import type { Octokit } from "octokit";
import { readFailure } from "./api-failure";

/**
 * Who pushed a pull request's head, read from the repository's activity log (GET /repos/{o}/{r}/activity)
 * on a run whose event does not name the pusher (pusher.ts): the first source, before the workflow runs
 * (push-runs.ts). Unlike a workflow run, which anyone with write access can delete (leaving a later run, say
 * an `edited` one, as the earliest), an activity entry cannot be deleted by them. Only a same-repository
 * PR's branch is in this log: a fork's pushes are in the fork's.
 *
 * Facts this relies on (GitHub's OpenAPI description, @octokit/openapi-types `repos/list-activities` and
 * `activity`; pinned in push-activity.test.ts): an activity has `before` and `after` (the commit before and
 * after it), `ref` (`refs/heads/<branch>`), `timestamp`, `activity_type` (push, force_push, branch_creation,
 * ...) and `actor`, a nullable simple user; the list filters by `ref` (full or short), takes one
 * `activity_type`, pages by `before`/`after` cursors in the Link header, and answers `per_page` up to 100.
 */

/** The fields of an activity the pushers are read from. */
export interface Activity {
  readonly after: string;
  readonly ref: string;
  readonly timestamp: string;
  readonly activity_type: string;
  readonly actor?: { readonly login: string } | null | undefined;
}

/** A GitHub App's bot account: GitHub gives each the `[bot]` suffix, which no user login can carry. */
export const isBotLogin = (login: string): boolean => login.toLowerCase().endsWith("[bot]");

/** The activities that put a commit on a branch. */
export const PUSH_ACTIVITIES: ReadonlySet<string> = new Set(["push", "force_push", "branch_creation"]);

/** Pages of 100 read at most: a branch with more activity than that falls back to the workflow runs. */
export const ACTIVITY_PAGES = 10;

export type ActivityPushers =
  /** Everyone who put the head on the branch: each must be entitled. */
  | { readonly pushers: readonly string[]; readonly from: string }
  /**
   * The log does not tell (no activity for the head, it cannot be read, or it is too long to read to the end):
   * the workflow runs are asked. `found`: pushers of the head in the pages that were read, judged as well.
   */
  | {
      readonly fallback: string;
      readonly found?: { readonly pushers: readonly string[]; readonly from: string };
    }
  /** An activity put the head there but names no one (a deleted account): the check fails closed. */
  | { readonly why: string };

/**
 * Whoever put `headSha` on branch `branch`: the actor of every push, force push or branch creation on it
 * whose `after` is the head. Several people may have (a force push back to an earlier commit): all are
 * returned. None found: `fallback`, for the workflow runs to tell.
 */
export function pushersOfActivities(
  activities: readonly Activity[],
  target: { readonly branch: string; readonly headSha: string },
): ActivityPushers {
  const head = target.headSha.toLowerCase();
  const ref = `refs/heads/${target.branch}`;
  const matches = activities.filter(
    (a) => PUSH_ACTIVITIES.has(a.activity_type) && a.ref === ref && a.after.toLowerCase() === head,
  );
  const short = head.slice(0, 7);
  if (matches.length === 0)
    return { fallback: `the repository's activity log lists no push of ${short} to ${target.branch}` };
  const nameless = matches.find((a) => !a.actor?.login);
  if (nameless)
    return {
      why: `the repository's activity log shows a ${nameless.activity_type} of ${short} to ${target.branch} at ${nameless.timestamp} that names no actor (a deleted account?), so who pushed it cannot be judged`,
    };
  const pushers: string[] = [];
  for (const a of matches) {
    const login = a.actor!.login;
    if (!pushers.some((p) => p.toLowerCase() === login.toLowerCase())) pushers.push(login);
  }
  const what = matches.map((a) => `${a.activity_type} by @${a.actor!.login} at ${a.timestamp}`).join(", ");
  return { pushers, from: `the repository's activity log (${what})` };
}

/**
 * The pushers of the head, from the activity of its branch (newest first, `ACTIVITY_PAGES` pages of 100
 * at most). Any failure to read it, and a log too long to read to the end, fall back to the workflow runs.
 */
export async function readActivityPushers(
  octokit: Octokit,
  target: {
    readonly owner: string;
    readonly repo: string;
    readonly branch: string;
    readonly headSha: string;
  },
): Promise<ActivityPushers> {
  const activities: Activity[] = [];
  try {
    const listing = octokit.paginate.iterator(octokit.rest.repos.listActivities, {
      owner: target.owner,
      repo: target.repo,
      ref: `refs/heads/${target.branch}`,
      per_page: 100,
    });
    const pages = listing[Symbol.asyncIterator]();
    for (let read = 0; ; read++) {
      const page = await pages.next();
      if (page.done) break;
      // Some older push of the head may be among what is left unread.
      if (read === ACTIVITY_PAGES) {
        // What the pages read show still counts: the runs may name only an older pusher of the same head.
        const seen = pushersOfActivities(activities, target);
        return {
          fallback: `the repository's activity log of ${target.branch} is longer than ${ACTIVITY_PAGES} pages of 100, too long to read to the end`,
          ...("pushers" in seen ? { found: seen } : {}),
        };
      }
      activities.push(...page.value.data);
    }
  } catch (failure) {
    return { fallback: readFailure(failure, "the repository's activity log", "contents: read") };
  }
  return pushersOfActivities(activities, target);
}
