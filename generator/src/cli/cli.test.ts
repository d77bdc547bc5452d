import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliOptions } from "../../scripts/build.mjs";
import { FIXTURE_REPO, specText, TEMPLATE_REPO } from "../../test-fixtures/helpers";
import specSchema from "../../../schemas/serving-spec.schema.json";
import type { Diagnostic } from "../types";
import { GENERATOR_VERSION } from "../render";

// The CLI as a user runs it: the built bundle (dist/'s build), spawned against temporary copies of a
// repository outside this checkout, with pipes (not a TTY) for output. The bundle is built into a folder of
// this file's own: rebuilding dist/ (which starts by removing it) would race bench-check.test.ts, which runs
// dist/cli.js.

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
let CLI = "";
const NOW = "2026-01-06T12:35:00Z";
const temporaries: string[] = [];

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), "serve-gitops-cli-"));
  temporaries.push(out);
  await build({ ...cliOptions, outdir: out });
  CLI = join(out, "cli.js");
}, 60_000);

afterAll(() => {
  for (const dir of temporaries) rmSync(dir, { recursive: true, force: true });
});

function cli(args: readonly string[], cwd = tmpdir(), extraEnv: Record<string, string> = {}) {
  const env = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...extraEnv };
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, env, encoding: "utf8", timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A fresh copy of a repository (default: the template's example content, frozen in test-fixtures so an
 * adopter's own models/ and clusters/ never change these tests) in a temporary folder. */
function copyRepo(from = TEMPLATE_REPO): string {
  const dir = mkdtempSync(join(tmpdir(), "serve-gitops-cli-"));
  temporaries.push(dir);
  for (const top of ["models", "clusters"])
    if (existsSync(join(from, top))) cpSync(join(from, top), join(dir, top), { recursive: true });
  return dir;
}

const write = (dir: string, path: string, text: string) => {
  mkdirSync(join(dir, path, ".."), { recursive: true });
  writeFileSync(join(dir, path), text);
};

/** Every file under dir/clusters/*\/rendered with its mtime. */
function renderedFiles(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const cluster of readdirSync(join(dir, "clusters"))) {
    const base = join(dir, "clusters", cluster, "rendered");
    if (!existsSync(base)) continue;
    for (const f of readdirSync(base, { recursive: true, encoding: "utf8" })) {
      const path = join(base, f);
      if (statSync(path).isFile()) out.set(`clusters/${cluster}/rendered/${f}`, statSync(path).mtimeMs);
    }
  }
  return out;
}

describe("serve-gitops", () => {
  it("prints help and exits 2 without a command", () => {
    const { status, stdout } = cli([]);
    expect(status).toBe(2);
    expect(stdout).toContain("Usage: serve-gitops <command>");
  });

  it("refuses an unknown command with exit 2", () => {
    const { status, stderr } = cli(["deploy"]);
    expect(status).toBe(2);
    expect(stderr).toContain('unknown command "deploy"');
  });

  it("prints its version", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(cli(["--version"]).stdout).toBe(`serve-gitops ${pkg.version}\n`);
  });

  it.each(["validate", "render", "assemble", "plan", "new", "emulator"])(
    "%s --help prints its usage and exits 0",
    (command) => {
      const { status, stdout } = cli([command, "--help"]);
      expect(status).toBe(0);
      expect(stdout).toContain(`Usage: serve-gitops ${command}`);
    },
  );
});

describe("validate", () => {
  it("exits 0 on the template's example repository, read with --repo outside the checkout", () => {
    const dir = copyRepo();
    const { status, stdout } = cli(["validate", "--repo", dir]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^ok: \d+ models, \d+ clusters\n$/);
  });

  it("reads the current directory by default", () => {
    const dir = copyRepo();
    expect(cli(["validate"], dir).status).toBe(0);
  });

  it("prints file:line:column  code rule  message, grouped by file, without colour on a pipe", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/alice/bad.yaml", "model_id: bad\nmodel_source: $HOME/common/hf/x\nnum_replicas: 0\n");
    write(dir, "models/bob/evil.yaml", "model_id: evil\nmodel_source: /private/users/alice/x\n");
    const { status, stdout } = cli(["validate", "--repo", dir]);
    expect(status).toBe(1);
    expect(stdout).not.toContain("\u001b[");
    expect(stdout).toBe(
      [
        "models/alice/bad.yaml",
        "models/alice/bad.yaml:3:15  E422 replicas-range  `num_replicas` must be >= 1",
        "",
        "models/bob/evil.yaml",
        "models/bob/evil.yaml:2:15  E403 model-source-other-user  model_source points into another user's folder (/private/users/alice): use /private/users/bob/... or a shared root",
        "",
        "2 errors, 0 warnings",
        "",
      ].join("\n"),
    );
  });

  it("points at an engine argument's value outside vLLM's bounds, in the file as written", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(
      dir,
      "models/alice/bad.yaml",
      "model_id: bad\nmodel_source: $HOME/common/hf/x\nengine_kwargs:\n  gpu_memory_utilization: 1.01\n",
    );
    const { status, stdout } = cli(["validate", "--repo", dir, "models/alice/bad.yaml"]);
    expect(status).toBe(1);
    expect(stdout).toContain(
      "models/alice/bad.yaml:4:27  E400 engine-kwarg-range  engine_kwargs.gpu_memory_utilization must be greater than 0 and at most 1 (vLLM 0.11.1 CacheConfig refuses 1.01 when the replica starts)\n",
    );
  });

  it("points at the later of two engine arguments vLLM checks against each other, in the file as written", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(
      dir,
      "models/alice/bad.yaml",
      "model_id: bad\nmodel_source: $HOME/common/hf/x\nengine_kwargs:\n  max_long_partial_prefills: 2\n",
    );
    const { status, stdout } = cli(["validate", "--repo", dir, "models/alice/bad.yaml"]);
    expect(status).toBe(1);
    expect(stdout).toContain(
      "models/alice/bad.yaml:4:30  E400 engine-kwarg-relation  engine_kwargs.max_long_partial_prefills (2) must be at most max_num_partial_prefills (1, vLLM's default) (vLLM 0.11.1 SchedulerConfig refuses it when the replica starts)\n",
    );
  });

  it("prints {ok, diagnostics} with --json", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(
      dir,
      "models/alice/bad.yaml",
      "model_id: bad\nmodel_source: $HOME/common/hf/x\nengine_kwargs:\n  max_model_lenght: 1\n",
    );
    const { status, stdout } = cli(["validate", "--repo", dir, "--json"]);
    expect(status).toBe(1);
    const out = JSON.parse(stdout) as { ok: boolean; diagnostics: Diagnostic[] };
    expect(Object.keys(out)).toEqual(["ok", "diagnostics", "outside"]);
    expect(out.ok).toBe(false);
    expect(out.diagnostics).toEqual([
      {
        file: "models/alice/bad.yaml",
        line: 4,
        column: 3,
        severity: "error",
        code: "E400",
        rule: "engine-kwarg-unknown",
        message: expect.stringContaining("did you mean `max_model_len`?") as string,
      },
    ]);
    const valid = cli(["validate", "--repo", copyRepo(FIXTURE_REPO), "--json"]);
    expect(valid.status).toBe(0);
    expect(JSON.parse(valid.stdout)).toEqual({
      ok: true,
      diagnostics: [],
      outside: { errors: 0, warnings: 0 },
    });
  });

  it("notes, without failing, the specs render has not run for and the fragments no spec renders", () => {
    const dir = copyRepo();
    write(dir, "models/alice/fresh.yaml", specText("fresh"));
    const whole = cli(["validate", "--repo", dir]);
    expect(whole.status).toBe(0);
    expect(whole.stdout).toMatch(/^ok: \d+ models, \d+ clusters\n/);
    expect(whole.stdout).toContain(
      "note: the render is behind: 1 fragment not rendered yet (clusters/h1/rendered/alice/fresh.yaml). Run `serve-gitops render`",
    );
    // Scoped like the diagnostics: bob's PATH does not hear about alice's spec.
    expect(cli(["validate", "--repo", dir, "models/bob"]).stdout).not.toContain("note:");
    expect(cli(["render", "--repo", dir, "--now", NOW]).status).toBe(0);
    expect(cli(["validate", "--repo", dir]).stdout).not.toContain("note:");
    rmSync(join(dir, "models/alice/fresh.yaml"));
    expect(cli(["validate", "--repo", dir]).stdout).toContain(
      "note: the render is behind: 1 fragment that no spec renders any more (clusters/h1/rendered/alice/fresh.yaml).",
    );
  });

  it("fails a cluster folder that holds only fragments and no cluster.yaml", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "clusters/x/rendered/alice/qwen-0.5b.yaml", "served_name: alice-202601061235-qwen-0.5b\n");
    const { status, stdout } = cli(["validate", "--repo", dir]);
    expect(status).toBe(1);
    expect(stdout).toContain(
      "clusters/x/cluster.yaml:1:1  E400 missing-file  clusters/x/ has no cluster.yaml",
    );
  });

  it("exits 0 with only a packing warning", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/users.yaml", "admins: [root]\nusers:\n  alice: {github: [alice], gpu_quota: 100}\n");
    write(dir, "models/alice/big.yaml", specText("big", { num_replicas: 5, gpus_per_replica: 5 }));
    const { status, stdout } = cli(["validate", "--repo", dir]);
    expect(status).toBe(0);
    expect(stdout).toContain("clusters/h1/cluster.yaml:3:7  warning E422 packing  ");
    expect(stdout).toContain("0 errors, 1 warning");
  });

  it("reports only the given paths, and exits by them", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/bob/bad.yaml", "model_id: bad\nmodel_source: /etc\n");
    const alice = cli(["validate", "models/alice"], dir);
    expect(alice).toMatchObject({ status: 0 });
    expect(alice.stdout).toContain(
      "(1 error, 0 warnings in files outside models/alice: not shown and not counted in this result;",
    );
    // JSON counts them too, with ok still about the PATHs only.
    expect(JSON.parse(cli(["validate", "--json", "models/alice"], dir).stdout)).toEqual({
      ok: true,
      diagnostics: [],
      outside: { errors: 1, warnings: 0 },
    });
    const bob = cli(["validate", "models/bob"], dir);
    expect(bob.status).toBe(1);
    expect(bob.stdout).toContain("models/bob/bad.yaml:2:15  E403 model-source-outside-roots");
  });

  it("shows a named file the global problems it takes part in, so a PATH never turns them into ok", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/alice/dup.yaml", specText("dup"));
    write(dir, "models/alice/dup.yml", specText("dup"));
    const dup = cli(["validate", "models/alice/dup.yaml"], dir);
    expect(dup.status).toBe(1);
    expect(dup.stdout).toContain("models/alice/dup.yaml:1:1  E409 duplicate-model");
    expect(dup.stdout).toContain("(1 error, 0 warnings in files outside models/alice/dup.yaml: ");
    rmSync(join(dir, "models/alice/dup.yml"));
    write(dir, "models/users.yaml", "admins: [root]\nusers:\n  alice: {github: [alice], gpu_quota: 1000}\n");
    write(dir, "models/alice/big.yaml", specText("big", { num_replicas: 40 }));
    // From anywhere: a relative PATH is taken from --repo when it is not under the current directory.
    const big = cli(["validate", "--repo", dir, "--json", "models/alice/big.yaml"]);
    expect(big.status).toBe(1);
    const found = (JSON.parse(big.stdout) as { diagnostics: Diagnostic[] }).diagnostics;
    expect(found.map((d) => `${d.file}:${d.line} ${d.rule}`)).toEqual([
      "models/alice/big.yaml:3 cluster-capacity",
    ]);
    // Naming the cluster's settings shows the problem there instead of on every spec.
    const cluster = cli(["validate", "--repo", dir, "clusters/h1/cluster.yaml"]);
    expect(cluster.stdout).toContain("clusters/h1/cluster.yaml:3:7  E422 cluster-capacity");
    const typo = cli(["validate", "--repo", dir, "models/alice/bgi.yaml"]);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain("models/alice/bgi.yaml does not exist");
  });

  it("finds the repository above the current folder, and takes a PATH from there", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/alice/bad.yaml", "model_id: bad\nmodel_source: /etc\n");
    const inside = cli(["validate", "bad.yaml"], join(dir, "models/alice"));
    expect(inside.status).toBe(1);
    expect(inside.stdout).toContain("models/alice/bad.yaml:2:15  E403 model-source-outside-roots");
    expect(cli(["validate", "qwen.yaml"], join(dir, "models/alice")).status).toBe(0);
  });

  it("takes a repository-relative PATH (as diagnostics print it) from a subfolder of the repository", () => {
    // README: "A relative PATH is taken from the current folder or else from the repository". From inside
    // models/, models/alice/bad.yaml names no file under the current folder, but one in the repository.
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/alice/bad.yaml", "model_id: bad\nmodel_source: /etc\n");
    const fromModels = cli(["validate", "models/alice/bad.yaml"], join(dir, "models"));
    expect(fromModels.stderr).not.toContain(`models/alice/bad.yaml does not exist in ${dir}`);
    expect(fromModels.status).toBe(1);
    expect(fromModels.stdout).toContain("models/alice/bad.yaml:2:15  E403 model-source-outside-roots");
    const fromClusters = cli(["validate", "models/alice/qwen.yaml"], join(dir, "clusters"));
    expect(fromClusters.stderr).toBe("");
    expect(fromClusters.status).toBe(0);
  });

  it("is not fooled by a user named models, and takes PATHs through a symlinked way to the root", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(
      dir,
      "models/users.yaml",
      "admins: [root]\nusers:\n  alice: {github: [alice], gpu_quota: 8}\n  models: {github: [m], gpu_quota: 8}\n",
    );
    write(dir, "models/models/tiny.yaml", specText("tiny"));
    // models/ holds a folder named models/: the root is still the repository, not models/.
    expect(cli(["validate"], join(dir, "models")).stdout).toContain("ok: 2 models");
    const link = `${dir}-link`;
    symlinkSync(dir, link);
    temporaries.push(link);
    // The shell's logical path (through the link) names a file of the repository found by its real path.
    expect(cli(["validate", join(link, "models/alice/qwen.yaml")], dir).status).toBe(0);
    symlinkSync(join(dir, "models/models"), join(dir, "models/alice/via"));
    const through = cli(["validate", "--repo", dir, "models/alice/via/tiny.yaml"]);
    expect(through.status).toBe(2);
    expect(through.stderr).toContain("goes through the symlink models/alice/via");
  });

  it("treats `validate .` as the whole repository and refuses paths outside it", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/bob/bad.yaml", "model_id: bad\nmodel_source: /etc\n");
    expect(cli(["validate", "."], dir).status).toBe(1);
    expect(cli(["validate", "./models/"], dir).status).toBe(1);
    const outside = cli(["validate", "../elsewhere"], dir);
    expect(outside.status).toBe(2);
    expect(outside.stderr).toContain("../elsewhere is not inside the repository");
  });

  it("exits 2 on a usage error or a --repo that is not a repository", () => {
    expect(cli(["validate", "--bogus"]).status).toBe(2);
    const missing = cli(["validate", "--repo", join(tmpdir(), "serve-gitops-does-not-exist")]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("does not exist");
    const empty = mkdtempSync(join(tmpdir(), "serve-gitops-empty-"));
    temporaries.push(empty);
    expect(cli(["validate", "--repo", empty]).stderr).toContain("has neither models/ nor clusters/");
  });

  it("refuses a symlink under models/ in the working tree", async () => {
    const { symlinkSync } = await import("node:fs");
    const dir = copyRepo(FIXTURE_REPO);
    symlinkSync("qwen.yaml", join(dir, "models/alice/link.yaml"));
    const { status, stdout } = cli(["validate", "--repo", dir]);
    expect(status).toBe(1);
    expect(stdout).toContain(
      "models/alice/link.yaml:1:1  E403 symlink  symlinks are not allowed under models/",
    );
  });

  it("refuses a git submodule under a user's folder in a git work tree, as the PR check does", () => {
    const dir = copyRepo(FIXTURE_REPO);
    const env = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", ...args], {
        cwd: dir,
        env,
        encoding: "utf8",
      }).trim();
    git("init", "-q");
    git("add", "-A");
    git("commit", "-q", "-m", "base");
    const target = git("rev-parse", "HEAD");
    // What a checkout of a submodule that was never initialised leaves: a gitlink and an empty folder.
    git("update-index", "--add", "--cacheinfo", `160000,${target},models/alice/sub`);
    mkdirSync(join(dir, "models/alice/sub"));
    const { status, stdout } = cli(["validate", "--repo", dir]);
    expect(status).toBe(1);
    expect(stdout).toContain(
      `models/alice/sub:1:1  E403 special-file  models/alice/sub is not a regular file (a git submodule at commit ${target}): only regular files are allowed under models/`,
    );
  });
});

describe("render", () => {
  it("writes nothing when one write fails: the committed render stays whole", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/alice/both.yaml", specText("both", { clusters: ["h1", "lab"] }));
    expect(cli(["render", "--repo", dir, "--now", NOW]).status).toBe(0);
    const h1 = join(dir, "clusters/h1/rendered/alice/both.yaml");
    const before = readFileSync(h1, "utf8");
    // A file where lab's rendered folder belongs: the lab write fails after h1's new text is ready.
    rmSync(join(dir, "clusters/lab/rendered"), { recursive: true });
    write(dir, "clusters/lab/rendered", "not a folder\n");
    write(dir, "models/alice/both.yaml", specText("both", { clusters: ["h1", "lab"], num_replicas: 2 }));
    const failed = cli(["render", "--repo", dir]);
    expect(failed.status).toBe(2);
    expect(failed.stderr).toContain("nothing was written");
    expect(readFileSync(h1, "utf8")).toBe(before);
    expect(readdirSync(join(dir, "clusters/h1/rendered/alice")).filter((f) => f.includes(".tmp-"))).toEqual(
      [],
    );
  });

  it("writes one fragment per (model, cluster) named from --now, then rewrites nothing", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/bob/b.yaml", specText("b", { clusters: ["h1", "lab"] }));
    const first = cli(["render", "--repo", dir, "--now", NOW]);
    expect(first).toMatchObject({ status: 0, stdout: "rendered: 3 added, 0 updated, 0 removed\n" });
    const files = renderedFiles(dir);
    expect([...files.keys()].sort()).toEqual([
      "clusters/h1/rendered/alice/qwen.yaml",
      "clusters/h1/rendered/bob/b.yaml",
      "clusters/lab/rendered/bob/b.yaml",
    ]);
    const text = readFileSync(join(dir, "clusters/lab/rendered/bob/b.yaml"), "utf8");
    expect((load(text) as { served_name: string }).served_name).toBe("bob-202601061235-b");

    const again = cli(["render", "--repo", dir, "--now", "2027-01-01T00:00:00Z"]);
    expect(again).toMatchObject({ status: 0, stdout: "render is current: 3 fragments\n" });
    expect(renderedFiles(dir)).toEqual(files);
    expect(cli(["render", "--repo", dir, "--check"])).toMatchObject({ status: 0 });
  });

  it("keeps the served name on an update and rewrites only the changed fragment", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/bob/b.yaml", specText("b"));
    cli(["render", "--repo", dir, "--now", NOW]);
    const before = renderedFiles(dir);
    write(dir, "models/bob/b.yaml", specText("b", { num_replicas: 2 }));
    expect(cli(["render", "--repo", dir, "--now", "2027-01-01T00:00:00Z"]).stdout).toBe(
      "rendered: 0 added, 1 updated, 0 removed\n",
    );
    const after = renderedFiles(dir);
    expect(after.get("clusters/h1/rendered/alice/qwen.yaml")).toBe(
      before.get("clusters/h1/rendered/alice/qwen.yaml"),
    );
    expect(readFileSync(join(dir, "clusters/h1/rendered/bob/b.yaml"), "utf8")).toContain(
      "served_name: bob-202601061235-b\n",
    );
  });

  it("writes nothing when any spec has an error", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/bob/b.yaml", specText("b"));
    write(dir, "models/bob/bad.yaml", "model_id: bad\nmodel_source: $HOME/../alice/x\n");
    const { status, stdout } = cli(["render", "--repo", dir, "--now", NOW]);
    expect(status).toBe(1);
    expect(stdout).toContain("models/bob/bad.yaml:2:15  E403 model-source-traversal");
    expect(stdout.endsWith("\nnothing rendered: fix the errors above first\n")).toBe(true);
    expect(renderedFiles(dir).size).toBe(0);
    // --check never writes: it says the render was not checked.
    const check = cli(["render", "--repo", dir, "--check"]);
    expect(check.status).toBe(1);
    expect(check.stdout.endsWith("\nrender not checked: fix the errors above first\n")).toBe(true);
  });

  it("--check writes nothing and lists every stale, missing and extra fragment", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/bob/b.yaml", specText("b"));
    write(dir, "models/bob/c.yaml", specText("c"));
    cli(["render", "--repo", dir, "--now", NOW]);
    write(dir, "models/bob/b.yaml", specText("b", { num_replicas: 2 }));
    rmSync(join(dir, "models/bob/c.yaml"));
    write(dir, "models/alice/new.yaml", specText("new"));
    const before = renderedFiles(dir);
    const { status, stdout } = cli(["render", "--repo", dir, "--check"]);
    expect(status).toBe(1);
    expect(stdout).toBe(
      [
        "stale    clusters/h1/rendered/bob/b.yaml",
        "missing  clusters/h1/rendered/alice/new.yaml",
        "extra    clusters/h1/rendered/bob/c.yaml",
        "",
        "the render is out of date: run `npx serve-gitops render` and commit clusters/*/rendered/",
        "",
      ].join("\n"),
    );
    expect(renderedFiles(dir)).toEqual(before);
    expect(cli(["render", "--repo", dir, "--now", NOW]).stdout).toBe(
      "rendered: 1 added, 1 updated, 1 removed\n",
    );
    expect(existsSync(join(dir, "clusters/h1/rendered/bob/c.yaml"))).toBe(false);
  });

  it("--check names the other serve-gitops version that rendered a stale fragment", () => {
    const dir = copyRepo(FIXTURE_REPO);
    cli(["render", "--repo", dir, "--now", NOW]);
    const path = join(dir, "clusters/h1/rendered/alice/qwen.yaml");
    write(
      dir,
      "clusters/h1/rendered/alice/qwen.yaml",
      readFileSync(path, "utf8").replace(GENERATOR_VERSION, "serve-gitops 0.0.1"),
    );
    const { status, stdout } = cli(["render", "--repo", dir, "--check"]);
    expect(status).toBe(1);
    expect(stdout).toContain(
      `the render is out of date, rendered by serve-gitops 0.0.1; this is ${GENERATOR_VERSION.replace("serve-gitops ", "")}: run \`npx serve-gitops render\` with the repository's version`,
    );
  });

  it("exits 2 on a bad --now", () => {
    const { status, stderr } = cli(["render", "--repo", copyRepo(FIXTURE_REPO), "--now", "yesterday"]);
    expect(status).toBe(2);
    expect(stderr).toContain("--now must be an ISO 8601 time");
  });
});

describe("assemble", () => {
  const rendered = () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/bob/b.yaml", specText("b", { clusters: ["lab"] }));
    expect(cli(["render", "--repo", dir, "--now", NOW]).status).toBe(0);
    return dir;
  };

  it("prints the cluster's Serve config as YAML or JSON", () => {
    const dir = rendered();
    const yaml = cli(["assemble", "--repo", dir, "--cluster", "lab"]);
    expect(yaml.status).toBe(0);
    const config = load(yaml.stdout) as { applications: Array<{ name: string; route_prefix: string }> };
    expect(config.applications.map((a) => [a.name, a.route_prefix])).toEqual([["argus_llm_app-bob", "/bob"]]);
    const json = cli(["assemble", "--repo", dir, "--cluster", "lab", "--format", "json"]);
    expect(JSON.parse(json.stdout)).toEqual(config);
  });

  it("refuses to assemble from a stale render", () => {
    const dir = rendered();
    write(dir, "models/bob/b.yaml", specText("b", { clusters: ["lab"], num_replicas: 2 }));
    const { status, stderr } = cli(["assemble", "--repo", dir, "--cluster", "lab"]);
    expect(status).toBe(1);
    expect(stderr).toContain("out of date");
  });

  it("reports a template's problems with exit 1 in validate, render --check and assemble, never a crash", () => {
    const dir = rendered();
    const cluster = join(dir, "clusters/lab/cluster.yaml");
    writeFileSync(
      cluster,
      readFileSync(cluster, "utf8").replace(/^serve:\n/m, "serve:\n  template: serve.hbs\n"),
    );
    // No `deployments:`: the replica counts would be lost (once: `app.deployments is not iterable`, exit 2).
    write(
      dir,
      "clusters/lab/serve.hbs",
      readFileSync(join(ROOT, "generator/test-fixtures/templates/no-deployments.hbs"), "utf8"),
    );
    for (const args of [["validate"], ["render", "--check"], ["assemble", "--cluster", "lab"]]) {
      const { status, stdout } = cli([...args, "--repo", dir]);
      expect(status, args.join(" ")).toBe(1);
      expect(stdout).toContain("clusters/lab/serve.hbs:1:1  E409 template-mismatch");
      expect(stdout).toContain("has no override for deployment LLMServer:bob-202601061235-b");
    }
  });

  it("exits 2 without --cluster, with an unknown cluster or format", () => {
    const dir = rendered();
    expect(cli(["assemble", "--repo", dir]).status).toBe(2);
    expect(cli(["assemble", "--repo", dir, "--cluster", "nope"]).status).toBe(2);
    expect(cli(["assemble", "--repo", dir, "--cluster", "lab", "--format", "toml"]).status).toBe(2);
  });
});

describe("plan", () => {
  it("plans the template's examples against an empty cluster with --base empty --json", () => {
    const dir = copyRepo();
    const { status, stdout } = cli(["plan", "--repo", dir, "--base", "empty", "--json", "--now", NOW]);
    expect(status).toBe(0);
    const plan = JSON.parse(stdout) as {
      base: string;
      head: string;
      ok: boolean;
      changed: boolean;
      clusters: Array<{
        cluster: string;
        deploy: Array<{ served_name: string }>;
        undeploy: unknown[];
        gpus: { before: number };
      }>;
      diagnostics: unknown[];
    };
    expect(plan).toMatchObject({
      base: "empty",
      head: "working tree",
      ok: true,
      changed: true,
      diagnostics: [],
    });
    expect(plan.clusters.map((c) => c.cluster)).toEqual(["h1", "lab"]);
    for (const c of plan.clusters) {
      expect(c.gpus.before).toBe(0);
      expect(c.undeploy).toEqual([]);
      expect(c.deploy.length).toBeGreaterThan(0);
    }
  });

  it("plans the working tree against HEAD of a git repository", () => {
    const dir = copyRepo(FIXTURE_REPO);
    expect(cli(["render", "--repo", dir, "--now", NOW]).status).toBe(0);
    const env = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
    const git = (...args: string[]) =>
      execFileSync(
        "git",
        [
          "-c",
          "user.name=Test",
          "-c",
          "user.email=test@example.invalid",
          "-c",
          "commit.gpgsign=false",
          ...args,
        ],
        { cwd: dir, env },
      );
    git("init", "-q");
    git("add", "-A");
    git("commit", "-q", "-m", "base");
    write(
      dir,
      "models/alice/qwen.yaml",
      specText("qwen", { num_replicas: 2, engine_kwargs: { max_model_len: 8192 } }),
    );
    // Not rendered yet: the plan is shown, and fails with a render-stale error (plan.e2e.test.ts).
    expect(cli(["plan", "--repo", dir, "--markdown"]).status).toBe(1);
    expect(cli(["render", "--repo", dir, "--now", "2027-01-01T00:00:00Z"]).status).toBe(0);
    const markdown = cli(["plan", "--repo", dir, "--markdown", "--now", "2027-01-01T00:00:00Z"]);
    expect(markdown.status).toBe(0);
    expect(markdown.stdout).toContain("| 🟡 update | `alice-202601061235-qwen` | 2x1 GPU | 2 |");
    expect(markdown.stdout).toContain("(scale only: nothing restarts)");
    expect(cli(["plan", "--repo", dir, "--base", "no-such-ref"]).status).toBe(2);
  });

  it("exits 1 with the plan still printed when the head has errors", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/bob/b.yaml", specText("b", { num_replicas: 9 }));
    const { status, stdout } = cli(["plan", "--repo", dir, "--base", "empty", "--json"]);
    expect(status).toBe(1);
    const plan = JSON.parse(stdout) as { ok: boolean; diagnostics: Diagnostic[] };
    expect(plan.ok).toBe(false);
    expect(plan.diagnostics.map((d) => d.rule)).toEqual(["user-quota"]);
  });

  it("prints Markdown by default, so --markdown is the same output, as --help says", () => {
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/bob/b.yaml", specText("b", { num_replicas: 9 }));
    const args = ["plan", "--repo", dir, "--base", "empty", "--now", NOW];
    const plain = cli(args);
    expect(plain.stdout).toContain("| 🟢 deploy |");
    expect(cli([...args, "--markdown"])).toEqual(plain);
    expect(cli(["plan", "--help"]).stdout).toContain("--markdown    the plan as Markdown, the default");
  });

  it("exits 2 when both --json and --markdown are given", () => {
    expect(cli(["plan", "--repo", copyRepo(FIXTURE_REPO), "--json", "--markdown"]).status).toBe(2);
  });
});

describe("new", () => {
  it("scaffolds a spec that validates and names its schema for editors", () => {
    const dir = copyRepo(FIXTURE_REPO);
    const { status, stdout } = cli(["new", "alice/x", "--source", "$HOME/common/hf/x", "--repo", dir]);
    expect(status).toBe(0);
    expect(stdout).toContain("wrote models/alice/x.yaml");
    const text = readFileSync(join(dir, "models/alice/x.yaml"), "utf8");
    expect(text.split("\n")[0]).toBe(
      "# yaml-language-server: $schema=../../schemas/serving-spec.schema.json",
    );
    expect(load(text)).toMatchObject({
      model_id: "x",
      model_source: "$HOME/common/hf/x",
      num_replicas: 1,
      gpus_per_replica: 1,
    });
    expect(cli(["validate", "--repo", dir])).toMatchObject({ status: 0 });
  });

  // Every one matches the model_id pattern, and plain YAML reads each as a number, boolean or null (in YAML
  // 1.2 or 1.1, as editors and other tools may): the scaffold must quote it to keep it a string.
  const QUOTED_IDS = [
    "123",
    "007",
    "1e3",
    "1.5",
    "0x1f",
    "0o7",
    "0b101",
    "1_000",
    "2001-12-14",
    "null",
    "true",
    "false",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
  ];
  // YAML reads these as strings (only .nan and .inf are special): they stay plain.
  const PLAIN_IDS = ["nan", "inf", "e3", "qwen-0.5b"];

  it("scaffolds a spec that validates for any model id, quoting ids YAML would read as something else", () => {
    const pattern = new RegExp(specSchema.properties.model_id.pattern);
    const dir = copyRepo(FIXTURE_REPO);
    write(dir, "models/users.yaml", "admins: [root]\nusers:\n  alice: {github: [alice], gpu_quota: 1000}\n");
    for (const id of [...QUOTED_IDS, ...PLAIN_IDS]) {
      expect(pattern.test(id), id).toBe(true);
      const out = cli(["new", `alice/${id}`, "--source", "$HOME/x", "--repo", dir]);
      expect(out, id).toMatchObject({ status: 0, stderr: "" });
      const text = readFileSync(join(dir, `models/alice/${id}.yaml`), "utf8");
      const written = QUOTED_IDS.includes(id) ? JSON.stringify(id) : id;
      expect(text, id).toContain(`\nmodel_id: ${written}\n`);
      expect(load(text), id).toMatchObject({ model_id: id });
    }
    const validated = cli(["validate", "--repo", dir]);
    expect(validated.status).toBe(0);
    expect(validated.stdout).toMatch(
      new RegExp(
        `^ok: ${QUOTED_IDS.length + PLAIN_IDS.length + 1} models, 2 clusters\\nnote: the render is behind: ${QUOTED_IDS.length + PLAIN_IDS.length + 1} fragments not rendered yet `,
      ),
    );
  });

  it("writes what the README's model owner's guide shows", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const command = /```sh\n\s*npx serve-gitops new (\S+) --source '([^']+)'\n\s*```/.exec(readme);
    const shown = /writes `models\/alice\/qwen-0\.5b\.yaml`:\n\n\s*```yaml\n([\s\S]*?)\n\s*```/.exec(readme);
    expect(command).not.toBeNull();
    expect(shown).not.toBeNull();
    const dir = copyRepo(FIXTURE_REPO);
    expect(cli(["new", command![1]!, "--source", command![2]!, "--repo", dir]).status).toBe(0);
    const text = readFileSync(join(dir, `models/${command![1]}.yaml`), "utf8");
    expect(text).toBe(`${shown![1]!.replace(/^ {3}/gm, "")}\n`);
  });

  it("writes --cluster (repeated or a comma list) as the spec's clusters: list", () => {
    const dir = copyRepo(FIXTURE_REPO);
    const source = ["--source", "Qwen/Qwen2.5-0.5B", "--repo", dir];
    expect(cli(["new", "alice/hub", "--cluster", "lab", ...source])).toMatchObject({ status: 0, stderr: "" });
    expect(load(readFileSync(join(dir, "models/alice/hub.yaml"), "utf8"))).toMatchObject({
      model_source: "Qwen/Qwen2.5-0.5B",
      clusters: ["lab"],
    });
    const both = ["--source", "$HOME/x", "--repo", dir];
    expect(cli(["new", "alice/two", "--cluster", "h1,lab", "--cluster", "lab", ...both]).status).toBe(0);
    expect(load(readFileSync(join(dir, "models/alice/two.yaml"), "utf8"))).toMatchObject({
      clusters: ["h1", "lab"],
    });
    expect(cli(["validate", "--repo", dir]).status).toBe(0);
    const unknown = cli(["new", "alice/nope", "--cluster", "gpu9", ...both]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("unknown-cluster");
    expect(cli(["new", "alice/nope", "--cluster", "", ...both]).status).toBe(2);
    expect(existsSync(join(dir, "models/alice/nope.yaml"))).toBe(false);
  });

  it("points a hub source on the default cluster at --cluster and the clusters that allow hub sources", () => {
    const dir = copyRepo(FIXTURE_REPO);
    const out = cli(["new", "alice/hub", "--source", "Qwen/Qwen2.5-0.5B", "--repo", dir]);
    expect(out.status).toBe(1);
    expect(out.stderr).toContain("E403 model-source-hub-not-allowed");
    expect(out.stderr).toContain(
      "hint: Hugging Face repo ids are allowed only on cluster lab: deploy there with --cluster lab\n",
    );
    expect(existsSync(join(dir, "models/alice/hub.yaml"))).toBe(false);
    // No cluster allows them: the hint says to use a path.
    write(
      dir,
      "clusters/lab/cluster.yaml",
      readFileSync(join(dir, "clusters/lab/cluster.yaml"), "utf8").replace(
        "allow_hub: true",
        "allow_hub: false",
      ),
    );
    const none = cli(["new", "alice/hub", "--source", "Qwen/Qwen2.5-0.5B", "--repo", dir]);
    expect(none.stderr).toContain("hint: no cluster allows Hugging Face repo ids");
  });

  it("says the shell expanded $HOME when a double-quoted source arrives as the caller's home path", () => {
    const dir = copyRepo(FIXTURE_REPO);
    const home = "/home/alice-laptop";
    const out = cli(["new", "alice/x", "--source", `${home}/common/hf/x`, "--repo", dir], tmpdir(), {
      HOME: home,
    });
    expect(out.status).toBe(1);
    expect(out.stderr).toContain("model-source-outside-roots");
    expect(out.stderr).toContain(
      "hint: your shell expanded $HOME (to /home/alice-laptop): quote the source with single quotes so the spec keeps the macro ('$HOME/common/hf/x')",
    );
    // A path outside the roots that is not under HOME gets no such hint.
    const other = cli(["new", "alice/x", "--source", "/opt/models/x", "--repo", dir], tmpdir(), {
      HOME: home,
    });
    expect(other.status).toBe(1);
    expect(other.stderr).not.toContain("your shell expanded");
  });

  it("takes <user>/<model_id>, not a file name: `new alice/x.yaml` writes no x.yaml.yaml", () => {
    // A model owner who types the file they want (`alice/x.yaml`, or the path `models/alice/x.yaml`) must be
    // told to give the model id, not get a model named "x.yaml" (served as alice-<time>-x.yaml) in x.yaml.yaml.
    const dir = copyRepo(FIXTURE_REPO);
    for (const arg of ["alice/x.yaml", "alice/x.yml"]) {
      const out = cli(["new", arg, "--source", "$HOME/x", "--repo", dir]);
      expect(readdirSync(join(dir, "models/alice")), arg).toEqual(["qwen.yaml"]);
      expect(out.status, arg).toBe(2);
      expect(out.stderr, arg).toContain("alice/x");
    }
  });

  it("refuses an existing model, a bad source and an unregistered user, writing nothing", () => {
    const dir = copyRepo(FIXTURE_REPO);
    expect(cli(["new", "alice/qwen", "--source", "$HOME/x", "--repo", dir]).status).toBe(2);
    const bad = cli(["new", "alice/y", "--source", "/private/users/bob/y", "--repo", dir]);
    expect(bad.status).toBe(1);
    expect(bad.stdout + bad.stderr).toContain("model-source-other-user");
    expect(existsSync(join(dir, "models/alice/y.yaml"))).toBe(false);
    const carol = cli(["new", "carol/z", "--source", "$HOME/z", "--repo", dir]);
    expect(carol.status).toBe(1);
    // Other options cannot fix it: an admin must register carol first.
    expect(carol.stderr).toContain(
      "models/carol/z.yaml was not written: carol is not a registered user. An admin (platform-admin) must add carol to models/users.yaml first",
    );
    expect(carol.stderr).not.toContain("change the options");
    expect(existsSync(join(dir, "models/carol"))).toBe(false);
    expect(cli(["new", "alice", "--source", "$HOME/z", "--repo", dir]).status).toBe(2);
    expect(cli(["new", "alice/z", "--repo", dir]).status).toBe(2);
  });

  it("refuses a spec that would take the cluster over its GPU capacity, naming the new file", () => {
    const dir = copyRepo(FIXTURE_REPO);
    // A quota above the cluster's 32 GPUs: only the capacity can stop the spec.
    const users = readFileSync(join(dir, "models/users.yaml"), "utf8").replace(
      "gpu_quota: 8",
      "gpu_quota: 100",
    );
    write(dir, "models/users.yaml", users);
    const big = cli(["new", "alice/big", "--source", "$HOME/big", "--replicas", "32", "--repo", dir]);
    expect(big.status).toBe(1);
    expect(big.stderr).toMatch(/^models\/alice\/big\.yaml:\d+:\d+ +E422 cluster-capacity/m);
    expect(big.stderr).toContain("models/alice/big.yaml was not written");
    expect(existsSync(join(dir, "models/alice/big.yaml"))).toBe(false);
    expect(cli(["new", "alice/big", "--source", "$HOME/big", "--replicas", "31", "--repo", dir]).status).toBe(
      0,
    );
  });
});
