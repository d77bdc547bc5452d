// One agent per state directory: a lock file holding the owner's pid and host, its modification time renewed
// while the owner runs. A lock whose owner is gone (the agent was killed) is taken over; a live one makes the
// second agent exit with a clear message.
import { readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
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

/** How often a held lock's modification time is renewed, and how old it may grow before it is stale. */
export const LOCK_RENEW_MS = 15_000;
export const LOCK_STALE_MS = 4 * LOCK_RENEW_MS;

/** Locks this process holds: a lock naming this pid that is not among them was left by an earlier process. */
const held = new Set<string>();

export function acquireLock(dir: string): StateLock {
  const path = join(dir, "agent.lock");
  const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(info), { flag: "wx", mode: 0o600 });
      held.add(path);
      // Renewed while held, so an agent on another host (a pod rescheduled onto another node, the volume
      // following it) can tell a lock left by a killed agent from a live one.
      const renew = setInterval(() => {
        try {
          const now = new Date();
          utimesSync(path, now, now);
        } catch {
          // Gone or unwritable: the state store reports the directory's faults itself.
        }
      }, LOCK_RENEW_MS);
      renew.unref();
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          clearInterval(renew);
          held.delete(path);
          if (readOwner(path)?.pid === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new LockError(`cannot create ${path}: ${(error as Error).message}`);
      }
    }
    const owner = readOwner(path);
    if (owner && isAlive(owner, path)) {
      throw new LockError(
        `another agent (pid ${owner.pid} on ${owner.host}, started ${owner.started}) holds ${path}: ` +
          "one agent per state directory; stop it or give this one another --state-dir",
      );
    }
    // The lock is created, then written: read in between, it is empty. Whose it is cannot be told, so it is
    // judged by its age, as another host's lock is (one left half-written by a killed agent goes stale too).
    if (!owner && renewedWithin(path, LOCK_STALE_MS)) {
      throw new LockError(
        `${path} cannot be read (another agent is writing it, or it is damaged): one agent per state directory; ` +
          `it is taken over once it is ${LOCK_STALE_MS / 1000} s old`,
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

function isAlive(owner: LockInfo, path: string): boolean {
  // Another host's process cannot be asked: its lock is live while it is renewed.
  if (owner.host !== hostname()) return renewedWithin(path, LOCK_STALE_MS);
  // This pid: live only if this very process holds it. A container's agent is PID 1 again after a restart,
  // and the lock its killed predecessor left names that pid.
  if (owner.pid === process.pid) return held.has(path);
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function renewedWithin(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < ms;
  } catch {
    return false;
  }
}
