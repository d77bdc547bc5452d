/**
 * How every GitHub client of the tool (the Action's and the agent's) treats failed requests: plugin-retry's
 * defaults plus 429. plugin-retry would retry a 429 itself after a fixed (n+1)^2 s, ignoring retry-after,
 * before plugin-throttling sees it; left alone, plugin-throttling waits as long as GitHub says.
 */
export const GITHUB_DO_NOT_RETRY: readonly number[] = [400, 401, 403, 404, 410, 422, 429, 451];
