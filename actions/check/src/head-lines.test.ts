import { describe, expect, it } from "vitest";
import { parseLineMaps } from "./head-lines";

const diff = [
  "diff --git a/models/alice/q.yaml b/models/alice/q.yaml",
  "--- a/models/alice/q.yaml",
  "+++ b/models/alice/q.yaml",
  // The merge's first three lines (the base's comments) are not in the head.
  "@@ -1,3 +0,0 @@",
  "-# a",
  "-# b",
  "-# c",
  // Merge line 10 became two lines in the head.
  "@@ -10 +7,2 @@",
  "-x",
  "+y",
  "+z",
  // A line only the head has, after merge line 20.
  "@@ -20,0 +18 @@",
  "+w",
].join("\n");

describe("merge lines to PR head lines", () => {
  it("maps lines around removed, changed and inserted hunks", () => {
    const map = parseLineMaps(diff).get("models/alice/q.yaml")!;
    expect([1, 2, 3].map(map)).toEqual([1, 1, 1]);
    expect(map(4)).toBe(1);
    expect(map(11)).toBe(9);
    expect(map(9)).toBe(6);
    expect(map(10)).toBe(7);
    expect(map(12)).toBe(10);
    expect(map(20)).toBe(18);
    expect(map(21)).toBe(20);
  });

  it("leaves files the diff does not name alone", () => {
    expect(parseLineMaps(diff).has("models/bob/x.yaml")).toBe(false);
    expect(parseLineMaps("").size).toBe(0);
  });
});
