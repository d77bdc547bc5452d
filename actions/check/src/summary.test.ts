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
