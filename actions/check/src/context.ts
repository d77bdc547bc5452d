/**
 * What the check runs on, read from the runner's environment and the event payload. Pure: the caller
 * passes the environment and the payload text, so every event shape is testable without a runner.
 */

export type Mode = "pull_request" | "push";

export interface PullRequestInfo {
  readonly number: number;
  /** The PR author's login: ownership is judged for this person. */
  readonly author: string;
  /** The event's action: `opened`, `synchronize`, `edited`, `reopened`... */
  readonly action: string | undefined;
  /**
   * Who triggered this run: the pusher on `opened` and `synchronize`, or who edited or reopened the PR.
   * Whom that makes the check judge besides the author is decided in pusher.ts.
   */
  readonly sender: { readonly login: string; readonly bot: boolean } | undefined;
  readonly baseSha: string;
  /** The branch the PR merges into. */
  readonly baseRef: string;
  /** The repository's default branch: rights (users.yaml) are always read from it. */
  readonly defaultBranch: string;
  readonly headSha: string;
  /** The branch name commit-rendered pushes to. */
  readonly headRef: string;
  /** True when the head branch lives in another repository: its token is read-only and we cannot push there. */
  readonly fork: boolean;
}

export interface CheckContext {
  readonly mode: Mode;
  readonly eventName: string;
  readonly owner: string;
  readonly repo: string;
  readonly workspace: string;
  readonly apiUrl: string;
  readonly serverUrl: string;
  /** The run page, where the job summary is shown; the comment links to it when it is cut. */
  readonly runUrl: string | undefined;
  /** GITHUB_RUN_ID: this run, found among the workflow runs to learn who pushed the head (push-runs.ts). */
  readonly runId: number | undefined;
  readonly token: string;
  /** `${{ github.token }}`: compared with `token` to refuse commit-rendered with the workflow's own token. */
  readonly workflowToken: string | undefined;
  readonly comment: boolean;
  readonly commitRendered: boolean;
  readonly pull: PullRequestInfo | undefined;
  /** Push mode: the commit before the push (or the merge queue's base); absent for a new branch. */
  readonly before: string | undefined;
  /** A merge-queue group: the branch it merges into (`main`), whose staleness is not the group's. */
  readonly queueBase: string | undefined;
}

export type ContextResult = { readonly context: CheckContext } | { readonly problems: readonly string[] };

const SHA = /^[0-9a-f]{40}$/;
const ZERO_SHA = /^0{40}$/;

/** The runner's rule for INPUT_ variables: upper-cased, spaces to "_", hyphens kept. */
export const inputVariable = (name: string): string => `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;

type Env = Readonly<Record<string, string | undefined>>;

/** @actions/core's getBooleanInput accepts exactly these spellings; anything else is a mistake, not `false`. */
function booleanInput(env: Env, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = (env[inputVariable(name)] ?? "").trim();
  if (raw === "") return fallback;
  if (["true", "True", "TRUE"].includes(raw)) return true;
  if (["false", "False", "FALSE"].includes(raw)) return false;
  problems.push(`input ${name} must be true or false (got "${raw}")`);
  return fallback;
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

export function parseContext(env: Env, payloadText: string | undefined): ContextResult {
  const problems: string[] = [];
  const eventName = env.GITHUB_EVENT_NAME ?? "";
  if (eventName === "pull_request_target") {
    // It runs with a write token on the base branch; checking out and running PR code there hands the token to the PR.
    return { problems: ["the check must not run on pull_request_target: trigger it with pull_request"] };
  }
  let payload: Record<string, unknown> = {};
  if (payloadText !== undefined) {
    try {
      payload = record(JSON.parse(payloadText)) ?? {};
    } catch {
      problems.push("GITHUB_EVENT_PATH does not hold a JSON event payload");
    }
  }

  const [owner = "", repo = ""] = (env.GITHUB_REPOSITORY ?? "").split("/");
  if (!owner || !repo) problems.push("GITHUB_REPOSITORY must be owner/name");
  const token = (env[inputVariable("github-token")] ?? "").trim();
  const workspace = env.GITHUB_WORKSPACE || ".";

  const modeInput = (env[inputVariable("mode")] ?? "").trim();
  if (modeInput !== "" && modeInput !== "pull_request" && modeInput !== "push") {
    problems.push(`input mode must be pull_request or push (got "${modeInput}")`);
  }
  // Another event that carries a pull request (a review, a review comment) would fall to push mode and report
  // a green check on the PR's head without judging who may change what: refused unless a mode says otherwise.
  if (modeInput === "" && eventName !== "pull_request" && record(payload.pull_request) !== undefined) {
    problems.push(
      `on ${eventName || "this event"} the check would judge no one's rights: trigger it with pull_request (or set the input mode: push to check the tree alone)`,
    );
  }
  const mode: Mode =
    modeInput === "pull_request" || modeInput === "push"
      ? modeInput
      : eventName === "pull_request"
        ? "pull_request"
        : "push";

  let pull: PullRequestInfo | undefined;
  if (mode === "pull_request") {
    const pr = record(payload.pull_request);
    const base = record(pr?.base);
    const head = record(pr?.head);
    const number = pr?.number;
    const author = text(record(pr?.user)?.login);
    const baseSha = text(base?.sha);
    const headSha = text(head?.sha);
    const headRef = text(head?.ref);
    const baseRef = text(base?.ref);
    const defaultBranch =
      text(record(payload.repository)?.default_branch) ?? text(record(base?.repo)?.default_branch);
    const senderRecord = record(payload.sender);
    const senderLogin = text(senderRecord?.login);
    if (
      !pr ||
      typeof number !== "number" ||
      !author ||
      !baseSha ||
      !headSha ||
      !headRef ||
      !baseRef ||
      !defaultBranch ||
      !SHA.test(baseSha) ||
      !SHA.test(headSha)
    ) {
      problems.push(
        `mode pull_request needs a pull_request event payload with number, user, base.sha, base.ref, head.sha, head.ref and repository.default_branch (event: ${eventName || "none"})`,
      );
    } else {
      const baseRepo = text(record(base?.repo)?.full_name) ?? `${owner}/${repo}`;
      const headRepo = text(record(head?.repo)?.full_name);
      // A deleted fork has head.repo null: treat it as a fork, never as ours.
      const fork = headRepo === undefined || headRepo.toLowerCase() !== baseRepo.toLowerCase();
      const sender = senderLogin ? { login: senderLogin, bot: senderRecord?.type === "Bot" } : undefined;
      const action = text(payload.action);
      pull = { number, author, action, sender, baseSha, headSha, baseRef, defaultBranch, headRef, fork };
    }
  }

  const queue = record(payload.merge_group);
  const beforeRaw = text(queue?.base_sha) ?? text(payload.before);
  const before = beforeRaw && SHA.test(beforeRaw) && !ZERO_SHA.test(beforeRaw) ? beforeRaw : undefined;
  const queueBase = queue
    ? (text(queue.base_ref) ?? "").replace(/^refs\/heads\//, "") || "the base branch"
    : undefined;

  const serverUrl = (env.GITHUB_SERVER_URL || "https://github.com").replace(/\/+$/, "");
  const runId = env.GITHUB_RUN_ID;
  const attempt = env.GITHUB_RUN_ATTEMPT;
  const runUrl = runId
    ? `${serverUrl}/${owner}/${repo}/actions/runs/${runId}${attempt && attempt !== "1" ? `/attempts/${attempt}` : ""}`
    : undefined;

  const comment = booleanInput(env, "comment", true, problems);
  const commitRendered = booleanInput(env, "commit-rendered", false, problems);
  // A token is needed only where the check calls GitHub. A fork PR gets no secrets, so a secret passed as
  // github-token arrives empty there: the comment is skipped and the job summary carries the plan.
  // Push mode never calls the API; fork PRs are never pushed to.
  const needsToken = mode === "pull_request" && pull?.fork === false && (comment || commitRendered);
  if (!token && needsToken)
    problems.push(
      `input github-token is empty: pass \${{ github.token }} or a GitHub App token${commitRendered ? " (commit-rendered pushes with it)" : " (the plan comment needs it; comment: false does without)"}`,
    );
  if (problems.length > 0) return { problems };
  return {
    context: {
      mode,
      eventName,
      owner,
      repo,
      workspace,
      apiUrl: (env.GITHUB_API_URL || "https://api.github.com").replace(/\/+$/, ""),
      serverUrl,
      runUrl,
      runId: runId && /^[1-9][0-9]*$/.test(runId) ? Number(runId) : undefined,
      token,
      workflowToken: text(env[inputVariable("workflow-token")]?.trim()),
      comment,
      commitRendered,
      pull,
      before,
      queueBase,
    },
  };
}
