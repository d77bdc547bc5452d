import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { validateRepo } from "../validate";
import { catFileBatch, createGit, GIT_ENV, readCommitSnapshot, UnknownRevisionError } from "./git";
import { readWorkingTree } from "./working-tree";

// A real repository in a temporary folder. Never the user's git config: identity comes from -c flags and
// GIT_CONFIG_GLOBAL/NOSYSTEM keep ~/.gitconfig and /etc/gitconfig out.
const ISOLATED = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" };
const git = (cwd: string, ...args: string[]) =>
  execFileSync(
    "git",
    ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false", ...args],
    {
      cwd,
      env: ISOLATED,
      encoding: "utf8",
    },
  ).trim();

const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString() : undefined);

let dir: string;
let first: string;
const LATIN1 = new Uint8Array([0x6d, 0x3a, 0x20, 0xe9, 0x0a]);
const BINARY = new Uint8Array(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));

function write(path: string, content: string | Uint8Array) {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), content);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "serve-gitops-git-"));
  git(dir, "init", "-q", "-b", "main");
  write("models/users.yaml", "admins: [root]\nusers:\n  alice: {github: [alice], gpu_quota: 8}\n");
  write("models/alice/a.yaml", "model_id: a\nmodel_source: $HOME/x\n");
  write("README.md", "not part of a snapshot\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "first");
  first = git(dir, "rev-parse", "HEAD");
  write("models/alice/a.yaml", "model_id: a\nmodel_source: $HOME/y\n");
  write("models/alice/latin1.yaml", LATIN1);
  write("models/alice/blob.yaml", BINARY);
  write("models/alice/with space é.yaml", "model_id: x\n");
  write("models/alice/same.yaml", "model_id: a\nmodel_source: $HOME/y\n"); // the same blob as a.yaml
  write("clusters/h1/cluster.yaml", "default: true\n");
  write("clusters/h1/rendered/alice/a.yaml", "served_name: alice-202601061235-a\n");
  symlinkSync("../../clusters/h1/cluster.yaml", join(dir, "models/alice/link.yaml"));
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "second");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("readCommitSnapshot", () => {
  it("reads models/ and clusters/ at a commit with their kinds and exact bytes", async () => {
    const snapshot = await readCommitSnapshot(dir, "HEAD");
    expect(snapshot.label).toBe(git(dir, "rev-parse", "HEAD"));
    expect([...snapshot.files.keys()].sort()).toEqual([
      "clusters/h1/cluster.yaml",
      "clusters/h1/rendered/alice/a.yaml",
      "models/alice/a.yaml",
      "models/alice/blob.yaml",
      "models/alice/latin1.yaml",
      "models/alice/link.yaml",
      "models/alice/same.yaml",
      "models/alice/with space é.yaml",
      "models/users.yaml",
    ]);
    const file = (path: string) => snapshot.files.get(path)!;
    expect(file("models/alice/link.yaml").kind).toBe("symlink");
    expect(Buffer.from(file("models/alice/link.yaml").bytes).toString()).toBe(
      "../../clusters/h1/cluster.yaml",
    );
    expect(file("models/alice/a.yaml").kind).toBe("file");
    expect(Buffer.from(file("models/alice/a.yaml").bytes).toString()).toBe(
      "model_id: a\nmodel_source: $HOME/y\n",
    );
    expect(Buffer.from(file("models/alice/same.yaml").bytes).toString()).toBe(
      "model_id: a\nmodel_source: $HOME/y\n",
    );
    expect(new Uint8Array(file("models/alice/latin1.yaml").bytes)).toEqual(LATIN1);
    expect(new Uint8Array(file("models/alice/blob.yaml").bytes)).toEqual(BINARY);
  });

  it("reads the same files as the working tree reader", async () => {
    const fromGit = await readCommitSnapshot(dir, "main");
    const fromTree = readWorkingTree(dir);
    const normalise = (files: typeof fromGit.files) =>
      [...files.values()].map((f) => [f.path, f.kind, Buffer.from(f.bytes).toString("base64")]).sort();
    expect(normalise(fromGit.files)).toEqual(normalise(fromTree.files));
  });

  it("reads an older commit by SHA", async () => {
    const snapshot = await readCommitSnapshot(dir, first);
    expect([...snapshot.files.keys()].sort()).toEqual(["models/alice/a.yaml", "models/users.yaml"]);
    expect(Buffer.from(snapshot.files.get("models/alice/a.yaml")!.bytes).toString()).toContain("$HOME/x");
  });

  it("is a snapshot the core refuses the symlink of", async () => {
    const result = validateRepo(await readCommitSnapshot(dir, "HEAD"));
    expect(result.diagnostics.filter((d) => d.rule === "symlink").map((d) => d.file)).toEqual([
      "models/alice/link.yaml",
    ]);
  });

  it("reads a submodule (gitlink) as a special file the core refuses, saying what it is", async () => {
    const sub = mkdtempSync(join(tmpdir(), "serve-gitops-gitlink-"));
    try {
      git(sub, "init", "-q", "-b", "main");
      git(sub, "update-index", "--add", "--cacheinfo", `160000,${first},models/alice/sub`);
      git(sub, "commit", "-q", "-m", "a gitlink");
      const result = validateRepo(await readCommitSnapshot(sub, "HEAD"));
      const special = result.diagnostics.filter((d) => d.rule === "special-file");
      expect(special.map((d) => d.file)).toEqual(["models/alice/sub"]);
      expect(special[0]!.message).toContain(`(a git submodule at commit ${first})`);
    } finally {
      rmSync(sub, { recursive: true, force: true });
    }
  });

  it("rejects a ref that does not exist, saying so", async () => {
    const read = readCommitSnapshot(dir, "no-such-branch");
    await expect(read).rejects.toThrow(UnknownRevisionError);
    await expect(read).rejects.toThrow("no-such-branch does not exist or is not a commit");
  });

  it("rejects a full object id that names no commit: an unknown one, a tree's, a blob's", async () => {
    const tree = git(dir, "rev-parse", "HEAD^{tree}");
    const blob = git(dir, "rev-parse", "HEAD:models/users.yaml");
    for (const id of ["0123456789abcdef0123456789abcdef01234567", tree, blob]) {
      const read = readCommitSnapshot(dir, id);
      await expect(read, id).rejects.toThrow(UnknownRevisionError);
      await expect(read, id).rejects.toThrow(`${id} does not exist or is not a commit`);
    }
  });

  it("rejects a name for something that is no commit (a tree), saying so", async () => {
    const read = readCommitSnapshot(dir, "HEAD^{tree}");
    await expect(read).rejects.toThrow(UnknownRevisionError);
    await expect(read).rejects.toThrow("HEAD^{tree} does not exist or is not a commit");
  });

  it("reads a commit given by its full object id as that commit, labelled with it", async () => {
    const byName = await readCommitSnapshot(dir, "HEAD~1");
    const byId = await readCommitSnapshot(dir, first);
    expect(byId.label).toBe(first);
    expect([...byId.files.keys()]).toEqual([...byName.files.keys()]);
  });

  it("fails loudly outside a git repository, even for a full object id", async () => {
    const plain = mkdtempSync(join(tmpdir(), "serve-gitops-nogit-"));
    try {
      await expect(readCommitSnapshot(plain, first)).rejects.toThrow(/not a git repository/);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });

  it("fails loudly outside a git repository", async () => {
    const plain = mkdtempSync(join(tmpdir(), "serve-gitops-nogit-"));
    try {
      await expect(readCommitSnapshot(plain, "HEAD")).rejects.toThrow(/not a git repository/);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});

describe("readCommitSnapshot in a subfolder of a repository (a monorepo)", () => {
  let mono: string;
  let before: string;
  const put = (path: string, content: string) => {
    mkdirSync(dirname(join(mono, path)), { recursive: true });
    writeFileSync(join(mono, path), content);
  };

  beforeAll(() => {
    mono = mkdtempSync(join(tmpdir(), "serve-gitops-mono-"));
    git(mono, "init", "-q", "-b", "main");
    // The root has its own models/ folder, which is not the serving repository's.
    put("models/other/root.yaml", "not ours\n");
    git(mono, "add", "-A");
    git(mono, "commit", "-q", "-m", "root only");
    before = git(mono, "rev-parse", "HEAD");
    put("serving dir/models/alice/a.yaml", "model_id: a\n");
    put("serving dir/clusters/h1/cluster.yaml", "default: true\n");
    git(mono, "add", "-A");
    git(mono, "commit", "-q", "-m", "serving");
  });

  afterAll(() => {
    rmSync(mono, { recursive: true, force: true });
  });

  it("reads the commit's tree under the folder, with paths relative to it", async () => {
    const snapshot = await readCommitSnapshot(join(mono, "serving dir"), "HEAD");
    expect([...snapshot.files.keys()].sort()).toEqual(["clusters/h1/cluster.yaml", "models/alice/a.yaml"]);
    expect(Buffer.from(snapshot.files.get("models/alice/a.yaml")!.bytes).toString()).toBe("model_id: a\n");
  });

  it("reads a commit that does not have the folder yet as empty", async () => {
    expect((await readCommitSnapshot(join(mono, "serving dir"), before)).files.size).toBe(0);
  });

  it("still reads the whole tree at the repository's root", async () => {
    const snapshot = await readCommitSnapshot(mono, "HEAD");
    expect([...snapshot.files.keys()]).toEqual(["models/other/root.yaml"]);
  });

  it("reads a bare clone (the agent's) as the whole tree", async () => {
    const bareDir = `${mono}-bare.git`;
    git(tmpdir(), "clone", "-q", "--bare", mono, bareDir);
    try {
      const snapshot = await readCommitSnapshot(bareDir, "main");
      expect([...snapshot.files.keys()]).toEqual(["models/other/root.yaml"]);
    } finally {
      rmSync(bareDir, { recursive: true, force: true });
    }
  });
});

describe("createGit", () => {
  it("reads a git's whole output even when it arrives after the process exited", async () => {
    // simple-git's default settles 50 ms after git exits, whatever is still in the pipe: on a loaded machine a
    // large ls-tree listing came back cut short, and a snapshot without its last files (models/users.yaml
    // among them) read as models deleted. This git exits at once and writes from a process that keeps stdout.
    const shim = mkdtempSync(join(tmpdir(), "serve-gitops-late-git-"));
    try {
      const real = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
      // A background job's stdin is /dev/null, whatever it redirects: cat-file gets the list through fd 3.
      const body = `#!/bin/sh\nexec 3<&0\n( sleep 0.3; exec ${real} "$@" <&3 3<&- ) &\nexit 0\n`;
      writeFileSync(join(shim, "git"), body, {
        mode: 0o755,
      });
      vi.stubEnv("PATH", `${shim}:${process.env.PATH}`);
      const snapshot = await readCommitSnapshot(dir, "HEAD");
      expect(snapshot.label).toBe(git(dir, "rev-parse", "HEAD"));
      expect(text(snapshot.files.get("models/users.yaml")?.bytes)).toBe(
        git(dir, "show", "HEAD:models/users.yaml") + "\n",
      );
      expect(await createGit(dir).raw(["rev-parse", "HEAD"])).toBe(`${snapshot.label}\n`);
    } finally {
      vi.unstubAllEnvs();
      rmSync(shim, { recursive: true, force: true });
    }
  });

  /** git's `command` replaced by `script` (REAL_GIT names the real git) while `run` runs; every other is real. */
  async function withShim<T>(command: string, script: string, run: () => Promise<T>): Promise<T> {
    const shim = mkdtempSync(join(tmpdir(), "serve-gitops-git-shim-"));
    try {
      const real = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
      const body = `#!/bin/sh\nif [ "$1" = ${command} ]; then\n${script}\nfi\nexec ${real} "$@"\n`;
      writeFileSync(join(shim, "git"), body.replaceAll("REAL_GIT", real), { mode: 0o755 });
      vi.stubEnv("PATH", `${shim}:${process.env.PATH}`);
      return await run();
    } finally {
      vi.unstubAllEnvs();
      rmSync(shim, { recursive: true, force: true });
    }
  }

  describe("a git killed by a signal is an error, never a short answer", () => {
    // Killed from outside (the OOM killer, an operator), git leaves no exit code and often no message.
    const killed = 'REAL_GIT "$@" | head -c 300; kill -TERM $$';

    it("a listing cut short reads as no snapshot, not as a commit without its last files", async () => {
      await expect(withShim("ls-tree", killed, () => readCommitSnapshot(dir, "HEAD"))).rejects.toThrow(
        /^git was killed by a signal: its output is incomplete$/,
      );
    });

    it("any other call through createGit", async () => {
      await expect(
        withShim("log", killed, () => createGit(dir).raw(["log", "--format=%H %s"])),
      ).rejects.toThrow(/^git was killed by a signal: its output is incomplete$/);
    });

    it("while a git that exits non-zero without a word still answers (rev-parse --quiet: no such commit)", async () => {
      const missing = "0".repeat(40);
      expect(await createGit(dir).raw(["rev-parse", "--verify", "--quiet", `${missing}^{commit}`])).toBe("");
    });
  });

  describe("a git cat-file --batch that does not answer every object is an error, never empty files", () => {
    const withCatFile = <T>(script: string, run: () => Promise<T>) => withShim("cat-file", script, run);
    it("one that reads the list and answers nothing", async () => {
      await expect(
        withCatFile("cat >/dev/null; exit 0", () => readCommitSnapshot(dir, "HEAD")),
      ).rejects.toThrow(/^git cat-file --batch answered 0 of 8 objects$/);
    });

    it("one whose answer is cut short inside an object", async () => {
      const cut = 'REAL_GIT "$@" | head -c 300; exit 0';
      await expect(withCatFile(cut, () => readCommitSnapshot(dir, "HEAD"))).rejects.toThrow(
        /^git cat-file --batch answered 3 objects with 300 bytes, cut short$/,
      );
    });

    it("one that closes its input unread and fails: git's error, and no EPIPE escapes to crash the process", async () => {
      // 20,000 names are 820 KB of list, more than the socket to git's stdin holds: the write fails (EPIPE) while
      // this cat-file still runs. Unhandled, that error would end the agent's whole process.
      const names = Array.from({ length: 20_000 }, (_, i) => i.toString(16).padStart(40, "0"));
      await expect(
        withCatFile("exec 0<&-; sleep 0.2; echo 'gone' >&2; exit 3", () => catFileBatch(dir, names, {})),
      ).rejects.toThrow(/^git cat-file --batch exited 3: gone$/);
    });
  });

  it("runs git with a fixed language and no prompts", async () => {
    expect(GIT_ENV).toMatchObject({ LANG: "C.UTF-8", LC_ALL: "C.UTF-8", GIT_TERMINAL_PROMPT: "0" });
    expect(GIT_ENV.GIT_SSH_COMMAND).toContain("BatchMode=yes");
    // A control master would outlive git holding its pipes, and git's output is read until they close.
    expect(GIT_ENV.GIT_SSH_COMMAND).toContain("-o ControlMaster=no -o ControlPath=none");
    const head = await createGit(dir).revparse(["HEAD"]);
    expect(head.trim()).toMatch(/^[0-9a-f]{40}$/);
  });

  it("passes GIT_CONFIG_* settings given as options (an http.extraHeader for a private remote)", async () => {
    const env = { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "serve-gitops.probe", GIT_CONFIG_VALUE_0: "yes" };
    expect(await createGit(dir, { env }).raw(["config", "--get", "serve-gitops.probe"])).toBe("yes\n");
    const snapshot = await readCommitSnapshot(dir, "HEAD", { env });
    expect(snapshot.files.size).toBeGreaterThan(0);
  });
});
