import { describe, expect, it } from "vitest";
import { diagnostic, type Diagnostic } from "../../../generator/src";
import { annotationProperties, ANNOTATIONS_PER_SEVERITY, planAnnotations } from "./annotations";
import { createRedactor } from "./redact";

const error = (file: string, line = 1): Diagnostic =>
  diagnostic("yaml-syntax", file, { line, column: 1 }, "broken");
const warning = (file: string): Diagnostic => diagnostic("packing", file, { line: 1, column: 1 }, "tight");

describe("planAnnotations", () => {
  it("annotates the files the change touched first, since GitHub shows only ten errors per step", () => {
    const untouched = Array.from({ length: 12 }, (_, i) =>
      error(`models/bob/m${String(i).padStart(2, "0")}.yaml`),
    );
    const mine = [error("models/alice/a.yaml", 3), error("models/alice/b.yaml")];
    const { annotate, rest } = planAnnotations(
      [...untouched, ...mine],
      new Set(["models/alice/a.yaml", "models/alice/b.yaml"]),
    );
    expect(annotate).toHaveLength(ANNOTATIONS_PER_SEVERITY);
    expect(annotate.slice(0, 2)).toEqual(mine);
    expect(rest).toHaveLength(4);
  });

  it("counts errors and warnings separately", () => {
    const list = [
      ...Array.from({ length: 11 }, (_, i) => error(`f${i}`)),
      ...Array.from({ length: 3 }, (_, i) => warning(`w${i}`)),
    ];
    const { annotate, rest } = planAnnotations(list, new Set());
    expect(annotate.filter((d) => d.severity === "warning")).toHaveLength(3);
    expect(rest).toEqual([list[10]]);
  });

  it("keeps within a smaller budget, leaving room for the Action's own annotations", () => {
    const list = [
      ...Array.from({ length: 12 }, (_, i) => error(`f${i}`)),
      ...Array.from({ length: 12 }, (_, i) => warning(`w${i}`)),
    ];
    const { annotate, rest } = planAnnotations(list, new Set(), { error: 9, warning: 8 });
    expect(annotate.filter((d) => d.severity === "error")).toHaveLength(9);
    expect(annotate.filter((d) => d.severity === "warning")).toHaveLength(8);
    expect(rest).toHaveLength(7);
  });
});

describe("annotationProperties", () => {
  it("masks the token in the file an annotation names, as in its message (a file named with the token)", () => {
    const token = "ghs_workflowTokenAAAA1111bbbb2222cccc3333";
    const d = diagnostic("name-mismatch", `models/alice/${token}.yaml`, { line: 1, column: 11 }, "rename");
    expect(annotationProperties(d, createRedactor([token]))).toEqual({
      title: "E400 name-mismatch",
      file: "models/alice/***.yaml",
      startLine: 1,
      startColumn: 11,
    });
  });
});
