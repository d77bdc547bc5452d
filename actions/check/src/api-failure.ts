import { describeError } from "./redact";

/**
 * Why GitHub refused a request, in words, when a rate limit is the reason: it is not a missing permission,
 * though both answer 403. plugin-throttling has already waited and retried by the time this is asked.
 */
export function rateLimitFailure(failure: unknown): string | undefined {
  const { status, response } = failure as {
    status?: unknown;
    response?: { headers?: Record<string, string | number | undefined> };
  };
  const headers = response?.headers ?? {};
  if ((status === 403 || status === 429) && String(headers["x-ratelimit-remaining"]) === "0") {
    const reset = Number(headers["x-ratelimit-reset"]);
    const when = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : "";
    return `the token's GitHub API rate limit is used up${when} (HTTP ${status})`;
  }
  if (status === 429 || (status === 403 && /secondary rate limit/i.test(describeError(failure))))
    return `GitHub's secondary rate limit (HTTP ${status}): too many requests at once`;
  return undefined;
}

/**
 * Why a read the check needs failed. GitHub answers 403 ("Resource not accessible by integration") when the
 * token lacks the permission, and 404 where it hides the resource from such a token: both name it.
 */
export function readFailure(failure: unknown, what: string, permission: string): string {
  const limited = rateLimitFailure(failure);
  if (limited) return `${what} could not be read: ${limited}`;
  const status = (failure as { status?: unknown }).status;
  if (status === 403 || status === 404)
    return `${what} could not be read (HTTP ${status}): the token lacks the \`${permission}\` permission — add \`${permission}\` to the job's \`permissions:\` (or grant it to the GitHub App whose token is the github-token input)`;
  return `${what} could not be read: ${describeError(failure)}`;
}
