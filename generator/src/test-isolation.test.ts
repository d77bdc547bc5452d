import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MOCKING } from "../../vitest.config";

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
