// Commit-status descriptions. GitHub rejects (422) a description over 140 characters — counted in code
// points — and one holding a 4-byte character, so every description goes through fitDescription().

export const DESCRIPTION_MAX = 140;

/** At most 140 code points, no 4-byte characters, no control characters, one line. */
export function fitDescription(text: string, max = DESCRIPTION_MAX): string {
  const points = [...text.replace(/\s+/g, " ").trim()].map((c) => {
    const code = c.codePointAt(0)!;
    if (code > 0xffff) return "\ufffd";
    if (code < 0x20 || code === 0x7f) return " ";
    return c;
  });
  if (points.length <= max) return points.join("");
  return `${points
    .slice(0, max - 1)
    .join("")
    .trimEnd()}\u2026`;
}

export const sha7 = (sha: string): string => sha.slice(0, 7);

export const describe = {
  deploying: (replicas: string) => fitDescription(`deploying ${replicas}`),
  undeploying: () => "undeploying",
  running: (served: string) => fitDescription(`RUNNING ${served}`),
  failed: (summary: string | undefined) => fitDescription(summary ?? "FAILED"),
  timeout: (seconds: number, status: string) => fitDescription(`not serving after ${seconds} s (${status})`),
  scalingTimeout: (seconds: number, status: string) =>
    fitDescription(
      `target replicas not running after ${seconds} s (${status}); the running ones still serve`,
    ),
  unhealthyTimeout: (seconds: number, summary: string) =>
    fitDescription(`UNHEALTHY after ${seconds} s: ${summary}`),
  undeployed: () => "undeployed",
  superseded: (sha: string) => `superseded by ${sha7(sha)}`,
  // Models being removed are named apart from those coming up, and only while there are any.
  cluster: (counts: { running: number; deploying: number; undeploying: number; failed: number }) =>
    `${counts.running} running, ${counts.deploying} deploying, ${counts.undeploying > 0 ? `${counts.undeploying} undeploying, ` : ""}${counts.failed} failed`,
  summaryPending: (count: number) => `deploying ${count} models`,
};
