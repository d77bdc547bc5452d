// The loop as it runs in production: --interval, POST /sync, SIGTERM-style stop, and `serve-gitops status`.
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { statusCommand } from "../src/cli/status-command";
import { specYaml } from "../testkit/git-fixture";
import { createHarness, type Harness } from "../testkit/harness";

let h: Harness;
afterEach(async () => {
  vi.restoreAllMocks();
  await h.close();
});

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** The agent's loop running with its HTTP server, once it has applied the first commit. */
async function looping(intervalMs: number) {
  h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
  h.repo.ship("initial");
  const agent = await h.start({
    intervalMs,
    listen: { host: "127.0.0.1", port: 0 },
    syncToken: "sync-token",
  });
  const running = agent.loop.run();
  await until(() => h.ray.acceptedPutCount() === 1);
  return { agent, running };
}

describe("the agent loop", () => {
  it("applies a merge within the interval and stops cleanly", async () => {
    const { agent, running } = await looping(200);

    h.repo.write("models/bob/y.yaml", specYaml("y"));
    h.repo.ship("add y");
    // Applied on one of the next 200 ms ticks: well inside 5 s, which the default --interval (10 s) is not. No
    // tighter wall-clock bound: on a loaded machine a cycle alone can take most of a second.
    await until(() => h.ray.acceptedPutCount() === 2, 5000);

    agent.loop.stop();
    expect(await running).toBe(0);
  });

  it("POST /sync runs a cycle now instead of after --interval", async () => {
    const { agent, running } = await looping(60_000);
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    h.repo.ship("add y");
    await new Promise((r) => setTimeout(r, 200));
    expect(h.ray.acceptedPutCount()).toBe(1);
    const res = await fetch(`${agent.server!.url}/sync`, {
      method: "POST",
      headers: { authorization: "Bearer sync-token" },
    });
    expect(res.status).toBe(202);
    await until(() => h.ray.acceptedPutCount() === 2, 5000); // now, not after the 60 s interval

    const out: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation(
      (chunk: string | Uint8Array) => out.push(String(chunk)) > 0,
    );
    await until(
      () => agent.status().models.every((m) => m.state === "RUNNING") && agent.status().models.length === 2,
    );
    expect(await statusCommand.run(["--agent", agent.server!.url])).toBe(0);
    vi.restoreAllMocks();
    const table = out.join("");
    expect(table).toMatch(/^cluster h1 {2}branch main {2}Ray 2\.52\.0/);
    expect(table).toMatch(/alice\/x +alice-202601061235-x +RUNNING +1x1 GPU +1 /);
    expect(table).toMatch(/bob\/y +bob-202601061235-y +RUNNING/);
    agent.loop.stop();
    expect(await running).toBe(0);
  });

  it("on stop (SIGTERM) finishes writing the statuses it owes", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    const sha = h.repo.ship("initial");
    const agent = await h.start({ intervalMs: 60_000 });
    await h.settle(agent);
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const next = h.repo.ship("add y");
    h.github.failNext({ status: 502, count: 4, route: /\/statuses\// });
    const report = await agent.agent.cycle();
    expect(report.faults.map((f) => f.name)).toEqual(["GitHubError"]);
    expect(agent.outbox.size).toBeGreaterThan(0);
    agent.loop.stop();
    expect(await agent.loop.run()).toBe(0);
    expect(agent.outbox.size).toBe(0);
    expect(h.statuses(next).slice(0, 2)).toEqual([
      "serve/h1 pending 1 running, 1 deploying, 0 failed",
      "serve/h1/bob/y pending deploying 1x1 GPU",
    ]);
    expect(h.statuses(sha)).toHaveLength(4);
  });

  it("on stop, kills a git call that hangs instead of waiting out its timeout", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    const sockets: Socket[] = [];
    const remote = createServer(() => undefined).on("connection", (s: Socket) => sockets.push(s));
    await new Promise<void>((r) => remote.listen(0, "127.0.0.1", r));
    try {
      const { port } = remote.address() as AddressInfo;
      const agent = await h.start({ repo: `http://127.0.0.1:${port}/models.git`, gitTimeoutMs: 60_000 });
      const run = agent.loop.run();
      await until(() => sockets.length > 0);
      const stoppedAt = Date.now();
      agent.loop.stop();
      expect(await run).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    } finally {
      for (const s of sockets) s.destroy();
      remote.close();
    }
  });
});
