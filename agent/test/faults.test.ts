// Faults of the outside world, each with its expected outcome.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { nodeFilePort } from "../src/adapters/fs-port";
import { RayServeTarget } from "../src/adapters/ray-target";
import { GitError, RayError } from "../src/errors";
import { createLogger } from "../src/log";
import type { DesiredStateSource, FilePort, ServeTarget } from "../src/ports";
import { fitDescription } from "../src/report/describe";
import { specYaml } from "../testkit/git-fixture";
import { createHarness, type Harness } from "../testkit/harness";

let h: Harness;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  expect(h.github.unexpected).toEqual([]);
  await h.close();
});

const MODEL = { "models/alice/x.yaml": specYaml("x") };
const PENDING_THEN_SUCCESS = [
  "serve/h1 pending 0 running, 1 deploying, 0 failed",
  "serve/h1/alice/x pending deploying 1x1 GPU",
  "serve/h1/alice/x success RUNNING alice-202601061235-x",
  "serve/h1 success 1 running, 0 deploying, 0 failed",
];

const until = async (check: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** Listen on 127.0.0.1 until the test ends (then `sockets` are destroyed and the server closed): its URL. */
async function serve(server: Server, sockets: Socket[] = []): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A server that accepts connections and never answers. */
function hangingServer(): Promise<string> {
  const sockets: Socket[] = [];
  return serve(
    createNetServer((socket) => void sockets.push(socket.on("data", () => undefined))),
    sockets,
  );
}

/** The harness's Ray, which fails every PUT with a 500 while `failing()` says so. */
function putsFailingWhile(failing: () => boolean): ServeTarget {
  const real = new RayServeTarget({ address: () => h.ray.url, timeoutMs: 2000 });
  return {
    version: () => real.version(),
    observe: () => real.observe(),
    async apply(config) {
      if (failing()) h.ray.setFailNext(500);
      return real.apply(config);
    },
  };
}

/** The real file port, refusing a write (ENOSPC, as a full disk does) while `full(path)`. */
function refusingWrites(full: (path: string) => boolean): FilePort {
  return {
    read: (path) => nodeFilePort.read(path),
    async write(path, data) {
      if (full(path))
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      return nodeFilePort.write(path, data);
    },
  };
}

async function deadPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe("Ray faults", () => {
  /** A commit whose PUT Ray failed 4 times (its status says "retrying"), then Ray taking PUTs again. */
  async function putKeptFailing() {
    h = await createHarness({ files: MODEL });
    h.repo.ship("initial");
    let failing = false;
    const agent = await h.start({}, { target: putsFailingWhile(() => failing) });
    await h.settle(agent);
    failing = true;
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const retried = h.repo.ship("add y");
    for (let i = 0; i < 4; i++) await agent.agent.cycle();
    expect(h.latest(retried).get("serve/h1")?.description).toMatch(/^retrying: Ray failed the PUT 3 times/);
    failing = false;
    return { agent, retried };
  }

  it("Ray unreachable: a transient fault, nothing written, not ready; --once gives up with exit 1", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    const agent = await h.start({ rayAddress: await deadPort(), once: true, watchIntervalMs: 5 });
    const report = await agent.agent.cycle();
    expect(report.faults[0]).toMatchObject({ name: "RayError", kind: "transient" });
    expect(report.faults[0]!.message).toMatch(/unreachable \(ECONNREFUSED\)/);
    expect(agent.health()).toMatchObject({ ready: false });
    expect(h.statuses(sha)).toEqual([]);
    expect(await agent.loop.run()).toBe(1);
  });

  it("Ray unreachable is logged with its cause (name and message), not an empty cause chain", async () => {
    h = await createHarness({ files: MODEL });
    h.repo.ship("initial");
    const lines: string[] = [];
    const log = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
    const agent = await h.start({ rayAddress: await deadPort() }, { log });
    await agent.agent.cycle();
    const logged = lines
      .map((l) => JSON.parse(l) as { level: number; err?: Record<string, unknown> })
      .find((l) => l.err?.name === "RayError");
    expect(logged?.level).toBe(40);
    expect(logged?.err).not.toHaveProperty("stack");
    expect(logged?.err?.message).toMatch(/is unreachable \(ECONNREFUSED\)$/);
    expect(logged?.err?.cause).toMatchObject({ message: expect.stringMatching(/ECONNREFUSED/) as unknown });
  });

  it("refuses a Ray it does not support, at start: exit 1, nothing applied", async () => {
    h = await createHarness({ files: MODEL, emulator: { rayVersion: "2.9.3" } });
    h.repo.ship("initial");
    const agent = await h.start({ once: true });
    expect(await agent.loop.run()).toBe(1);
    expect(agent.loop.lastCycle?.report.faults[0]?.message).toBe(
      "Ray 2.9.3 is not supported: serve-gitops needs Ray >= 2.46.0 (Ray Serve LLM's build_openai_app with LLMServer:<name> deployments)",
    );
    expect(h.ray.putCount()).toBe(0);
  });

  it("--once exits 0 when a model failed: that is reported on the commit, not an agent fault", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x", { source: "$HOME/missing" }) } });
    const sha = h.repo.ship("initial");
    const agent = await h.start({ once: true });
    expect(await agent.loop.run()).toBe(0);
    expect(h.latest(sha).get("serve/h1/alice/x")).toEqual({
      state: "failure",
      description: "OSError: /private/users/alice/missing does not exist",
    });
  });

  it("--once exits 0 for a refused commit and for a config Ray rejects (400): each is reported on the commit", async () => {
    h = await createHarness({ files: MODEL });
    const refused = h.repo.ship("unrendered", { render: false });
    const first = await h.start({ once: true, watchIntervalMs: 5 });
    expect(await first.loop.run()).toBe(0);
    expect(h.statuses(refused)).toEqual([
      "serve/h1 failure not rendered: 1 fragment is out of date; run serve-gitops render",
    ]);
    await first.close();

    const rejected = h.repo.ship("rendered");
    const real = new RayServeTarget({ address: () => h.ray.url, timeoutMs: 2000 });
    const target: ServeTarget = {
      version: () => real.version(),
      observe: () => real.observe(),
      apply: () =>
        Promise.reject(
          new RayError("Ray rejected the config (400): bad", {
            kind: "terminal",
            status: 400,
            body: "ValueError: injected rejection",
          }),
        ),
    };
    const second = await h.start({ once: true, watchIntervalMs: 5 }, { target });
    expect(await second.loop.run()).toBe(0);
    expect(h.latest(rejected).get("serve/h1")?.state).toBe("failure");
  });

  it("Ray 503 (controller down): waits, then converges with every status written once", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    const agent = await h.start();
    h.ray.setControllerDown(true);
    const report = await agent.agent.cycle();
    expect(report.faults.map((f) => f.message)).toEqual([expect.stringMatching(/failed \(503\)/)]);
    expect(h.ray.acceptedPutCount()).toBe(0);
    h.ray.setControllerDown(false);
    await h.settle(agent);
    expect(h.statuses(sha)).toEqual(PENDING_THEN_SUCCESS);
  });

  it("Ray 500 on the PUT: retried on the next cycle; no status before the PUT is accepted", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    const real = new RayServeTarget({ address: () => h.ray.url, timeoutMs: 2000 });
    let failPut = true;
    const target: ServeTarget = {
      version: () => real.version(),
      async observe() {
        const observed = await real.observe();
        if (failPut) h.ray.setFailNext(500);
        failPut = false;
        return observed;
      },
      apply: (config) => real.apply(config),
    };
    const agent = await h.start({}, { target });
    const first = await agent.agent.cycle();
    expect(first.faults.map((f) => f.message)).toEqual([
      expect.stringMatching(/PUT .* failed \(500\): RuntimeError: injected failure/),
    ]);
    expect(h.statuses(sha)).toEqual([]);
    expect(agent.status().marks.attempted?.sha).toBe(sha);
    await h.settle(agent);
    expect(h.statuses(sha)).toEqual(PENDING_THEN_SUCCESS);
  });

  it("a PUT the Serve controller fails (400 RayTaskError, not the config's fault) is retried and lands: the commit is not blocked", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    h.ray.failNextPutInController(2);
    const agent = await h.start();
    const first = await agent.agent.cycle();
    expect(first.faults.map((f) => f.kind)).toEqual(["transient"]);
    await h.settle(agent);
    expect(h.statuses(sha)).toEqual(PENDING_THEN_SUCCESS);
    expect(h.ray.putCount()).toBe(3);
    expect(h.ray.acceptedPutCount()).toBe(1);
  });

  it("a Serve controller failing the PUT 3 times in a row fails the commit with Ray's reason, and is not retried", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    h.ray.failNextPutInController(10);
    const agent = await h.start();
    for (let i = 0; i < 6; i++) await agent.agent.cycle();
    await agent.outbox.drain();
    expect(h.ray.putCount()).toBe(3);
    expect(h.latest(sha).get("serve/h1")).toEqual({
      state: "failure",
      description: fitDescription(
        "Ray's Serve controller failed the PUT 3 times (a new commit retries): ray.serve._private.storage.kv_store.KVStoreError: the GCS did not answer in time (emulated)",
      ),
    });
    expect(h.latest(sha).get("serve/h1/alice/x")?.state).toBe("failure");
  });

  it("a PUT Ray keeps failing is retried, and after 3 failures the commit says so (pending) until it lands", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    let failing = true;
    const agent = await h.start({}, { target: putsFailingWhile(() => failing) });
    for (let i = 0; i < 5; i++) await agent.agent.cycle();
    expect(h.ray.acceptedPutCount()).toBe(0);
    expect(h.statuses(sha)).toEqual([
      "serve/h1 pending retrying: Ray failed the PUT 3 times (500: RuntimeError: injected failure (emulated))",
    ]);
    failing = false;
    await h.settle(agent);
    expect(h.statuses(sha).slice(1)).toEqual(PENDING_THEN_SUCCESS);
  });

  it("a commit whose PUT kept failing is resolved, not left pending, when a newer commit is applied", async () => {
    const { agent, retried } = await putKeptFailing();
    h.repo.write("models/bob/z.yaml", specYaml("z"));
    const newer = h.repo.ship("add z");
    await h.settle(agent);
    expect(h.latest(retried).get("serve/h1")).toEqual({
      state: "success",
      description: `superseded by ${newer.slice(0, 7)}`,
    });
    expect(h.latest(newer).get("serve/h1")?.state).toBe("success");
  });

  it("a commit whose PUT kept failing is resolved, not left pending, when its revert (already what Ray runs) follows", async () => {
    const { agent, retried } = await putKeptFailing();
    // The author gives up on y: the revert asks for exactly what Ray still runs, so nothing is PUT.
    h.repo.git("revert", "--no-edit", "HEAD");
    h.repo.push();
    const revert = h.repo.head();
    const report = await h.settle(agent, { max: 40 });
    // Nothing is left pending, the watch ends, and the revert is the applied commit.
    expect(h.latest(retried).get("serve/h1")?.state).toBe("success");
    expect(report.busy).toBe(false);
    expect(agent.status().marks.applied?.sha).toBe(revert);
    await agent.close();
    // --once on that state directory ends (exit 0) instead of watching forever.
    const once = await h.start({ once: true, watchIntervalMs: 5 });
    const timeout = new Promise<string>((r) => setTimeout(() => r("still running after 5 s"), 5000));
    const exit = await Promise.race([once.loop.run(), timeout]);
    once.loop.stop();
    expect(exit).toBe(0);
  });

  it("a drift correction Ray keeps failing leaves the applied commit's status alone: it is the agent's fault, not the commit's", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    let failing = false;
    const agent = await h.start({}, { target: putsFailingWhile(() => failing) });
    await h.settle(agent);
    const applied = h.latest(sha).get("serve/h1");
    expect(applied?.state).toBe("success");
    h.ray.tamper("alice-202601061235-x", (app: { deployments: Array<{ num_replicas: number }> }) => {
      app.deployments[0]!.num_replicas = 4;
    });
    failing = true;
    for (let i = 0; i < 4; i++) {
      const report = await agent.agent.cycle();
      expect(report.faults.map((f) => f.message)).toEqual([expect.stringMatching(/failed \(500\)/)]);
    }
    // No "retrying" status: nothing would replace it once the correction lands (drift writes no commit status).
    expect(h.latest(sha).get("serve/h1")).toEqual(applied);
    failing = false;
    await h.settle(agent);
    expect(agent.status().models[0]!.events.map((e) => e.type)).toContain("DRIFT_CORRECTED");
    expect(h.latest(sha).get("serve/h1")).toEqual(applied);
  });

  it("a drift correction the Serve controller fails again and again stays a transient fault: self-heal is not blocked", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    const agent = await h.start();
    await h.settle(agent);
    const applied = h.latest(sha).get("serve/h1");
    h.ray.tamper("alice-202601061235-x", (app: { deployments: Array<{ num_replicas: number }> }) => {
      app.deployments[0]!.num_replicas = 4;
    });
    h.ray.failNextPutInController(4);
    for (let i = 0; i < 4; i++) {
      const report = await agent.agent.cycle();
      expect(report.faults.map((f) => f.kind)).toEqual(["transient"]);
    }
    // The fifth correction lands: the commit was never blocked, nor its status touched.
    await h.settle(agent);
    expect(agent.status().models[0]!.events.map((e) => e.type)).toContain("DRIFT_CORRECTED");
    expect(h.ray.putCount()).toBe(6);
    expect(h.latest(sha).get("serve/h1")).toEqual(applied);
  });

  it("a saved commit that no longer validates after a restart is a fault on every cycle, read once, until a new commit", async () => {
    h = await createHarness({ files: MODEL });
    const { agent: first, sha: good } = await h.startSettled();
    await first.close();
    // An older agent took a commit that this one refuses (its rules got stricter): the record names it.
    h.repo.write("models/alice/y.yaml", specYaml("y") + "tensor_parallel_size: 2\n");
    const stricter = h.repo.ship("y, with a field this agent refuses", { render: false });
    const statePath = join(h.stateDir, "state.json");
    writeFileSync(
      statePath,
      readFileSync(statePath, "utf8").replaceAll(`"desired":"${good}"`, `"desired":"${stricter}"`),
    );
    expect(readFileSync(statePath, "utf8")).toContain(`"desired":"${stricter}"`);
    const puts = h.ray.acceptedPutCount();

    const agent = await h.start();
    const message = new RegExp(
      `^the commit last taken, ${stricter.slice(0, 7)}, no longer validates with this agent \\(.*models/alice/y.yaml`,
    );
    const report = await agent.agent.cycle();
    expect(report.faults.map((f) => f.message)).toEqual([expect.stringMatching(message)]);
    expect(report.terminal).toBe(true);
    expect(agent.health().ready).toBe(false);
    const gitCalls = await agent.metrics.registry.getSingleMetricAsString("serve_gitops_git_commands_total");
    const again = await agent.agent.cycle({ checkHead: false });
    expect(again.faults.map((f) => f.message)).toEqual([expect.stringMatching(message)]);
    // Not read again: no git command for it.
    expect(await agent.metrics.registry.getSingleMetricAsString("serve_gitops_git_commands_total")).toBe(
      gitCalls,
    );
    expect(h.ray.acceptedPutCount()).toBe(puts);
    expect(h.latest(stricter).size).toBe(0);

    // A new valid commit ends it.
    h.repo.write("models/alice/y.yaml", specYaml("y"));
    const fixed = h.repo.ship("y without it");
    const settled = await h.settle(agent);
    expect(settled.faults).toEqual([]);
    expect(h.latest(fixed).get("serve/h1")?.state).toBe("success");
  });

  it("a slow Ray times out as a transient fault", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    const agent = await h.start({ rayTimeoutMs: 150 });
    h.ray.setLatencyMs(1000);
    const report = await agent.agent.cycle();
    expect(report.faults[0]!.message).toMatch(/unreachable \(ETIMEDOUT\)/);
    h.ray.setLatencyMs(0);
    await h.settle(agent);
    expect(h.statuses(sha)).toEqual(PENDING_THEN_SUCCESS);
  });

  it("a GET answering 200 with something that is not ServeInstanceDetails is a fault, not an empty Ray: the prune guard holds", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 4; i++) files[`models/alice/m${i}.yaml`] = specYaml(`m${i}`);
    h = await createHarness({ files, cluster: { sync: { prune_limit: 1 } } });
    h.repo.ship("initial");
    let garbage = false;
    const agent = await h.start({ rayAddress: await garbageProxy(h.ray.url, () => garbage) });
    await h.settle(agent);
    const puts = h.ray.acceptedPutCount();
    garbage = true;
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const next = h.repo.ship("add y");
    const report = await agent.agent.cycle();
    expect(report.faults[0]).toMatchObject({ name: "RayError", kind: "transient" });
    expect(h.ray.acceptedPutCount()).toBe(puts);
    garbage = false;
    await h.settle(agent);
    expect(h.latest(next).get("serve/h1")?.state).toBe("success");
    expect(agent.status().models.map((m) => `${m.key} ${m.state}`)).toEqual([
      "alice/m0 RUNNING",
      "alice/m1 RUNNING",
      "alice/m2 RUNNING",
      "alice/m3 RUNNING",
      "bob/y RUNNING",
    ]);
  });

  it("405 from something adding browser headers: terminal, reported on the commit, not retried", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    const agent = await h.start({ rayAddress: await browserProxy(h.ray.url) });
    const report = await h.settle(agent);
    expect(report.faults).toEqual([]);
    const first = await agent.agent.cycle();
    expect(first.faults).toEqual([]);
    expect(h.ray.putCount()).toBe(1);
    expect(h.latest(sha).get("serve/h1")?.state).toBe("failure");
    expect(h.latest(sha).get("serve/h1")?.description).toMatch(
      /^Ray refused PUT .*405 'PUT' method not allowed for browser traffic/,
    );
    expect(h.latest(sha).get("serve/h1/alice/x")?.state).toBe("failure");
    expect(agent.status().blocked?.sha).toBe(sha);
  });

  it("405 from a proxy keeps /readyz failing while the agent cannot apply: it is the agent's fault, not retried", async () => {
    h = await createHarness({ files: MODEL });
    h.repo.ship("initial");
    const rayAddress = await browserProxy(h.ray.url);
    const agent = await h.start({ rayAddress, intervalMs: 50, watchIntervalMs: 10 });
    const run = agent.loop.run();
    await until(() => h.ray.putCount() >= 1 && agent.loop.cycleCount >= 4);
    const health = agent.health();
    agent.loop.stop();
    expect(await run).toBe(0);
    expect(h.ray.acceptedPutCount()).toBe(0);
    // Nothing is applied until an operator fixes what sits between the agent and Ray: /readyz must say so.
    expect(health.ready).toBe(false);
    expect(health.reasons.join("\n")).toMatch(/405/);
  });

  it("a commit Ray rejected blocks no more once a revert is found already running", async () => {
    h = await createHarness({ files: MODEL });
    h.repo.ship("initial");
    const real = new RayServeTarget({ address: () => h.ray.url, timeoutMs: 2000 });
    let rejecting = false;
    const target: ServeTarget = {
      version: () => real.version(),
      observe: () => real.observe(),
      apply: (config) =>
        rejecting
          ? Promise.reject(
              new RayError("Ray rejected the config (400): bad", {
                kind: "terminal",
                status: 400,
                body: "ValueError: injected rejection",
              }),
            )
          : real.apply(config),
    };
    const agent = await h.start({}, { target });
    await h.settle(agent);
    rejecting = true;
    h.repo.write("models/alice/x.yaml", specYaml("x", { maxModelLen: 4096 }));
    const rejected = h.repo.ship("x: shorter context");
    await h.settle(agent);
    expect(agent.status().blocked?.sha).toBe(rejected);
    h.repo.git("revert", "--no-edit", "HEAD");
    h.repo.push();
    const revert = h.repo.head();
    await h.settle(agent);
    // Ray still runs the config the revert asks for: nothing to PUT, and the block is gone.
    expect(agent.status().marks.applied?.sha).toBe(revert);
    expect(agent.status().blocked).toBeUndefined();
  });

  it("--once exits 1 on a 405 from a proxy (the agent's fault), after writing the statuses that say so", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    const rayAddress = await browserProxy(h.ray.url);
    const agent = await h.start({ rayAddress, once: true, watchIntervalMs: 5 });
    expect(await agent.loop.run()).toBe(1);
    expect(h.latest(sha).get("serve/h1")?.description).toMatch(/^Ray refused PUT .*405/);
    expect(agent.outbox.size).toBe(0);
  });
});

describe("GitHub faults", () => {
  it("GitHub 500s are retried by plugin-retry, then by the outbox; each status lands once, in order", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    h.github.failNext({ status: 500, count: 6, route: /\/statuses\// });
    const agent = await h.start();
    const first = await agent.agent.cycle();
    expect(first.faults.map((f) => f.name)).toEqual(["GitHubError"]);
    expect(agent.outbox.size).toBeGreaterThan(0);
    await h.settle(agent);
    expect(h.statuses(sha)).toEqual(PENDING_THEN_SUCCESS);
  });

  it("403 primary rate limit: waits for x-ratelimit-reset, then writes", async () => {
    h = await createHarness({ files: MODEL, octokit: { rateLimitRetries: 0 } });
    const sha = h.repo.ship("initial");
    h.github.rateLimitNext({ kind: "primary", retryAfterSeconds: 1 });
    const agent = await h.start();
    const first = await agent.agent.cycle();
    expect(first.faults[0]).toMatchObject({ name: "GitHubError", status: 403, kind: "transient" });
    const requests = h.github.requests.length;
    await agent.agent.cycle({ checkHead: false });
    expect(h.github.requests.length).toBe(requests);
    await new Promise((r) => setTimeout(r, 1100));
    await h.settle(agent);
    expect(h.statuses(sha)).toEqual(PENDING_THEN_SUCCESS);
  });

  it("429 with retry-after: the throttling plugin waits and retries", async () => {
    const limits: string[] = [];
    h = await createHarness({
      files: MODEL,
      octokit: { onLimit: (e) => limits.push(`${e.kind} ${e.retryAfter}`) },
    });
    const sha = h.repo.ship("initial");
    h.github.rateLimitNext({ kind: "429", retryAfterSeconds: 2 });
    const agent = await h.start();
    await h.settle(agent);
    expect(limits).toEqual(["secondary 2"]);
    expect(h.statuses(sha)).toEqual(PENDING_THEN_SUCCESS);
  });

  it("a revoked token keeps every write in the outbox, makes /readyz say why, and they are posted once it works", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    let offset = 0;
    const agent = await h.start(
      { githubToken: "ghp_revoked", intervalMs: 100, watchIntervalMs: 20 },
      { now: () => Date.now() + offset },
    );
    const run = agent.loop.run();
    await until(() => /\(401\).*check the agent's GitHub token/.test(agent.health().reasons.join("\n")));
    expect(agent.health().ready).toBe(false);
    expect(agent.loop.lastCycle?.report.faults[0]).toMatchObject({ status: 401, kind: "terminal" });
    // Ray is applied and watched all the same; the writes wait.
    await until(() => agent.status().models.every((m) => m.state === "RUNNING"));
    expect(agent.outbox.size).toBeGreaterThan(0);
    expect(h.statuses(sha)).toEqual([]);
    h.github.addToken("ghp_revoked", { login: "serve-gitops-bot" });
    offset = 10 * 60_000;
    await until(() => agent.outbox.size === 0 && agent.health().ready);
    // Every write kept, in order.
    expect(h.statuses(sha)).toEqual(PENDING_THEN_SUCCESS);
    agent.loop.stop();
    expect(await run).toBe(0);
  });

  it("--once exits 1 while GitHub refuses the token (read-only), with the writes kept", async () => {
    h = await createHarness({ files: MODEL });
    h.repo.ship("initial");
    h.github.addToken("ghp_read_only", { login: "reader", readOnly: true });
    const agent = await h.start({ githubToken: "ghp_read_only", once: true, watchIntervalMs: 5 });
    expect(await agent.loop.run()).toBe(1);
    expect(agent.loop.lastCycle?.report.faults[0]).toMatchObject({ status: 403, kind: "terminal" });
    expect(agent.outbox.size).toBeGreaterThan(0);
  });

  it("a GitHub that accepts connections and never answers holds back neither applying nor stopping", async () => {
    h = await createHarness({ files: MODEL });
    h.repo.ship("initial");
    const agent = await h.start({
      githubApiUrl: await hangingServer(),
      githubTimeoutMs: 300,
      githubWaitMs: 50,
      graceMs: 1000,
      intervalMs: 100,
      watchIntervalMs: 20,
    });
    const run = agent.loop.run();
    await until(() => h.ray.acceptedPutCount() === 1);
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    h.repo.ship("add y");
    await until(() => agent.status().models.filter((m) => m.state === "RUNNING").length === 2);
    await until(() => /no answer within the request timeout/.test(agent.health().reasons.join("\n")));
    agent.loop.stop();
    expect(await Promise.race([run, new Promise((r) => setTimeout(() => r("still running"), 10_000))])).toBe(
      0,
    );
    expect(agent.outbox.size).toBeGreaterThan(0);
  });

  it("a cycle waits for a new drain only, not again for one an earlier cycle left running", async () => {
    h = await createHarness({ files: MODEL });
    h.repo.ship("initial");
    const agent = await h.start({
      githubApiUrl: await hangingServer(),
      githubTimeoutMs: 60_000,
      githubWaitMs: 3000,
    });
    const within = (ms: number, work: Promise<unknown>) =>
      Promise.race([work.then(() => "done"), new Promise((r) => setTimeout(() => r("waited"), ms))]);
    // The first cycle applies and starts writing: it gives the new drain its githubWaitMs. Its statuses are
    // queued before that wait starts (waiting on the queue, not on a fixed time: a loaded machine can take
    // more than a second to clone and apply).
    const first = agent.agent.cycle();
    await until(() => agent.outbox.size > 0);
    expect(await within(1000, first)).toBe("waited");
    // The drain still hangs; the next cycle does not wait for it again.
    expect(await within(2000, agent.agent.cycle())).toBe("done");
    expect(agent.outbox.size).toBeGreaterThan(0);
  });

  it("a Ray error longer than 140 characters is cut to fit, so GitHub never answers 422", async () => {
    const long = `$HOME/checkpoints/${"a".repeat(60)}/${"b".repeat(60)}/${"c".repeat(40)}`;
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x", { source: long }) } });
    const { sha } = await h.startSettled();
    const description = h.latest(sha).get("serve/h1/alice/x")!.description;
    expect([...description]).toHaveLength(140);
    expect(description).toMatch(/^OSError: \/private\/users\/alice\/checkpoints\/a+.*…$/);
    expect(h.github.requests.filter((r) => r.status === 422)).toEqual([]);
  });
});

describe("git, disk and state directory faults", () => {
  it("git remote unreachable: a transient fault; Ray is still watched; converges when it is back", async () => {
    h = await createHarness({ files: MODEL });
    const { agent, sha } = await h.startSettled();
    renameSync(h.repo.remote, `${h.repo.remote}.away`);
    const report = await agent.agent.cycle();
    expect(report.faults[0]).toMatchObject({ name: "GitError", kind: "transient" });
    expect(report.action).toBe("none");
    renameSync(`${h.repo.remote}.away`, h.repo.remote);
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const next = h.repo.ship("add y");
    await h.settle(agent);
    expect(h.latest(next).get("serve/h1/bob/y")?.state).toBe("success");
    expect(h.statuses(sha)).toEqual(PENDING_THEN_SUCCESS);
  });

  it("--once exits 1 when the branch does not exist: the cycle did not run (nothing applied, nothing posted)", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    const agent = await h.start({ branch: "nosuch", once: true, watchIntervalMs: 5 });
    expect(await agent.loop.run()).toBe(1);
    expect(agent.loop.cycleCount).toBe(1);
    expect(agent.loop.lastCycle?.report.faults[0]).toMatchObject({
      name: "GitError",
      kind: "terminal",
      message: `branch nosuch does not exist on ${h.repo.remote}`,
    });
    expect(h.ray.putCount()).toBe(0);
    expect(h.statuses(sha)).toEqual([]);
  });

  it("--once exits 1 when the remote stays unreachable, also with a last good commit Ray still serves", async () => {
    h = await createHarness({ files: MODEL });
    h.repo.ship("initial");
    // Served and recorded first: the retries must read the head again, not settle on the recorded commit.
    const served = await h.start();
    await h.settle(served);
    await served.close();
    renameSync(h.repo.remote, `${h.repo.remote}.away`);
    cleanups.push(() => renameSync(`${h.repo.remote}.away`, h.repo.remote));
    const agent = await h.start({ once: true, watchIntervalMs: 5 });
    expect(await agent.loop.run()).toBe(1);
    expect(agent.loop.cycleCount).toBe(5);
    expect(agent.loop.lastCycle?.report.faults[0]).toMatchObject({ name: "GitError", kind: "transient" });
    expect(agent.loop.lastCycle?.report.faults[0]?.message).toMatch(/^cannot reach /);
  });

  it("--once exits 0 when git fails once and then answers: the retry reads the head", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    const git = h.gitSource();
    let heads = 0;
    const source: DesiredStateSource = {
      head: () =>
        ++heads === 1
          ? Promise.reject(new GitError("cannot reach the remote: injected", { kind: "transient" }))
          : git.head(),
      ensure: (s) => git.ensure(s),
      snapshot: (s) => git.snapshot(s),
      history: (...args) => git.history(...args),
      trailers: (...args) => git.trailers(...args),
    };
    const agent = await h.start({ once: true, watchIntervalMs: 5 }, { source });
    expect(await agent.loop.run()).toBe(0);
    expect(heads).toBe(2);
    expect(h.statuses(sha)).toEqual(PENDING_THEN_SUCCESS);
  });

  it("disk full (ENOSPC through the state store's file port): nothing is applied until the state can be written", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    let full = true;
    const files = refusingWrites(() => full);
    const agent = await h.start({}, { files });
    const report = await agent.agent.cycle();
    expect(report.faults[0]).toMatchObject({ name: "StateStoreError", code: "ENOSPC", kind: "transient" });
    await agent.agent.cycle();
    expect(h.ray.putCount()).toBe(0);
    expect(h.statuses(sha)).toEqual([]);
    expect(agent.health().ready).toBe(false);
    full = false;
    await h.settle(agent);
    expect(h.statuses(sha)).toEqual(PENDING_THEN_SUCCESS);
    expect(h.ray.acceptedPutCount()).toBe(1);
    // An idle cycle writes nothing to disk: a full disk does not even show.
    full = true;
    for (let i = 0; i < 3; i++) expect((await agent.agent.cycle()).faults).toEqual([]);
  });

  it("a --cluster the branch does not define is the operator's error: not ready, nothing on the commit, --once exits 2", async () => {
    h = await createHarness({ files: MODEL });
    const sha = h.repo.ship("initial");
    const agent = await h.start({ cluster: "nope", intervalMs: 50, watchIntervalMs: 10 });
    const run = agent.loop.run();
    await until(() => agent.loop.cycleCount >= 2);
    const health = agent.health();
    expect(health.ready).toBe(false);
    expect(health.reasons).toContain(
      `UnknownClusterError: cluster nope is not defined (no clusters/nope/cluster.yaml) at ${sha.slice(0, 7)} on the branch: check --cluster (SERVE_GITOPS_CLUSTER)`,
    );
    agent.loop.stop();
    expect(await run).toBe(0);
    expect(h.statuses(sha)).toEqual([]);
    expect(agent.status().refused).toEqual([]);
    await agent.close();
    const once = await h.start({ cluster: "nope", once: true });
    expect(await once.loop.run()).toBe(2);
    expect(h.statuses(sha)).toEqual([]);
  });

  it("a second agent on the same state directory is refused with a clear message", async () => {
    h = await createHarness({ files: MODEL });
    h.repo.ship("initial");
    await h.start();
    await expect(h.start()).rejects.toThrow(
      /another agent \(pid \d+ on .*\) holds .*agent\.lock: one agent per state directory/,
    );
  });
});

describe("an outbox write the disk refuses for one cycle: what the agent had to say is said once it can", () => {
  /** The state directory's file port, refusing github.json (the outbox) while `full()`. */
  const outboxFull = (full: () => boolean) =>
    refusingWrites((path) => full() && path.endsWith("github.json"));

  it("a guard's refusal", async () => {
    h = await createHarness({ files: { "models/alice/only.yaml": specYaml("only") } });
    h.repo.ship("one model");
    let full = false;
    const agent = await h.start({}, { files: outboxFull(() => full) });
    await h.settle(agent);
    h.repo.remove("models/alice/only.yaml");
    const sha = h.repo.ship("remove the last model");
    full = true;
    expect((await agent.agent.cycle()).faults[0]).toMatchObject({ code: "ENOSPC" });
    full = false;
    await h.settle(agent);
    await h.settle(agent);
    expect(h.statuses(sha)).toEqual([
      "serve/h1 failure refused: the commit leaves cluster h1 with no models (set sync.allow_empty to allow)",
    ]);
    expect(agent.status().models[0]!.events.filter((e) => e.type === "REFUSED")).toHaveLength(1);
  });

  it("a commit the suspend switch holds", async () => {
    h = await createHarness({ files: MODEL });
    const { agent: first } = await h.startSettled();
    await first.close();
    let full = false;
    const agent = await h.start({ suspend: true }, { files: outboxFull(() => full) });
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const sha = h.repo.ship("add y");
    full = true;
    expect((await agent.agent.cycle()).faults[0]).toMatchObject({ code: "ENOSPC" });
    full = false;
    await h.settle(agent);
    await h.settle(agent);
    expect(h.statuses(sha)).toEqual(["serve/h1 pending suspended: sync is paused by --suspend"]);
  });

  it("a PUT Ray keeps failing: the commit says it is retrying", async () => {
    h = await createHarness({ files: MODEL });
    h.repo.ship("initial");
    let failing = false;
    let full = false;
    const agent = await h.start(
      {},
      { target: putsFailingWhile(() => failing), files: outboxFull(() => full) },
    );
    await h.settle(agent);
    failing = true;
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const sha = h.repo.ship("add y");
    for (let i = 0; i < 2; i++) await agent.agent.cycle();
    // The third failure in a row is when the commit says so: the disk refuses that write.
    full = true;
    expect((await agent.agent.cycle()).faults[0]).toMatchObject({ code: "ENOSPC" });
    full = false;
    await agent.agent.cycle();
    expect(h.latest(sha).get("serve/h1")?.description).toMatch(/^retrying: Ray failed the PUT 4 times/);
  });
});

/** Pass a request on to `target` and its answer back. */
function forward(target: string, req: IncomingMessage, res: ServerResponse, headers = req.headers): void {
  const upstream = request(`${target}${req.url}`, { method: req.method, headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  req.pipe(upstream);
}

/** A reverse proxy that adds an Origin header, as a misconfigured ingress might: Ray then refuses PUTs (405). */
function browserProxy(target: string): Promise<string> {
  return serve(
    createServer((req, res) =>
      forward(target, req, res, { ...req.headers, origin: "https://ray.example.com" }),
    ),
  );
}

/** A proxy that answers GET /api/serve/applications/ with `{}` while `garbage()` says so, as a broken proxy might. */
function garbageProxy(target: string, garbage: () => boolean): Promise<string> {
  return serve(
    createServer((req, res) => {
      if (req.method === "GET" && req.url?.startsWith("/api/serve/applications") && garbage()) {
        req.resume();
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
        return;
      }
      forward(target, req, res);
    }),
  );
}
