// --dry-run leaves the state directory as it found it, the git cache included: it fetches into a temporary bare
// clone that is removed when the agent closes. The state directory's clone, when there is one, lends its objects
// (git alternates, read only), so a dry run beside a big history fetches only what the cache lacks.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cloneDirIn } from "../adapters/git-source";

export interface DryRunClone {
  /** The temporary bare clone (created empty; GitSource initialises it). */
  readonly cloneDir: string;
  /** <state-dir>/repo.git/objects, when the state directory has a clone to borrow from. */
  readonly borrowObjects?: string;
  remove(): void;
}

export function dryRunClone(stateDir: string): DryRunClone {
  const cloneDir = mkdtempSync(join(tmpdir(), "serve-gitops-dry-run-"));
  // Absolute: git reads an alternates entry relative to the borrowing objects directory.
  const objects = join(cloneDirIn(resolve(stateDir)), "objects");
  return {
    cloneDir,
    ...(existsSync(objects) ? { borrowObjects: objects } : {}),
    remove: () => rmSync(cloneDir, { recursive: true, force: true }),
  };
}
