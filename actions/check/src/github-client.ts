import { Octokit } from "octokit";
import { GITHUB_DO_NOT_RETRY } from "../../../generator/src/io/github-policy";

export interface ClientLog {
  debug(message: string): void;
  warning(message: string): void;
}

export interface ClientOptions {
  readonly token: string;
  readonly baseUrl: string;
  readonly log: ClientLog;
  /** Environment read for the test switch; defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** How often a rate-limited request is retried before the check gives up on the comment. */
const LIMIT_RETRIES = 2;
/** Longer waits than this are not worth holding a CI job for: the plan is in the job summary anyway. */
const LONGEST_WAIT_S = 120;

/**
 * The one GitHub client of the Action: the `octokit` package, whose retry (5xx) and throttling (403/429
 * rate limits, write spacing) plugins stay on. SERVE_GITOPS_TEST_FAST=1 — read here and nowhere else —
 * turns their second-long waits into milliseconds so tests of the real retry path finish quickly.
 */
export function createGitHubClient(options: ClientOptions): Octokit {
  const fast = (options.env ?? process.env).SERVE_GITOPS_TEST_FAST === "1";
  const onLimit =
    (kind: string) =>
    (
      retryAfter: number,
      request: { method?: string; url?: string },
      _octokit: unknown,
      retryCount: number,
    ): boolean => {
      const retry = retryCount < LIMIT_RETRIES && retryAfter <= LONGEST_WAIT_S;
      // request.url is a route template or an API URL: the token travels in a header, never in it.
      options.log.warning(
        `GitHub ${kind} rate limit on ${request.method ?? "?"} ${request.url ?? "?"}: ${retry ? `retrying in ${retryAfter} s` : "giving up"}`,
      );
      return retry;
    };
  return new Octokit({
    auth: options.token,
    baseUrl: options.baseUrl,
    userAgent: "serve-gitops-check",
    log: {
      debug: (m: string) => options.log.debug(m),
      info: (m: string) => options.log.debug(m),
      warn: (m: string) => options.log.warning(m),
      error: (m: string) => options.log.warning(m),
    },
    throttle: {
      onRateLimit: onLimit("primary"),
      onSecondaryRateLimit: onLimit("secondary"),
      ...(fast ? { retryAfterBaseValue: 1, fallbackSecondaryRateRetryAfter: 1 } : {}),
    },
    // 429s go to plugin-throttling, which honours retry-after (see github-policy.ts).
    retry: {
      doNotRetry: [...GITHUB_DO_NOT_RETRY],
      ...(fast ? { retryAfterBaseValue: 1 } : {}),
    },
  });
}
