import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createGit } from "../../../generator/src/io/git";
import { changedFiles, mergeBase } from "./git-changes";

// git's configuration off (no user or system file: HOME is the empty test directory): nothing of the
// machine's changes what diff reports.
const isolated = (home: string) => ({ HOME: home, XDG_CONFIG_HOME: home, GIT_CONFIG_NOSYSTEM: "1" });
let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function repo() {
  dir = mkdtempSync(join(tmpdir(), "serve-gitops-changes-"));
  const env = {
    PATH: process.env.PATH,
    ...isolated(dir),
    GIT_AUTHOR_NAME: "Test Author",
    GIT_AUTHOR_EMAIL: "author@example.invalid",
    GIT_COMMITTER_NAME: "Test Author",
    GIT_COMMITTER_EMAIL: "author@example.invalid",
    LC_ALL: "C",
  };
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, env, encoding: "utf8" }).trim();
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  const commit = (message: string) => {
    git("add", "-A");
    git("commit", "--quiet", "-m", message);
    return git("rev-parse", "HEAD");
  };
  git("init", "--quiet", "--initial-branch=main");
  write("models/users.yaml", "admins: [platform-admin]\n");
  write("models/bob/x.yaml", "model_id: x\nnum_replicas: 1\n");
  const base = commit("base");
  return { git, write, commit, base, changes: createGit(dir, { env: isolated(dir) }) };
}

describe("changedFiles", () => {
  it("lists both sides of a move: moving a file out of someone's folder changes that folder", async () => {
    const r = repo();
    r.git("checkout", "--quiet", "-b", "feature");
    mkdirSync(join(dir, "models/alice"));
    r.git("mv", "models/bob/x.yaml", "models/alice/x.yaml");
    const head = r.commit("alice: take bob's model");
    const moved = ["models/alice/x.yaml", "models/bob/x.yaml"];
    expect(await changedFiles(r.changes, { base: r.base, head, tree: head, pullRequest: true })).toEqual(
      moved,
    );
    expect(
      (await changedFiles(r.changes, { base: r.base, head, tree: head, pullRequest: false })).sort(),
    ).toEqual(moved);
  });

  it("takes GitHub's merge commit as what landing the change does: a change the base already has is not the PR's", async () => {
    const r = repo();
    r.git("checkout", "--quiet", "-b", "feature");
    // The branch carries an admin's users.yaml change that main got on its own as well (a cherry-pick).
    r.write("models/users.yaml", "admins: [platform-admin, other-admin]\n");
    r.commit("cherry-pick of the admin's change");
    r.write("models/alice/y.yaml", "model_id: y\nnum_replicas: 1\n");
    const head = r.commit("alice: add y");
    r.git("checkout", "--quiet", "main");
    r.write("models/users.yaml", "admins: [platform-admin, other-admin]\n");
    const main = r.commit("admin: add other-admin");
    r.git("merge", "--quiet", "--no-ff", "-m", "Merge feature into main", "feature");
    const merge = r.git("rev-parse", "HEAD");
    expect(await changedFiles(r.changes, { base: main, head, tree: merge, pullRequest: true })).toEqual([
      "models/alice/y.yaml",
    ]);
  });
});

describe("mergeBase", () => {
  it("does not call a local merge of the base into the PR head a stale GitHub merge commit", async () => {
    // Review r4: a workflow that checks out the PR head and merges the latest base into it (`git merge
    // origin/main`) leaves a merge commit whose parents are [head, base]: it merges the event's head, yet
    // the stale-merge refusal (second parent != head) throws "GitHub's merge commit is stale. Re-run", which
    // no re-run fixes. Before the refusal it was judged from the payload's base.
    const r = repo();
    r.git("checkout", "--quiet", "-b", "feature");
    r.write("models/alice/y.yaml", "model_id: y\n");
    const head = r.commit("alice: add y");
    r.git("checkout", "--quiet", "main");
    r.write("models/bob/z.yaml", "model_id: z\n");
    const main = r.commit("admin: add z");
    r.git("checkout", "--quiet", "--detach", head);
    r.git("merge", "--quiet", "--no-ff", "-m", "Merge main into the head", "main");
    const tree = r.git("rev-parse", "HEAD");
    await expect(mergeBase(r.changes, tree, head, r.base)).resolves.toMatch(/^[0-9a-f]{40}$/);
    expect(main).not.toBe(r.base);
  });
});

describe("mergeBase of a shallow checkout", () => {
  it("says the history is missing (fetch-depth: 0), not that GitHub's merge commit is stale", async () => {
    const r = repo();
    r.git("checkout", "--quiet", "-b", "feature");
    r.write("models/alice/y.yaml", "model_id: y\n");
    const head = r.commit("alice: add y");
    r.git("checkout", "--quiet", "main");
    r.write("models/bob/z.yaml", "model_id: z\n");
    r.commit("admin: add z");
    r.git("merge", "--quiet", "--no-ff", "-m", "Merge feature", "feature");
    r.git("branch", "pr-merge");
    // actions/checkout's default: one commit deep, the merge alone (its parents' objects absent).
    const shallow = join(dir, "shallow");
    r.git("clone", "--quiet", "--depth", "1", "--branch", "pr-merge", `file://${dir}`, shallow);
    const git = createGit(shallow, { env: isolated(dir) });
    const tree = (await git.raw(["rev-parse", "HEAD"])).trim();
    const refusal = await mergeBase(git, tree, head, r.base, "main").then(
      () => "",
      (error: Error) => error.message,
    );
    expect(refusal).toMatch(/check out with actions\/checkout and fetch-depth: 0/i);
    expect(refusal).not.toContain("stale");
  });

  it("says the history is missing when the base branch's history is not all in the checkout", async () => {
    const r = repo();
    r.git("checkout", "--quiet", "-b", "feature");
    r.write("models/alice/y.yaml", "model_id: y\n");
    const head = r.commit("alice: add y");
    r.git("checkout", "--quiet", "main");
    r.write("models/bob/z.yaml", "model_id: z\n");
    const first = r.commit("admin: add z");
    r.git("merge", "--quiet", "--no-ff", "-m", "Merge feature", "feature");
    const tree = r.git("rev-parse", "HEAD");
    r.git("checkout", "--quiet", "--detach", first);
    r.write("models/bob/w.yaml", "model_id: w\n");
    const middle = r.commit("admin: add w");
    r.write("models/bob/v.yaml", "model_id: v\n");
    r.git("update-ref", "refs/remotes/origin/main", r.commit("admin: add v"));
    // A commit of the base branch's history is missing (a partial fetch): git cannot answer the question.
    rmSync(join(dir, ".git/objects", middle.slice(0, 2), middle.slice(2)));
    const refusal = await mergeBase(r.changes, tree, head, r.base, "main").then(
      () => "",
      (error: Error) => error.message,
    );
    expect(refusal).toMatch(
      /the history is not in the checkout\. Check out with actions\/checkout and fetch-depth: 0/,
    );
  });
});

describe("mergeBase of a pull request into a branch other than the default one", () => {
  it("names the base branch it could not fetch as the PR's base, not as the default branch", async () => {
    // A PR into `release`: GitHub's merge commit [release tip, head]; origin/release is missing and cannot be
    // fetched (no remote here). The first-parent check (d45213e) reuses remoteBranchTip, whose message says
    // "the default branch release ... rights are read from its models/users.yaml": neither is true of it.
    const r = repo();
    r.git("checkout", "--quiet", "-b", "release");
    r.write("models/bob/r.yaml", "model_id: r\n");
    const release = r.commit("release");
    r.git("checkout", "--quiet", "-b", "feature");
    r.write("models/alice/y.yaml", "model_id: y\n");
    const head = r.commit("alice: add y");
    r.git("checkout", "--quiet", "--detach", release);
    r.git("merge", "--quiet", "--no-ff", "-m", "Merge head into release", head);
    const tree = r.git("rev-parse", "HEAD");
    const error = await mergeBase(r.changes, tree, head, release, "release").then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(error).toBeDefined();
    expect(error).not.toMatch(/default branch/);
    expect(error).not.toMatch(/rights are read from/);
  });
});
