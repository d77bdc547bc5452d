import { describe, expect, it, vi } from "vitest";
import { diagnostic, PLAN_MARKER } from "../../../generator/src";
import { COMMENT_LIMIT, commentBody, cut } from "./comment-body";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const URL = "https://github.com/acme/serving/actions/runs/1";

describe("commentBody", () => {
  it("starts with the marker and says whether the change passes", () => {
    const body = commentBody({
      ok: true,
      headSha: SHA,
      diagnostics: [],
      plan: "No model changes.\n",
      summaryUrl: URL,
    });
    expect(body.split("\n")[0]).toBe(PLAN_MARKER);
    expect(body).toContain("### serve-gitops plan for 0123456: ✅ passes");
  });

  it("lists errors with their place, each message one code span", () => {
    const d = diagnostic(
      "engine-kwarg-unknown",
      "models/alice/a.yaml",
      { line: 7, column: 3 },
      "did you mean `max_model_len`?",
    );
    const body = commentBody({ ok: false, headSha: SHA, diagnostics: [d], plan: "", summaryUrl: URL });
    expect(body).toContain("❌ 1 error");
    expect(body).toContain(
      "- `models/alice/a.yaml:7` E400 engine-kwarg-unknown: ``did you mean `max_model_len`?``",
    );
  });

  it("keeps an owner's value in a message from mentioning, linking, rendering HTML or forging the marker", () => {
    const value =
      "@acme/platform-admins see https://evil.example/login <img src=https://evil.example/p.png> <!-- serve-gitops:plan -->";
    const d = diagnostic(
      "invalid-value",
      "models/alice/a.yaml",
      { line: 1, column: 11 },
      `model_id "${value}" is not valid`,
    );
    const body = commentBody({ ok: false, headSha: SHA, diagnostics: [d], plan: "", summaryUrl: URL });
    const item = body.split("\n").find((l) => l.startsWith("- "))!;
    expect(item).toBe(`- \`models/alice/a.yaml:1\` E400 invalid-value: \`model_id "${value}" is not valid\``);
    expect(body.indexOf("<!-- serve-gitops:plan -->")).toBe(0);
    expect(body.lastIndexOf("<!-- serve-gitops:plan -->")).toBeGreaterThan(0); // only inside the code span
  });

  it("keeps a file name with newlines and backticks inside one code span", () => {
    const file = "docs/x`\n\n## ✅ approved by @platform-admin\n![t](https://evil.example/t.png)\n<!--.md";
    const d = diagnostic("ownership", file, { line: 1, column: 1 }, "needs an admin");
    const body = commentBody({ ok: false, headSha: SHA, diagnostics: [d], plan: "", summaryUrl: URL });
    const item = body.split("\n").find((l) => l.startsWith("- "))!;
    expect(item).toBe(
      "- ``docs/x`\\u000a\\u000a## ✅ approved by @platform-admin\\u000a![t](https://evil.example/t.png)\\u000a<!--.md:1`` E403 ownership: `needs an admin`",
    );
    expect(body.split("\n").filter((l) => l.startsWith("## "))).toEqual([]);
  });

  it("cuts a long plan under GitHub's 65,536 characters and links to the job summary", () => {
    const plan = Array.from(
      { length: 5000 },
      (_, i) => `| 🟢 deploy | \`alice-202601061235-model-${i}\` | 1x1 GPU | 1 | https://x/v1 |`,
    ).join("\n");
    const body = commentBody({ ok: true, headSha: SHA, diagnostics: [], plan, summaryUrl: URL });
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect([...body].length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body).toContain(`The whole plan is in the [job summary](${URL}).`);
    expect(body.startsWith(PLAN_MARKER)).toBe(true);
  });

  it("formats the limit in its notice without Intl, whose first use costs a run 15-35 ms of ICU start-up", () => {
    const intl = vi.spyOn(Number.prototype, "toLocaleString");
    try {
      const plan = Array.from({ length: 200 }, (_, i) => `- model-${i}`).join("\n");
      const body = commentBody({ ok: true, headSha: SHA, diagnostics: [], plan, summaryUrl: URL }, 1_234_567);
      expect(body).not.toContain("cut here");
      const cutBody = commentBody({ ok: true, headSha: SHA, diagnostics: [], plan, summaryUrl: URL }, 1_000);
      expect(cutBody).toContain("a PR comment holds at most 1,000 characters");
      expect(commentBody({ ok: true, headSha: SHA, diagnostics: [], plan, summaryUrl: URL }, 900)).toContain(
        "at most 900 characters",
      );
      expect(intl).not.toHaveBeenCalled();
    } finally {
      intl.mockRestore();
    }
  });
});

describe("cut", () => {
  it("leaves short text alone and closes a <details> block the cut left open", () => {
    expect(cut("short", 100, "!")).toBe("short");
    // Exactly at the limit still fits whole.
    expect(cut("x".repeat(100), 100, "!")).toBe("x".repeat(100));
    const text = `<details><summary>x</summary>\n${"- line\n".repeat(100)}</details>\n`;
    const out = cut(text, 200, "\nCUT\n");
    expect(out.length).toBeLessThanOrEqual(200);
    expect(out).toMatch(/<\/details>\nCUT\n$/);
  });

  it("counts only the plan's own <details> tags, not an owner's value that quotes one", () => {
    // The value closes a tag it never opened: counted, the open block would stay open and hide the notice.
    const text = `<details><summary>x</summary>\n\n- \`revision "</details> </details>"\`\n${"- line\n".repeat(100)}</details>\n`;
    const out = cut(text, 200, "\nCUT\n");
    expect(out).toMatch(/\n<\/details>\nCUT\n$/);
  });
});
