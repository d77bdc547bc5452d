import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MOCKING, processesFirst, STARTS_PROCESSES } from "../../vitest.files";

// Test files share a fork's modules (vitest.config.ts), so a file that replaces a module with vi.mock must run in
// the isolated project: in a shared fork the module may already be loaded unmocked, and whether it is depends on
// which files ran before it there.

const ROOT = join(import.meta.dirname, "../..");

function testFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === "node_modules" || entry.name === "dist" ? [] : testFiles(path);
    return entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

describe("test isolation", () => {
  it("runs every test file that mocks a module, and only those, in the isolated project", () => {
    const mocking = ["generator", "agent", "actions"]
      .flatMap(testFiles)
      .filter((path) => /\bvi\.(do)?mock\(/.test(readFileSync(join(ROOT, path), "utf8")));
    expect(mocking.sort()).toEqual([...MOCKING].sort());
  });
});

describe("test order", () => {
  it("moves each project's files that start processes ahead of its other files, keeping every other order", () => {
    const files = [
      { project: "isolated", path: "generator/src/io/working-tree-unreadable.test.ts" },
      { project: "shared", path: "generator/testkit/github-api-server.test.ts" },
      { project: "shared", path: "agent/test/faults.test.ts" },
      { project: "shared", path: "generator/src/yaml-emit.test.ts" },
      { project: "shared", path: "agent/test/shutdown.test.ts" },
      { project: "shared", path: "actions/check/src/render.e2e.test.ts" },
      { project: "shared", path: "agent/src/demo/demo-command.test.ts" },
      { project: "shared", path: "generator/src/cli/cli.test.ts" },
    ];
    const order = processesFirst(
      files,
      (f) => f.path,
      (f) => f.project,
    ).map((f) => f.path);
    expect(order).toEqual([
      "generator/src/io/working-tree-unreadable.test.ts",
      "agent/test/faults.test.ts",
      "agent/test/shutdown.test.ts",
      "actions/check/src/render.e2e.test.ts",
      "agent/src/demo/demo-command.test.ts",
      "generator/src/cli/cli.test.ts",
      "generator/testkit/github-api-server.test.ts",
      "generator/src/yaml-emit.test.ts",
    ]);
  });

  it("counts the files that wait longest among those that start processes", () => {
    // The small files that waited alone at the end of a fresh clone's run (2026-12-08).
    for (const path of [
      "agent/test/shutdown.test.ts",
      "agent/src/demo/demo-command.test.ts",
      "agent/test/emulator-command.test.ts",
      "actions/check/src/stale-merge.e2e.test.ts",
    ])
      expect(STARTS_PROCESSES.test(path), path).toBe(true);
    expect(STARTS_PROCESSES.test("generator/src/validate.test.ts")).toBe(false);
  });
});
