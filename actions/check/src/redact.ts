/**
 * Every line the Action writes passes through here. The runner masks registered secrets in its logs, but
 * not in the job summary, outputs or a PR comment, and a test reading raw output sees them unmasked.
 */
export function createRedactor(secrets: readonly (string | undefined)[]): (text: string) => string {
  const given = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
  // The form a token takes in git's HTTP basic-auth header, should a git error ever echo it.
  const list = [...given, ...given.map((s) => Buffer.from(`x-access-token:${s}`).toString("base64"))];
  return (text) => list.reduce((out, secret) => out.split(secret).join("***"), text);
}

/**
 * A failure as one line a user can act on. Only the message is used: an HTTP client's error also carries
 * the request (headers, possibly the token), which is never printed.
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status;
    const lines = error.message
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "");
    const message = (lines.join(" | ") || error.name).slice(0, 600);
    return typeof status === "number" ? `HTTP ${status}: ${message}` : message;
  }
  return String(error);
}
