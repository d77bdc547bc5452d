// Restart paths, continued: what a restarted agent found standing — drift it may not correct, a commit the suspend
// switch holds — is not said again as news. Each test failed before its fix.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { clusterYaml, specYaml } from "../testkit/git-fixture";
import { createHarness, type Harness } from "../testkit/harness";
import { captureLog } from "../testkit/restart";
import type { RunningAgent } from "../src/runtime/run-agent";

let h: Harness;
afterEach(async () => {
  expect(h.github.unexpected).toEqual([]);
  await h.close();
});

type Tampered = { deployments: Array<{ num_replicas: number }> };
const scale = (app: string, n: number) =>
  h.ray.tamper(app, (a: Tampered) => {
    a.deployments[0]!.num_replicas = n;
  });
const drifts = (agent: RunningAgent) =>
  agent.status().models.flatMap((m) => m.events.filter((e) => e.type === "DRIFT_DETECTED").map(() => m.key));
const reported = async (agent: RunningAgent) =>
  (await agent.metrics.driftEvents.get()).values
    .filter((v) => v.labels.action === "reported")
    .reduce((n, v) => n + v.value, 0);

describe("drift standing when the agent restarts (self_heal off)", () => {
  it("is not said again: one DRIFT_DETECTED event, no warning, nothing counted; new drift still is", async () => {
    h = await createHarness({
      cluster: { sync: { self_heal: false } },
      files: { "models/alice/x.yaml": specYaml("x"), "models/bob/y.yaml": specYaml("y") },
    });
    const { agent: first } = await h.startSettled();
    scale("alice-202601061235-x", 4);
    await h.settle(first);
    await h.settle(first);
    expect(drifts(first)).toEqual(["alice/x"]);
    expect(await reported(first)).toBe(1);
    await first.close();

    const { log, parsed } = captureLog();
    const agent = await h.start({}, { log });
    for (let i = 0; i < 3; i++) await h.settle(agent);
    // Before the fix the restarted agent's in-memory "said" was empty: a second DRIFT_DETECTED event, the warning
    // and another count in serve_gitops_drift_events_total, though nothing changed.
    expect(drifts(agent)).toEqual(["alice/x"]);
    expect(parsed().filter((l) => l.msg === "drift: Serve differs from the applied commit")).toEqual([]);
    expect(
      parsed().filter((l) => l.msg === "drift still stands: Serve differs from the applied commit"),
    ).toEqual([expect.objectContaining({ level: 30 })]);
    expect(await reported(agent)).toBe(0);

    // Drift that changes is news: said.
    scale("bob-202601061235-y", 3);
    await h.settle(agent);
    await h.settle(agent);
    expect(drifts(agent)).toContain("bob/y");
    expect(parsed().filter((l) => l.msg === "drift: Serve differs from the applied commit")).toHaveLength(1);
    expect(await reported(agent)).toBe(1);
  });
});

/**
 * A first agent settles alice/x; then a commit turns the suspend switch on in cluster.yaml and adds bob/y. The
 * first agent takes it (held), writes what it owes and stops. Returns the held commit.
 */
async function heldBySuspend(): Promise<string> {
  h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
  const { agent: first } = await h.startSettled();
  h.repo.write("clusters/h1/cluster.yaml", clusterYaml({ sync: { suspend: true } }));
  h.repo.write("models/bob/y.yaml", specYaml("y"));
  const held = h.repo.ship("suspend, and add y");
  await h.settle(first);
  await first.outbox.drain();
  await first.close();
  return held;
}

describe("a commit the suspend switch holds when the agent restarts", () => {
  it("is not announced again: no second 'sync is suspended' line, no status queued again", async () => {
    const held = await heldBySuspend();
    const pending = "serve/h1 pending suspended: sync is paused by clusters/h1/cluster.yaml";
    expect(h.statuses(held)).toEqual([pending]);
    const queued = () =>
      (JSON.parse(readFileSync(join(h.stateDir, "github.json"), "utf8")) as { nextId: number }).nextId;
    const before = queued();

    const { log, parsed } = captureLog();
    const agent = await h.start({}, { log });
    for (let i = 0; i < 3; i++) await h.settle(agent);
    await agent.outbox.drain();
    // Before the fix the restarted agent announced the held commit as new: the same log line, and its pending
    // status queued again (the outbox then skipped it as posted).
    expect(parsed().filter((l) => l.msg === "sync is suspended: the commit waits")).toEqual([]);
    expect(parsed().filter((l) => l.msg === "sync is still suspended: the commit waits")).toHaveLength(1);
    expect(queued()).toBe(before);
    expect(h.statuses(held)).toEqual([pending]);
    expect(agent.status().models.map((m) => `${m.key} ${m.state}`)).toEqual([
      "alice/x RUNNING",
      "bob/y QUEUED",
    ]);

    // Still held, as the record says: the commit that resumes sync resolves its pending status.
    h.repo.write("clusters/h1/cluster.yaml", clusterYaml());
    const resumed = h.repo.ship("resume sync");
    await h.settle(agent);
    await agent.outbox.drain();
    expect(h.latest(resumed).get("serve/h1")?.state).toBe("success");
    expect(h.latest(held).get("serve/h1")?.state).not.toBe("pending");
  });
});

describe("a held commit whose switch changed across a restart", () => {
  it("gets the status that names the switch holding it now (--suspend added)", async () => {
    const held = await heldBySuspend();

    const agent = await h.start({ suspend: true });
    await h.settle(agent);
    await agent.outbox.drain();
    expect(h.statuses(held)).toEqual([
      "serve/h1 pending suspended: sync is paused by clusters/h1/cluster.yaml",
      "serve/h1 pending suspended: sync is paused by --suspend",
    ]);
  });
});
