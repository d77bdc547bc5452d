import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startRayEmulator, type RayEmulator } from "../../emulator/ray-dashboard";
import { checkRayVersion, RayServeTarget } from "./ray-target";

let ray: RayEmulator | undefined;
afterEach(async () => {
  await ray?.close();
  ray = undefined;
});

const config = { applications: [] };

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("the Ray dashboard adapter", () => {
  it("PUTs through node:http, which Ray accepts, where global fetch is refused as browser traffic", async () => {
    ray = await startRayEmulator();
    const viaFetch = await fetch(`${ray.url}/api/serve/applications/`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(config),
    });
    expect(viaFetch.status).toBe(405);
    await new RayServeTarget({ address: () => ray!.url, timeoutMs: 2000 }).apply(config);
    const put = ray.requests.filter((r) => r.method === "PUT").at(-1)!;
    expect(
      Object.keys(put.headers).filter((h) => h.startsWith("sec-fetch") || h === "origin" || h === "referer"),
    ).toEqual([]);
  });

  it("sends the token when set and classifies 401/403 as terminal", async () => {
    ray = await startRayEmulator({ token: "ray-secret" });
    await expect(
      new RayServeTarget({ address: () => ray!.url, timeoutMs: 2000 }).observe(),
    ).rejects.toMatchObject({ status: 401, kind: "terminal" });
    await expect(
      new RayServeTarget({ address: () => ray!.url, token: "wrong", timeoutMs: 2000 }).observe(),
    ).rejects.toMatchObject({ status: 403, kind: "terminal" });
    const observed = await new RayServeTarget({
      address: () => ray!.url,
      token: "ray-secret",
      timeoutMs: 2000,
    }).observe();
    expect(observed.apps.size).toBe(0);
  });

  it("never names a dashboard address's user info in its errors (they reach logs, statuses and /status)", async () => {
    ray = await startRayEmulator({ token: "ray-secret" });
    const withUser = ray.url.replace("http://", "http://admin:s3cret@");
    const refused = await new RayServeTarget({ address: () => withUser, timeoutMs: 2000 }).observe().then(
      () => "",
      (e: Error) => e.message,
    );
    expect(refused).toContain(`http://***@${ray.url.slice("http://".length)}`);
    expect(refused).not.toContain("s3cret");
    const gone = `http://admin:s3cret@127.0.0.1:${await closedPort()}`;
    const unreachable = await new RayServeTarget({ address: () => gone, timeoutMs: 2000 }).version().then(
      () => "",
      (e: Error) => e.message,
    );
    expect(unreachable).toMatch(/unreachable/);
    expect(unreachable).not.toContain("s3cret");
  });

  it("never names a dashboard address's user info when the version answer names no ray_version", async () => {
    const server = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end("{}"),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const address = `http://admin:s3cret@127.0.0.1:${port}`;
      const message = await new RayServeTarget({ address: () => address, timeoutMs: 2000 }).version().then(
        () => "",
        (e: Error) => e.message,
      );
      expect(message).toBe(
        `http://***@127.0.0.1:${port}/api/ray/version did not name a ray_version: is this a Ray dashboard?`,
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("tells the emulator from Ray by its x-emulator header, and a Ray without it is not taken for one", async () => {
    ray = await startRayEmulator();
    const seen = await new RayServeTarget({ address: () => ray!.url, timeoutMs: 2000 }).version();
    expect(seen.simulated).toBe(true);
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ray_version: "2.52.0", version: "4" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const real = await new RayServeTarget({ address: () => address, timeoutMs: 2000 }).version();
      expect(real).toEqual({ ray_version: "2.52.0", version: "4" });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("reads the version and refuses a Ray it cannot drive, with a clear message", async () => {
    ray = await startRayEmulator({ rayVersion: "2.9.3" });
    const { ray_version } = await new RayServeTarget({ address: () => ray!.url, timeoutMs: 2000 }).version();
    expect(() => checkRayVersion(ray_version)).toThrow(
      "Ray 2.9.3 is not supported: serve-gitops needs Ray >= 2.46.0 (Ray Serve LLM's build_openai_app with LLMServer:<name> deployments)",
    );
    expect(() => checkRayVersion("2.52.0")).not.toThrow();
    expect(() => checkRayVersion("3.0.0.dev0")).not.toThrow();
    expect(() => checkRayVersion("nightly")).toThrow(/cannot read/);
  });

  it("a 400 (Ray rejects the config) is terminal and keeps Ray's text", async () => {
    ray = await startRayEmulator();
    const error = await new RayServeTarget({ address: () => ray!.url, timeoutMs: 2000 })
      .apply({
        applications: [
          { name: "a", route_prefix: "/", import_path: "x:y", args: { llm_configs: [] }, deployments: [] },
          { name: "a", route_prefix: "/b", import_path: "x:y", args: { llm_configs: [] }, deployments: [] },
        ],
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "RayError", status: 400, kind: "terminal" });
    expect((error as { body: string }).body).not.toBe("");
  });

  it("a 400 from the Serve controller's own task (RayTaskError) is transient; a pydantic ValidationError stays terminal", async () => {
    // serve_head.py put_all_applications answers 400 for both: repr(ValidationError) of the config, and
    // str(RayTaskError) when the controller's apply_config fails (its GCS KV write timing out, say).
    ray = await startRayEmulator();
    const target = new RayServeTarget({ address: () => ray!.url, timeoutMs: 2000 });
    ray.failNextPutInController();
    const controller = await target.apply(config).catch((e: unknown) => e);
    expect(controller).toMatchObject({
      name: "RayError",
      status: 400,
      kind: "transient",
      controllerTask: true,
    });
    expect((controller as Error).message).toMatch(/KVStoreError: the GCS did not answer in time/);
    const invalid = await target.apply({ applications: [{ name: "a" }] } as never).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ name: "RayError", status: 400, kind: "terminal", controllerTask: false });
  });

  it("a 200 whose body is not ServeInstanceDetails is a transient fault, never an empty Ray", async () => {
    ray = undefined;
    const bodies = ["{}", '{"applications": []}', '{"applications": {"a": "RUNNING"}}', '{"ok": true}'];
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(bodies.shift());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const target = new RayServeTarget({ address: () => url, timeoutMs: 2000 });
      for (let i = 0; i < 4; i++)
        await expect(target.observe()).rejects.toMatchObject({
          name: "RayError",
          kind: "transient",
          message: expect.stringMatching(/not Ray Serve's ServeInstanceDetails/) as unknown,
        });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("classifies Ray's answers: what a retry cannot change is terminal, the rest transient", async () => {
    ray = undefined;
    const answers = [404, 501, 405, 500, 503, 502];
    const server = createServer((_req, res) => {
      res.writeHead(answers.shift()!, { "content-type": "text/plain" });
      res.end("no\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const target = new RayServeTarget({ address: () => url, timeoutMs: 2000 });
      const kinds: string[] = [];
      for (let i = 0; i < 6; i++)
        kinds.push(
          await target.apply(config).then(
            () => "ok",
            (e: { status: number; kind: string }) => `${e.status} ${e.kind}`,
          ),
        );
      expect(kinds).toEqual([
        "404 terminal",
        "501 terminal",
        "405 terminal",
        "500 transient",
        "503 transient",
        "502 transient",
      ]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
