// GitHub shows a pull_request run's annotations on the PR head's files, while the check validates GitHub's
// merge commit: where the base branch changed a file too (merged cleanly), the merge's line numbers are not
// the head's. The diff of the two trees maps one to the other.
import type { SimpleGit } from "simple-git";
import type { Diagnostic } from "../../../generator/src";

/** Merge line -> head line for one file, from `git diff -U0 <merge> <head>` hunks (`@@ -a,b +c,d @@`). */
export type LineMap = (line: number) => number;

interface Hunk {
  readonly from: number;
  readonly fromCount: number;
  readonly to: number;
  readonly toCount: number;
}

/** Per file (its path in the head), the line map a unified diff with no context describes. */
export function parseLineMaps(diff: string): Map<string, LineMap> {
  const hunks = new Map<string, Hunk[]>();
  let current: Hunk[] | undefined;
  for (const line of diff.split("\n")) {
    if (line.startsWith("+++ ")) {
      const path = line.slice(4);
      current = path === "/dev/null" ? undefined : [];
      if (current) hunks.set(path.replace(/^b\//, ""), current);
      continue;
    }
    const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (m && current)
      current.push({
        from: Number(m[1]),
        fromCount: m[2] === undefined ? 1 : Number(m[2]),
        to: Number(m[3]),
        toCount: m[4] === undefined ? 1 : Number(m[4]),
      });
  }
  return new Map([...hunks].map(([path, list]) => [path, (line: number) => mapLine(list, line)]));
}

function mapLine(hunks: readonly Hunk[], line: number): number {
  let offset = 0;
  for (const h of hunks) {
    // An insertion (no merge lines) sits after merge line `from`; a change covers from .. from+count-1.
    if (h.fromCount === 0 ? line <= h.from : line < h.from) return line + offset;
    // A line the head does not have (the base's change): the place of that change in the head.
    if (h.fromCount > 0 && line < h.from + h.fromCount) return Math.max(1, h.to);
    offset += h.toCount - h.fromCount;
  }
  return line + offset;
}

/**
 * The diagnostics with the lines of the PR head's files: only for files the head has and the merge changed
 * from it. A diff git cannot make (the head's objects missing) leaves the lines as they are.
 */
export async function onHeadLines(
  git: SimpleGit,
  diagnostics: readonly Diagnostic[],
  merge: string,
  head: string,
): Promise<readonly Diagnostic[]> {
  if (merge === head || diagnostics.length === 0) return diagnostics;
  const files = [...new Set(diagnostics.map((d) => d.file))];
  let maps: Map<string, LineMap>;
  try {
    const diff = await git.raw([
      "diff",
      "--no-color",
      "--no-ext-diff",
      "--no-renames",
      "-U0",
      merge,
      head,
      "--",
      ...files,
    ]);
    maps = parseLineMaps(diff);
  } catch {
    return diagnostics;
  }
  if (maps.size === 0) return diagnostics;
  return diagnostics.map((d) => {
    const map = maps.get(d.file);
    return map ? { ...d, line: map(d.line) } : d;
  });
}
