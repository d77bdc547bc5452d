import type { PullRequestInfo } from "./context";

/**
 * Who pushed a pull request's head, as the check records it in its own plan comment (the line after the
 * plan marker). GitHub tells who pushed only in the `synchronize` (or `opened`) event itself: a later
 * `edited` or `reopened` run for the same head names whoever edited, so without this record the author
 * editing the title would turn the check green on commits someone else pushed.
 */
export interface PushRecord {
  readonly pusher: string;
  readonly head: string;
}

/**
 * What a run that is not a push knows about who pushed its head: the comment's record, else the pusher the
 * workflow runs name (push-runs.ts) as a record, else why they could not tell (`runsWhy`).
 */
export interface PusherEvidence {
  readonly record?: PushRecord | undefined;
  /** Where the record came from, for the log: the plan comment or a workflow run. */
  readonly from?: string | undefined;
  readonly runsWhy?: string | undefined;
}

const RECORD =
  /^<!-- serve-gitops:pushed-by=([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\[bot\])?) head=([0-9a-f]{40}) -->$/;

export const recordLine = (record: PushRecord): string =>
  `<!-- serve-gitops:pushed-by=${record.pusher} head=${record.head} -->`;

/**
 * The record in a plan comment's body: only its second line counts (the first is the marker), so nothing
 * quoted further down (a file name, a message) can pose as one. The caller has made sure the comment is the
 * bot's own plan comment.
 */
export function parseRecord(body: string): PushRecord | undefined {
  const match = RECORD.exec(body.split("\n")[1] ?? "");
  return match ? { pusher: match[1]!, head: match[2]! } : undefined;
}

/** The events whose sender pushed the head: the rest (edited, reopened...) only start a run for it. */
const PUSH_ACTIONS = new Set(["opened", "synchronize"]);

export const isPushEvent = (pull: PullRequestInfo): boolean => PUSH_ACTIONS.has(pull.action ?? "");

/** Is a recorded pusher needed to judge this run? Only then is the plan comment read before the analysis. */
export const needsRecord = (pull: PullRequestInfo): boolean =>
  !isPushEvent(pull) || pull.sender?.bot === true;

export interface Judged {
  /** People besides the author who must be entitled to every changed path, with how they relate to it. */
  readonly people: readonly { readonly login: string; readonly role: string }[];
  /** Who pushed the head, to record for later runs; undefined when unknown. */
  readonly pusher: string | undefined;
  /** Why the check cannot tell who pushed the head: the run then fails closed. */
  readonly unknown?: string;
}

/**
 * Whom to judge besides the author. On a push (`opened`, `synchronize`) the sender pushed the head and is
 * judged, a bot like anyone else — except for the check's own render commit, recognised by the record the
 * pushing run left for exactly that head before the new run started, which names the person it judged. On
 * any other event the head was pushed earlier: the pusher recorded for this head is judged, and a person who
 * edited or reopened the PR as well. With no record for the head the pusher is unknown and the run fails.
 */
export function whomToJudge(pull: PullRequestInfo, record: PushRecord | undefined): Judged {
  const recorded = record?.head === pull.headSha ? record.pusher : undefined;
  const author = pull.author.toLowerCase();
  const people: { login: string; role: string }[] = [];
  const add = (login: string, role: string) => {
    const key = login.toLowerCase();
    if (key !== author && !people.some((p) => p.login.toLowerCase() === key)) people.push({ login, role });
  };
  const sender = pull.sender;
  if (isPushEvent(pull)) {
    if (!sender) return { people, pusher: undefined, unknown: "the event names no sender" };
    if (sender.bot && recorded !== undefined) {
      add(recorded, "who pushed the commits the check rendered");
      return { people, pusher: recorded };
    }
    add(sender.login, "who pushed");
    return { people, pusher: sender.login };
  }
  if (sender && !sender.bot) add(sender.login, `who ${pull.action ?? "triggered this check"}`);
  if (recorded === undefined) return { people, pusher: undefined, unknown: "no record" };
  add(recorded, "who pushed");
  return { people, pusher: recorded };
}

/** The message of a run that cannot tell who pushed the head. */
export function unknownPusherMessage(pull: PullRequestInfo, why: string, runsWhy?: string): string {
  const head = pull.headSha.slice(0, 7);
  const event = pull.action ? `\`${pull.action}\`` : "this event";
  const reason =
    why === "no record"
      ? `this run was started by ${event}${pull.sender ? ` (@${pull.sender.login})` : ""}, no run of the check for a push recorded who pushed ${head} in the plan comment (the comment is off or could not be posted, the pull request comes from a fork, the pull request changes no model, or that run has not finished)${runsWhy ? `, and the workflow runs do not tell either: ${runsWhy}` : ""}`
      : why;
  return `cannot tell who pushed ${head}: ${reason}. The author's rights do not cover commits someone else pushes, so the check fails closed: push to the branch again, or re-run the check's run for the push (the \`synchronize\` run) so the pusher is judged.`;
}
