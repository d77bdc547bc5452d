import type { PullRequestInfo } from "./context";

/**
 * Whom the check judges besides a pull request's author: whoever pushed its head. GitHub names the pusher
 * only in the push's own event (`opened`, `synchronize`: its `sender`); a later `edited` or `reopened` run
 * for the same head names whoever edited or reopened. Such a run learns the pusher only from what GitHub
 * records and no one can write: the repository's activity log of the branch (push-activity.ts; a
 * same-repository PR's), else the workflow runs of the head (push-runs.ts). Never from a comment, which
 * anyone able to run a workflow with `pull-requests: write` can post as the same `github-actions[bot]` the
 * check is.
 */
export interface PusherEvidence {
  /**
   * Who pushed: everyone the activity log shows putting the head on the branch (push-activity.ts), or the
   * one the workflow runs name (push-runs.ts). Each is judged.
   */
  readonly pushers?: readonly string[] | undefined;
  /** Where `pushers` came from, for the log: the activity log or a workflow run. */
  readonly from?: string | undefined;
  /** Why the workflow runs could not tell: a run that is not a push then fails closed. */
  readonly runsWhy?: string | undefined;
}

/** The events whose sender pushed the head: the rest (edited, reopened...) only start a run for it. */
const PUSH_ACTIONS = new Set(["opened", "synchronize"]);

export const isPushEvent = (pull: PullRequestInfo): boolean => PUSH_ACTIONS.has(pull.action ?? "");

/**
 * Must the workflow runs be read to judge this run? On a run that is not a push, for who pushed the head;
 * on a bot's push, for whom the check's own render commit was made (workflow-runs.ts readRenderPusher).
 */
export const needsRunsLookup = (pull: PullRequestInfo): boolean =>
  !isPushEvent(pull) || pull.sender?.bot === true;

export interface Judged {
  /** People besides the author who must be entitled to every changed path, with how they relate to it. */
  readonly people: readonly { readonly login: string; readonly role: string }[];
  /** Who pushed the head (the first, when several did); undefined when unknown. */
  readonly pusher: string | undefined;
  /** Why the check cannot tell who pushed the head: the run then fails closed. */
  readonly unknown?: string;
}

/**
 * Whom to judge besides the author. On a push (`opened`, `synchronize`) the sender pushed the head and is
 * judged, a bot like anyone else — except a bot's commit that changes only rendered fragments on top of a
 * head someone pushed (the check's own `commit-rendered` push): then the first of `pushers` is that head's
 * pusher, read from its workflow runs, and judged instead. On any other event the head was pushed earlier:
 * every one of `pushers` (the activity log's or the workflow runs'; run.ts has put the pusher of the parent
 * in place of a bot whose commit only re-renders it) is judged, and a person who edited or reopened the PR
 * as well. When neither tells, the pusher is unknown and the run fails.
 */
export function whomToJudge(pull: PullRequestInfo, pushers: string | readonly string[] | undefined): Judged {
  const all = pushers === undefined ? [] : typeof pushers === "string" ? [pushers] : pushers;
  const found = all[0];
  const author = pull.author.toLowerCase();
  const people: { login: string; role: string }[] = [];
  const add = (login: string, role: string) => {
    const key = login.toLowerCase();
    if (key !== author && !people.some((p) => p.login.toLowerCase() === key)) people.push({ login, role });
  };
  const sender = pull.sender;
  if (isPushEvent(pull)) {
    if (!sender) return { people, pusher: undefined, unknown: "the event names no sender" };
    if (sender.bot && found !== undefined) {
      add(found, "who pushed the commits the check rendered");
      return { people, pusher: found };
    }
    add(sender.login, "who pushed");
    return { people, pusher: sender.login };
  }
  if (sender && !sender.bot) add(sender.login, `who ${pull.action ?? "triggered this check"}`);
  if (found === undefined) return { people, pusher: undefined, unknown: "no run" };
  for (const login of all) add(login, "who pushed");
  return { people, pusher: found };
}

/** The message of a run that cannot tell who pushed the head. */
export function unknownPusherMessage(pull: PullRequestInfo, why: string, runsWhy?: string): string {
  const head = pull.headSha.slice(0, 7);
  const event = pull.action ? `\`${pull.action}\`` : "this event";
  const reason =
    why === "no run"
      ? `this run was started by ${event}${pull.sender ? ` (@${pull.sender.login})` : ""}, which does not say who pushed ${head}, and the workflow runs of the head do not tell either${runsWhy ? `: ${runsWhy}` : ""}`
      : why;
  return `cannot tell who pushed ${head}: ${reason}. The author's rights do not cover commits someone else pushes, so the check fails closed: push to the branch again, or re-run the check's run for the push (the \`synchronize\` run: a re-run keeps its event's sender) so the pusher is judged.`;
}
