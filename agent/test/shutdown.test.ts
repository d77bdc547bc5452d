// SIGTERM while GitHub does not answer: the agent keeps the statuses it owes for the next start and the
// process exits within the 20 s agent/README.md promises (inside the deploy files' 30 s stop timeout).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFixtureRepo, templateFiles, type FixtureRepo } from "../testkit/git-fixture";
import { bundleCli } from "../testkit/bundle-cli";

let dir: string;
let cli: string;
let repo: FixtureRepo;
let silent: Server;
const sockets: Socket[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "serve-gitops-shutdown-"));
  cli = await bundleCli(dir);
  repo = createFixtureRepo(templateFiles(), { prefix: "serve-gitops-shutdown-repo-" });
  repo.commit("the template");
  repo.push();
  // A GitHub API that accepts connections and never answers.
  silent = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
}, 60_000);

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent?.close(resolve));
  repo?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function start(args: string[], env: Record<string, string> = {}) {
  const child: ChildProcess = spawn(process.execPath, [cli, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  const waiters: Array<{ pattern: RegExp; resolve: (m: RegExpExecArray) => void }> = [];
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
    for (const w of waiters) {
      const m = w.pattern.exec(stdout);
      if (m) w.resolve(m);
    }
  });
  child.stderr!.on("data", () => undefined);
  const exit = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on("close", (code) => resolve({ code, at: Date.now() })),
  );
  const until = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      waiters.push({ pattern, resolve });
      void exit.then(() => reject(new Error(`exited before ${pattern}: ${stdout}`)));
    });
  return { child, exit, until, output: () => stdout };
}

describe("the agent stopping while GitHub does not answer", () => {
  it("exits 0 within 20 s of SIGTERM, keeping the statuses it owes", async () => {
    const emulator = start(["emulator", "--port", "0", "--deploy-delay", "100ms"]);
    const url = (await emulator.until(/listening on (http:\/\/127\.0\.0\.1:\d+) /))[1]!;
    try {
      const state = mkdtempSync(join(dir, "state-"));
      const port = (silent.address() as AddressInfo).port;
      const agent = start(
        [
          "agent",
          "--cluster",
          "h1",
          "--repo",
          repo.remote,
          "--state-dir",
          state,
          "--ray-address",
          url,
          "--github-repo",
          "acme/models",
          "--github-api-url",
          `http://127.0.0.1:${port}`,
          "--watch-interval",
          "100ms",
          "--listen",
          "127.0.0.1:0",
        ],
        { SERVE_GITOPS_GITHUB_TOKEN: "ghp_shutdown_test_0123456789" },
      );
      await agent.until(/PUT \/api\/serve\/applications\/ accepted/);
      const signalled = Date.now();
      agent.child.kill("SIGTERM");
      const { code, at } = await agent.exit;
      expect(code).toBe(0);
      expect(agent.output()).toContain("grace period over");
      // 18 s for the statuses, then close and exit: within the 20 s promised, with room to spare (the old
      // 20 s grace alone ran past it).
      expect(at - signalled).toBeLessThanOrEqual(19_500);
    } finally {
      emulator.child.kill("SIGTERM");
      await emulator.exit;
    }
  }, 60_000);
});
