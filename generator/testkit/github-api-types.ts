/**
 * Types of the strict GitHub REST API test server (see github-api-server.ts).
 * Response objects mirror the shapes recorded in @octokit/fixtures (create-status scenario) and the
 * comment object of @octokit/webhooks-examples (issue_comment).
 */

export type CommitState = "error" | "failure" | "pending" | "success";

/** A user as GitHub embeds it in `creator` / `user` (simple-user, the key set of the fixtures). */
export interface GitHubUser {
  login: string;
  id: number;
  node_id: string;
  avatar_url: string;
  gravatar_id: string;
  url: string;
  html_url: string;
  followers_url: string;
  following_url: string;
  gists_url: string;
  starred_url: string;
  subscriptions_url: string;
  organizations_url: string;
  repos_url: string;
  events_url: string;
  received_events_url: string;
  type: "User" | "Bot" | "Organization";
  site_admin: boolean;
}

/** POST /repos/{o}/{r}/statuses/{sha} response and GET .../commits/{ref}/statuses items. */
export interface CommitStatus {
  url: string;
  avatar_url: string | null;
  id: number;
  node_id: string;
  state: CommitState;
  description: string | null;
  target_url: string | null;
  context: string;
  created_at: string;
  updated_at: string;
  creator: GitHubUser;
}

/** Items of the combined status: a status without `creator`. */
export type SimpleCommitStatus = Omit<CommitStatus, "creator">;

export interface CombinedStatus {
  state: "failure" | "pending" | "success";
  statuses: SimpleCommitStatus[];
  sha: string;
  total_count: number;
  repository: Record<string, unknown>;
  commit_url: string;
  url: string;
}

export interface IssueComment {
  url: string;
  html_url: string;
  issue_url: string;
  id: number;
  node_id: string;
  user: GitHubUser;
  created_at: string;
  updated_at: string;
  author_association: string;
  body: string;
}

/** What a test configures for a pull request (setPull / setCommitPulls); returned as configured plus defaults. */
export interface PullRequestInput {
  number: number;
  state?: "open" | "closed";
  merged_at?: string | null;
  title?: string;
  /** The description; null (GitHub's "none") by default. */
  body?: string | null;
  draft?: boolean;
  head: { sha: string; ref: string; repo?: { full_name: string; fork?: boolean } | null };
  base: { ref: string; sha?: string; repo?: { full_name: string } };
  user?: { login: string };
  [key: string]: unknown;
}

/** A commit of a pull request as a test configures it (setPullCommits). */
export interface PullCommitInput {
  sha: string;
  message: string;
  /** The author's login; default "octocat". */
  author?: string;
}

export interface TokenIdentity {
  login: string;
  /** Numeric user id; derived from the login when omitted. */
  id?: number;
  /** A fork PR's GITHUB_TOKEN: reads work, any write gets 403 "Resource not accessible by integration". */
  readOnly?: boolean;
  /**
   * Read permissions a workflow's `permissions:` can withhold: "none" answers the workflow-runs list
   * (`actions`) or a PR's issue events (`issues`) with 403 "Resource not accessible by integration".
   * Default: read. `contents: "none"` answers the repository's activity log (GET .../activity) with the same
   * 403 (GitHub's permission tables list that endpoint under Contents; it stands in for any refusal there).
   */
  permissions?: { actions?: "read" | "none"; issues?: "read" | "none"; contents?: "read" | "none" };
  /**
   * Whose token it is. "installation" — the default for a login ending in "[bot]": the workflow's
   * GITHUB_TOKEN or a GitHub App's installation token — has no user of its own, so GET /user answers it 403
   * "Resource not accessible by integration". "user" — the default otherwise: a personal access token, a
   * machine user's — gets its user from GET /user.
   */
  kind?: "user" | "installation";
}

/** A workflow run as a test configures it (addWorkflowRun); the rest of GitHub's object is filled in. */
export interface WorkflowRunInput {
  id: number;
  run_number: number;
  head_sha: string;
  /** Who triggered the run's first attempt (a push's pusher); kept on a re-run. */
  actor: string;
  /** Who started this attempt (a re-run's person); the actor by default. */
  triggering_actor?: string;
  /** Default 161335 (DEFAULT_WORKFLOW_ID). */
  workflow_id?: number;
  /** Default "pull_request". */
  event?: string;
  head_branch?: string;
  path?: string;
  created_at?: string;
  run_attempt?: number;
  status?: string;
  conclusion?: string | null;
  /** Numbers of the open PRs GitHub matches to the run (empty for a fork's). */
  pull_requests?: number[];
}

/** An entry of the repository's activity log as a test configures it (addActivity). */
export interface ActivityInput {
  /** The branch name (stored as `refs/heads/<ref>`). */
  ref: string;
  /** The commit the branch pointed at after the activity. */
  after: string;
  /** Default 40 zeros (a branch creation's). */
  before?: string;
  /** Who performed it; null for a deleted account. */
  actor: string | null;
  /** Default "push". */
  activity_type?:
    "push" | "force_push" | "branch_deletion" | "branch_creation" | "pr_merge" | "merge_queue_merge";
  /** Default: the server's clock when added. */
  timestamp?: string;
}

/** An issue (or pull request) event as a test configures it (addIssueEvent). */
export interface IssueEventInput {
  /** "reopened", "closed", ... */
  event: string;
  actor: string;
  created_at: string;
  /** A "renamed" event's titles (GitHub's renamed-issue-event); editPull() records it. */
  rename?: { from: string; to: string };
}

/** An edit of a pull request's title and/or description (editPull), by someone, at a time. */
export interface PullEditInput {
  title?: string;
  body?: string;
  /** Who edited it; default "octocat". */
  actor?: string;
  /** When; default the server's clock. */
  at?: string;
}

export interface GitHubApiServerOptions {
  /** token -> identity. More can be added with addToken(). No token is accepted unless configured. */
  tokens?: Record<string, TokenIdentity>;
  /** Primary rate-limit budget per window (x-ratelimit-limit). Default 5000. */
  primaryLimit?: number;
  /** Length of the primary rate-limit window in seconds (x-ratelimit-reset = window start + this). Default 3600. */
  primaryWindowSeconds?: number;
  /**
   * Repositories ("owner/name", case-insensitive) the server knows. When set, any other repository
   * answers 404 and is recorded in `unexpected`. Default: every repository exists.
   */
  repositories?: string[];
  /**
   * Issue-comment body limit. "documented" (default): more than 65536 code points is a 422 — the limit
   * GitHub's error message names, and the safe one to code against. "enforced": more than 262144 UTF-8
   * bytes is a 422 — what github.com was measured to accept (same error message).
   */
  commentBodyLimit?: "documented" | "enforced";
  /** Clock for created_at/updated_at (ms since epoch). Rate-limit reset times always use Date.now(). */
  now?: () => number;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Request headers; the authorization header keeps its scheme but the credential is replaced by "***". */
  headers: Record<string, string>;
  /** Parsed JSON body; the raw text when it did not parse; undefined when empty. */
  body: unknown;
  /** Login of the token used, when it was valid. */
  login?: string;
  /** Status code the server answered with. */
  status: number;
}

export type UnexpectedKind =
  | "unknown-route"
  | "unknown-repository"
  | "unknown-ref"
  | "malformed-json"
  | "invalid-body"
  | "unknown-query-parameter"
  /** The test server itself threw (a bug in the testkit). */
  | "server-error";

/** A strict-mode violation: something a correct client never sends. Tests should assert the list is empty. */
export interface UnexpectedCall {
  kind: UnexpectedKind;
  method: string;
  path: string;
  message: string;
}

export interface RateLimitInjection {
  /**
   * primary: 403 with x-ratelimit-remaining 0 and x-ratelimit-reset = now + retryAfterSeconds.
   * secondary: 403 with retry-after and GitHub's secondary-limit message.
   * "429": 429 with retry-after and the secondary-limit message.
   */
  kind: "primary" | "secondary" | "429";
  /** How many matching requests get the limit response. Default 1. */
  count?: number;
  /** Seconds until reset (primary) or the retry-after value. Default 1. null omits retry-after. */
  retryAfterSeconds?: number | null;
  /** Only requests whose path matches. */
  route?: RegExp;
  /** Only requests with this method (case-insensitive). */
  method?: string;
}

export interface FaultInjection {
  status: 500 | 502 | 503;
  /** How many matching requests fail. Default 1. */
  count?: number;
  route?: RegExp;
  method?: string;
}

export interface RateLimitSnapshot {
  limit: number;
  remaining: number;
  used: number;
  /** Epoch seconds. */
  reset: number;
}

export interface GitHubApiServer {
  /** Base URL to pass as Octokit's baseUrl, e.g. http://127.0.0.1:43123 (no trailing slash). */
  readonly url: string;
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Strict-mode violations, in arrival order. */
  readonly unexpected: UnexpectedCall[];
  addToken(token: string, identity: TokenIdentity): void;
  /** Let a branch or tag name resolve to a commit for the GET .../commits/{ref}/... routes. */
  setRef(ref: string, sha: string, repo?: string): void;
  /** Pull requests GET .../commits/{sha}/pulls returns; also registers them for GET .../pulls/{n}. */
  setCommitPulls(sha: string, pulls: PullRequestInput[], repo?: string): void;
  /**
   * A pull request for GET .../pulls/{n}: `merged_by: { login }` is shown there only (GitHub's lists of pull
   * requests do not carry it).
   */
  setPull(pull: PullRequestInput, repo?: string): void;
  /** The commits GET .../pulls/{n}/commits lists (oldest first, at most 250), for a pull request set before. */
  setPullCommits(pull: number, commits: PullCommitInput[], repo?: string): void;
  /** A workflow run GET .../actions/runs lists (newest first). */
  addWorkflowRun(run: WorkflowRunInput, repo?: string): void;
  /** Forget every workflow run (tests whose fixtures share commit SHAs). */
  clearWorkflowRuns(): void;
  /** An activity GET .../activity lists (newest first, as GitHub does by default). */
  addActivity(activity: ActivityInput, repo?: string): void;
  /** Forget every activity (tests whose fixtures share commit SHAs). */
  clearActivities(): void;
  /** An event GET .../issues/{n}/events lists for the issue or PR. */
  addIssueEvent(issue: number, event: IssueEventInput, repo?: string): void;
  /**
   * Edit a pull request set before, as its page's edit buttons do (any time, a merged one too): GET .../pulls/{n}
   * shows the new text; a new title is a "renamed" event (GET .../issues/{n}/events, and a RenamedTitleEvent of
   * GraphQL's timelineItems); a new description moves GraphQL's lastEditedAt (a title change does not).
   */
  editPull(pull: number, edit: PullEditInput, repo?: string): void;
  /** Seed a comment written by someone else (e.g. a human, or an earlier run). */
  addComment(repo: string, issue: number, comment: { body: string; login: string }): IssueComment;
  /** Delete a comment, as a person does on github.com; false when there was none with that id. */
  deleteComment(id: number): boolean;
  rateLimitNext(injection: RateLimitInjection): void;
  failNext(injection: FaultInjection): void;
  /**
   * Do `action` once, just before answering the next request that matches: what happens on GitHub while a
   * client is between two requests (a person deleting a comment the client has just listed).
   */
  beforeNext(match: { method?: string; route?: RegExp }, action: () => void): void;
  /** Statuses created for a commit, oldest first (all repositories unless repo is given). */
  statuses(sha: string, repo?: string): CommitStatus[];
  /** Comments of an issue or PR, oldest first (all repositories unless repo is given). */
  comments(issue: number, repo?: string): IssueComment[];
  rateLimit(): RateLimitSnapshot;
  close(): Promise<void>;
}
