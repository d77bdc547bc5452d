// One agent per state directory: a lock file holding the owner's pid and host. A lock whose process is gone
// (the agent was killed) is taken over; a live one makes the second agent exit with a clear message.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { LockError } from "../errors";

export interface StateLock {
  readonly path: string;
  release(): void;
}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

export function acquireLock(dir: string): StateLock {
  const path = join(dir, "agent.lock");
  const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(info), { flag: "wx", mode: 0o600 });
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          if (readOwner(path)?.pid === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new LockError(`cannot create ${path}: ${(error as Error).message}`);
      }
    }
    const owner = readOwner(path);
    if (owner && isAlive(owner)) {
      throw new LockError(
        `another agent (pid ${owner.pid} on ${owner.host}, started ${owner.started}) holds ${path}: ` +
          "one agent per state directory; stop it or give this one another --state-dir",
      );
    }
    // Stale: its process is gone. Remove it and try once more (a racing agent may win; then we report it).
    rmSync(path, { force: true });
  }
  throw new LockError(
    `another agent took ${path} while this one was starting: one agent per state directory`,
  );
}

function readOwner(path: string): LockInfo | undefined {
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as Partial<LockInfo>;
    return typeof value.pid === "number" && typeof value.host === "string"
      ? { pid: value.pid, host: value.host, started: String(value.started) }
      : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(owner: LockInfo): boolean {
  // A lock from another host (a shared volume) cannot be checked: treat it as held.
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
