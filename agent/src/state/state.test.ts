import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { emptyRecord } from "../model/types";
import type { FilePort } from "../ports";
import { acquireLock } from "./lock";
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
