import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createFixtureRepo, specYaml, type FixtureRepo } from "../../testkit/git-fixture";
import { GitSource, redactUrl } from "./git-source";

let repo: FixtureRepo;
let state: string;
afterEach(() => {
  repo.cleanup();
  rmSync(state, { recursive: true, force: true });
});

function source() {
  state = mkdtempSync(join(tmpdir(), "serve-gitops-clone-"));
  const commands: string[] = [];
  const git = new GitSource({
    url: repo.remote,
    branch: "main",
    cloneDir: join(state, "repo.git"),
    env: {},
    timeoutMs: 10_000,
    onCommand: (c) => commands.push(c),
  });
  return { git, commands };
}

describe("the git source", () => {
  it("asks the remote for the head (one ls-remote) and fetches into the bare clone only when it moved", async () => {
    repo = createFixtureRepo({ "models/alice/x.yaml": specYaml("x") });
    const first = repo.ship("initial");
    const { git, commands } = source();
    expect(await git.head()).toBe(first);
    await git.ensure(first);
    expect(commands).toEqual(["ls-remote", "init", "fetch"]);
    commands.length = 0;
    expect(await git.head()).toBe(first);
    await git.ensure(first);
    expect(commands).toEqual(["ls-remote"]);
    const snapshot = await git.snapshot(first);
    expect([...snapshot.files.keys()]).toContain("clusters/h1/rendered/alice/x.yaml");
  });

  it("follows its own branch only: one whose name ends in refs/heads/main is another branch", async () => {
    // `git ls-remote <url> refs/heads/main` matches the ends of names: anyone allowed to push a branch could
    // name one a/refs/heads/main (sorted first) at an old commit, and the agent would roll Ray back to it.
    repo = createFixtureRepo({ "models/alice/x.yaml": specYaml("x") });
    const old = repo.ship("initial");
    repo.write("models/bob/y.yaml", specYaml("y"));
    const main = repo.ship("bob: y");
    const impostor = (name: string) => repo.git("--git-dir", repo.remote, "update-ref", name, old);
    impostor("refs/heads/a/refs/heads/main");
    impostor("refs/heads/refs/heads/main");
    const { git } = source();
    expect(await git.head()).toBe(main);
    await git.ensure(main);
    expect(await git.head()).toBe(main);
    // Without main, the impostors are not main either.
    repo.git("--git-dir", repo.remote, "update-ref", "-d", "refs/heads/main");
    await expect(git.head()).rejects.toThrow(/^branch main does not exist on /);
  });

  it("follows a force-push and bounds the history by the merge base", async () => {
    repo = createFixtureRepo({ "models/alice/x.yaml": specYaml("x") });
    const base = repo.ship("base");
    repo.write("models/alice/y.yaml", specYaml("y"));
    const dropped = repo.ship("y (will be dropped)");
    const { git } = source();
    await git.ensure(dropped);
    repo.git("reset", "--quiet", "--hard", base);
    repo.write("models/bob/z.yaml", specYaml("z"));
    repo.render();
    const rewritten = repo.commit("z\n\nServe-Gitops-Allow-Prune: 3");
    repo.push();
    expect(await git.head()).toBe(rewritten);
    await git.ensure(rewritten);
    const history = await git.history(rewritten, dropped, "clusters/h1/rendered/", 100);
    expect(history).toEqual([{ sha: rewritten, paths: ["clusters/h1/rendered/bob/z.yaml"] }]);
    expect(await git.trailers(rewritten, dropped, "Serve-Gitops-Allow-Prune", 100)).toEqual([
      { sha: rewritten, parent: base, values: ["3"] },
    ]);
  });

  it("reads trailers from first-parent commits only: a merged branch's own commits never count", async () => {
    repo = createFixtureRepo({ "models/alice/x.yaml": specYaml("x") });
    const base = repo.ship("base");
    repo.commitOnBranch("topic", "y\n\nServe-Gitops-Allow-Prune: 999999", () =>
      repo.write("models/alice/y.yaml", specYaml("y")),
    );
    const plain = repo.mergeBranch("topic", "Merge topic");
    const { git } = source();
    await git.ensure(plain);
    expect(await git.trailers(plain, base, "Serve-Gitops-Allow-Prune", 100)).toEqual([]);

    repo.commitOnBranch(
      "topic2",
      "z\n\nServe-Gitops-Allow-Prune: 999999",
      () => repo.write("models/alice/z.yaml", specYaml("z")),
      base,
    );
    const confirmed = repo.mergeBranch("topic2", "Merge topic2\n\nServe-Gitops-Allow-Prune: 7");
    await git.ensure(confirmed);
    expect(await git.trailers(confirmed, base, "Serve-Gitops-Allow-Prune", 100)).toEqual([
      { sha: confirmed, parent: plain, values: ["7"] },
    ]);
  });

  it("reads trailers of the commits since the last attempted one only; on a first sync, the head's only", async () => {
    repo = createFixtureRepo({ "models/alice/x.yaml": specYaml("x") });
    const old = repo.ship("an old confirmation\n\nServe-Gitops-Allow-Prune: 50");
    const attempted = repo.ship("plain");
    const head = repo.ship("a new confirmation\n\nServe-Gitops-Allow-Prune: 7");
    const { git } = source();
    await git.ensure(head);
    expect(await git.trailers(head, attempted, "Serve-Gitops-Allow-Prune", 100)).toEqual([
      { sha: head, parent: attempted, values: ["7"] },
    ]);
    // No record: no range to read, and an old confirmation in the history is not this sync's.
    expect(await git.trailers(attempted, undefined, "Serve-Gitops-Allow-Prune", 100)).toEqual([]);
    expect(await git.trailers(old, undefined, "Serve-Gitops-Allow-Prune", 100)).toHaveLength(1);
  });

  it("reads only the head's own trailers when the commit to count from is not in the clone (a lost history)", async () => {
    repo = createFixtureRepo({ "models/alice/x.yaml": specYaml("x") });
    repo.ship("an old confirmation\n\nServe-Gitops-Allow-Prune: 50");
    const lost = repo.ship("applied, then force-pushed away");
    repo.git("reset", "--quiet", "--hard", "HEAD~1");
    repo.write("NOTE.md", "rewritten\n");
    const head = repo.commit("plain");
    repo.push();
    const { git } = source();
    await git.ensure(head);
    // `lost` never reached this clone: nothing bounds the range, and the old confirmation is not this sync's.
    expect(await git.trailers(head, lost, "Serve-Gitops-Allow-Prune", 100)).toEqual([]);
  });

  it("reports an unreachable remote as a transient GitError and never shows credentials", async () => {
    repo = createFixtureRepo();
    state = mkdtempSync(join(tmpdir(), "serve-gitops-clone-"));
    const git = new GitSource({
      url: join(repo.root, "missing.git"),
      branch: "main",
      cloneDir: join(state, "repo.git"),
      env: {},
      timeoutMs: 10_000,
    });
    await expect(git.head()).rejects.toMatchObject({ name: "GitError", kind: "transient" });
    expect(redactUrl("https://user:token@github.com/a/b.git")).toBe("https://***@github.com/a/b.git");
  });

  it("redacts user info anywhere in a text, and a password holding @ whole", () => {
    expect(redactUrl("http://user:p@ssw0rd@ray:8265/api")).toBe("http://***@ray:8265/api");
    expect(
      redactUrl("fatal: unable to access 'https://x-access-token:ghs_SECRET@github.com/acme/s.git/': 403"),
    ).toBe("fatal: unable to access 'https://***@github.com/acme/s.git/': 403");
    expect(redactUrl("from http://a:b@h1 and https://c:d@h2/x")).toBe(
      "from http://***@h1 and https://***@h2/x",
    );
    expect(redactUrl("no credentials: https://github.com/a/b.git, user@example.com")).toBe(
      "no credentials: https://github.com/a/b.git, user@example.com",
    );
    // A scheme in capitals is a scheme all the same.
    expect(redactUrl("HTTPS://user:token@github.com/a/b.git")).toBe("HTTPS://***@github.com/a/b.git");
    // A quote ends the URL: an address quoted after it is not user info.
    expect(redactUrl(`{"url":"https://h","mail":"a@b.c"}`)).toBe(`{"url":"https://h","mail":"a@b.c"}`);
    expect(redactUrl("'https://h'@x")).toBe("'https://h'@x");
  });
});
