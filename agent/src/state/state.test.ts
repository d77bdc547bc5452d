import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { emptyRecord } from "../model/types";
import type { FilePort } from "../ports";
import { acquireLock, LOCK_RENEW_MS, LOCK_STALE_MS } from "./lock";
import { StateStore } from "./state-store";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const fresh = () => (dir = mkdtempSync(join(tmpdir(), "serve-gitops-lock-")));

describe("the state directory lock", () => {
  it("lets one agent in and tells a second one who holds it", () => {
    fresh();
    const lock = acquireLock(dir);
    expect(() => acquireLock(dir)).toThrow(
      /another agent \(pid \d+ on .*\) holds .*agent\.lock: one agent per state directory/,
    );
    lock.release();
    acquireLock(dir).release();
  });

  it("takes over the lock of an agent that was killed", () => {
    fresh();
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    writeFileSync(
      join(dir, "agent.lock"),
      JSON.stringify({ pid: Number(dead.stdout), host: hostname(), started: "earlier" }),
    );
    const lock = acquireLock(dir);
    expect(JSON.parse(readFileSync(lock.path, "utf8"))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it("takes over the lock of a killed agent whose pid this process reuses (a container's PID 1 after a restart)", () => {
    fresh();
    // The agent of a container runs as PID 1 (ENTRYPOINT node ...): killed (OOM, a failed liveness probe), it
    // leaves its lock on the volume, and the restarted container's agent is PID 1 on the same host again.
    writeFileSync(
      join(dir, "agent.lock"),
      JSON.stringify({ pid: process.pid, host: hostname(), started: "2026-01-06T12:00:00.000Z" }),
    );
    const lock = acquireLock(dir);
    expect(JSON.parse(readFileSync(lock.path, "utf8"))).toMatchObject({ pid: process.pid });
    expect(() => acquireLock(dir)).toThrow(/another agent/);
    lock.release();
  });
});

describe("a lock written on another host (a pod rescheduled onto another node)", () => {
  const foreign = () =>
    writeFileSync(
      join(dir, "agent.lock"),
      JSON.stringify({ pid: 1, host: `${hostname()}-elsewhere`, started: "2026-01-06T12:00:00.000Z" }),
    );

  it("is held while its owner renews it", () => {
    fresh();
    foreign();
    expect(() => acquireLock(dir)).toThrow(/another agent \(pid 1 on .*-elsewhere/);
  });

  it("is what a live agent's lock never becomes: the holder renews it", () => {
    fresh();
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    try {
      const lock = acquireLock(dir);
      const old = new Date(Date.now() - LOCK_STALE_MS - 1000);
      utimesSync(lock.path, old, old);
      vi.advanceTimersByTime(LOCK_RENEW_MS);
      expect(Date.now() - statSync(lock.path).mtimeMs).toBeLessThan(LOCK_RENEW_MS);
      lock.release();
    } finally {
      vi.useRealTimers();
    }
  });

  it("is taken over once it has not been renewed for LOCK_STALE_MS (its agent was killed)", () => {
    fresh();
    foreign();
    const old = new Date(Date.now() - LOCK_STALE_MS - 1000);
    utimesSync(join(dir, "agent.lock"), old, old);
    const lock = acquireLock(dir);
    expect(JSON.parse(readFileSync(lock.path, "utf8"))).toMatchObject({ pid: process.pid, host: hostname() });
    lock.release();
  });
});

describe("a lock file that cannot be read", () => {
  // writeFileSync creates the file, then writes it: a second agent starting in between reads an empty lock.
  it("is live while young (another agent is writing it): the second agent exits, saying so", () => {
    fresh();
    writeFileSync(join(dir, "agent.lock"), "");
    expect(() => acquireLock(dir)).toThrow(
      /^.*agent\.lock cannot be read \(another agent is writing it, or it is damaged\): one agent per state directory; it is taken over once it is 60 s old$/,
    );
    expect(readFileSync(join(dir, "agent.lock"), "utf8")).toBe("");
  });

  it("is taken over once LOCK_STALE_MS old (damaged by an agent killed while writing it)", () => {
    fresh();
    writeFileSync(join(dir, "agent.lock"), '{"pid": 12');
    const old = new Date(Date.now() - LOCK_STALE_MS - 1000);
    utimesSync(join(dir, "agent.lock"), old, old);
    const lock = acquireLock(dir);
    expect(JSON.parse(readFileSync(lock.path, "utf8"))).toMatchObject({ pid: process.pid, host: hostname() });
    lock.release();
  });
});

describe("the state store", () => {
  it("round-trips the record and refuses another cluster's state directory", async () => {
    fresh();
    const { nodeFilePort } = await import("../adapters/fs-port");
    const store = new StateStore(dir, nodeFilePort);
    expect(await store.loadRecord("h1")).toEqual(emptyRecord("h1"));
    await store.saveRecord({ ...emptyRecord("h1"), desired: "abc" });
    expect((await store.loadRecord("h1")).desired).toBe("abc");
    await expect(store.loadRecord("lab")).rejects.toThrow(/belongs to cluster h1, not lab/);
  });

  it("turns ENOSPC from the file port into a transient StateStoreError", async () => {
    fresh();
    const full: FilePort = {
      read: async () => undefined,
      write: async () => Promise.reject(Object.assign(new Error("no space"), { code: "ENOSPC" })),
    };
    const error = await new StateStore(dir, full).saveRecord(emptyRecord("h1")).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "StateStoreError", kind: "transient", code: "ENOSPC" });
  });
});
