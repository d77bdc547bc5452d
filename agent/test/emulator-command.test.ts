// `serve-gitops emulator` as a user runs it for a trial: a process of the CLI bundle, then the real agent, another
// process, run --once against it on a bare repository holding the template's content, as a fork would.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGitHubApiServer, type GitHubApiServer } from "../../generator/testkit/github-api-server";
import { EMULATOR_HEADER, EMULATOR_HEADER_VALUE } from "../emulator/ray-dashboard";
import { createFixtureRepo, templateFiles, type FixtureRepo } from "../testkit/git-fixture";
import { bundleCli } from "../testkit/bundle-cli";

const TOKEN = "ghp_trial_token_0123456789";
const FORK = "you/models";
let dir: string;
let cli: string;
let fork: FixtureRepo;
let github: GitHubApiServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "serve-gitops-emulator-"));
  cli = await bundleCli(dir);
  fork = createFixtureRepo(templateFiles(), { prefix: "serve-gitops-fork-" });
  fork.commit("the template, as forked");
  fork.push();
  github = await startGitHubApiServer({ tokens: { [TOKEN]: { login: "serve-gitops-trial[bot]" } } });
}, 60_000);

afterAll(async () => {
  await github?.close();
  fork?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a process, with a bare environment; `until` resolves once stdout holds a match. */
function run(args: string[], env: Record<string, string> = {}, until?: RegExp) {
  const child: ChildProcess = spawn(process.execPath, [cli, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let found: (m: RegExpExecArray) => void = () => undefined;
  const matched = new Promise<RegExpExecArray>((resolve) => (found = resolve));
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
    const m = until?.exec(stdout);
    if (m) found(m);
  });
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<Exit>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, matched, exit, output: () => stdout };
}

describe("serve-gitops emulator", () => {
  it("says it is a simulation, takes the agent's PUT from a fork's commit, serves it, and exits 0 on SIGTERM", async () => {
    const emulator = run(
      ["emulator", "--port", "0", "--deploy-delay", "200ms"],
      {},
      /listening on (http:\/\/127\.0\.0\.1:\d+) /,
    );
    const started = await Promise.race([emulator.matched, emulator.exit]);
    if (!Array.isArray(started)) throw new Error(`the emulator exited: ${JSON.stringify(started)}`);
    const url = started[1]!;
    try {
      const banner = emulator.output();
      expect(banner).toContain("SIMULATED Ray Serve dashboard: serve-gitops' emulator");
      expect(banner).toContain("This is NOT a Ray cluster: no model is loaded and no GPU is used.");
      expect(banner).toContain(`Every response carries ${EMULATOR_HEADER}: ${EMULATOR_HEADER_VALUE}.`);

      const state = mkdtempSync(join(dir, "state-"));
      const agent = await run(
        [
          "agent",
          "--cluster",
          "h1",
          "--repo",
          fork.remote,
          "--state-dir",
          state,
          "--ray-address",
          url,
          "--github-repo",
          FORK,
          "--github-api-url",
          github.url,
          "--watch-interval",
          "100ms",
          "--once",
        ],
        { SERVE_GITOPS_GITHUB_TOKEN: TOKEN },
      ).exit;
      expect(agent.code, agent.stdout + agent.stderr).toBe(0);
      expect(agent.stdout).toContain("PUT /api/serve/applications/ accepted");

      // What the emulator serves is the fork's assembled config, every application RUNNING.
      const assembled = spawnSync(
        process.execPath,
        [cli, "assemble", "--cluster", "h1", "--format", "json", "--repo", fork.work],
        { encoding: "utf8" },
      );
      expect(assembled.status, assembled.stderr).toBe(0);
      const config = JSON.parse(assembled.stdout) as { applications: Array<{ name: string }> };
      expect(config.applications.map((a) => a.name)).toEqual([
        "alice-202601061235-llama-8b",
        "alice-202601061235-qwen-0.5b",
        "bob-202601061235-qwen-7b",
      ]);
      const res = await fetch(`${url}/api/serve/applications/`);
      expect(res.headers.get(EMULATOR_HEADER)).toBe(EMULATOR_HEADER_VALUE);
      const served = (await res.json()) as {
        applications: Record<string, { status: string; deployed_app_config: unknown }>;
      };
      expect(Object.keys(served.applications).sort()).toEqual(config.applications.map((a) => a.name));
      for (const app of config.applications) {
        expect(served.applications[app.name]!.status, app.name).toBe("RUNNING");
        expect(served.applications[app.name]!.deployed_app_config, app.name).toMatchObject(app);
      }
      expect(emulator.output()).toMatch(/ PUT \/api\/serve\/applications\/ -> 200\n/);

      // The statuses landed on the fork's commit.
      const statuses = github.requests
        .filter((r) => r.method === "POST" && r.path === `/repos/${FORK}/statuses/${fork.head()}`)
        .map((r) => r.body as { context: string; state: string });
      expect(statuses).toContainEqual(expect.objectContaining({ context: "serve/h1", state: "success" }));
      expect(github.unexpected).toEqual([]);
    } finally {
      emulator.child.kill("SIGTERM");
    }
    const stopped = await emulator.exit;
    expect(stopped).toMatchObject({ code: 0, signal: null, stderr: "" });
    expect(stopped.stdout).toContain("serve-gitops emulator: stopped (SIGTERM)");
  }, 60_000);

  it("refuses a bad port and any other interface than 127.0.0.1 (exit 2), and a port in use (exit 1)", async () => {
    const badPort = await run(["emulator", "--port", "99999"]).exit;
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port must be a port number from 0 to 65535 (got "99999")');
    expect(badPort.stderr).toContain("Usage: serve-gitops emulator");
    const notNumber = await run(["emulator", "--port", "http"]).exit;
    expect(notNumber.code).toBe(2);
    const host = await run(["emulator", "--host", "0.0.0.0"]).exit;
    expect(host.code).toBe(2);
    expect(host.stderr).toContain("the emulator listens on 127.0.0.1 only");

    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const inUse = await run(["emulator", "--port", String(port)]).exit;
      expect(inUse.code).toBe(1);
      expect(inUse.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use`);
      expect(inUse.stdout).toBe("");
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 30_000);
});
