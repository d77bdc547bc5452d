import { existsSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import { readWorkingTree } from "../io/working-tree";
import type { RepoSnapshot } from "../types";
import { UsageError } from "./errors";

export interface LoadedRepo {
  readonly root: string;
  readonly snapshot: RepoSnapshot;
}

export function loadRepo(repo: string | undefined): LoadedRepo {
  const root = resolve(repo ?? ".");
  if (!existsSync(root)) throw new UsageError(`--repo ${root} does not exist`);
  if (!existsSync(resolve(root, "models")) && !existsSync(resolve(root, "clusters"))) {
    throw new UsageError(
      `${root} has neither models/ nor clusters/: point --repo at a serve-gitops repository`,
    );
  }
  return { root, snapshot: readWorkingTree(root) };
}

/** A path given on the command line, as the repository-relative form diagnostics use. */
export function repoRelative(root: string, path: string): string {
  return relative(root, resolve(path)).split(sep).join("/");
}
