import { describe, expect, it } from "vitest";
import { TEMPLATE_REPO } from "../test-fixtures/helpers";
import { readWorkingTree } from "./io/working-tree";
import type { RepoSnapshot } from "./types";
import { createSpecMemo, RollingSpecMemo, validateRepo } from "./validate";

// The template's examples (alice's qwen-0.5b and llama-8b, bob's qwen-7b on h1 and lab), frozen in test-fixtures.
const repo = readWorkingTree(TEMPLATE_REPO);
const withFile = (snapshot: RepoSnapshot, path: string, text: string): RepoSnapshot => {
  const files = new Map(snapshot.files);
  files.set(path, { path, kind: "file", bytes: Buffer.from(text) });
  return { files, label: "edited" };
};

describe("spec memo", () => {
  it("reuses a spec's result when the file and every cluster.yaml are unchanged", () => {
    const memo = createSpecMemo();
    validateRepo(repo, { memo });
    const size = memo.size;
    const first = [...memo.values()];
    validateRepo(repo, { memo });
    expect(memo.size).toBe(size);
    expect([...memo.values()].every((result, i) => result === first[i])).toBe(true);
  });

  it("revalidates every spec when a cluster.yaml changes, so a reuse is never stale", () => {
    const memo = createSpecMemo();
    expect(validateRepo(repo, { memo }).ok).toBe(true);
    const cluster = new TextDecoder().decode(repo.files.get("clusters/h1/cluster.yaml")!.bytes);
    // One node of 1 GPU: llama-8b's 2 GPUs per replica no longer fit, which only a fresh validation sees.
    const shrunk = withFile(
      repo,
      "clusters/h1/cluster.yaml",
      cluster.replace("gpus_per_node: 8", "gpus_per_node: 1"),
    );
    const result = validateRepo(shrunk, { memo });
    expect(result.diagnostics.filter((d) => d.rule === "gpus-per-node").map((d) => d.file)).toEqual([
      "models/alice/llama-8b.yaml",
    ]);
  });

  it("revalidates a spec whose bytes changed", () => {
    const memo = createSpecMemo();
    validateRepo(repo, { memo });
    const spec = new TextDecoder().decode(repo.files.get("models/alice/qwen-0.5b.yaml")!.bytes);
    const broken = withFile(
      repo,
      "models/alice/qwen-0.5b.yaml",
      spec.replace("max_model_len", "max_model_lenght"),
    );
    expect(validateRepo(broken, { memo }).diagnostics.map((d) => d.rule)).toContain("engine-kwarg-unknown");
  });
});

describe("rolling spec memo", () => {
  it("reuses the previous snapshot's results and forgets those no snapshot used since", () => {
    const memo = new RollingSpecMemo();
    validateRepo(repo, { memo });
    const first = new Map(memo);
    memo.rotate();
    expect(memo.size).toBe(0);
    // The next snapshot finds every result of the previous one, and keeps the ones it used.
    const spec = new TextDecoder().decode(repo.files.get("models/alice/qwen-0.5b.yaml")!.bytes);
    const edited = withFile(
      repo,
      "models/alice/qwen-0.5b.yaml",
      spec.replace("num_replicas: 1", "num_replicas: 2"),
    );
    validateRepo(edited, { memo });
    for (const [key, result] of first) {
      if (key.startsWith("models/alice/qwen-0.5b.yaml\0")) expect(memo.has(key)).toBe(false);
      else expect(memo.get(key)).toBe(result);
    }
    memo.rotate();
    validateRepo(edited, { memo });
    memo.rotate();
    // Two generations later the original qwen-0.5b result is gone: the memo holds at most two snapshots' worth.
    const stale = [...first.keys()].find((k) => k.startsWith("models/alice/qwen-0.5b.yaml\0"))!;
    expect(memo.get(stale)).toBeUndefined();
    expect(memo.get([...first.keys()].find((k) => k.startsWith("models/bob/"))!)).toBe(
      first.get([...first.keys()].find((k) => k.startsWith("models/bob/"))!),
    );
  });
});
