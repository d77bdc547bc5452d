import { describe, expect, it } from "vitest";
import { checkModelSource, expandMacros } from "./model-source";

const ROOTS = { shared: ["/private/hf"], user: "/private/users/{user}" };
const check = (source: string, allowHub = false) => checkModelSource(source, "alice", ROOTS, allowHub);
const rule = (source: string, allowHub = false) => {
  const result = check(source, allowHub);
  return result.ok ? "ok" : result.rule;
};

describe("expandMacros", () => {
  it.each([
    ["$HOME/common/hf/x", "/private/hf/x"],
    ["$HOME/common/datasets/x", "/private/datasets/x"],
    ["$HOME/x", "/private/users/alice/x"],
    ["$HOME", "/private/users/alice"],
    ["$HOME/common/hf", "/private/hf"],
    // A macro must end at "/" or the end of the string, and only expands at the start.
    ["$HOMEx/y", "$HOMEx/y"],
    ["$HOME/common/hfx/y", "/private/users/alice/common/hfx/y"],
    ["/private/hf/$HOME/x", "/private/hf/$HOME/x"],
  ])("%s -> %s", (source, expanded) => {
    expect(expandMacros(source, "alice")).toBe(expanded);
  });
});

describe("checkModelSource", () => {
  it.each([
    [
      "$HOME/common/hf/hub/models--Qwen--Qwen2.5-0.5B-Instruct/snapshots/abc",
      "/private/hf/hub/models--Qwen--Qwen2.5-0.5B-Instruct/snapshots/abc",
    ],
    ["$HOME/checkpoints/ft", "/private/users/alice/checkpoints/ft"],
    ["/private/hf/x", "/private/hf/x"],
    ["/private/users/alice/x y", "/private/users/alice/x y"],
    ["/private/users/alice/%zz", "/private/users/alice/%zz"],
  ])("accepts %s", (source, resolved) => {
    expect(check(source)).toEqual({ ok: true, resolved, kind: "path" });
  });

  it.each([
    // traversal in all its spellings
    ["$HOME/../bob/x", "model-source-traversal"],
    ["$HOME/./x", "model-source-traversal"],
    ["/private/hf/../users/bob", "model-source-traversal"],
    ["/private/hf/x/..", "model-source-traversal"],
    ["$HOME/%2e%2e/bob", "model-source-traversal"],
    ["$HOME/%2E%2e/bob", "model-source-traversal"],
    ["$HOME/%2e/x", "model-source-traversal"],
    ["$HOME/a%2fb", "model-source-traversal"],
    ["$HOME/a%2Fb", "model-source-traversal"],
    ["$HOME/%252e%252e/bob", "model-source-traversal"],
    ["$HOME//x", "model-source-traversal"],
    ["/private/hf//x", "model-source-traversal"],
    ["$HOME/x/", "model-source-traversal"],
    ["$HOME\\..\\bob", "model-source-traversal"],
    ["/private/hf/x\\..\\..\\etc", "model-source-traversal"],
    ["$HOME/x%5c..%5cbob", "model-source-traversal"],
    // Before the relative/hub branch: without a macro match this is no absolute path, yet still a traversal.
    ["$HOME%5c..%5cbob", "model-source-traversal"],
    ["$HOME/a\tb", "model-source-traversal"],
    ["$HOME/a\nb", "model-source-traversal"],
    ["$HOME/a\u0000b", "model-source-traversal"],
    ["$HOME/a\u001bb", "model-source-traversal"],
    ["$HOME/a\u007fb", "model-source-traversal"],
    ["$HOME/a\u0085b", "model-source-traversal"],
    ["$HOME/a\u2028b", "model-source-traversal"],
    ["$HOME/a\u2029b", "model-source-traversal"],
    // invisible formatting: zero-width, bidi overrides and isolates, a BOM inside
    ["$HOME/a\u200bb", "model-source-traversal"],
    ["$HOME/a\u202eb", "model-source-traversal"],
    ["$HOME/a\u2066b", "model-source-traversal"],
    ["/private/hf/\ufeffx", "model-source-traversal"],
    ["$HOME/x\ufe0f/y", "model-source-traversal"],
    ["$HOME/a\u034fb", "model-source-traversal"],
    ["$HOME/a\u3164b", "model-source-traversal"],
    ["$HOME/a\u{e0101}b", "model-source-traversal"],
    // white space around a segment
    ["/private/hf/a ", "invalid-value"],
    ["/private/hf/ ", "invalid-value"],
    ["$HOME/ a/b", "invalid-value"],
    [" /private/hf/a", "invalid-value"],
    // other users and other places
    ["/private/users/bob/x", "model-source-other-user"],
    ["$HOME/common/../../bob", "model-source-traversal"],
    ["/private/users/alicex/x", "model-source-other-user"],
    ["/private/users/alice", "model-source-outside-roots"],
    ["$HOME", "model-source-outside-roots"],
    ["/private/hf", "model-source-outside-roots"],
    ["/private/hfx/y", "model-source-outside-roots"],
    ["/etc/passwd", "model-source-outside-roots"],
    ["$HOME/common/datasets/imagenet", "model-source-outside-roots"],
    ["/private/datasets/x", "model-source-outside-roots"],
    ["./x", "model-source-outside-roots"],
    ["../bob/x", "model-source-outside-roots"],
    ["x", "model-source-outside-roots"],
    ["~/x", "model-source-outside-roots"],
    ["$home/x", "model-source-outside-roots"],
    // URLs
    ["http://example.com/model", "model-source-url"],
    ["https://huggingface.co/Qwen/Qwen3-8B", "model-source-url"],
    ["s3://bucket/model", "model-source-url"],
    ["file:///private/hf/x", "model-source-url"],
    ["hf:Qwen/Qwen3-8B", "model-source-url"],
    // empty
    ["", "invalid-value"],
    ["   ", "invalid-value"],
    // hub ids
    ["Qwen/Qwen3-8B", "model-source-hub-not-allowed"],
  ])("refuses %j as %s", (source, expected) => {
    expect(rule(source)).toBe(expected);
  });

  it("keeps spaces inside a segment, and names repo ids in the message where hub sources are allowed", () => {
    expect(check("/private/hf/my model")).toMatchObject({ ok: true });
    const hub = check("org/name@main", true);
    expect(hub).toMatchObject({ ok: false, rule: "model-source-outside-roots" });
    expect(hub.ok || hub.message).toContain("or be a Hugging Face repo id org/name");
  });

  it("says datasets are no model root", () => {
    const result = check("$HOME/common/datasets/imagenet");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain("datasets, which is not a model root");
  });

  it("says a root itself is no model folder, rather than that it lies outside itself", () => {
    // "$HOME" and "/private/hf" are the roots, not folders under them. Being told that "/private/users/alice"
    // is "outside the allowed roots /private/hf/, /private/users/alice/" contradicts itself.
    for (const source of ["$HOME", "$HOME/common/hf", "/private/hf", "/private/users/alice"]) {
      const result = check(source);
      expect(result.ok, source).toBe(false);
      expect(!result.ok && result.rule, source).toBe("model-source-outside-roots");
      expect(!result.ok && result.message, source).not.toContain("is outside the allowed roots");
    }
  });

  it("names the other user's folder and the owner's own", () => {
    const result = check("/private/users/bob/x");
    expect(!result.ok && result.message).toBe(
      "model_source points into another user's folder (/private/users/bob): use /private/users/alice/... or a shared root",
    );
  });

  it("allows a hub repo id only where the cluster allows hub sources", () => {
    expect(check("Qwen/Qwen3-8B", true)).toEqual({ ok: true, resolved: "Qwen/Qwen3-8B", kind: "hub" });
    expect(rule("meta-llama/Llama-3.1-8B-Instruct", true)).toBe("ok");
    expect(rule("Qwen/../etc", true)).toBe("model-source-outside-roots");
    expect(rule("a/b/c", true)).toBe("model-source-outside-roots");
    expect(rule("a/b..c", true)).toBe("model-source-outside-roots");
    expect(rule("$HOME/../x", true)).toBe("model-source-traversal");
  });

  it("uses the cluster's configured roots", () => {
    const roots = { shared: ["/data/models", "/mnt/hub"], user: "/home/{user}/models" };
    expect(checkModelSource("/mnt/hub/x", "alice", roots, false).ok).toBe(true);
    expect(checkModelSource("/home/alice/models/x", "alice", roots, false).ok).toBe(true);
    const other = checkModelSource("/home/bob/models/x", "alice", roots, false);
    expect(!other.ok && other.rule).toBe("model-source-other-user");
    // $HOME still expands to the platform's user folder, which this cluster does not allow.
    const home = checkModelSource("$HOME/x", "alice", roots, false);
    expect(!home.ok && home.rule).toBe("model-source-outside-roots");
  });

  it("clips very long values in messages", () => {
    const result = check(`/etc/${"x".repeat(4000)}`);
    expect(!result.ok && result.message.length).toBeLessThan(250);
  });
});
