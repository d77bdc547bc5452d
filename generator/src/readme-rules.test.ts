import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RULES } from "./rules";
import { MAX_CONFIG_BYTES, MAX_FILE_BYTES } from "./yaml-source";

describe("README diagnostics table", () => {
  it("documents every rule under the code the RULES table gives it, and no other", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const documented = new Map<string, string>();
    for (const row of readme.matchAll(/^\| `(E\d{3})` [^|]*\| (.*) \|$/gm)) {
      for (const rule of row[2]!.matchAll(/`([a-z0-9-]+)`/g)) documented.set(rule[1]!, row[1]!);
    }
    expect(Object.fromEntries([...documented].sort())).toEqual(
      Object.fromEntries(Object.entries(RULES).sort()),
    );
  });
});

describe("README file size limits", () => {
  it("are the ones the reader enforces", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(readme).toContain("`file-too-large` (specs 64 KiB)");
    expect(readme).toContain("`users.yaml` and `cluster.yaml` may be up to 4 MiB (specs: 64 KiB)");
    expect([MAX_FILE_BYTES, MAX_CONFIG_BYTES]).toEqual([64 * 1024, 4 * 1024 * 1024]);
  });
});
