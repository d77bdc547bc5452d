import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../log";
import { AgentMetrics } from "./metrics";
import { startServer, type AgentServer } from "./http-server";
import { emptyRecord } from "../model/types";
import { statusDoc } from "./status-doc";

let server: AgentServer | undefined;
afterEach(async () => server?.close());

async function start(ready = true) {
  const syncs: string[] = [];
  const metrics = new AgentMetrics();
  metrics.driftEvents.inc({ action: "corrected" });
  server = await startServer({
    host: "127.0.0.1",
    port: 0,
    branch: "main",
    registry: metrics.registry,
    status: () =>
      statusDoc({
        record: emptyRecord("h1"),
        branch: "main",
        dryRun: false,
        suspended: false,
        ray: { address: "http://ray:8265", version: "2.52.0" },
        outbox: 0,
      }),
    health: () => ({ live: true, ready, reasons: ready ? [] : ["RayError: unreachable"] }),
    onSync: (via) => syncs.push(via),
    log: silentLogger(),
    syncToken: "sync-secret-token",
    webhookSecret: "hook-secret",
  });
  return { url: server.url, syncs };
}

const sign = (body: string, secret = "hook-secret") =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

describe("the --listen server", () => {
  it("serves /healthz, /readyz, /metrics and /status", async () => {
    const { url } = await start(false);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, reasons: ["RayError: unreachable"] });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('serve_gitops_drift_events_total{action="corrected"} 1');
    expect(metrics).toContain("serve_gitops_cycle_duration_seconds_bucket");
    expect(await (await fetch(`${url}/status`)).json()).toMatchObject({
      cluster: "h1",
      ray: { version: "2.52.0" },
      models: [],
    });
  });

  it("POST /sync accepts a signed push webhook or the bearer token, and nothing else", async () => {
    const { url, syncs } = await start();
    const push = JSON.stringify({ ref: "refs/heads/main" });
    const post = (headers: Record<string, string>, body = push) =>
      fetch(`${url}/sync`, { method: "POST", headers, body });
    expect((await post({ "x-hub-signature-256": sign(push), "x-github-event": "push" })).status).toBe(202);
    expect((await post({ authorization: "Bearer sync-secret-token" })).status).toBe(202);
    expect(syncs).toEqual(["webhook", "token"]);
    expect(
      (await post({ "x-hub-signature-256": sign(push, "wrong"), "x-github-event": "push" })).status,
    ).toBe(403);
    expect((await post({ authorization: "Bearer guess" })).status).toBe(403);
    expect((await post({})).status).toBe(401);
    const other = JSON.stringify({ ref: "refs/heads/dev" });
    expect(
      await (await post({ "x-hub-signature-256": sign(other), "x-github-event": "push" }, other)).json(),
    ).toEqual({ ignored: "push to refs/heads/dev" });
    expect((await post({ "x-hub-signature-256": sign(push), "x-github-event": "ping" })).status).toBe(200);
    expect((await fetch(`${url}/sync`)).status).toBe(405);
    expect(syncs).toHaveLength(2);
  });
});
