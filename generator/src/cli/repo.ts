import { existsSync, lstatSync, readdirSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { readWorkingTree } from "../io/working-tree";
import type { RepoSnapshot } from "../types";
import { UsageError } from "./errors";

export interface LoadedRepo {
  readonly root: string;
  readonly snapshot: RepoSnapshot;
}

/**
 * The repository: --repo, or else the nearest folder at or above the current one that holds models/ or
 * clusters/ (as git finds its work tree), so a command run inside models/alice/ works.
 */
export function loadRepo(repo: string | undefined): LoadedRepo {
  const root = repo === undefined ? (enclosingRepo(process.cwd()) ?? resolve(".")) : resolve(repo);
  if (!existsSync(root)) throw new UsageError(`--repo ${root} does not exist`);
  if (!isRepo(root)) {
    throw new UsageError(
      `${root} has neither models/ nor clusters/: point --repo at a serve-gitops repository`,
    );
  }
  return { root, snapshot: readWorkingTree(root) };
}

const isRepo = (dir: string): boolean =>
  existsSync(resolve(dir, "models")) || existsSync(resolve(dir, "clusters"));

/**
 * A folder found by walking up must look like a repository's root, not merely hold a folder called models/
 * (a user may be named "models"): it has models/users.yaml or a clusters/<name>/cluster.yaml.
 */
function looksLikeRoot(dir: string): boolean {
  if (existsSync(resolve(dir, "models/users.yaml"))) return true;
  try {
    return readdirSync(resolve(dir, "clusters")).some((c) =>
      existsSync(resolve(dir, "clusters", c, "cluster.yaml")),
    );
  } catch {
    return false;
  }
}

function enclosingRepo(start: string): string | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (looksLikeRoot(dir)) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * A PATH given on the command line, in the repository-relative form diagnostics use ("" for the root). A
 * relative path is taken from the current directory when it lies in the repository, else from the
 * repository (`--repo DIR models/alice` from anywhere). It must exist (a typo would otherwise print "ok").
 */
export function pathInRepo(root: string, path: string): string {
  const fromCwd = within(root, resolve(path));
  const fromRoot = isAbsolute(path) ? undefined : within(root, resolve(root, path));
  // From the current folder first; else from the root, also when the path names nothing under the current
  // folder (models/alice/x.yaml typed in models/, as diagnostics print it).
  const exists = (c: string | undefined) => c !== undefined && lexists(resolve(root, c));
  const candidate = exists(fromCwd) ? fromCwd : exists(fromRoot) ? fromRoot : (fromCwd ?? fromRoot);
  if (candidate === undefined) throw new UsageError(`${path} is not inside the repository ${root}`);
  if (!lexists(resolve(root, candidate))) throw new UsageError(`${path} does not exist in ${root}`);
  // Inside the repository a path is taken as written: one that goes through a symlinked folder would name
  // files the snapshot (which never follows links) does not have.
  const parts = candidate === "" ? [] : candidate.split("/");
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join("/");
    if (lstatSync(resolve(root, prefix)).isSymbolicLink())
      throw new UsageError(`${path} goes through the symlink ${prefix}: name the file or folder itself`);
  }
  return candidate;
}

/**
 * `abs` relative to the repository root ("" for the root), or undefined when outside it. The root may be
 * reached through a symlink (/tmp -> /private/tmp, a shell's logical $PWD): the ancestor of `abs` that is
 * the root's real folder marks where the repository-relative part starts, and that part stays as written.
 */
function within(root: string, abs: string): string | undefined {
  const lexical = relative(root, abs);
  if (lexical !== ".." && !lexical.startsWith(`..${sep}`) && !isAbsolute(lexical))
    return lexical.split(sep).join("/");
  const realRoot = real(root);
  for (let dir = abs; ; dir = dirname(dir)) {
    if (dir === root || real(dir) === realRoot) return relative(dir, abs).split(sep).join("/");
    if (dirname(dir) === dir) return undefined;
  }
}

const real = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

const lexists = (p: string): boolean => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};
