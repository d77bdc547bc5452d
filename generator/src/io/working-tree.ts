import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UnreadableFileError, type RepoSnapshot, type SnapshotFile } from "../types";
import { gitEnv } from "./git-env";

/** The folders the core reads; everything else in a repository is the tool's own business. */
export const SNAPSHOT_ROOTS = ["models", "clusters"] as const;

/** What a snapshot's bytes say a gitlink is: the core puts it into its special-file message. */
export const gitlinkNote = (commit: string): string => `a git submodule at commit ${commit}`;
const NESTED_REPOSITORY = "a git submodule or nested repository: it has its own .git";

/** A regular file read on first use: validation never opens the 10,000 rendered fragments it does not need. */
class WorkingTreeFile implements SnapshotFile {
  readonly kind = "file";
  #bytes: Uint8Array | undefined;

  constructor(
    readonly path: string,
    private readonly root: string,
  ) {}

  get bytes(): Uint8Array {
    try {
      return (this.#bytes ??= readFileSync(`${this.root}/${this.path}`));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT")
        throw new Error(`${this.path} was removed while serve-gitops read the repository: run it again`);
      throw new UnreadableFileError(`cannot read ${this.path}: ${code ?? (error as Error).message}`);
    }
  }
}

/**
 * Read models/ and clusters/ of a directory into a snapshot, without following symlinks. The listing is
 * taken at once; a file's bytes are read the first time they are used.
 *
 * A git submodule is a gitlink in a commit, which the core refuses; checked out, it is an empty folder (not
 * initialised) or a folder with its own .git (initialised), and its files are not this repository's. Both
 * are read as one special entry, as a commit's snapshot has it, and nothing inside is read. Its folder may
 * also hold files that are not in any commit (copied in, left by a deinit), so inside a git work tree the index
 * is always asked which paths are gitlinks (one `git ls-files`, about 10 ms for 20,000 entries); outside one,
 * an empty folder or a nested .git is all there is to go by.
 */
export function readWorkingTree(directory: string): RepoSnapshot {
  const root = resolve(directory);
  const files = new Map<string, SnapshotFile>();
  const suspects: string[] = [];
  const walk = (relative: string): void => {
    let entries;
    try {
      entries = readdirSync(`${root}/${relative}`, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      // A top-level `models` or `clusters` that is a file is data like any other: the core says where it belongs.
      if (code === "ENOTDIR") {
        files.set(relative, new WorkingTreeFile(relative, root));
        return;
      }
      // A folder that cannot be listed is reported on, never fatal: the rest of the tree is still checked.
      const message = `cannot list ${relative}/: ${code ?? "error"}: check its permissions`;
      files.set(relative, { path: relative, kind: "unreadable", bytes: Buffer.from(message) });
      return;
    }
    if (entries.length === 0) return void suspects.push(relative);
    if (entries.some((entry) => entry.name === ".git")) {
      suspects.push(relative);
      files.set(relative, { path: relative, kind: "other", bytes: Buffer.from(NESTED_REPOSITORY) });
      return;
    }
    for (const entry of entries) {
      const path = `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.isSymbolicLink())
        files.set(path, { path, kind: "symlink", bytes: Buffer.from(readlinkSync(join(root, path))) });
      else if (entry.isFile()) files.set(path, new WorkingTreeFile(path, root));
      else files.set(path, { path, kind: "other", bytes: new Uint8Array() });
    }
  };
  for (const top of SNAPSHOT_ROOTS) {
    // readdir follows a symlink: a top-level `models` linking elsewhere would be read as if committed here.
    if (isSymlink(join(root, top)))
      files.set(top, { path: top, kind: "symlink", bytes: Buffer.from(readlinkSync(join(root, top))) });
    else walk(top);
  }
  if (suspects.length > 0 || inWorkTree(root)) {
    for (const [path, commit] of indexGitlinks(root)) {
      // What the folder holds is not this repository's: only the gitlink is, as in a commit.
      for (const file of files.keys()) if (file.startsWith(`${path}/`)) files.delete(file);
      // A gitlink whose folder is gone from the tree is a deletion `git add -A` stages: nothing to read.
      if (existsSync(join(root, path)))
        files.set(path, { path, kind: "other", bytes: Buffer.from(gitlinkNote(commit)) });
    }
  }
  return { files, label: "working tree" };
}

/**
 * The gitlinks under models/ and clusters/ in the index of the git work tree holding `root`, by path
 * relative to `root` (ls-files names paths from where it runs: a monorepo's subfolder works). Outside a
 * work tree, or without git, there are none to learn: a folder with its own .git is still refused.
 */
function indexGitlinks(root: string): Map<string, string> {
  const gitlinks = new Map<string, string>();
  const listing = spawnSync(
    "git",
    // core.fsmonitor off: listing the index must not start a hook command the repository configures.
    [
      "-c",
      "core.fsmonitor=false",
      "--literal-pathspecs",
      "ls-files",
      "--stage",
      "-z",
      "--",
      ...SNAPSHOT_ROOTS,
    ],
    {
      cwd: root,
      env: gitEnv(),
      encoding: "utf8",
      // The index of a repository of 10,000 specs and their fragments is a few MiB of listing.
      maxBuffer: 256 * 1024 * 1024,
      timeout: 60_000,
    },
  );
  if (listing.status !== 0) return gitlinks;
  for (const record of listing.stdout.split("\0")) {
    // "<mode> <object> <stage>\t<path>"
    if (!record.startsWith("160000 ")) continue;
    const tab = record.indexOf("\t");
    gitlinks.set(record.slice(tab + 1), record.slice(7, record.indexOf(" ", 7)));
  }
  return gitlinks;
}

/** Whether `root` lies in a git work tree: a `.git` (folder, or a worktree's or submodule's file) above it. */
function inWorkTree(root: string): boolean {
  for (let dir = root; ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".git"))) return true;
    if (dirname(dir) === dir) return false;
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false; // missing or unlistable: walk() says which
  }
}

export const emptySnapshot = (label = "empty"): RepoSnapshot => ({ files: new Map(), label });
