import { describe, expect, it } from "vitest";
import { bare, NOW, specText, withFiles, type FileChange } from "../test-fixtures/helpers";
import { checkRepo } from "./pipeline";
import { fragmentPath, GENERATOR_VERSION } from "./render";
import { renderGaps, renderStaleDiagnostics } from "./render-check";
import type { RepoSnapshot } from "./types";
import { validateRepo } from "./validate";

const QWEN = "models/alice/qwen.yaml";
const LATER = new Date("2026-03-01T08:00:00Z");

function rendered(snapshot: RepoSnapshot, now = NOW): RepoSnapshot {
  const result = checkRepo(snapshot, { now });
  const changes: Record<string, FileChange> = Object.fromEntries(result.render!.files);
  for (const path of result.renderDiff!.extra) changes[path] = null;
  return withFiles(changes, snapshot);
}

/** The render check as `plan` runs it: the head against the base's served names. */
function stale(base: RepoSnapshot, head: RepoSnapshot, workingTree = false) {
  const baseCheck = checkRepo(base, { now: LATER });
  const check = checkRepo(head, { now: LATER, timestamps: [baseCheck.timestamps] });
  return renderStaleDiagnostics({
    head,
    render: check.render!,
    diff: check.renderDiff!,
    baseTimestamps: baseCheck.timestamps,
    headTimestamps: check.timestamps,
    command: "npx serve-gitops render",
    restoreFrom: "HEAD~1",
    workingTree,
  });
}

describe("renderStaleDiagnostics", () => {
  const base = rendered(bare({ [QWEN]: specText("qwen") }));

  it("is silent when the fragments are the render", () => {
    expect(stale(base, base)).toEqual([]);
  });

  it("reports a spec changed without rendering on the spec, with the command to run", () => {
    const head = withFiles({ [QWEN]: specText("qwen", { num_replicas: 2 }) }, base);
    const [d, ...rest] = stale(base, head);
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ rule: "render-stale", code: "E409", file: QWEN, severity: "error" });
    expect(d!.message).toContain(`${fragmentPath("h1", "alice", "qwen")} is out of date`);
    expect(d!.message).toContain("Run `npx serve-gitops render`.");
  });

  it("reports a hand-edited fragment", () => {
    const path = fragmentPath("h1", "alice", "qwen");
    const text = Buffer.from(base.files.get(path)!.bytes).toString();
    const head = withFiles({ [path]: text.replace("num_replicas: 1\n", "num_replicas: 9\n") }, base);
    expect(head.files.get(path)).not.toEqual(base.files.get(path));
    expect(stale(base, head).map((d) => [d.rule, d.file])).toEqual([["render-stale", QWEN]]);
  });

  it("says how to restore the fragments of a model a re-render renamed", () => {
    const path = fragmentPath("h1", "alice", "qwen");
    const head = rendered(withFiles({ [path]: null }, base), LATER);
    const [d] = stale(base, head);
    expect(d!.message).toContain("rename the model (timestamp 202603010800; the base has 202601061235)");
    expect(d!.message).toContain("`git checkout HEAD~1 -- clusters/*/rendered/alice/qwen.yaml`");
  });

  it("names the other serve-gitops version that rendered a fragment, after an upgrade", () => {
    const path = fragmentPath("h1", "alice", "qwen");
    const text = Buffer.from(base.files.get(path)!.bytes).toString();
    expect(text).toContain(`generator: "${GENERATOR_VERSION}"`);
    const head = withFiles({ [path]: text.replace(GENERATOR_VERSION, "serve-gitops 0.0.1") }, base);
    const [d, ...rest] = stale(base, head);
    expect(rest).toEqual([]);
    const current = GENERATOR_VERSION.replace("serve-gitops ", "");
    expect(d!.message).toContain(
      `${path} is out of date. rendered by serve-gitops 0.0.1; this is ${current}: run \`npx serve-gitops render\` with the repository's version.`,
    );
    // The same version: no word about versions.
    const edited = withFiles({ [QWEN]: specText("qwen", { num_replicas: 2 }) }, base);
    expect(stale(base, edited)[0]!.message).not.toContain("rendered by");
  });

  it("says whether the render it compares is committed or in the working tree", () => {
    const head = withFiles({ [QWEN]: specText("qwen", { num_replicas: 2 }) }, base);
    expect(stale(base, head)[0]!.message).toMatch(/^the committed render does not match this spec: /);
    expect(stale(base, head, true)[0]!.message).toMatch(
      /^the rendered fragments in the working tree do not match this spec: /,
    );
  });

  it("reports a fragment nothing renders on itself, left over from a removed spec", () => {
    const extra = fragmentPath("h1", "bob", "gone");
    const head = withFiles({ [extra]: "served_name: bob-202601061235-gone\n" }, base);
    expect(stale(base, head).map((d) => [d.file, d.message])).toEqual([
      [
        extra,
        `${extra} is left over from a removed spec (models/bob/gone.yaml): nothing renders it any more. Run \`npx serve-gitops render\` (it deletes the fragment).`,
      ],
    ]);
  });

  it("says a fragment is left over when its spec no longer deploys to that cluster", () => {
    const head = withFiles({ [QWEN]: specText("qwen", { clusters: ["lab"] }) }, base);
    const left = stale(base, head).find((d) => d.file === fragmentPath("h1", "alice", "qwen"));
    expect(left!.message).toBe(
      `${fragmentPath("h1", "alice", "qwen")} is left over: ${QWEN} does not deploy to cluster h1, so nothing renders this fragment. Run \`npx serve-gitops render\` (it deletes the fragment).`,
    );
  });

  it("tells a file that is no fragment at all apart from a left-over fragment", () => {
    const notes = "clusters/h1/rendered/alice/README.md";
    const [d] = stale(base, withFiles({ [notes]: "hi\n" }, base));
    expect(d!.file).toBe(notes);
    expect(d!.message).toBe(
      "clusters/h1/rendered/alice/README.md is not a rendered fragment: clusters/<cluster>/rendered/ holds only what `serve-gitops render` writes (clusters/<cluster>/rendered/<user>/<model_id>.yaml), so remove it (`git rm clusters/h1/rendered/alice/README.md`).",
    );
  });
});

describe("renderGaps", () => {
  const base = rendered(bare({ [QWEN]: specText("qwen") }));
  const gaps = (snapshot: RepoSnapshot) => renderGaps(snapshot, validateRepo(snapshot).model);

  it("is silent when every valid spec has its fragments and every fragment its spec", () => {
    expect(gaps(base)).toEqual({ missing: [], extra: [] });
  });

  it("names a new spec's fragment that render has not written, with the spec", () => {
    const head = withFiles({ "models/alice/new.yaml": specText("new") }, base);
    expect(gaps(head)).toEqual({
      missing: [{ spec: "models/alice/new.yaml", fragment: fragmentPath("h1", "alice", "new") }],
      extra: [],
    });
  });

  it("names the fragments of a removed spec, and of a spec moved to another cluster", () => {
    expect(gaps(withFiles({ [QWEN]: null }, base))).toEqual({
      missing: [],
      extra: [fragmentPath("h1", "alice", "qwen")],
    });
    expect(gaps(withFiles({ [QWEN]: specText("qwen", { clusters: ["lab"] }) }, base))).toEqual({
      missing: [{ spec: QWEN, fragment: fragmentPath("lab", "alice", "qwen") }],
      extra: [fragmentPath("h1", "alice", "qwen")],
    });
  });

  it("leaves out the fragments of a spec with errors: stale or not is unknown until it is fixed", () => {
    const broken = withFiles({ [QWEN]: specText("qwen", { num_replicas: 0 }) }, base);
    expect(validateRepo(broken).ok).toBe(false);
    expect(gaps(broken)).toEqual({ missing: [], extra: [] });
  });

  it("leaves out fragments under a folder that is no valid cluster (validate reports the folder)", () => {
    const stray = withFiles({ "clusters/x/rendered/alice/qwen.yaml": "served_name: x\n" }, base);
    expect(gaps(stray)).toEqual({ missing: [], extra: [] });
  });

  it("does not read a fragment: contents are render --check's to compare", () => {
    const edited = withFiles({ [fragmentPath("h1", "alice", "qwen")]: "hand-edited: true\n" }, base);
    expect(gaps(edited)).toEqual({ missing: [], extra: [] });
  });
});
