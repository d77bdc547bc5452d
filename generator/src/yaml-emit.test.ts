import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { emitYaml } from "./yaml-emit";

// The fragment writer is ours, so its one promise is pinned here: load(emitYaml(x)) equals x for any
// plain JSON data, whatever the strings hold.

const roundTrip = (value: Record<string, unknown>) => expect(load(emitYaml(value))).toEqual(value);

const TRICKY_STRINGS = [
  "",
  " ",
  "  lead",
  "trail ",
  "true",
  "False",
  "NULL",
  "null",
  "~",
  "yes",
  "No",
  "on",
  "OFF",
  "y",
  "N",
  "1",
  "-1",
  "1.5",
  "1e3",
  "0x1F",
  "0o17",
  ".inf",
  "-.inf",
  ".nan",
  "1:20",
  "2026-01-06",
  "2026-01-06T12:35:00Z",
  "a: b",
  "a:",
  "a:b",
  "- a",
  "-",
  "? a",
  "#c",
  "a #c",
  "a#c",
  "&a",
  "*a",
  "!a",
  "!!str",
  "%a",
  "@a",
  "`a`",
  "'a'",
  '"a"',
  "{a}",
  "[a]",
  "a, b",
  "|",
  ">",
  "<<",
  "=",
  "a\nb",
  "a\r\nb",
  "a\tb",
  "\u0000",
  "\u001b[2J",
  "\u007f",
  "\u0085",
  "\u2028",
  "\u2029",
  "\ufeff",
  "é",
  "😀",
  "\ud800",
  "/private/hf/x",
  "$HOME/x",
  "LLMServer:alice-202601061235-qwen-0_5b",
  "https://dstack.company.com/a/v1",
  "x".repeat(500),
];

describe("emitYaml", () => {
  it("round-trips a fragment-shaped value", () => {
    roundTrip({
      cluster: "h1",
      served_name: "alice-202601061235-qwen-0.5b",
      created: "2026-01-06T12:35:00Z",
      gpus: 2,
      llm_config: {
        model_loading_config: { model_id: "alice-202601061235-qwen-0.5b", model_source: "/private/hf/x" },
        deployment_config: { name: "alice-202601061235-qwen-0_5b", num_replicas: 1 },
        engine_kwargs: {
          max_model_len: 8192,
          gpu_memory_utilization: 0.9,
          enable_prefix_caching: true,
          max_num_seqs: null,
        },
      },
      deployment: {
        name: "LLMServer:alice",
        num_replicas: "auto",
        autoscaling_config: { min_replicas: 0, max_replicas: 2 },
      },
    });
  });

  it.each(TRICKY_STRINGS.map((s) => [JSON.stringify(s), s]))(
    "round-trips the string %s as a value and as a key",
    (_, text) => {
      roundTrip({ value: text, [text]: 1, list: [text, { [text]: text }] });
    },
  );

  it("round-trips numbers, booleans, null, empty and nested collections", () => {
    roundTrip({
      n: [0, 1, -1, 0.5, 1e21, 1e-7, Number.MAX_SAFE_INTEGER, -123.456],
      b: [true, false],
      z: null,
      e: {},
      a: [],
      nested: [[1, [2, [3]]], [], {}, [{ a: [] }], { a: { b: { c: [{ d: "e" }] } } }],
      mixed: [{ a: 1, b: [1, 2] }, "x", null, [{}]],
    });
  });

  it("round-trips 300 random values", () => {
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    const value = (depth: number): unknown => {
      const r = next();
      if (depth > 3 || r < 0.4) return pick<unknown>([...TRICKY_STRINGS, 0, 1.25, -7, true, false, null]);
      if (r < 0.7) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(next() * 4) }, () => [pick(TRICKY_STRINGS), value(depth + 1)]),
      );
    };
    for (let i = 0; i < 300; i++) {
      const v = { root: value(0), [pick(TRICKY_STRINGS)]: value(1) };
      expect(load(emitYaml(v)), emitYaml(v)).toEqual(v);
    }
  });

  it("is deterministic and keeps key order", () => {
    const text = emitYaml({ b: 1, a: { d: 2, c: 3 } });
    expect(text).toBe("b: 1\na:\n  d: 2\n  c: 3\n");
    expect(emitYaml({ b: 1, a: { d: 2, c: 3 } })).toBe(text);
  });
});
