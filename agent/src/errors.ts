// The agent's typed errors. Every failure of the outside world is classified: transient ones (Ray down,
// 5xx, timeouts, GitHub 5xx or rate limits, git unreachable, a full disk) are retried with backoff and
// jitter; terminal ones (a config Ray rejects, a bad token, an unsupported Ray) wait for a new commit or
// an operator.

export type FailureKind = "transient" | "terminal";

export interface AgentErrorOptions {
  readonly kind: FailureKind;
  readonly cause?: unknown;
}

export class AgentError extends Error {
  override name = "AgentError";
  readonly kind: FailureKind;
  constructor(message: string, options: AgentErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = options.kind;
  }
}

/** git could not reach the remote or read the clone. */
export class GitError extends AgentError {
  override name = "GitError";
}

/**
 * A commit git does not have after fetching the branch: not on it any more (a force-push dropped it) and not in
 * the clone (a new clone, or the old objects pruned). Transient for a head (the branch may have moved while
 * fetching); the agent reads on without an older commit it needs.
 */
export class CommitNotFoundError extends GitError {
  override name = "CommitNotFoundError";
}

/** The Ray dashboard answered badly or not at all. `status` is the HTTP status, when there was one. */
export class RayError extends AgentError {
  override name = "RayError";
  readonly status: number | undefined;
  /** Ray's own text (a pydantic repr or a traceback), for the commit status. */
  readonly body: string;
  /**
   * A 400 that is the Serve controller's task failing (str(RayTaskError)), not the config failing validation:
   * retried a few times before it fails the commit (runtime/apply.ts).
   */
  readonly controllerTask: boolean;
  constructor(
    message: string,
    options: AgentErrorOptions & { status?: number; body?: string; controllerTask?: boolean },
  ) {
    super(message, options);
    this.status = options.status;
    this.body = options.body ?? "";
    this.controllerTask = options.controllerTask ?? false;
  }
}

/** The Ray at the address is one the agent does not know how to drive. */
export class UnsupportedRayError extends AgentError {
  override name = "UnsupportedRayError";
  constructor(message: string) {
    super(message, { kind: "terminal" });
  }
}

/** A GitHub API call failed. `retryAt` (epoch ms) is set for rate limits. */
export class GitHubError extends AgentError {
  override name = "GitHubError";
  readonly status: number | undefined;
  readonly retryAt: number | undefined;
  constructor(message: string, options: AgentErrorOptions & { status?: number; retryAt?: number }) {
    super(message, options);
    this.status = options.status;
    this.retryAt = options.retryAt;
  }
}

/** The state directory could not be written (ENOSPC, EIO, ...): the agent must not act without its record. */
export class StateStoreError extends AgentError {
  override name = "StateStoreError";
  readonly code: string | undefined;
  constructor(message: string, options: AgentErrorOptions & { code?: string }) {
    super(message, options);
    this.code = options.code;
  }
}

/** The branch does not define the cluster named by --cluster: an operator's error, never reported on a commit. */
export class UnknownClusterError extends AgentError {
  override name = "UnknownClusterError";
  constructor(message: string) {
    super(message, { kind: "terminal" });
  }
}

/** Another agent holds the state directory. */
export class LockError extends AgentError {
  override name = "LockError";
  constructor(message: string) {
    super(message, { kind: "terminal" });
  }
}

export const isTransient = (error: unknown): boolean =>
  error instanceof AgentError && error.kind === "transient";

/**
 * GitHub refused the agent's token: 401, or a 403 that is not a rate limit (a revoked, read-only or
 * under-scoped token). Terminal — retrying the same write will not help until an operator fixes the token —
 * but the write is the commit's, not GitHub's to refuse: it is kept for when the token works.
 */
export const isGitHubAuthFailure = (error: unknown): boolean =>
  error instanceof GitHubError && error.kind === "terminal" && (error.status === 401 || error.status === 403);

export interface SafeError {
  readonly name: string;
  readonly message: string;
  readonly kind?: FailureKind;
  readonly status?: number;
  readonly code?: string;
  readonly cause?: { readonly name: string; readonly message: string };
}

/**
 * What may be logged of an error: name, message, status and the cause's name and message. Never the error
 * itself: an HTTP client's error carries its request object, which can hold a token.
 */
export function safeError(error: unknown): SafeError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const record = error as Error & { status?: unknown; code?: unknown; kind?: unknown };
  const cause =
    error.cause instanceof Error
      ? { name: error.cause.name, message: firstLine(error.cause.message) }
      : undefined;
  return {
    name: error.name,
    message: error.message,
    ...(record.kind === "transient" || record.kind === "terminal" ? { kind: record.kind } : {}),
    ...(typeof record.status === "number" ? { status: record.status } : {}),
    ...(typeof record.code === "string" ? { code: record.code } : {}),
    ...(cause ? { cause } : {}),
  };
}

const firstLine = (text: string): string => text.split("\n")[0] ?? "";
