/** Exponential backoff with jitter: base * 2^(attempt-1), capped, then +-25% so agents do not retry in step. */
export function backoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(raw * (0.75 + random() * 0.5)));
}
