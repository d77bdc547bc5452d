import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { statusCommand } from "./status-command";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs `serve-gitops status` with stderr captured. */
async function status(argv: string[]): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  vi.spyOn(process.stderr, "write").mockImplementation(
    (chunk: string | Uint8Array) => err.push(String(chunk)) > 0,
  );
  try {
    return { code: await statusCommand.run(argv), stderr: err.join("") };
  } finally {
    vi.restoreAllMocks();
  }
}

async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe("serve-gitops status, when the agent cannot be read", () => {
  it("says why the connection failed, not only that fetch failed", async () => {
    const port = await deadPort();
    const { code, stderr } = await status(["--agent", `http://127.0.0.1:${port}`]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      `serve-gitops status: cannot read http://127.0.0.1:${port}/status: fetch failed: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
  });

  it("explains a port fetch refuses without connecting (http://127.0.0.1:9)", async () => {
    const { code, stderr } = await status(["--agent", "http://127.0.0.1:9"]);
    expect(code).toBe(1);
    expect(stderr).toContain("fetch failed: bad port (fetch refuses port 9: use another --listen port)");
  });

  it("reports an HTTP error status", async () => {
    const server = createServer((_req, res) => res.writeHead(503).end("down"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as AddressInfo;
      const { code, stderr } = await status(["--agent", `http://127.0.0.1:${port}`]);
      expect(code).toBe(1);
      expect(stderr).toContain(": HTTP 503");
    } finally {
      server.close();
    }
  });

  it("refuses credentials in --agent without echoing them", async () => {
    for (const agent of [
      "http://admin:s3cret-token@127.0.0.1:9464",
      "http://admin:s3cret-token@bad host:1",
    ]) {
      const error = await statusCommand.run(["--agent", agent]).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.name).toBe("UsageError");
      expect(error?.message).not.toContain("s3cret-token");
    }
  });

  it("does not echo the part of a password after an '@' in it when --agent is no URL", async () => {
    const error = await statusCommand.run(["--agent", "http://admin:p@ss-s3cret@bad host:1"]).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe("UsageError");
    expect(error?.message).toContain('(got "http://***@bad host:1")');
  });
});
