import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliOptions } from "../../scripts/build.mjs";
import { FIXTURE_REPO, specText } from "../../test-fixtures/helpers";
import type { Plan } from "../plan";

// `plan` (and the CLI fixes around it) as a user runs it: the bundled CLI, spawned against real temporary
// git repositories. The bundle is built into a folder of this file's own, so it never races cli.test.ts,
// which rebuilds dist/.

const NOW = "2026-01-06T12:35:00Z";
const temporaries: string[] = [];
let CLI = "";

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), "serve-gitops-plan-cli-"));
  temporaries.push(out);
  await build({ ...cliOptions, outdir: out });
  CLI = join(out, "cli.js");
}, 60_000);

afterAll(() => {
  for (const dir of temporaries) rmSync(dir, { recursive: true, force: true });
});

function cli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const ISOLATED = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
const git = (cwd: string, ...args: string[]) =>
  execFileSync(
    "git",
    ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false", ...args],
    { cwd, env: ISOLATED, encoding: "utf8" },
  ).trim();

const write = (dir: string, path: string, text: string) => {
  mkdirSync(join(dir, path, ".."), { recursive: true });
  writeFileSync(join(dir, path), text);
};

/** A monorepo: the serving repository lives in "serving dir/" beside a root models/ folder of its own. */
function monorepo(): { top: string; repo: string } {
  const top = mkdtempSync(join(tmpdir(), "serve-gitops-mono repo-"));
  temporaries.push(top);
  const repo = join(top, "serving dir");
  for (const folder of ["models", "clusters"])
    cpSync(join(FIXTURE_REPO, folder), join(repo, folder), { recursive: true });
  write(repo, "models/bob/b.yaml", specText("b", { clusters: ["h1", "lab"] }));
  expect(cli(["render", "--repo", repo, "--now", NOW], top).status).toBe(0);
  write(top, "models/unrelated.txt", "the root's own models/ folder: not the serving repository\n");
  git(top, "init", "-q", "-b", "main");
  git(top, "add", "-A");
  git(top, "commit", "-q", "-m", "init");
  return { top, repo };
}

/** A serving repository at the root of its git repository, rendered and committed. */
function committed(): string {
  const dir = mkdtempSync(join(tmpdir(), "serve-gitops-plan-"));
  temporaries.push(dir);
  for (const folder of ["models", "clusters"])
    cpSync(join(FIXTURE_REPO, folder), join(dir, folder), { recursive: true });
  write(dir, "models/bob/b.yaml", specText("b", { clusters: ["h1", "lab"] }));
  expect(cli(["render", "--repo", dir, "--now", NOW], dir).status).toBe(0);
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "init");
  return dir;
}

const json = (out: { stdout: string }) => JSON.parse(out.stdout) as Plan;
const served = (plan: Plan, kind: "deploy" | "update" | "undeploy") =>
  plan.clusters.flatMap((c) => c[kind].map((m) => `${c.cluster} ${m.served_name}`));

describe("plan in a subfolder of a git repository", () => {
  it("reads HEAD under the folder: an unchanged tree has no changes", () => {
    const { top, repo } = monorepo();
    const out = cli(["plan", "--repo", "serving dir", "--json"], top);
    expect(out.stderr).toBe("");
    expect(out.status).toBe(0);
    expect(json(out)).toMatchObject({ ok: true, changed: false });
    const inside = cli(["plan", "--json"], repo);
    expect(inside.status).toBe(0);
    expect(json(inside)).toMatchObject({ ok: true, changed: false });
  });

  it("plans a committed removal between two commits, from the root and from inside the folder", () => {
    const { top, repo } = monorepo();
    git(
      repo,
      "rm",
      "-q",
      "models/bob/b.yaml",
      "clusters/h1/rendered/bob/b.yaml",
      "clusters/lab/rendered/bob/b.yaml",
    );
    git(top, "commit", "-q", "-m", "remove b");
    for (const [cwd, args] of [
      [top, ["--repo", "serving dir"]],
      [repo, []],
    ] as const) {
      const out = cli(["plan", ...args, "--base", "HEAD~1", "--head", "HEAD", "--json"], cwd);
      expect(out.status).toBe(0);
      const plan = json(out);
      expect(served(plan, "undeploy")).toEqual(["h1 bob-202601061235-b", "lab bob-202601061235-b"]);
      expect(served(plan, "deploy")).toEqual([]);
    }
  });
});

describe("plan checks the head's fragments", () => {
  it("fails a commit that re-rendered every fragment under new served names", () => {
    const dir = committed();
    rmSync(join(dir, "clusters/h1/rendered"), { recursive: true });
    rmSync(join(dir, "clusters/lab/rendered"), { recursive: true });
    expect(cli(["render", "--now", "2026-11-11T11:11:00Z"], dir).status).toBe(0);
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "re-render");
    const out = cli(["plan", "--base", "HEAD~1", "--head", "HEAD"], dir);
    expect(out.status).toBe(1);
    expect(out.stdout).toContain("models/bob/b.yaml:1:1  E409 render-stale");
    expect(out.stdout).toContain("rename the model (timestamp 202611111111; the base has 202601061235)");
    expect(out.stdout).toContain("git checkout HEAD~1 -- clusters/*/rendered/bob/b.yaml");
    expect(json(cli(["plan", "--base", "HEAD~1", "--head", "HEAD", "--json"], dir))).toMatchObject({
      ok: false,
    });
  });

  it("fails a committed hand edit of a fragment", () => {
    const dir = committed();
    const path = join(dir, "clusters/h1/rendered/bob/b.yaml");
    writeFileSync(path, readFileSync(path, "utf8").replace("num_replicas: 1\n", "num_replicas: 9\n"));
    git(dir, "commit", "-q", "-am", "hand edit");
    const out = cli(["plan", "--base", "HEAD~1", "--head", "HEAD", "--json"], dir);
    expect(out.status).toBe(1);
    const plan = json(out);
    expect(plan.diagnostics.map((d) => [d.rule, d.file])).toEqual([["render-stale", "models/bob/b.yaml"]]);
    expect(plan.diagnostics[0]!.message).toContain("clusters/h1/rendered/bob/b.yaml is out of date");
  });

  it("tells the author of a spec edited in the working tree to run render, then passes", () => {
    const dir = committed();
    write(dir, "models/bob/b.yaml", specText("b", { clusters: ["h1", "lab"], num_replicas: 2 }));
    const stale = cli(["plan"], dir);
    expect(stale.status).toBe(1);
    expect(stale.stdout).toContain(
      "E409 render-stale  the rendered fragments in the working tree do not match this spec: clusters/h1/rendered/bob/b.yaml is out of date",
    );
    expect(stale.stdout).not.toContain("committed");
    expect(stale.stdout).toContain("Run `npx serve-gitops render`.");
    expect(stale.stdout).toContain("| 🟡 update | `bob-202601061235-b` | 2x1 GPU |");
    expect(cli(["render"], dir).status).toBe(0);
    const current = cli(["plan"], dir);
    expect(current.status).toBe(0);
    expect(current.stdout).toContain("(scale only: nothing restarts)");
  });

  it("fails a committed spec change that was not rendered", () => {
    const dir = committed();
    write(dir, "models/bob/b.yaml", specText("b", { clusters: ["h1", "lab"], num_replicas: 2 }));
    git(dir, "commit", "-q", "-am", "scale b");
    const out = cli(["plan", "--base", "HEAD~1", "--head", "HEAD", "--json"], dir);
    expect(out.status).toBe(1);
    expect(json(out).diagnostics.map((d) => d.rule)).toEqual(["render-stale"]);
    expect(json(out).diagnostics[0]!.message).toMatch(/^the committed render does not match this spec: /);
  });

  it("says a fragment left in the working tree after its spec was deleted is left over from a removed spec", () => {
    const dir = committed();
    rmSync(join(dir, "models/bob/b.yaml"));
    const out = cli(["plan"], dir);
    expect(out.status).toBe(1);
    expect(out.stdout).toContain(
      "clusters/h1/rendered/bob/b.yaml:1:1  E409 render-stale  clusters/h1/rendered/bob/b.yaml is left over from a removed spec (models/bob/b.yaml): nothing renders it any more. Run `npx serve-gitops render` (it deletes the fragment).",
    );
    expect(out.stdout).not.toContain("does not match this spec");
  });
});

describe("plan's messages", () => {
  it("says a --base or --head that names no commit does not exist", () => {
    const dir = committed();
    const out = cli(["plan", "--base", "nosuchref"], dir);
    expect(out.status).toBe(2);
    expect(out.stderr).toContain("--base nosuchref: no such commit, branch or tag");
    expect(out.stderr).not.toContain("^{commit}");
    expect(cli(["plan", "--head", "nosuchref"], dir).stderr).toContain("--head nosuchref: no such commit");
  });

  it("outside a git repository or before the first commit, points at --base empty after the message", () => {
    const dir = mkdtempSync(join(tmpdir(), "serve-gitops-nogit-"));
    temporaries.push(dir);
    for (const folder of ["models", "clusters"])
      cpSync(join(FIXTURE_REPO, folder), join(dir, folder), { recursive: true });
    const HINT = "hint: --base empty plans against clusters with nothing deployed and needs no git history";
    // GIT_CEILING_DIRECTORIES: git must not find a repository above the temporary folder.
    const env = { GIT_CEILING_DIRECTORIES: tmpdir() };
    const outside = cli(["plan"], dir, env);
    expect(outside.status).toBe(2);
    expect(outside.stderr).toMatch(
      new RegExp(
        `^serve-gitops plan: cannot read HEAD in .*not a git repository.*\n${HINT} \\(without --base, the base is HEAD\\)\n`,
      ),
    );
    const head = cli(["plan", "--base", "empty", "--head", "main"], dir, env);
    expect(head.status).toBe(2);
    expect(head.stderr).toContain("\nhint: leave out --head to plan the working tree");
    git(dir, "init", "-q", "-b", "main");
    const unborn = cli(["plan", "--base", "HEAD"], dir, env);
    expect(unborn.status).toBe(2);
    expect(unborn.stderr).toMatch(new RegExp(`^serve-gitops plan: --base HEAD: no such commit.*\n${HINT}\n`));
    expect(cli(["plan", "--base", "empty", "--now", NOW], dir, env).status).toBe(1); // not rendered yet
    expect(cli(["render", "--now", NOW], dir, env).status).toBe(0);
    expect(cli(["plan", "--base", "empty", "--now", NOW], dir, env).status).toBe(0);
  });

  it("marks a new model's name provisional until it is rendered", () => {
    const dir = committed();
    write(dir, "models/alice/x.yaml", specText("x"));
    const out = cli(["plan", "--now", "2026-05-05T05:05:00Z"], dir);
    expect(out.stdout).toContain("`alice-202605050505-x` (provisional: named when first rendered)");
  });
});

describe("--now", () => {
  it("refuses a time without an offset, whatever the machine's time zone, with exit 2", () => {
    const dir = committed();
    const out = cli(["render", "--now", "2026-02-01T10:00"], dir, { TZ: "America/New_York" });
    expect(out.status).toBe(2);
    expect(out.stderr).toContain("would depend on this machine's time zone");
    expect(cli(["plan", "--now", "2026-02-01T10:00"], dir).status).toBe(2);
  });

  it("refuses an impossible date instead of rolling it over", () => {
    const dir = committed();
    write(dir, "models/alice/x.yaml", specText("x"));
    const out = cli(["render", "--now", "2026-02-30T00:00:00Z"], dir);
    expect(out.status).toBe(2);
    expect(out.stderr).toContain("no such date");
    expect(cli(["plan", "--now", "2026-02-30T00:00:00Z"], dir).status).toBe(2);
  });

  it("names a model in UTC from a time with an offset, in any time zone", () => {
    const dir = committed();
    write(dir, "models/alice/x.yaml", specText("x"));
    const out = cli(["render", "--now", "2026-02-01T10:00-05:00"], dir, { TZ: "Asia/Tokyo" });
    expect(out.status).toBe(0);
    expect(readFileSync(join(dir, "clusters/h1/rendered/alice/x.yaml"), "utf8")).toContain(
      "served_name: alice-202602011500-x",
    );
  });
});

describe("fragments edited by hand", () => {
  it("refuses a served name whose timestamp is no real UTC minute", () => {
    const dir = committed();
    for (const cluster of ["h1", "lab"]) {
      const path = join(dir, `clusters/${cluster}/rendered/bob/b.yaml`);
      writeFileSync(path, readFileSync(path, "utf8").replaceAll("202601061235", "202613452599"));
    }
    const render = cli(["render"], dir);
    expect(render.status).toBe(1);
    expect(render.stdout).toContain("clusters/h1/rendered/bob/b.yaml");
    expect(render.stdout).toContain(
      "E400 invalid-value  served name bob-202613452599-b carries 202613452599",
    );
    expect(render.stdout).toContain("nothing rendered");
    expect(readFileSync(join(dir, "clusters/h1/rendered/bob/b.yaml"), "utf8")).not.toContain("2026-13-45");
    expect(cli(["render", "--check"], dir).status).toBe(1);
  });

  it("refuses fragments that disagree on a model's name rather than renaming it everywhere", () => {
    const dir = committed();
    const path = join(dir, "clusters/lab/rendered/bob/b.yaml");
    writeFileSync(path, readFileSync(path, "utf8").replaceAll("202601061235", "202501010000"));
    const render = cli(["render"], dir);
    expect(render.status).toBe(1);
    expect(render.stdout).toContain("E409 served-name-conflict");
    expect(readFileSync(join(dir, "clusters/h1/rendered/bob/b.yaml"), "utf8")).toContain(
      "bob-202601061235-b",
    );
  });
});

describe("the CLI's output", () => {
  it("ends quietly when stdout is closed early (`plan | head -1`)", async () => {
    const dir = committed();
    write(dir, "models/bob/b.yaml", specText("b", { num_replicas: 0 }));
    const child = spawn(process.execPath, [CLI, "plan"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    // Close our end at once: every write of the CLI meets a closed pipe.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(1); // the command's own exit: the head has an error
  });
});

describe("new", () => {
  it("names the existing file when the model exists as .yml", () => {
    const dir = committed();
    write(dir, "models/alice/x.yml", specText("x"));
    const out = cli(["new", "alice/x", "--source", "$HOME/x"], dir);
    expect(out.status).toBe(2);
    expect(out.stderr).toContain("models/alice/x.yml already exists");
  });
});
