import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fastLoad, OUTSIDE } from "./yaml-fast";
import { parseYamlFile } from "./yaml-source";

const root = fileURLToPath(new URL("../..", import.meta.url));
const encode = (text: string) => new TextEncoder().encode(text);

/** A value as text that keeps what toEqual forgets: key order, prototypes, -0, NaN. */
function canon(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `[${value.map(canon).join(",")}]`;
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value) === Object.prototype ? "" : "!proto";
    return `{${proto}${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${canon(v)}`)
      .join(",")}}`;
  }
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  return `${typeof value}:${JSON.stringify(value) ?? "undefined"}`;
}

/** js-yaml's own path (parseEvents + constructFromEvents), as parseYamlFile takes it with the fast path off. */
function slow(text: string): { ok: true; value: unknown } | { ok: false; rules: string[] } {
  const parsed = parseYamlFile("f.yaml", encode(text), undefined, { fast: false });
  return parsed.ok
    ? { ok: true, value: parsed.doc.value }
    : { ok: false, rules: parsed.diagnostics.map((d) => d.rule) };
}

/** The contract: the fast reader either steps aside or returns exactly what js-yaml builds. */
function agrees(text: string): "fast" | "outside" {
  const fast = fastLoad(text);
  if (fast === OUTSIDE) return "outside";
  const reference = slow(text);
  if (!reference.ok)
    throw new Error(`fast read a text js-yaml refuses (${reference.rules.join(", ")}):\n${text}`);
  if (canon(fast) !== canon(reference.value))
    throw new Error(`fast ${canon(fast)} != js-yaml ${canon(reference.value)} for:\n${text}`);
  return "fast";
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".git") || name === "dist") continue;
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) out.push(...yamlFiles(path));
    else if (stat?.isFile() && /\.ya?ml$/.test(name)) out.push(path);
  }
  return out;
}

describe("fastLoad against js-yaml", () => {
  const files = ["models", "clusters", "generator/test-fixtures", "agent", "actions", ".github"].flatMap(
    (d) => yamlFiles(join(root, d)),
  );

  it("agrees on every YAML file in the repository, and reads the shipped specs and settings itself", () => {
    expect(files.length).toBeGreaterThan(50);
    const verdicts = new Map(files.map((f) => [relative(root, f), agrees(readFileSync(f, "utf8"))]));
    // The fast path is the one the template's examples (and the specs they are the template for) actually
    // take: their frozen copy, since the live models/ and clusters/ are whatever an adopter writes.
    const example =
      /^generator\/test-fixtures\/template-repo\/(models\/|clusters\/[^/]+\/(cluster\.yaml|rendered\/))/;
    expect([...verdicts.keys()].filter((path) => example.test(path)).length).toBeGreaterThan(5);
    for (const [path, verdict] of verdicts)
      if (example.test(path)) expect([path, verdict]).toEqual([path, "fast"]);
  });

  it.each([
    ["model_id: a\nnum_replicas: 2\n", { model_id: "a", num_replicas: 2 }],
    [
      "a: 0.9\nb: 1e3\nc: 0x1F\nd: ~\ne: true\nf: 'true'\ng: \"0.9\"\nh:\n",
      { a: 0.9, b: 1000, c: 31, d: null, e: true, f: "true", g: "0.9", h: null },
    ],
    [
      "a: x # comment\nb: 'y' # c\n# whole line\n  # indented\nc: [h1, lab] # c\n",
      { a: "x", b: "y", c: ["h1", "lab"] },
    ],
    ["clusters:\n- h1\n- lab\nn: 1\n", { clusters: ["h1", "lab"], n: 1 }],
    ["clusters:\n  - h1\nk:\n  a:\n    b: 1\n  c: 2\n", { clusters: ["h1"], k: { a: { b: 1 }, c: 2 } }],
    ["s: $HOME/common/hf/x y, z:w\n", { s: "$HOME/common/hf/x y, z:w" }],
    ["e: []\nf: [ ]\n", { e: [], f: [] }],
  ])("reads %j", (text, expected) => {
    expect(agrees(text)).toBe("fast");
    expect(fastLoad(text)).toStrictEqual(expected);
  });

  it.each([
    ["a tab", "a:\tb\n"],
    ["CR line ends", "a: b\r\n"],
    ["non-ASCII", "a: café\n"],
    ["non-ASCII in quotes", "a: 'café'\n"],
    ["an anchor and alias", "a: &x 1\nb: *x\n"],
    ["a tag", "a: !!str 1\n"],
    ["a block scalar", "a: |\n  text\n"],
    ["a flow mapping", "a: {b: 1}\n"],
    ["a multi-line plain scalar", "a: one\n  two\n"],
    ["a document marker", "---\na: 1\n"],
    ["a directive", "%YAML 1.2\n---\na: 1\n"],
    ["a duplicate key", "a: 1\na: 2\n"],
    ["a quoted key", "'a': 1\n"],
    ["an escaped quote", "a: 'it''s'\n"],
    ["a backslash escape", 'a: "x\\ty"\n'],
    ["a top-level sequence", "- a\n"],
    ["a top-level scalar", "hello\n"],
    ["an empty text", ""],
    ["only comments", "# nothing\n"],
    ["odd indentation", "a:\n    b: 1\n  c: 2\n"],
    ["a mapping in a sequence", "a:\n- b: 1\n"],
    ["a non-string key", "true: 1\n"],
    ["a __proto__ key", "__proto__: 1\n"],
    ["a value that is a key", "a: b: c\n"],
    ["a comment without a space", "a: 'b'#c\n"],
    ["an indented first line", "  a: 1\n"],
  ])("steps aside for %s", (_what, text) => {
    expect(fastLoad(text)).toBe(OUTSIDE);
  });

  it("agrees on generated texts and their mutations", () => {
    let seed = Number(process.env.YAML_FAST_SEED ?? 12345);
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = <T>(xs: readonly T[]) => xs[random(xs.length)]!;
    const scalars = [
      "x",
      "1",
      "-1",
      "+1",
      "0",
      "-0",
      "007",
      "0x1F",
      "0o17",
      "0b1",
      "1_000",
      "1e3",
      "1.5e-3",
      ".5",
      "5.",
      ".inf",
      "-.Inf",
      "+.INF",
      ".nan",
      ".NaN",
      "~",
      "null",
      "Null",
      "NULL",
      "nULL",
      "true",
      "True",
      "TRUE",
      "tRUE",
      "false",
      "yes",
      "No",
      "on",
      "off",
      "y",
      "n",
      "2026-01-06",
      "2026-01-06T12:35:00Z",
      "12:30",
      "1:2:3",
      "$HOME/common/hf/x",
      "/private/hf/a b",
      "a,b",
      "a;b",
      "a=b",
      "a@b",
      "a%b",
      "a:b",
      "a:",
      ":a",
      "a # b",
      "a#b",
      "'q'",
      "''",
      '"d"',
      '""',
      "'a''b'",
      '"a\\nb"',
      "[a, b]",
      "[ ]",
      "[1, 2.5, ~]",
      "[a,,b]",
      "[a, [b]]",
      "-",
      "- x",
      "-x",
      "-.5",
      "?",
      "? x",
      "&a x",
      "*a",
      "!x y",
      "|",
      ">",
      "{}",
      "@x",
      "`x`",
      "%x",
      "it's",
      "a'b'",
      'a"b',
      "(x)",
      "a!b",
      "a&b",
      "a*b",
      "a?b",
      "a|b",
      "a>b",
      "a<b",
      "a #b",
      "a ## b",
      "a#",
      "/u/{user}",
      "a[0]",
      "a{b: c}",
      "a]",
      "x, [y]",
      "x: y",
      "a\\b",
      "x  ",
      "x   # c",
      "=",
      "<<",
      "0.9",
      "8192",
      "Infinity",
      "NaN",
    ];
    const keys = [
      "a",
      "b",
      "model_id",
      "k-1",
      "k.1",
      "_k",
      "true",
      "null",
      "Yes",
      "1",
      "a b",
      "'a'",
      "<<",
      "__proto__",
      "x",
    ];
    const line = (indent: number): string => {
      const pad = " ".repeat(indent);
      switch (random(7)) {
        case 0:
          return `${pad}# comment`;
        case 1:
          return `${pad}- ${pick(scalars)}`;
        case 2:
          return `${pad}${pick(keys)}:`;
        case 3:
          return "";
        default:
          return `${pad}${pick(keys)}: ${pick(scalars)}`;
      }
    };
    const counts = { fast: 0, outside: 0 };
    // YAML_FAST_FUZZ=200000 runs a longer search.
    for (let n = 0; n < Number(process.env.YAML_FAST_FUZZ ?? 6000); n++) {
      const lines: string[] = [];
      let indent = 0;
      for (let l = 1 + random(8); l > 0; l--) {
        indent = Math.max(0, indent + pick([-2, 0, 0, 0, 2, 1]));
        lines.push(line(indent));
      }
      let text = lines.join("\n") + pick(["\n", "", "\n\n"]);
      counts[agrees(text)]++;
      // One random edit: drop, double or replace a character.
      const at = random(text.length + 1);
      text =
        text.slice(0, at) + pick(["", text[at] ?? "", ":", " ", "\n", "#", "-", "'"]) + text.slice(at + 1);
      counts[agrees(text)]++;
    }
    if (process.env.YAML_FAST_FUZZ) console.log(counts);
    // Both paths are exercised, not only the refusal.
    expect(counts.fast).toBeGreaterThan(1000);
    expect(counts.outside).toBeGreaterThan(1000);
  });
});

describe("block mappings nested deeper than js-yaml allows", () => {
  it("are left to js-yaml, which refuses them", () => {
    let text = "";
    for (let depth = 0; depth < 22; depth++) text += `${" ".repeat(depth)}k${depth}:\n`;
    text += `${" ".repeat(22)}v: 1\n`;
    expect(fastLoad(text)).toBe(OUTSIDE);
    const parsed = parseYamlFile("f.yaml", encode(text));
    expect(parsed.ok || parsed.diagnostics).toEqual([
      {
        file: "f.yaml",
        line: 20,
        column: 20,
        severity: "error",
        code: "E400",
        rule: "yaml-syntax",
        message: "invalid YAML: nesting exceeded maxDepth (20)",
      },
    ]);
  });
});

describe("a fast-read file", () => {
  it("points at the same lines and columns as one read through the events", () => {
    const text =
      "model_id: a\n# c\nengine_kwargs:\n  max_model_len: 8192  # ctx\nclusters:\n- h1\n- lab\nlabels:\n  team: 'x'\n";
    expect(fastLoad(text)).not.toBe(OUTSIDE);
    const fast = parseYamlFile("f.yaml", encode(text));
    const reference = parseYamlFile("f.yaml", encode(text), undefined, { fast: false });
    if (!fast.ok || !reference.ok) throw new Error("expected both to parse");
    for (const pointer of [
      "",
      "/model_id",
      "/engine_kwargs",
      "/engine_kwargs/max_model_len",
      "/clusters/1",
      "/labels/team",
      "/missing",
    ]) {
      expect([pointer, fast.doc.keyAt(pointer), fast.doc.valueAt(pointer)]).toEqual([
        pointer,
        reference.doc.keyAt(pointer),
        reference.doc.valueAt(pointer),
      ]);
    }
    expect(fast.doc.valueAt("/engine_kwargs/max_model_len")).toEqual({ line: 4, column: 18 });
  });
});
