import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RepoSnapshot } from "../types";
import { validateRepo } from "../validate";
import { readCommitSnapshot } from "./git";
import { readWorkingTree } from "./working-tree";

// A submodule is a gitlink in git's tree. Checked out, it is an empty folder (not initialised) or a folder
// with its own .git (initialised); git tracks no empty folder otherwise. The working tree must refuse it as
// a commit's snapshot does, or `serve-gitops validate` passes what the PR check and the agent refuse.

const ISOLATED = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" };
const git = (cwd: string, ...args: string[]) =>
  execFileSync(
    "git",
    ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false", ...args],
    { cwd, env: ISOLATED, encoding: "utf8" },
  ).trim();

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function folder(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "serve-gitops-submodule-"));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const USERS = "admins: [root]\nusers:\n  alice: {github: [alice], gpu_quota: 8}\n";
const SPEC = "model_id: a\nmodel_source: $HOME/x\n";

/** A repository whose second commit adds a gitlink at each of `links` (under `prefix`), and a clone of it. */
function cloneWithGitlinks(links: readonly string[], prefix = ""): { clone: string; target: string } {
  const origin = folder({
    [`${prefix}models/users.yaml`]: USERS,
    [`${prefix}models/alice/a.yaml`]: SPEC,
    [`${prefix}clusters/h1/cluster.yaml`]: "default: true\n",
  });
  git(origin, "init", "-q", "-b", "main");
  git(origin, "add", "-A");
  git(origin, "commit", "-q", "-m", "first");
  const target = git(origin, "rev-parse", "HEAD");
  for (const link of links)
    git(origin, "update-index", "--add", "--cacheinfo", `160000,${target},${prefix}${link}`);
  git(origin, "commit", "-q", "-m", "gitlinks");
  const clone = join(folder(), "clone");
  git(dirname(clone), "clone", "-q", origin, clone);
  return { clone, target };
}

const entries = (snapshot: RepoSnapshot) =>
  [...snapshot.files.values()]
    .map((f) => ({ path: f.path, kind: f.kind, text: Buffer.from(f.bytes).toString() }))
    .sort((a, b) => a.path.localeCompare(b.path));

const refusals = (snapshot: RepoSnapshot) =>
  validateRepo(snapshot)
    .diagnostics.filter((d) => d.rule === "special-file")
    .map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.rule} ${d.message}`);

describe("readWorkingTree and git submodules", () => {
  it("reads the gitlinks of a checkout (empty folders) as the commit does, and the core refuses each", async () => {
    const links = ["models/alice/sub", "models/sub", "clusters/sub", "clusters/h1/sub"];
    const { clone, target } = cloneWithGitlinks(links);
    const tree = readWorkingTree(clone);
    expect(entries(tree)).toEqual(entries(await readCommitSnapshot(clone, "HEAD")));
    expect(refusals(tree)).toEqual(
      [...links].sort().map((path) => {
        const top = path.split("/")[0]!;
        return `${path}:1:1 E403 special-file ${path} is not a regular file (a git submodule at commit ${target}): only regular files are allowed under ${top}/`;
      }),
    );
  });

  it("refuses a models/ that is itself a gitlink", async () => {
    const origin = folder({ "clusters/h1/cluster.yaml": "default: true\n" });
    git(origin, "init", "-q", "-b", "main");
    git(origin, "add", "-A");
    git(origin, "commit", "-q", "-m", "first");
    const target = git(origin, "rev-parse", "HEAD");
    git(origin, "update-index", "--add", "--cacheinfo", `160000,${target},models`);
    git(origin, "commit", "-q", "-m", "models as a submodule");
    const clone = join(folder(), "clone");
    git(dirname(clone), "clone", "-q", origin, clone);
    const tree = readWorkingTree(clone);
    expect(entries(tree)).toEqual(entries(await readCommitSnapshot(clone, "HEAD")));
    expect(refusals(tree)).toEqual([
      `models:1:1 E403 special-file models is not a regular file (a git submodule at commit ${target}): only regular files are allowed under models/`,
    ]);
  });

  it("finds the gitlinks of a repository in a subfolder of the work tree (a monorepo)", () => {
    const { clone, target } = cloneWithGitlinks(["models/alice/sub"], "serving/");
    const tree = readWorkingTree(join(clone, "serving"));
    expect(tree.files.get("models/alice/sub")).toMatchObject({ kind: "other" });
    expect(refusals(tree)).toEqual([
      `models/alice/sub:1:1 E403 special-file models/alice/sub is not a regular file (a git submodule at commit ${target}): only regular files are allowed under models/`,
    ]);
  });

  it("says which commit an initialised submodule (a folder with a .git file) is at, and reads nothing in it", () => {
    const { clone, target } = cloneWithGitlinks(["models/alice/sub"]);
    writeFileSync(join(clone, "models/alice/sub/.git"), "gitdir: ../../../.git/modules/sub\n");
    writeFileSync(join(clone, "models/alice/sub/b.yaml"), SPEC);
    const tree = readWorkingTree(clone);
    expect([...tree.files.keys()].filter((p) => p.startsWith("models/alice/sub"))).toEqual([
      "models/alice/sub",
    ]);
    expect(refusals(tree)).toEqual([
      `models/alice/sub:1:1 E403 special-file models/alice/sub is not a regular file (a git submodule at commit ${target}): only regular files are allowed under models/`,
    ]);
  });

  it("refuses a folder with its own .git (a nested repository or submodule) outside a git work tree too", () => {
    const dir = folder({
      "models/users.yaml": USERS,
      "models/alice/a.yaml": SPEC,
      "models/alice/sub/.git": "gitdir: ../../../.git/modules/sub\n",
      "models/alice/sub/b.yaml": SPEC,
      "models/bob/.git/HEAD": "ref: refs/heads/main\n",
      "models/bob/c.yaml": SPEC,
      "clusters/h1/cluster.yaml": "default: true\n",
      "clusters/h1/vendored/.git": "gitdir: elsewhere\n",
    });
    const tree = readWorkingTree(dir);
    expect(entries(tree)).toEqual([
      { path: "clusters/h1/cluster.yaml", kind: "file", text: "default: true\n" },
      {
        path: "clusters/h1/vendored",
        kind: "other",
        text: "a git submodule or nested repository: it has its own .git",
      },
      { path: "models/alice/a.yaml", kind: "file", text: SPEC },
      {
        path: "models/alice/sub",
        kind: "other",
        text: "a git submodule or nested repository: it has its own .git",
      },
      {
        path: "models/bob",
        kind: "other",
        text: "a git submodule or nested repository: it has its own .git",
      },
      { path: "models/users.yaml", kind: "file", text: USERS },
    ]);
    expect(refusals(tree)).toEqual([
      "clusters/h1/vendored:1:1 E403 special-file clusters/h1/vendored is not a regular file (a git submodule or nested repository: it has its own .git): only regular files are allowed under clusters/",
      "models/alice/sub:1:1 E403 special-file models/alice/sub is not a regular file (a git submodule or nested repository: it has its own .git): only regular files are allowed under models/",
      "models/bob:1:1 E403 special-file models/bob is not a regular file (a git submodule or nested repository: it has its own .git): only regular files are allowed under models/",
    ]);
  });
});

describe("readWorkingTree and a submodule folder holding files but no .git", () => {
  it("refuses the gitlink when its folder holds files the commit cannot have (copied in, or left by a deinit)", async () => {
    // models/bob is a gitlink in the index; someone copied bob's specs into its folder. `git add` cannot add
    // them (they lie inside a submodule), so the PR's commit holds only the gitlink, which the check refuses:
    // the working tree must not read the folder as bob's specs and pass.
    const { clone, target } = cloneWithGitlinks(["models/bob", "clusters/h1/rendered"]);
    writeFileSync(join(clone, "models/bob/c.yaml"), SPEC);
    mkdirSync(join(clone, "clusters/h1/rendered/alice"), { recursive: true });
    writeFileSync(join(clone, "clusters/h1/rendered/alice/a.yaml"), "x: 1\n");
    const tree = readWorkingTree(clone);
    const commit = await readCommitSnapshot(clone, "HEAD");
    expect(commit.files.get("models/bob")).toMatchObject({ kind: "other" });
    expect(tree.files.get("models/bob")).toMatchObject({ kind: "other" });
    expect(tree.files.has("models/bob/c.yaml")).toBe(false);
    expect(tree.files.has("clusters/h1/rendered/alice/a.yaml")).toBe(false);
    expect(refusals(tree)).toEqual([
      `clusters/h1/rendered:1:1 E403 special-file clusters/h1/rendered is not a regular file (a git submodule at commit ${target}): only regular files are allowed under clusters/`,
      `models/bob:1:1 E403 special-file models/bob is not a regular file (a git submodule at commit ${target}): only regular files are allowed under models/`,
    ]);
  });
});
