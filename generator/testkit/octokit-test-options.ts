/**
 * Octokit options for tests: the `octokit` package's retry and throttling plugins stay ON, with their
 * timings shortened so a test never sleeps for real-world seconds.
 *
 * What the plugins do by default (read from their sources, plugin-throttling 11.0.5, plugin-retry 8.1.1):
 * - plugin-throttling waits `retryAfter * retryAfterBaseValue` ms (base 1000) before retrying a 403/429
 *   limit: retryAfter = the retry-after header, else `fallbackSecondaryRateRetryAfter` (60) for a
 *   secondary limit (message matching /\bsecondary rate\b/i); x-ratelimit-reset - now + 1 s for a
 *   primary limit (x-ratelimit-remaining "0"). It retries only while onRateLimit/onSecondaryRateLimit
 *   return true.
 * - It spaces write requests 1 s apart (Bottleneck group `write`, minTime 1000), requests that notify
 *   (issue comments, ...) 3 s apart (`notifications`, minTime 3000) and searches 2 s apart (`search`).
 *   These groups are module-wide singletons, so the only per-client way to shorten them is to pass
 *   replacement groups in `throttle.write` / `throttle.notifications` / `throttle.search`.
 * - plugin-retry retries any status >= 400 except 400, 401, 403, 404, 410, 422, 451 up to `retries` (3)
 *   times, waiting (retryCount + 1)^2 * retryAfterBaseValue ms (base 1000); it never reads retry-after.
 *   A `request: { retryAfter }` option has no effect: the plugin overwrites it on every retry.
 */

/** The stand-in for Bottleneck.Group that plugin-throttling calls: group.key(id).schedule(options?, job, ...args). */
export interface ThrottleGroup {
  key(id?: string): { schedule(...args: unknown[]): Promise<unknown> };
}

/**
 * (retryAfter seconds, request options, octokit, retryCount) => retry? — plugin-throttling's handlers.
 * The octokit package's OctokitOptions types `throttle` and `retry` as `any` (the plugins' type
 * augmentations are not loaded through "octokit"), so these local types are what checks the names.
 */
export type LimitHandler = (
  retryAfter: number,
  options: unknown,
  octokit: unknown,
  retryCount: number,
) => boolean;

export interface TestThrottleOptions {
  enabled: true;
  retryAfterBaseValue: number;
  fallbackSecondaryRateRetryAfter: number;
  write: ThrottleGroup;
  notifications: ThrottleGroup;
  search: ThrottleGroup;
  onRateLimit: LimitHandler;
  onSecondaryRateLimit: LimitHandler;
}

export interface TestRetryOptions {
  enabled: true;
  retries: number;
  retryAfterBaseValue: number;
}

export interface TestOctokitOptionsInput {
  baseUrl?: string;
  auth?: string;
  /** Milliseconds per "second" the plugins would wait (both plugins' retryAfterBaseValue). Default 10. */
  msPerSecond?: number;
  /** How many times a rate-limited request is retried by plugin-throttling. Default 3. */
  rateLimitRetries?: number;
  /** plugin-retry's retries for 5xx and other retryable errors. Default 3 (its default). */
  retries?: number;
  /** Called on every primary/secondary limit the throttling plugin sees (before it decides to retry). */
  onLimit?: (event: { kind: "primary" | "secondary"; retryAfter: number; retryCount: number }) => void;
}

export interface TestOctokitOptions {
  baseUrl?: string;
  auth?: string;
  throttle: TestThrottleOptions;
  retry: TestRetryOptions;
}

/** A stand-in for a Bottleneck.Group whose limiters run jobs at once (no minTime spacing). */
function immediateGroup(): ThrottleGroup {
  const limiter = {
    schedule(...args: unknown[]): Promise<unknown> {
      const at = typeof args[0] === "function" ? 0 : 1;
      const job = args[at] as (...jobArgs: unknown[]) => unknown;
      return Promise.resolve().then(() => job(...args.slice(at + 1)));
    },
  };
  return { key: () => limiter };
}

export function testOctokitOptions(input: TestOctokitOptionsInput = {}): TestOctokitOptions {
  const msPerSecond = input.msPerSecond ?? 10;
  const rateLimitRetries = input.rateLimitRetries ?? 3;
  const handler =
    (kind: "primary" | "secondary"): LimitHandler =>
    (retryAfter, _options, _octokit, retryCount): boolean => {
      input.onLimit?.({ kind, retryAfter, retryCount });
      return retryCount < rateLimitRetries;
    };
  return {
    ...(input.baseUrl !== undefined && { baseUrl: input.baseUrl }),
    ...(input.auth !== undefined && { auth: input.auth }),
    throttle: {
      enabled: true,
      retryAfterBaseValue: msPerSecond,
      fallbackSecondaryRateRetryAfter: 1,
      write: immediateGroup(),
      notifications: immediateGroup(),
      search: immediateGroup(),
      onRateLimit: handler("primary"),
      onSecondaryRateLimit: handler("secondary"),
    },
    retry: { enabled: true, retries: input.retries ?? 3, retryAfterBaseValue: msPerSecond },
  };
}
