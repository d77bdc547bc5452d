import { describe, expect, it } from "vitest";
import { diagnostic } from "../../../generator/src";
import { summaryMarkdown } from "./summary";

describe("summaryMarkdown", () => {
  it("keeps a file name with newlines, backticks and pipes inside its table cell", () => {
    const file = "docs/a`b|c\n\n## ✅ approved\n<!--.md";
    const d = diagnostic("ownership", file, { line: 1, column: 1 }, "needs an admin");
    const text = summaryMarkdown({
      ok: false,
      subject: "PR",
      diagnostics: [d],
      render: { diff: { stale: [], missing: [], extra: [file] }, fragments: 1 },
      plan: "",
      notes: [],
    });
    expect(text).toContain(
      "| ``docs/a`b\\|c\\u000a\\u000a## ✅ approved\\u000a<!--.md`` | 1:1 | E403 | ownership | `needs an admin` |",
    );
    expect(text).toContain("- extra: ``docs/a`b|c\\u000a\\u000a## ✅ approved\\u000a<!--.md``");
    expect(text.split("\n").filter((l) => l.startsWith("## "))).toEqual(["## serve-gitops check ❌ failed"]);
  });
});

describe("summaryMarkdown's size", () => {
  it("stays within GitHub's 1 MiB of job summary, which the runner measures in bytes, for non-Latin file names", () => {
    // A docs PR by a model owner adding many files named in Japanese: each an E403 with its name twice.
    const name = "ドキュメント".repeat(20);
    const diagnostics = Array.from({ length: 3000 }, (_, i) => {
      const file = `docs/${name}-${i}.md`;
      return diagnostic(
        "ownership",
        file,
        { line: 1, column: 1 },
        `${file} is an admin path; @alice may change only models/alice/ and clusters/*/rendered/alice/. This change needs an admin (@platform-admin).`,
      );
    });
    const text = summaryMarkdown({ ok: false, subject: "PR", diagnostics, plan: "", notes: [] });
    // actions/runner: `new FileInfo(filePath).Length > 1024 * 1024` drops the whole summary
    // ("$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k").
    expect(Buffer.byteLength(text, "utf8")).toBeLessThanOrEqual(1024 * 1024);
    // Cut, not dropped: as much as fits, then the notice.
    expect(Buffer.byteLength(text, "utf8")).toBeGreaterThan(900_000);
    expect(text.endsWith("GitHub keeps at most 1 MiB per step.\n")).toBe(true);
  });
});
