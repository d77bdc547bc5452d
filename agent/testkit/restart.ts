/**
 * TEST ONLY. What the restart-path tests (agent/test/multi-commit-5.test.ts, multi-commit-6.test.ts) share: the
 * agent's log kept, a branch head rewritten by a force-push, the agent's clone wiped, its state directory lost.
 */
import { mkdirSync, rmSync } from "node:fs";
import { cloneDirIn } from "../src/adapters/git-source";
import { createLogger, type Logger } from "../src/log";
import type { Harness } from "./harness";

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly sha?: string;
  readonly err?: { readonly message?: string };
}

/** A logger whose JSON lines are kept. */
export function captureLog(): { log: Logger; parsed: () => LogLine[] } {
  const lines: string[] = [];
  const log = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
  return { log, parsed: () => lines.map((l) => JSON.parse(l) as LogLine) };
}

/**
 * The branch head rewritten (amended) and force-pushed: the old head is no longer on the branch. `render: false`
 * leaves the fragments as they were (an unrendered commit, which the agent refuses).
 */
export function amendHead(
  h: Harness,
  message: string,
  change: () => void,
  options = { render: true },
): string {
  change();
  if (options.render) h.repo.render();
  h.repo.git("add", "-A");
  h.repo.git("commit", "--quiet", "--amend", "--allow-empty", "-m", message);
  h.repo.push();
  return h.repo.head();
}

/** The agent's clone deleted (a new volume, a wiped cache): it is cloned again from the rewritten branch. */
export const wipeClone = (h: Harness): void =>
  rmSync(cloneDirIn(h.stateDir), { recursive: true, force: true });

/** The agent's state directory lost (a deleted folder, a lost volume), left empty for the next agent. */
export function wipeStateDir(h: Harness): void {
  rmSync(h.stateDir, { recursive: true, force: true });
  mkdirSync(h.stateDir);
}
