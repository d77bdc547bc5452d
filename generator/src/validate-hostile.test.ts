import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FIXTURES, where, withFiles } from "../test-fixtures/helpers";
import { RULES } from "./rules";
import type { SnapshotFile } from "./types";
import { validateRepo } from "./validate";
import { MAX_FILE_BYTES } from "./yaml-source";

// Table-driven over generator/test-fixtures/hostile/: each fixture is dropped into the fixture repository
// (at models/alice/hostile.yaml unless `path` says otherwise) and must produce exactly the diagnostics
// expected.json lists — no more, so a hostile file never also breaks the repository's valid spec.

interface Expected {
  file: string;
  line: number;
  column: number;
  code: string;
  rule: string;
  /** A substring the message must contain. */
  message?: string;
}
interface Case {
  path?: string;
  kind?: SnapshotFile["kind"];
  /** Other files the case needs (e.g. the .yaml twin of a .yml). */
  with?: Record<string, string>;
  expect: Expected[];
}

const DIR = `${FIXTURES}hostile/`;
const cases = JSON.parse(readFileSync(`${DIR}expected.json`, "utf8")) as Record<string, Case>;
const fixtures = readdirSync(DIR).filter((name) => name.endsWith(".yaml"));

function run(name: string, bytes: Uint8Array, c: Omit<Case, "expect">) {
  const path = c.path ?? "models/alice/hostile.yaml";
  const file: SnapshotFile = { path, kind: c.kind ?? "file", bytes };
  return validateRepo(withFiles({ ...c.with, [path]: file }, undefined, name));
}

describe("hostile specs", () => {
  it("has at least 40 fixtures, each with expectations", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(40);
    expect(Object.keys(cases).sort()).toEqual([...fixtures].sort());
  });

  it("starts from a valid repository", () => {
    expect(validateRepo(withFiles({})).diagnostics).toEqual([]);
  });

  it.each(fixtures)("%s", (name) => {
    const c = cases[name]!;
    const { diagnostics, ok } = run(name, readFileSync(`${DIR}${name}`), c);
    expect(ok).toBe(false);
    expect(diagnostics.map(where)).toEqual(c.expect.map(({ message: _, ...rest }) => rest));
    c.expect.forEach((e, i) => {
      const d = diagnostics[i]!;
      expect(RULES[d.rule as keyof typeof RULES]).toBe(d.code);
      if (e.message) expect(d.message).toContain(e.message);
      // Every message says what is wrong in words, not just a code.
      expect(d.message.length).toBeGreaterThan(10);
    });
  });

  it("refuses a 2 MB file before parsing it", () => {
    const big = new TextEncoder().encode(
      `model_id: hostile\nmodel_source: $HOME/common/hf/x\n# ${"x".repeat(2 * 1024 * 1024)}\n`,
    );
    const started = performance.now();
    const { diagnostics } = run("2mb", big, {});
    expect(performance.now() - started).toBeLessThan(2000);
    expect(diagnostics.map(where)).toEqual([
      { file: "models/alice/hostile.yaml", line: 1, column: 1, code: "E400", rule: "file-too-large" },
    ]);
    expect(diagnostics[0]!.message).toContain(`the limit is ${MAX_FILE_BYTES} bytes`);
  });

  it("accepts a spec of exactly 64 KiB and refuses one byte more", () => {
    const head = "model_id: hostile\nmodel_source: $HOME/common/hf/x\n# ";
    const exact = head + "x".repeat(MAX_FILE_BYTES - head.length - 1) + "\n";
    expect(new TextEncoder().encode(exact).length).toBe(MAX_FILE_BYTES);
    expect(run("64k", new TextEncoder().encode(exact), {}).diagnostics).toEqual([]);
    const over = run("64k+1", new TextEncoder().encode(exact + "\n"), {}).diagnostics;
    expect(over.map((d) => d.rule)).toEqual(["file-too-large"]);
  });

  it("does not expand a billion-laughs alias bomb", () => {
    const started = performance.now();
    run("bomb", readFileSync(`${DIR}alias-bomb.yaml`), {});
    // Expanded, the bomb would never finish; 2 s leaves room for a loaded machine.
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
