import { describe, expect, it } from "vitest";
import { MAX_FILE_BYTES, parseYamlFile, positionOf, type YamlDoc } from "./yaml-source";

const encode = (text: string) => new TextEncoder().encode(text);
function doc(text: string): YamlDoc {
  const parsed = parseYamlFile("f.yaml", encode(text));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.diagnostics));
  return parsed.doc;
}
function fail(input: string | Uint8Array) {
  const parsed = parseYamlFile("f.yaml", typeof input === "string" ? encode(input) : input);
  if (parsed.ok) throw new Error("expected a failure");
  return parsed.diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.rule}`);
}

describe("parseYamlFile positions", () => {
  const text = [
    "model_id: a", //                       1
    'model_source: "$HOME/x"', //           2
    "engine_kwargs:", //                    3
    "  max_model_len: 8192", //             4
    "  'quoted key': 'v'", //               5
    "clusters: [h1, lab]", //               6
    "labels:", //                           7
    "  a/b: c", //                          8
    "empty:", //                            9
    "",
  ].join("\n");
  const d = doc(text);

  it.each([
    ["", { line: 1, column: 1 }, { line: 1, column: 1 }],
    ["/model_id", { line: 1, column: 1 }, { line: 1, column: 11 }],
    ["/model_source", { line: 2, column: 1 }, { line: 2, column: 15 }],
    ["/engine_kwargs", { line: 3, column: 1 }, { line: 4, column: 3 }],
    ["/engine_kwargs/max_model_len", { line: 4, column: 3 }, { line: 4, column: 18 }],
    ["/engine_kwargs/quoted key", { line: 5, column: 3 }, { line: 5, column: 17 }],
    ["/clusters/1", { line: 6, column: 16 }, { line: 6, column: 16 }],
    ["/labels/a~1b", { line: 8, column: 3 }, { line: 8, column: 8 }],
    // A null value has no text of its own: point at its key.
    ["/empty", { line: 9, column: 1 }, { line: 9, column: 1 }],
    // Absent paths fall back to the nearest parent.
    ["/engine_kwargs/missing", { line: 3, column: 1 }, { line: 4, column: 3 }],
  ])("%s: key %j, value %j", (pointer, key, value) => {
    expect(d.keyAt(pointer)).toEqual(key);
    expect(d.valueAt(pointer)).toEqual(value);
  });

  it("builds the value from the same parse", () => {
    expect(d.value).toEqual({
      model_id: "a",
      model_source: "$HOME/x",
      engine_kwargs: { max_model_len: 8192, "quoted key": "v" },
      clusters: ["h1", "lab"],
      labels: { "a/b": "c" },
      empty: null,
    });
  });

  it("counts columns after a byte order mark and across CRLF line ends", () => {
    const crlf = doc("\uFEFFa: 1\r\nb: 2\r\n");
    expect(crlf.value).toEqual({ a: 1, b: 2 });
    expect(crlf.valueAt("/b")).toEqual({ line: 2, column: 4 });
  });

  it("computes positions lazily and repeatably", () => {
    const lazy = doc("a:\n  b: [1, {c: 2}]\n");
    expect(lazy.valueAt("/a/b/1/c")).toEqual({ line: 2, column: 14 });
    expect(lazy.valueAt("/a/b/1/c")).toEqual({ line: 2, column: 14 });
  });
});

describe("parseYamlFile refusals", () => {
  it.each([
    ["", "1:1 E400 yaml-empty"],
    ["# comment only\n", "1:1 E400 yaml-empty"],
    ["---\n...\n", "1:1 E400 yaml-empty"],
    ["a: 1\n---\nb: 2\n", "3:1 E400 yaml-multiple-documents"],
    ["a: 1\na: 2\n", "2:1 E400 yaml-duplicate-key"],
    ["a: &x 1\n", "1:4 E400 yaml-anchor"],
    ["a: [&x 1]\n", "1:5 E400 yaml-anchor"],
    ["a: *x\n", "1:4 E400 yaml-alias"],
    ["a: !!str 1\n", "1:4 E400 yaml-tag"],
    ["a: !custom 1\n", "1:4 E400 yaml-tag"],
    ["%TAG ! tag:example.com,2000:\n---\na: !x 1\n", "3:4 E400 yaml-tag"],
    ["a: b: c\n", "1:5 E400 yaml-syntax"],
    ["a:\n\tb: 1\n", "2:1 E400 yaml-syntax"],
    [`a: ${"[".repeat(40)}${"]".repeat(40)}\n`, "1:23 E400 yaml-syntax"],
    ["a: 1\u0000\n", "1:5 E400 yaml-not-utf8"],
  ])("%j -> %s", (input, expected) => {
    expect(fail(input)).toEqual([expected]);
  });

  it("tells a file of only comments from an empty one", () => {
    const message = (input: string) => {
      const parsed = parseYamlFile("f.yaml", encode(input));
      return parsed.ok ? "" : parsed.diagnostics[0]!.message;
    };
    expect(message("")).toBe("file is empty: expected a YAML mapping");
    expect(message("\n  \n")).toBe("file is empty: expected a YAML mapping");
    expect(message("# model_id: x\n# num_replicas: 1\n")).toBe(
      "file holds only comments, blank lines or document markers (`---`): expected a YAML mapping (a line starting with `#` is a comment, not a field)",
    );
    expect(message("---\n...\n")).toBe(message("# x\n"));
  });

  it("points at the first invalid UTF-8 byte", () => {
    expect(fail(new Uint8Array([...encode("a: 1\nb: caf"), 0xe9, 0x0a]))).toEqual(["2:7 E400 yaml-not-utf8"]);
    expect(fail(new Uint8Array([0xc3]))).toEqual(["1:1 E400 yaml-not-utf8"]);
  });

  it("refuses a file over 64 KiB without decoding it", () => {
    const bytes = new Uint8Array(MAX_FILE_BYTES + 1).fill(0xff);
    expect(fail(bytes)).toEqual(["1:1 E400 file-too-large"]);
  });

  it("never throws on truncated or odd input", () => {
    const samples = [
      "a: 'x",
      'a: "\\u12',
      "? a\n? b\n",
      "[a, b",
      "{a: 1",
      "- - - -",
      "a: |\n  x\n b",
      ": :",
      "&",
      "*",
      "!",
      "%",
      "@x",
      "`x",
    ];
    for (const s of samples) expect(() => parseYamlFile("f.yaml", encode(s))).not.toThrow();
  });
});

describe("keys js-yaml turns into other names", () => {
  it("finds an empty key next to its value, and plain keys by the name js-yaml gives them", () => {
    const text = "model_id: t\n: 1\n0x10: 2\ntrue: 3\n'0x10': 4\n";
    const parsed = parseYamlFile("models/alice/t.yaml", new TextEncoder().encode(text));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(Object.keys(parsed.doc.value as object).sort()).toEqual([
      "0x10",
      "16",
      "model_id",
      "null",
      "true",
    ]);
    expect(parsed.doc.keyAt("/null")).toEqual({ line: 2, column: 3 });
    expect(parsed.doc.keyAt("/16")).toEqual({ line: 3, column: 1 });
    expect(parsed.doc.keyAt("/true")).toEqual({ line: 4, column: 1 });
    expect(parsed.doc.keyAt("/0x10")).toEqual({ line: 5, column: 1 });
  });
});

describe("positionOf", () => {
  it("is 1-based and clamps out-of-range offsets", () => {
    expect(positionOf("ab\ncd", 0)).toEqual({ line: 1, column: 1 });
    expect(positionOf("ab\ncd", 3)).toEqual({ line: 2, column: 1 });
    expect(positionOf("ab\ncd", 99)).toEqual({ line: 2, column: 3 });
    expect(positionOf("ab", -5)).toEqual({ line: 1, column: 1 });
  });

  it("breaks lines where YAML does: LF, CRLF and a lone CR", () => {
    expect(positionOf("a\rb\r\nc\nd", 2)).toEqual({ line: 2, column: 1 });
    expect(positionOf("a\rb\r\nc\nd", 5)).toEqual({ line: 3, column: 1 });
    expect(positionOf("a\rb\r\nc\nd", 7)).toEqual({ line: 4, column: 1 });
    const cr = "model_id: cr\rmodel_source: $HOME/x\rnum_replicas: 0\r";
    const parsed = parseYamlFile("models/bob/cr.yaml", new TextEncoder().encode(cr));
    expect(parsed.ok && parsed.doc.valueAt("/num_replicas")).toEqual({ line: 3, column: 15 });
  });
});

describe("positions in unusual but valid YAML", () => {
  it("points a block scalar's value at the value, not at the indentation of its first line", () => {
    // `num_replicas: |` then `  2`: the value as written starts at `|` (as a quoted one starts at its quote),
    // its text at the 2 on line 4; column 1 of line 4 is indentation, no part of the value.
    const d = doc("model_id: a\nmodel_source: $HOME/x\nnum_replicas: |\n  2\n");
    expect([
      { line: 3, column: 15 },
      { line: 4, column: 3 },
    ]).toContainEqual(d.valueAt("/num_replicas"));
    const nested = doc("model_id: a\nengine_kwargs:\n  revision: >-\n    abc\n    def\n");
    expect([
      { line: 3, column: 13 },
      { line: 4, column: 5 },
    ]).toContainEqual(nested.valueAt("/engine_kwargs/revision"));
  });

  it("points a duplicate quoted key at its opening quote and names it without the quote", () => {
    for (const quote of ["'", '"']) {
      const text = `model_id: a\nmodel_source: $HOME/x\n${quote}model_id${quote}: b\n`;
      expect(fail(text)).toEqual(["3:1 E400 yaml-duplicate-key"]);
      const parsed = parseYamlFile("f.yaml", encode(text));
      expect(!parsed.ok && parsed.diagnostics[0]!.message).toMatch(/^duplicate key `model_id`:/);
    }
  });
});
