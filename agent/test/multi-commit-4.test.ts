// Review findings on the record-less successor, a PUT answer lost, and suspend: each test failed before its fix.
import { afterEach, describe, expect, it } from "vitest";
import { RayServeTarget } from "../src/adapters/ray-target";
import type { ServeTarget } from "../src/ports";
import { startRayEmulator, type RayEmulator } from "../emulator/ray-dashboard";
import { putApps } from "../emulator/ray-test-utils";
import { clusterYaml, HUB_ROOT, specYaml } from "../testkit/git-fixture";
import {
  adminMergedPrune,
  answerLosingTarget,
  appsOf,
  createHarness,
  type Harness,
} from "../testkit/harness";
import { wipeStateDir } from "../testkit/restart";

/** A target whose PUTs Ray refuses (503) while `failing.on`. */
function flaky(failing: { on: boolean }): ServeTarget {
  const real = new RayServeTarget({ address: () => h.ray.url, timeoutMs: 2000 });
  return {
    version: () => real.version(),
    observe: () => real.observe(),
    async apply(config) {
      if (failing.on) h.ray.setFailNext(503);
      return real.apply(config);
    },
  };
}

/** What Ray's Serve API shows, as text. */
const serveText = async () =>
  JSON.stringify(await (await fetch(`${h.ray.url}/api/serve/applications/`)).json());

let h: Harness;
afterEach(async () => {
  expect(h.github.unexpected).toEqual([]);
  await h.close();
});

/**
 * c1 applied; c2's PUT fails three times; the operator restarts the agent with --suspend (c2 becomes a held
 * commit, 6cd33d7 dropped its watch); then Ray is fixed and an agent without --suspend settles on the same head.
 */
async function suspendedThroughFailingPuts() {
  const failing = { on: false };
  const c1 = h.repo.ship("alice: add a");
  const first = await h.start({}, { target: flaky(failing) });
  await h.settle(first);
  expect(first.status().marks.applied?.sha).toBe(c1);
  failing.on = true;
  h.repo.write("models/alice/a.yaml", specYaml("a", { maxModelLen: 4096 }));
  const c2 = h.repo.ship("alice: a shorter context");
  for (let i = 0; i < 3; i++) await first.agent.cycle();
  await first.outbox.drain();
  await first.close();
  // The operator pauses sync during the incident (6cd33d7: c2 becomes a held commit, its watch dropped)...
  const paused = await h.start({ suspend: true }, { target: flaky(failing) });
  for (let i = 0; i < 3; i++) await paused.agent.cycle();
  await paused.outbox.drain();
  await paused.close();
  // ...then Ray is fixed and sync resumes on the same head.
  failing.on = false;
  const resumed = await h.start({}, { target: flaky(failing) });
  await h.settle(resumed);
  await resumed.outbox.drain();
  return { c2, resumed };
}

describe("a record-less successor that summarises the head, restarted before the head's models settle", () => {
  it("still resolves the per-model status the agent before left pending (onlyIfShown after a restart)", async () => {
    h = await createHarness({
      emulator: { deployDelayMs: 600 },
      cluster: { sync: { max_model_statuses: 2 } },
      files: { "models/alice/a.yaml": specYaml("a"), "models/alice/b.yaml": specYaml("b") },
    });
    const { agent: first } = await h.startSettled();
    // One model added: below the limit, the agent posts serve/h1/alice/x pending on the head.
    h.repo.write("models/alice/x.yaml", specYaml("x"));
    const added = h.repo.ship("alice: add x");
    await first.agent.cycle();
    await first.outbox.drain();
    expect(h.latest(added).get("serve/h1/alice/x")?.state).toBe("pending");
    await first.close();
    // A lost volume: the successor watches the head's three models (above the limit: a summary) and, reading
    // GitHub first, owes alice/x's per-model status too (onlyIfShown).
    wipeStateDir(h);
    const successor = await h.start();
    await successor.agent.cycle();
    await successor.outbox.drain();
    await successor.close();
    // It restarts (a deploy, an OOM kill) with its state directory while x still loads.
    const agent = await h.start();
    await h.settle(agent);
    await new Promise((r) => setTimeout(r, 800));
    await h.settle(agent);
    await agent.outbox.drain();
    expect(agent.status().models.every((m) => m.state === "RUNNING")).toBe(true);
    // The per-model final write is onlyIfShown: the outbox skips it because the sha is not in its in-memory
    // `verified` set after the restart, though its record shows GitHub has the context. x stays pending forever.
    expect([...h.latest(added).entries()].filter(([, s]) => s.state === "pending")).toEqual([]);
  });
});

describe("--suspend on a head whose PUT kept failing, then sync resumed (holdCommit dropped its watch)", () => {
  it("applies the held head once the agent runs without --suspend, and resolves its pending status", async () => {
    // self_heal off: the head's config is not drift to correct, it is a commit that was never applied.
    h = await createHarness({
      cluster: { sync: { self_heal: false } },
      files: { "models/alice/a.yaml": specYaml("a") },
    });
    const { c2, resumed } = await suspendedThroughFailingPuts();
    // c2 is attempted (not new) and no rollout head is left for it ("retry"): with self_heal off the decision
    // is 'report-drift', so c2 is never PUT and its "suspended" status stays pending. Before 6cd33d7 the
    // unapplied head stayed in the rollout and the resumed agent retried the PUT.
    expect(await serveText()).toContain("4096");
    expect(resumed.status().marks.applied?.sha).toBe(c2);
    expect([...h.latest(c2).entries()].filter(([, s]) => s.state === "pending")).toEqual([]);
  });
});

describe("--suspend on a head whose PUT kept failing, then sync resumed (holdCommit dropped its watch), self_heal on (the default)", () => {
  it("(self_heal on) applies the held head once the agent runs without --suspend, and resolves its pending status", async () => {
    h = await createHarness({ files: { "models/alice/a.yaml": specYaml("a") } });
    const { c2, resumed } = await suspendedThroughFailingPuts();
    // With no rollout head left for c2, its config goes out as a drift correction (apply.ts starts no rollout for
    // it): Ray runs c2, yet c2 is never marked applied and its statuses are never resolved.
    expect(await serveText()).toContain("4096");
    expect([...h.latest(c2).entries()].filter(([, s]) => s.state === "pending")).toEqual([]);
    expect(resumed.status().marks.applied?.sha).toBe(c2);
  });
});

describe("--suspend on the first commit a new state directory attempts, its PUT failing (no accepted mark)", () => {
  it("holds it like a commit Ray never took: --once ends", async () => {
    h = await createHarness({ files: { "models/alice/a.yaml": specYaml("a") } });
    const failing = { on: true };
    h.repo.ship("alice: add a");
    const first = await h.start({}, { target: flaky(failing) });
    for (let i = 0; i < 3; i++) await first.agent.cycle();
    expect(first.status().marks.attempted).toBeDefined();
    expect(first.status().marks.accepted).toBeUndefined();
    await first.close();
    const agent = await h.start({ suspend: true }, { target: flaky(failing) });
    let report = await agent.agent.cycle();
    for (let i = 0; i < 5; i++) report = await agent.agent.cycle();
    // reconcile.ts: holding = isNew || (accepted !== undefined && accepted !== desired.sha): without an accepted
    // mark the attempted head is 'report-drift' (drift from a config Ray never took), its unapplied watch is
    // never dropped and `--once --suspend` stays busy.
    expect(report.busy).toBe(false);
  });
});

describe("a PUT Ray took whose answer was lost (acceptFoundRunning), then a prune by a plain push", () => {
  it("does not let the accepted commit's own Allow-Prune trailer allow the next commit's prune", async () => {
    const files: Record<string, string> = { "models/alice/a.yaml": specYaml("a") };
    // Within the quotas (8 GPUs a user): bob's six and alice's a plus six more.
    for (let n = 1; n <= 6; n++) files[`models/bob/m${n}.yaml`] = specYaml(`m${n}`);
    for (let n = 7; n <= 12; n++) files[`models/alice/m${n}.yaml`] = specYaml(`m${n}`);
    h = await createHarness({ files });
    const { target, lose } = answerLosingTarget(h);
    const apps = async () => (await appsOf(h.ray.url)).length;
    h.repo.ship("thirteen models");
    const agent = await h.start({}, { target });
    await h.settle(agent);
    expect(await apps()).toBe(13);
    // An admin merges the removal of six of bob's models with the trailer: allowed. Ray takes the PUT; its
    // answer is lost.
    adminMergedPrune(h, {
      number: 10,
      branch: "ops/prune",
      ref: "pr-10",
      message: "ops: remove six",
      author: "alice",
      paths: [1, 2, 3, 4, 5, 6].map((n) => `models/bob/m${n}.yaml`),
    });
    lose.next = true;
    await agent.agent.cycle();
    expect(lose.next).toBe(false);
    for (let i = 0; i < 100 && (await apps()) !== 7; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await apps()).toBe(7);
    // Then a plain push (no admin, no trailer) removes alice's six others: over the prune limit (5).
    for (let n = 7; n <= 12; n++) h.repo.remove(`models/alice/m${n}.yaml`);
    const pushed = h.repo.ship("bob: remove the rest");
    await h.settle(agent);
    await agent.outbox.drain();
    // The trailers were read from the last applied commit when the push arrived (c1: the merge's trailer
    // included); acceptFoundRunning then moved the accepted mark to the merge without reading them again, so the
    // merge's "Allow-Prune: 6", spent on its own prune, lifts the guard for the push's six undeploys.
    expect(h.latest(pushed).get("serve/h1")?.state).toBe("failure");
    expect(await apps()).toBe(7);
  });
});

describe("an admin-approved prune whose PUT answer was lost, judged again after a restart", () => {
  it("keeps what Ray took: the commit is accepted as found running, not rolled back while GitHub cannot confirm the merge", async () => {
    const files: Record<string, string> = { "models/alice/a.yaml": specYaml("a") };
    for (let n = 1; n <= 7; n++) files[`models/bob/m${n}.yaml`] = specYaml(`m${n}`);
    h = await createHarness({ files });
    const { agent: first } = await h.startSettled("eight models");
    await first.close();
    const { target, lose } = answerLosingTarget(h);
    lose.next = true;
    const apps = async () => (await appsOf(h.ray.url)).length;
    const second = await h.start({}, { target });
    // An admin merges the removal of six of bob's models with the trailer: allowed. Ray takes the PUT; its
    // answer is lost, so the record still has the commit before as the last accepted one.
    const merge = adminMergedPrune(h, {
      number: 12,
      branch: "bob/cleanup",
      ref: "pr-12",
      message: "bob: remove six",
      author: "bob",
      paths: [1, 2, 3, 4, 5, 6].map((n) => `models/bob/m${n}.yaml`),
    });
    await second.agent.cycle();
    expect(lose.next).toBe(false);
    for (let i = 0; i < 100 && (await apps()) !== 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await apps()).toBe(2);
    await second.close();
    // Restarted while GitHub cannot say who merged the pull request: the trailer cannot be honoured now.
    h.github.failNext({ status: 502, count: 1000, route: /\/pulls/ });
    const third = await h.start();
    for (let i = 0; i < 5; i++) await third.agent.cycle();
    expect(await apps()).toBe(2);
    expect(third.agent.state.marks.accepted?.sha).toBe(merge);
    expect(h.statuses(merge).filter((s) => s.includes(" failure "))).toEqual([]);
  });
});

describe("a commit that points the cluster at another Ray (ray.dashboard_address)", () => {
  let other: RayEmulator | undefined;
  afterEach(async () => {
    await other?.close();
    other = undefined;
  });
  const pointAt = (url: string) => h.repo.write("clusters/h1/cluster.yaml", clusterYaml({ dashboard: url }));

  it("starts there as on a first sync: another cluster's model on that Ray is not undeployed", async () => {
    other = await startRayEmulator({ existingPaths: [HUB_ROOT], deployDelayMs: 40 });
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    pointAt(h.ray.url);
    h.repo.ship("initial");
    const agent = await h.start({ rayAddress: undefined });
    await h.settle(agent);
    // The other Ray runs carol's model, deployed by another cluster's agent with the same layout.
    const shown = (await (await fetch(`${h.ray.url}/api/serve/applications/`)).json()) as {
      applications: Record<string, { deployed_app_config: object }>;
    };
    const mine = JSON.stringify(shown.applications["alice-202601061235-x"]!.deployed_app_config);
    const theirs = JSON.parse(mine.replaceAll("alice-202601061235-x", "carol-202601010000-z")) as object;
    expect((await putApps(other.url, { applications: [theirs] })).status).toBe(200);
    // A copy-paste puts the other cluster's address into h1's cluster.yaml.
    pointAt(other.url);
    const moved = h.repo.ship("h1: the new head node");
    await h.settle(agent);
    expect(await appsOf(other.url)).toEqual(["carol-202601010000-z"]);
    expect(await appsOf(h.ray.url)).toEqual(["alice-202601061235-x"]);
    const status = h.latest(moved).get("serve/h1");
    expect(status?.state).toBe("failure");
    expect(status?.description).toMatch(
      /^refused: first sync \(no state\) would undeploy 1 model\(s\) \(carol\/z\)/,
    );
  });

  it("a commit a guard refuses does not put the last applied config onto the new Ray", async () => {
    other = await startRayEmulator({ existingPaths: [HUB_ROOT], deployDelayMs: 40 });
    const files: Record<string, string> = {};
    for (const s of ["a", "b", "c", "d", "e", "f", "g"]) files[`models/alice/${s}.yaml`] = specYaml(s);
    h = await createHarness({ files });
    pointAt(h.ray.url);
    h.repo.ship("initial");
    const agent = await h.start({ rayAddress: undefined });
    await h.settle(agent);
    expect(await appsOf(h.ray.url)).toHaveLength(7);
    // The cluster moves to a new (empty) Ray and drops six models: nothing is undeployed on the new Ray, so
    // it is a first sync there; the old Ray keeps its seven until an admin stops it.
    pointAt(other.url);
    for (const s of ["a", "b", "c", "d", "e", "f"]) h.repo.remove(`models/alice/${s}.yaml`);
    h.repo.ship("move to the new Ray, drop six");
    await h.settle(agent);
    expect(await appsOf(other.url)).toEqual(["alice-202601061235-g"]);
    expect(await appsOf(h.ray.url)).toHaveLength(7);
  });
});
