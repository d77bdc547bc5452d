import { afterEach, describe, expect, it, vi } from "vitest";
import type { SafeError } from "../errors";
import { silentLogger } from "../log";
import type { Agent, CycleReport } from "./agent";
import { AgentLoop, SHUTDOWN_GRACE_MS } from "./loop";

afterEach(() => {
  vi.useRealTimers();
});

const GITHUB_DOWN: SafeError = {
  name: "GitHubError",
  message: "GitHub POST statuses failed (503)",
  kind: "transient",
};
const RAY_DOWN: SafeError = { name: "RayError", message: "Ray dashboard is unreachable", kind: "transient" };

/** An agent whose every cycle reports the given faults, counting its cycles. */
function stubAgent(faults: readonly SafeError[], extra: Partial<Agent> = {}) {
  const stub = {
    cycles: 0,
    hurried: false,
    cycle: async (): Promise<CycleReport> => {
      stub.cycles++;
      return { action: "none", faults, busy: true, terminal: false };
    },
    flush: async () => undefined,
    hurry: () => void (stub.hurried = true),
    ...extra,
  };
  return stub;
}

const loopOf = (agent: object, extra: { graceMs?: number; onGiveUp?: () => void } = {}) =>
  new AgentLoop(agent as unknown as Agent, {
    intervalMs: 1000,
    watchIntervalMs: 1000,
    once: false,
    log: silentLogger(),
    ...extra,
  });

describe("the loop's schedule", () => {
  it("does not back off reconciliation for GitHub's faults (the outbox has its own backoff); Ray's do", async () => {
    vi.useFakeTimers();
    const github = stubAgent([GITHUB_DOWN]);
    const ray = stubAgent([RAY_DOWN]);
    const loops = [loopOf(github), loopOf(ray)];
    const runs = loops.map((l) => l.run());
    for (let i = 0; i < 30; i++) await vi.advanceTimersByTimeAsync(1000);
    for (const l of loops) l.stop();
    await vi.runAllTimersAsync();
    await Promise.all(runs);
    expect(github.cycles).toBeGreaterThanOrEqual(30);
    expect(ray.cycles).toBeLessThan(10);
  });

  it("a stop takes at most the grace period in all, the cycle under way included, then aborts GitHub writes", async () => {
    vi.useFakeTimers();
    let stopping = false;
    const agent = stubAgent([], {
      // The cycle under way when the signal comes takes 15 s (git or Ray at their timeouts).
      cycle: async () => {
        if (stopping) await new Promise((r) => setTimeout(r, 15_000));
        return { action: "none", faults: [], busy: false, terminal: false };
      },
      // GitHub never answers.
      flush: () => new Promise<void>(() => undefined),
    });
    const onGiveUp = vi.fn();
    const loop = loopOf(agent, { onGiveUp });
    const run = loop.run();
    await vi.advanceTimersByTimeAsync(500);
    stopping = true;
    await vi.advanceTimersByTimeAsync(600);
    const stoppedAt = Date.now();
    loop.stop();
    expect(agent.hurried).toBe(true);
    let done = false;
    void run.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(SHUTDOWN_GRACE_MS - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    expect(Date.now() - stoppedAt).toBe(SHUTDOWN_GRACE_MS);
    expect(onGiveUp).toHaveBeenCalledOnce();
  });
});
