// The agent as a real process: SIGKILLed between the PUT and its statuses, then restarted; and the CLI's exits.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { specYaml } from "../testkit/git-fixture";
import { createHarness, TEST_TOKEN, type Harness } from "../testkit/harness";
import { bundleCli } from "../testkit/bundle-cli";

const banner = {
  js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);',
};
let dir: string;
let h: Harness;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "serve-gitops-child-"));
  const common = {
    bundle: true,
    platform: "node" as const,
    target: "node20",
    format: "esm" as const,
    banner,
    logLevel: "error" as const,
  };
  await Promise.all([
    build({ ...common, entryPoints: ["agent/testkit/child-agent.ts"], outfile: join(dir, "child.mjs") }),
    bundleCli(dir),
  ]);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  expect(h.github.unexpected).toEqual([]);
  await h.close();
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(
  script: string,
  args: string[],
  env: Record<string, string>,
  until?: string,
): { child: ChildProcess; reached: Promise<void>; exit: Promise<Exit> } {
  const child = spawn(process.execPath, [script, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let reach: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (until && stderr.includes(until)) reach();
  });
  const exit = new Promise<Exit>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, reached, exit };
}

const PENDING_THEN_SUCCESS = [
  "serve/h1 pending 0 running, 1 deploying, 0 failed",
  "serve/h1/alice/x pending deploying 1x1 GPU",
  "serve/h1/alice/x success RUNNING alice-202601061235-x",
  "serve/h1 success 1 running, 0 deploying, 0 failed",
];

describe("SIGKILL, then restart", () => {
  for (const point of ["put", "post"] as const) {
    it(`killed right after the ${point === "put" ? "PUT" : "first status write"}: the restart converges and writes every status exactly once`, async () => {
      h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
      const sha = h.repo.ship("initial");
      const config = JSON.stringify(h.config({ once: true, logLevel: "warn", watchIntervalMs: 20 }));
      const first = run(
        join(dir, "child.mjs"),
        [],
        { CHILD_AGENT_CONFIG: config, CRASH_AT: point },
        `CRASH_POINT ${point}`,
      );
      await first.reached;
      first.child.kill("SIGKILL");
      expect((await first.exit).signal).toBe("SIGKILL");
      expect(h.ray.acceptedPutCount()).toBe(1);
      expect(h.statuses(sha)).toEqual(point === "put" ? [] : PENDING_THEN_SUCCESS.slice(0, 1));
      const record = JSON.parse(readFileSync(join(h.stateDir, "state.json"), "utf8")) as {
        marks: { attempted?: { sha: string }; applied?: unknown };
      };
      expect(record.marks.attempted?.sha).toBe(sha);
      expect(record.marks.applied).toBeUndefined();

      const second = run(join(dir, "child.mjs"), [], { CHILD_AGENT_CONFIG: config });
      const exit = await second.exit;
      expect(exit.code, exit.stdout + exit.stderr).toBe(0);
      // Each status once, in order; after a restart the pending cluster status may already count the model running.
      expect(h.statuses(sha).map((s) => s.replace(/^serve\/h1 pending .*/, "serve/h1 pending"))).toEqual([
        "serve/h1 pending",
        ...PENDING_THEN_SUCCESS.slice(1),
      ]);
      expect(h.ray.acceptedPutCount()).toBe(1);
      const reads = h.github.requests.filter((r) => r.method === "GET" && r.path.endsWith("/status"));
      expect(reads).toHaveLength(point === "post" ? 1 : 0);
    });
  }
});

describe("the CLI process", () => {
  it("a second agent on the same state directory exits 1 with a clear message; a usage error exits 2", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    h.repo.ship("initial");
    await h.start();
    const args = [
      "agent",
      "--cluster",
      "h1",
      "--repo",
      h.repo.remote,
      "--github-repo",
      "acme/models",
      "--github-api-url",
      h.github.url,
      "--state-dir",
      h.stateDir,
      "--ray-address",
      h.ray.url,
      "--once",
    ];
    const second = await run(join(dir, "cli.mjs"), args, { GITHUB_TOKEN: TEST_TOKEN }).exit;
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      /another agent \(pid \d+ .*\) holds .*agent\.lock: one agent per state directory/,
    );
    const usage = await run(join(dir, "cli.mjs"), ["agent", "--repo", h.repo.remote], {
      GITHUB_TOKEN: TEST_TOKEN,
    }).exit;
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--cluster (or SERVE_GITOPS_CLUSTER) is required");
    const secretFlag = await run(join(dir, "cli.mjs"), ["agent", "--github-token", "x"], {}).exit;
    expect(secretFlag.code).toBe(2);
    expect(secretFlag.stderr).toContain("secrets are never flags");
  });

  it("--once exits 1 when the git side fails (a missing branch, a repository that is not there)", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    h.repo.ship("initial");
    const parent = mkdtempSync(join(tmpdir(), "serve-gitops-gitfault-"));
    const once = (state: string, extra: Record<string, string>) =>
      run(join(dir, "cli.mjs"), ["agent"], {
        ...dryRunEnv(join(parent, state), parent),
        SERVE_GITOPS_DRY_RUN: "",
        SERVE_GITOPS_WATCH_INTERVAL: "5ms",
        ...extra,
      }).exit;
    const branch = await once("a", { SERVE_GITOPS_BRANCH: "nosuch" });
    const missing = await once("b", { SERVE_GITOPS_REPO: join(parent, "nonexistent-repo") });
    rmSync(parent, { recursive: true, force: true });
    expect(branch.code, branch.stdout).toBe(1);
    expect(branch.stdout).toContain(`branch nosuch does not exist on ${h.repo.remote}`);
    expect(missing.code, missing.stdout).toBe(1);
    expect(missing.stdout).toContain("cannot reach ");
    expect(h.ray.putCount()).toBe(0);
    expect(h.github.requests).toEqual([]);
  });

  it("--once --dry-run reads everything, changes nothing, logs JSON without the token, and exits 0", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    h.repo.ship("initial");
    const parent = mkdtempSync(join(tmpdir(), "serve-gitops-dry-"));
    // A state directory that does not exist yet: the dry run must not create it (nor the git cache in it).
    const state = join(parent, "state");
    const scratch = join(parent, "tmp");
    mkdirSync(scratch);
    const exit = await run(join(dir, "cli.mjs"), ["agent"], dryRunEnv(state, scratch)).exit;
    const leftovers = { state: existsSync(state), scratch: readdirSync(scratch) };
    rmSync(parent, { recursive: true, force: true });
    expect(exit.code, exit.stderr).toBe(0);
    const lines = exit.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; level: number });
    // Once: the cycle's drift check sees the same unapplied commit and does not say it again.
    expect(lines.filter((l) => l.msg === "dry run: would PUT the Serve config")).toHaveLength(1);
    expect(exit.stdout).not.toContain(TEST_TOKEN);
    expect(h.ray.putCount()).toBe(0);
    expect(h.github.requests).toEqual([]);
    // Its temporary clone is gone too.
    expect(leftovers).toEqual({ state: false, scratch: [] });
  });

  it("--dry-run on an agent's state directory sees a new commit without touching state.json, github.json or repo.git", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    h.repo.ship("initial");
    const live = await h.start();
    await h.settle(live);
    await live.close();
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const next = h.repo.ship("add y");
    const before = fingerprint(h.stateDir);
    expect([...before.keys()]).toEqual(
      expect.arrayContaining(["state.json", "github.json", "repo.git/HEAD"]),
    );
    const scratch = mkdtempSync(join(tmpdir(), "serve-gitops-dry-tmp-"));
    const exit = await run(join(dir, "cli.mjs"), ["agent"], dryRunEnv(h.stateDir, scratch)).exit;
    const leftovers = readdirSync(scratch);
    rmSync(scratch, { recursive: true, force: true });
    expect(exit.code, exit.stderr).toBe(0);
    const put = exit.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; sha?: string; changes?: string[] })
      .find((l) => l.msg === "dry run: would PUT the Serve config");
    expect(put).toMatchObject({ sha: next, changes: ["deploy bob/y"] });
    expect(fingerprint(h.stateDir)).toEqual(before);
    expect(leftovers).toEqual([]);
    expect(h.ray.acceptedPutCount()).toBe(1);
  });
});

/** The environment of `agent --once --dry-run` against the harness, with its own TMPDIR to check for leftovers. */
function dryRunEnv(state: string, scratch: string): Record<string, string> {
  return {
    SERVE_GITOPS_CLUSTER: "h1",
    SERVE_GITOPS_REPO: h.repo.remote,
    SERVE_GITOPS_GITHUB_REPO: "acme/models",
    SERVE_GITOPS_GITHUB_API_URL: h.github.url,
    SERVE_GITOPS_STATE_DIR: state,
    SERVE_GITOPS_RAY_ADDRESS: h.ray.url,
    SERVE_GITOPS_ONCE: "1",
    SERVE_GITOPS_DRY_RUN: "true",
    GITHUB_TOKEN: TEST_TOKEN,
    TMPDIR: scratch,
  };
}

/** Every file under a directory: its content and modification time (a rewrite with the same bytes shows too). */
function fingerprint(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else {
        const full = join(root, path);
        const digest = createHash("sha256").update(readFileSync(full)).digest("hex");
        out.set(path, `${digest} ${statSync(full).mtimeMs}`);
      }
    }
  };
  walk("");
  return out;
}
