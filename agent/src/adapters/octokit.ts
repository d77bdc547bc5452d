// The agent's one Octokit: the `octokit` package, so plugin-retry (5xx) and plugin-throttling (write spacing,
// primary and secondary rate limits) are on. Tests shorten their timings through the same options.
import { Octokit } from "octokit";
import { GITHUB_DO_NOT_RETRY } from "../../../generator/src/io/github-policy";
import type { Logger } from "../log";
import { redactError, secretRedactor } from "../redact-secrets";

export interface OctokitOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly log: Logger;
  /** plugin-throttling / plugin-retry options that replace the defaults (tests shorten the timings). */
  readonly tuning?: { readonly throttle?: object; readonly retry?: object };
  /** Per API call, retries included: a GitHub that accepts the connection and never answers cannot hold the agent. */
  readonly timeoutMs?: number;
  /** Aborts every request in flight (shutdown, once the grace period is over). */
  readonly signal?: AbortSignal;
  /** Every answer (or failure) for metrics: status and the remaining primary rate limit. */
  readonly onResponse?: (method: string, status: number, remaining: number | undefined) => void;
}

/** The default per-call deadline: well inside the shutdown grace period. */
export const GITHUB_TIMEOUT_MS = 10_000;

/** Wait for a rate limit inside the request only when it is short; longer ones go back to the outbox. */
const MAX_INLINE_WAIT_S = 60;

export function createOctokit(options: OctokitOptions): Octokit {
  const { log } = options;
  const octokit = new Octokit({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    auth: options.token,
    userAgent: "serve-gitops-agent",
    // The plugins log strings only; route them to pino (never the request object).
    log: {
      debug: (message: string) => log.debug({ octokit: true }, message),
      info: (message: string) => log.debug({ octokit: true }, message),
      warn: (message: string) => log.warn({ octokit: true }, message),
      error: (message: string) => log.error({ octokit: true }, message),
    },
    throttle: {
      onRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => {
        log.warn({ retryAfter, retryCount }, "GitHub primary rate limit");
        return retryAfter <= MAX_INLINE_WAIT_S && retryCount < 2;
      },
      onSecondaryRateLimit: (
        retryAfter: number,
        _options: unknown,
        _octokit: unknown,
        retryCount: number,
      ) => {
        log.warn({ retryAfter, retryCount }, "GitHub secondary rate limit");
        return retryAfter <= MAX_INLINE_WAIT_S * 2 && retryCount < 2;
      },
      ...options.tuning?.throttle,
    },
    // 429s go to plugin-throttling, which honours retry-after (see github-policy.ts).
    retry: { doNotRetry: [...GITHUB_DO_NOT_RETRY], ...options.tuning?.retry },
  });
  // Outermost wrap (registered after the plugins'): one deadline for the call and its retries. Aborted with
  // controller.abort() — an AbortError, which plugin-retry does not retry — not AbortSignal.timeout().
  octokit.hook.wrap("request", async (request, requestOptions) => {
    const controller = new AbortController();
    const abort = () => controller.abort();
    const timer = setTimeout(abort, options.timeoutMs ?? GITHUB_TIMEOUT_MS);
    options.signal?.addEventListener("abort", abort);
    if (options.signal?.aborted) abort();
    try {
      // In place: before-after-hook binds the same options object to every inner hook and ignores arguments.
      requestOptions.request = { ...requestOptions.request, signal: controller.signal };
      return await request(requestOptions);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", abort);
    }
  });
  const remainingOf = (headers: Record<string, unknown> | undefined) => {
    const value = Number(headers?.["x-ratelimit-remaining"]);
    return Number.isFinite(value) ? value : undefined;
  };
  octokit.hook.after("request", (response, request) => {
    options.onResponse?.(request.method, response.status, remainingOf(response.headers));
  });
  // A failure's message is what GitHub (or a proxy before it) answered, and a proxy's error page can quote the
  // token it was sent: masked before the message reaches a log line or the agent's faults.
  const redact = secretRedactor([options.token]);
  octokit.hook.error("request", (error, request) => {
    const e = error as { status?: number; response?: { headers?: Record<string, unknown> } };
    options.onResponse?.(request.method, e.status ?? 0, remainingOf(e.response?.headers));
    redactError(error, redact);
    throw error;
  });
  return octokit;
}
