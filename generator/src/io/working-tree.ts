import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { UnreadableFileError, type RepoSnapshot, type SnapshotFile } from "../types";

/** The folders the core reads; everything else in a repository is the tool's own business. */
export const SNAPSHOT_ROOTS = ["models", "clusters"] as const;

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
 */
export function readWorkingTree(directory: string): RepoSnapshot {
  const root = resolve(directory);
  const files = new Map<string, SnapshotFile>();
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
  return { files, label: "working tree" };
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false; // missing or unlistable: walk() says which
  }
}

export const emptySnapshot = (label = "empty"): RepoSnapshot => ({ files: new Map(), label });
