import { describe, expect, it } from "vitest";
import { describe as text, fitDescription } from "./describe";

describe("fitDescription", () => {
  it("keeps at most 140 code points, cutting with an ellipsis", () => {
    const out = fitDescription("é".repeat(200));
    expect([...out]).toHaveLength(140);
    expect(out.endsWith("\u2026")).toBe(true);
    expect(fitDescription("short")).toBe("short");
  });
  it("replaces 4-byte characters (GitHub rejects them) and flattens whitespace and control characters", () => {
    expect(fitDescription("ok \u{1F680} done")).toBe("ok \ufffd done");
    expect(fitDescription("line one\n  line\u0007two\t")).toBe("line one line two");
  });
  it("says what the issue asks for", () => {
    expect(text.deploying("2x1 GPU")).toBe("deploying 2x1 GPU");
    expect(text.running("alice-202601061235-qwen-0.5b")).toBe("RUNNING alice-202601061235-qwen-0.5b");
    expect(text.superseded("0123456789abcdef")).toBe("superseded by 0123456");
    expect(text.cluster({ running: 12, deploying: 1, undeploying: 0, failed: 0 })).toBe(
      "12 running, 1 deploying, 0 failed",
    );
    expect(text.cluster({ running: 1, deploying: 0, undeploying: 2, failed: 0 })).toBe(
      "1 running, 0 deploying, 2 undeploying, 0 failed",
    );
  });
});
