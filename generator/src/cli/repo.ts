import { existsSync, lstatSync } from "node:fs";
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

function enclosingRepo(start: string): string | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (isRepo(dir)) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * A PATH given on the command line, in the repository-relative form diagnostics use ("" for the root). A
 * relative path is taken from the current directory when it lies in the repository, else from the
 * repository (`--repo DIR models/alice` from anywhere). It must exist (a typo would otherwise print "ok").
 */
export function pathInRepo(root: string, path: string): string {
  const inside = (p: string) => p !== ".." && !p.startsWith("../") && !isAbsolute(p);
  let candidate = repoRelative(root, path);
  if (!inside(candidate) && !isAbsolute(path)) candidate = repoRelative(root, resolve(root, path));
  if (!inside(candidate)) throw new UsageError(`${path} is not inside the repository ${root}`);
  if (!lexists(resolve(root, candidate))) throw new UsageError(`${path} does not exist in ${root}`);
  return candidate;
}

const lexists = (p: string): boolean => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};

/** A path given on the command line, as the repository-relative form diagnostics use. */
export function repoRelative(root: string, path: string): string {
  return relative(root, resolve(path)).split(sep).join("/");
}
