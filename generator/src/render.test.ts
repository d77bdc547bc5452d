import { Ajv2020 } from "ajv/dist/2020";
import { createHash } from "node:crypto";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json";
import llmConfigSchema from "../../schemas/ray-llm-config.schema.json";
import { bare, clusterText, NOW, specText, withFiles, type FileChange } from "../test-fixtures/helpers";
import { checkRepo, isRenderCurrent } from "./pipeline";
import {
  diffRendered,
  formatTimestamp,
  fragmentPath,
  GENERATOR_VERSION,
  fragmentTimestamps,
  isRealTimestamp,
  renderFragments,
  timestampsOf,
} from "./render";
import type { Fragment, RepoSnapshot } from "./types";
import { validateRepo } from "./validate";

const LATER = new Date("2026-03-01T08:00:00Z");
const QWEN = "models/alice/qwen.yaml";

function render(
  snapshot: RepoSnapshot,
  now = NOW,
  timestamps: ReadonlyArray<ReadonlyMap<string, string>> = [],
) {
  const result = checkRepo(snapshot, { now, timestamps });
  if (!result.render) throw new Error(JSON.stringify(result.diagnostics, null, 2));
  return { ...result.render, diff: result.renderDiff! };
}

/** What `serve-gitops render` leaves in the tree: rendered files written, extra ones removed. */
function applyRender(snapshot: RepoSnapshot, now = NOW): RepoSnapshot {
  const { files, diff } = render(snapshot, now);
  const changes: Record<string, FileChange> = Object.fromEntries(files);
  for (const path of diff.extra) changes[path] = null;
  return withFiles(changes, snapshot);
}

const served = (snapshot: RepoSnapshot, now = NOW) =>
  render(snapshot, now).fragments.map((f) => `${f.cluster} ${f.served_name}`);

describe("served names", () => {
  it("names a new model <user>-<YYYYMMDDHHMM>-<suffix> in UTC from --now", () => {
    expect(formatTimestamp(new Date("2026-01-06T12:35:59.999Z"))).toBe("202601061235");
    expect(formatTimestamp(new Date("2026-01-06T23:59:00-02:00"))).toBe("202601070159");
    expect(served(bare({ [QWEN]: specText("qwen") }))).toEqual(["h1 alice-202601061235-qwen"]);
  });

  it("keeps the name on an update", () => {
    const first = applyRender(bare({ [QWEN]: specText("qwen") }));
    const updated = withFiles(
      { [QWEN]: specText("qwen", { num_replicas: 2, engine_kwargs: { max_model_len: 4096 } }) },
      first,
    );
    expect(served(updated, LATER)).toEqual(["h1 alice-202601061235-qwen"]);
  });

  it("gives a second cluster the same name", () => {
    const first = applyRender(bare({ [QWEN]: specText("qwen") }));
    const both = withFiles({ [QWEN]: specText("qwen", { clusters: ["h1", "lab"] }) }, first);
    expect(served(both, LATER)).toEqual(["h1 alice-202601061235-qwen", "lab alice-202601061235-qwen"]);
  });

  it("keeps the name when the model moves to another cluster in one change", () => {
    const first = applyRender(bare({ [QWEN]: specText("qwen") }));
    const moved = withFiles({ [QWEN]: specText("qwen", { clusters: ["lab"] }) }, first);
    expect(served(moved, LATER)).toEqual(["lab alice-202601061235-qwen"]);
  });

  it("gives a deleted and re-added model a new name", () => {
    const first = applyRender(bare({ [QWEN]: specText("qwen") }));
    const deleted = applyRender(withFiles({ [QWEN]: null }, first), LATER);
    expect([...deleted.files.keys()].filter((p) => p.includes("/rendered/"))).toEqual([]);
    const readded = withFiles({ [QWEN]: specText("qwen") }, deleted);
    expect(served(readded, LATER)).toEqual(["h1 alice-202603010800-qwen"]);
  });

  it("takes names from the sources given first (the base branch) over the tree's own fragments", () => {
    const head = applyRender(bare({ [QWEN]: specText("qwen") }), LATER);
    const base = applyRender(bare({ [QWEN]: specText("qwen") }), NOW);
    expect(served(head, NOW)).toEqual(["h1 alice-202603010800-qwen"]);
    const result = checkRepo(head, { now: NOW, timestamps: [timestampsOf(base)] });
    expect(result.render!.fragments.map((f) => f.served_name)).toEqual(["alice-202601061235-qwen"]);
    expect(result.renderDiff!.stale).toEqual([fragmentPath("h1", "alice", "qwen")]);
  });

  it("resolves two clusters that disagree to the oldest name", () => {
    const one = applyRender(bare({ [QWEN]: specText("qwen", { clusters: ["h1"] }) }), LATER);
    const two = applyRender(bare({ [QWEN]: specText("qwen", { clusters: ["lab"] }) }), NOW);
    const mixed = withFiles(
      Object.fromEntries([...two.files].filter(([p]) => p.includes("/rendered/"))),
      one,
    );
    expect(timestampsOf(mixed).get("alice/qwen")).toBe("202601061235");
  });

  it("reports fragments that disagree on a model's name as a conflict instead of renaming it", () => {
    const first = applyRender(bare({ [QWEN]: specText("qwen", { clusters: ["h1", "lab"] }) }), LATER);
    const lab = fragmentPath("lab", "alice", "qwen");
    const text = Buffer.from(first.files.get(lab)!.bytes).toString();
    const edited = withFiles({ [lab]: text.replaceAll("202603010800", "202601061235") }, first);
    const { diagnostics } = fragmentTimestamps(edited);
    expect(diagnostics.map((d) => [d.rule, d.code, d.file])).toEqual([
      ["served-name-conflict", "E409", fragmentPath("h1", "alice", "qwen")],
      ["served-name-conflict", "E409", lab],
    ]);
    expect(diagnostics[0]!.message).toContain(`${lab} has 202601061235`);
    const check = checkRepo(edited, { now: LATER });
    expect(check.ok).toBe(false);
    expect(check.render).toBeUndefined();
    expect(check.diagnostics.map((d) => d.rule)).toEqual(["served-name-conflict", "served-name-conflict"]);
  });

  it("reports and ignores a fragment whose timestamp is no real UTC minute", () => {
    const first = applyRender(bare({ [QWEN]: specText("qwen") }));
    const path = fragmentPath("h1", "alice", "qwen");
    const text = Buffer.from(first.files.get(path)!.bytes).toString();
    const edited = withFiles({ [path]: text.replaceAll("202601061235", "202613452599") }, first);
    const { timestamps, diagnostics } = fragmentTimestamps(edited);
    expect(timestamps.size).toBe(0);
    expect(diagnostics.map((d) => [d.rule, d.file, d.line])).toEqual([
      ["invalid-value", path, text.split("\n").findIndex((l) => l.startsWith("served_name:")) + 1],
    ]);
    expect(diagnostics[0]!.message).toContain("202613452599, which is no real UTC minute");
    const check = checkRepo(edited, { now: LATER });
    expect(check.ok).toBe(false);
    expect(check.render).toBeUndefined();
  });

  it.each([
    ["202601061235", true],
    ["202802292359", true],
    ["202702290000", false],
    ["202613010000", false],
    ["202601320000", false],
    ["202601062400", false],
    ["202601061260", false],
    ["202600010000", false],
    // Years 0-99 are those years (Date.UTC would read them as 1900-1999).
    ["002601061235", true],
    ["000002290000", true],
    ["190002290000", false],
    ["000402290000", true],
    ["010002290000", false],
  ])("knows whether %s is a real UTC minute", (timestamp, real) => {
    expect(isRealTimestamp(timestamp)).toBe(real);
  });

  it("are returned by checkRepo for its callers, also when the snapshot has errors", () => {
    const applied = applyRender(bare({ [QWEN]: specText("qwen") }));
    expect(checkRepo(applied, { now: LATER }).timestamps).toEqual(new Map([["alice/qwen", "202601061235"]]));
    const broken = withFiles({ "models/alice/bad.yaml": specText("bad", { num_replicas: 0 }) }, applied);
    const check = checkRepo(broken, { now: LATER });
    expect(check.ok).toBe(false);
    expect(check.timestamps).toEqual(new Map([["alice/qwen", "202601061235"]]));
  });

  it("reads the served name from a line that starts with it, not from a mention earlier in the file", () => {
    const applied = applyRender(bare({ [QWEN]: specText("qwen") }));
    const path = fragmentPath("h1", "alice", "qwen");
    const text = Buffer.from(applied.files.get(path)!.bytes).toString();
    const noted = withFiles({ [path]: `# was served_name: alice-202001010000-qwen\n${text}` }, applied);
    expect(fragmentTimestamps(noted)).toEqual({
      timestamps: new Map([["alice/qwen", "202601061235"]]),
      diagnostics: [],
      unnamed: new Map(),
    });
  });

  it("ignores fragments whose served name does not belong to their path", () => {
    const path = fragmentPath("h1", "alice", "qwen");
    const stray = withFiles({ [path]: "served_name: bob-202001010000-qwen\n" }, bare());
    expect(timestampsOf(stray).size).toBe(0);
    const garbage = withFiles({ [path]: new Uint8Array([0xff, 0x00, 0xfe]) }, bare());
    expect(timestampsOf(garbage).size).toBe(0);
  });
});

describe("fragments", () => {
  const snapshot = bare({
    "models/alice/llama.yaml": [
      "model_id: llama",
      "model_source: $HOME/checkpoints/llama",
      "gpus_per_replica: 2",
      "autoscaling:",
      "  min_replicas: 1",
      "  max_replicas: 3",
      "  target_ongoing_requests: 16",
      "engine_kwargs:",
      "  max_num_seqs: 64",
      "  enable_prefix_caching: true",
      "  max_model_len: 16384",
      "",
    ].join("\n"),
    [QWEN]: specText("qwen", { num_replicas: 2 }),
  });
  const { fragments, files } = render(snapshot);
  const llama = fragments.find((f) => f.suffix === "llama")!;
  const qwen = fragments.find((f) => f.suffix === "qwen")!;

  it("records the served name, creation time, spec path and digest, generator version and LLMConfig", () => {
    const bytes = snapshot.files.get("models/alice/llama.yaml")!.bytes;
    expect(llama).toMatchObject({
      cluster: "h1",
      user: "alice",
      suffix: "llama",
      served_name: "alice-202601061235-llama",
      created: "2026-01-06T12:35:00Z",
      spec: "models/alice/llama.yaml",
      spec_sha256: createHash("sha256").update(bytes).digest("hex"),
      generator: `serve-gitops ${pkg.version}`,
      gpus_per_replica: 2,
      gpus: 6,
      endpoint: "https://dstack.company.com/access/models/team1/alice-202601061235-llama/v1",
    });
    expect(GENERATOR_VERSION).toBe(`serve-gitops ${pkg.version}`);
  });

  it("sets tensor_parallel_size from gpus_per_replica and pipeline parallelism 1, after the owner's sorted kwargs", () => {
    const kwargs = llama.llm_config.engine_kwargs as Record<string, unknown>;
    expect(Object.entries(kwargs)).toEqual([
      ["enable_prefix_caching", true],
      ["max_model_len", 16384],
      ["max_num_seqs", 64],
      ["tensor_parallel_size", 2],
      ["pipeline_parallel_size", 1],
    ]);
  });

  it("keeps replica counts out of args: num_replicas 1 there, the real count in LLMServer:<name>", () => {
    expect(llama.llm_config).toEqual({
      model_loading_config: {
        model_id: "alice-202601061235-llama",
        model_source: "/private/users/alice/checkpoints/llama",
      },
      accelerator_type: "H20",
      deployment_config: { name: "alice-202601061235-llama", num_replicas: 1 },
      engine_kwargs: llama.llm_config.engine_kwargs,
    });
    expect(llama.deployment).toEqual({
      name: "LLMServer:alice-202601061235-llama",
      num_replicas: "auto",
      autoscaling_config: { min_replicas: 1, max_replicas: 3, target_ongoing_requests: 16 },
    });
    expect(qwen.deployment).toEqual({ name: "LLMServer:alice-202601061235-qwen", num_replicas: 2 });
    expect(qwen.llm_config.deployment_config).toEqual({ name: "alice-202601061235-qwen", num_replicas: 1 });
    expect(JSON.stringify(qwen.llm_config)).not.toContain("autoscaling");
  });

  it("emits LLMConfigs that Ray Serve LLM's schema accepts", () => {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    const validate = ajv.compile(llmConfigSchema);
    for (const f of fragments) expect(validate(f.llm_config), JSON.stringify(validate.errors)).toBe(true);
  });

  it("writes one file per (model, cluster) that says it is generated and parses back to the fragment", () => {
    expect([...files.keys()].sort()).toEqual([
      "clusters/h1/rendered/alice/llama.yaml",
      "clusters/h1/rendered/alice/qwen.yaml",
    ]);
    const text = files.get("clusters/h1/rendered/alice/llama.yaml")!;
    expect(text.split("\n")[0]).toMatch(
      /^# Generated by `serve-gitops render` from models\/alice\/llama.yaml\. Do not edit/,
    );
    expect(text).toContain("`npx serve-gitops render`");
    expect(load(text)).toEqual(JSON.parse(JSON.stringify(llama)) as Fragment);
  });

  it("carries a value with YAML-breaking characters through the fragment", () => {
    const tricky = "a: #b\n- c: \"d\" 'e' {f} [g] & *h ! % @ `i` \u2028";
    const result = render(bare({ [QWEN]: specText("qwen", { engine_kwargs: { revision: tricky } }) }));
    const text = result.files.get(fragmentPath("h1", "alice", "qwen"))!;
    const parsed = load(text) as Fragment;
    expect((parsed.llm_config.engine_kwargs as Record<string, unknown>).revision).toBe(tricky);
  });
});

describe("determinism", () => {
  const specs = {
    "models/alice/a.yaml": specText("a", { engine_kwargs: { max_num_seqs: 8, max_model_len: 1024 } }),
    "models/bob/b.yaml": specText("b", { clusters: ["lab", "h1"] }),
    [QWEN]: specText("qwen"),
  };

  it("renders byte-identical files for the same tree, whatever the order files were read in", () => {
    const forward = render(bare(specs));
    const reversed: RepoSnapshot = { label: "reversed", files: new Map([...bare(specs).files].reverse()) };
    const again = render(reversed);
    expect([...again.files]).toEqual([...forward.files]);
    expect(again.files).toEqual(forward.files);
  });

  it("renders the same bytes whatever order the owner wrote kwargs in", () => {
    const a = render(
      bare({
        "models/alice/a.yaml":
          "model_id: a\nmodel_source: $HOME/x\nengine_kwargs:\n  max_num_seqs: 8\n  max_model_len: 1024\n",
      }),
    );
    const b = render(
      bare({
        "models/alice/a.yaml":
          "model_id: a\nmodel_source: $HOME/x\nengine_kwargs:\n  max_model_len: 1024\n  max_num_seqs: 8\n",
      }),
    );
    const strip = (text: string) => text.replace(/^spec_sha256: .*$/m, "");
    expect(strip(a.files.get(fragmentPath("h1", "alice", "a"))!)).toBe(
      strip(b.files.get(fragmentPath("h1", "alice", "a"))!),
    );
  });

  it("keeps a nested mapping key named __proto__ the owner wrote, as a key like any other", () => {
    // js-yaml defines `__proto__` as an own key of the mapping, and the owner's spec (and the plan's view of
    // it) carry it; the sorted copy in the fragment must carry it too rather than set its prototype.
    const result = render(
      bare({
        "models/alice/a.yaml":
          "model_id: a\nmodel_source: $HOME/x\nengine_kwargs:\n  override_generation_config:\n    __proto__: {temperature: 0.1}\n    top_p: 0.9\n",
      }),
    );
    const fragment = result.fragments.find((f) => f.suffix === "a")!;
    const config = (fragment.llm_config.engine_kwargs as Record<string, Record<string, unknown>>)
      .override_generation_config!;
    expect(Object.keys(config)).toEqual(["__proto__", "top_p"]);
    const text = result.files.get(fragmentPath("h1", "alice", "a"))!;
    expect(text).toContain("__proto__");
  });

  it("finds nothing to write once a render is applied, even at a later time", () => {
    const applied = applyRender(bare(specs));
    const again = render(applied, LATER);
    expect(again.diff).toEqual({ stale: [], missing: [], extra: [] });
    expect(isRenderCurrent(again.diff)).toBe(true);
  });
});

describe("diffRendered", () => {
  it("lists stale, missing and extra fragments", () => {
    const applied = applyRender(bare({ [QWEN]: specText("qwen"), "models/bob/b.yaml": specText("b") }));
    const changed = withFiles(
      {
        [QWEN]: specText("qwen", { num_replicas: 2 }),
        "models/bob/b.yaml": null,
        "models/bob/c.yaml": specText("c"),
        "clusters/lab/rendered/bob/old.yaml": "stale\n",
      },
      applied,
    );
    const result = checkRepo(changed, { now: NOW });
    expect(result.renderDiff).toEqual({
      stale: ["clusters/h1/rendered/alice/qwen.yaml"],
      missing: ["clusters/h1/rendered/bob/c.yaml"],
      extra: ["clusters/h1/rendered/bob/b.yaml", "clusters/lab/rendered/bob/old.yaml"],
    });
    expect(isRenderCurrent(result.renderDiff)).toBe(false);
  });

  it("treats a symlink in place of a fragment as stale", () => {
    const applied = applyRender(bare({ [QWEN]: specText("qwen") }));
    const path = fragmentPath("h1", "alice", "qwen");
    const linked = withFiles(
      { [path]: { path, kind: "symlink", bytes: applied.files.get(path)!.bytes } },
      applied,
    );
    expect(diffRendered(linked, render(applied).files).stale).toEqual([path]);
  });
});

describe("diffRendered compares bytes exactly", () => {
  const path = "clusters/h1/rendered/alice/qwen.yaml";
  const committed = (bytes: Uint8Array): RepoSnapshot => ({
    files: new Map([[path, { path, kind: "file", bytes }]]),
    label: "t",
  });
  const stale = (bytes: Uint8Array, text: string) =>
    diffRendered(committed(bytes), new Map([[path, text]])).stale.length === 1;

  it("finds the same bytes current and any other bytes stale, also at the same length", () => {
    expect(stale(Buffer.from("served_name: a\n"), "served_name: a\n")).toBe(false);
    expect(stale(Buffer.from("served_name: b\n"), "served_name: a\n")).toBe(true);
    expect(stale(Buffer.from("served_name: a\n\n"), "served_name: a\n")).toBe(true);
    expect(stale(Buffer.from("é\n"), "é\n")).toBe(false);
    // A larger file than any before still compares in full.
    const big = "x".repeat(200_000);
    expect(stale(Buffer.from(big), big)).toBe(false);
    expect(stale(Buffer.from(`${big.slice(1)}y`), big)).toBe(true);
  });

  it("never takes invalid UTF-8 for the replacement character it decodes to", () => {
    // F0 90 80 is a cut 4-byte sequence: it decodes to one U+FFFD, whose own encoding is 3 bytes too.
    expect(stale(Uint8Array.from([0xf0, 0x90, 0x80]), "\uFFFD")).toBe(true);
    expect(stale(Buffer.from("\uFFFD"), "\uFFFD")).toBe(false);
  });
});

describe("nothing is rendered from a tree with errors", () => {
  it("returns no render when any spec has an error, and keeps the diagnostics", () => {
    const result = checkRepo(
      bare({ [QWEN]: specText("qwen"), "models/bob/bad.yaml": specText("bad", { num_replicas: 0 }) }),
      { now: NOW },
    );
    expect(result.ok).toBe(false);
    expect(result.render).toBeUndefined();
    expect(result.renderDiff).toBeUndefined();
    expect(result.diagnostics.map((d) => d.rule)).toEqual(["replicas-range"]);
  });

  it("still renders when the only findings are warnings", () => {
    const snapshot = bare({
      "models/users.yaml": "admins: [root]\nusers:\n  alice: {github: [alice], gpu_quota: 100}\n",
      "clusters/h1/cluster.yaml": clusterText({ default: true, gpus: 16, gpus_per_node: 8 }),
      [QWEN]: specText("qwen", { num_replicas: 3, gpus_per_replica: 5 }),
    });
    const result = checkRepo(snapshot, { now: NOW });
    expect(result.ok).toBe(true);
    expect(result.diagnostics.map((d) => d.severity)).toEqual(["warning"]);
    expect(result.render?.fragments).toHaveLength(1);
  });

  it("renders nothing for a model that is valid but on no cluster", () => {
    const model = validateRepo(bare()).model;
    expect(renderFragments(model, { now: NOW, timestamps: [] })).toEqual({
      fragments: [],
      files: new Map(),
      diagnostics: [],
    });
  });
});

describe("a Windows checkout (core.autocrlf: CRLF on disk, LF in git)", () => {
  it("renders the same fragments as the LF text, so CI does not find the render stale", () => {
    const lf = "model_id: t\nmodel_source: $HOME/common/hf/t\nnum_replicas: 2\n";
    const render = (text: string) =>
      checkRepo(bare({ "models/alice/t.yaml": text }), { now: NOW }).render!.files;
    const unix = render(lf);
    expect(unix.size).toBeGreaterThan(0);
    expect(render(lf.replace(/\n/g, "\r\n"))).toEqual(unix);
    // A lone CR is no line ending git converts: the text differs, so does the digest.
    expect(render(lf.replace("num_replicas: 2\n", "num_replicas: 2\r"))).not.toEqual(unix);
  });

  it("reads fragments checked out with CRLF as current: same name, not stale, not an edit by hand", () => {
    const applied = applyRender(bare({ [QWEN]: specText("qwen") }));
    const path = fragmentPath("h1", "alice", "qwen");
    const text = new TextDecoder().decode(applied.files.get(path)!.bytes);
    const windows = withFiles({ [path]: text.replace(/\n/g, "\r\n") }, applied);
    const result = checkRepo(windows, { now: LATER });
    expect(result.diagnostics).toEqual([]);
    expect(fragmentTimestamps(windows).timestamps.get("alice/qwen")).toBe("202601061235");
    expect(result.renderDiff).toEqual({ stale: [], missing: [], extra: [] });
    // A CR anywhere else is still a change: only CRLF line ends are what git converts.
    const stray = withFiles({ [path]: text.replace("\n", "\r\r\n") }, applied);
    expect(checkRepo(stray, { now: LATER }).renderDiff!.stale).toEqual([path]);
  });
});

describe("a fragment whose served_name line was cut", () => {
  const path = fragmentPath("h1", "alice", "qwen");
  const cut = (snapshot: RepoSnapshot) => {
    const text = new TextDecoder().decode(snapshot.files.get(path)!.bytes);
    return withFiles({ [path]: text.replace(/^served_name: .*\n/m, "") }, snapshot);
  };

  it("is an error rather than a new name for the model on the next render", () => {
    const edited = cut(applyRender(bare({ [QWEN]: specText("qwen") })));
    const result = checkRepo(edited, { now: LATER });
    expect(result.ok).toBe(false);
    expect(result.render).toBeUndefined();
    expect(result.diagnostics.map((d) => `${d.file} ${d.code} ${d.rule}`)).toEqual([
      `${path} E400 invalid-value`,
    ]);
    expect(result.diagnostics[0]!.message).toContain("has no served_name line");
  });

  it("needs nothing when the name is known elsewhere (the base branch, another cluster), or the model is gone", () => {
    const edited = cut(applyRender(bare({ [QWEN]: specText("qwen") })));
    const base = new Map([["alice/qwen", "202601061235"]]);
    expect(checkRepo(edited, { now: LATER, timestamps: [base] }).ok).toBe(true);
    const both = cut(applyRender(bare({ [QWEN]: specText("qwen", { clusters: ["h1", "lab"] }) })));
    expect(served(both, LATER)).toEqual(["h1 alice-202601061235-qwen", "lab alice-202601061235-qwen"]);
    const deleted = withFiles({ [QWEN]: null }, edited);
    expect(checkRepo(deleted, { now: LATER }).renderDiff!.extra).toEqual([path]);
  });
});

describe("a served name edited out of shape", () => {
  it("is an error on the fragment, not a reason to rename the model on the next render", () => {
    const applied = applyRender(bare({ [QWEN]: specText("qwen") }));
    const path = fragmentPath("h1", "alice", "qwen");
    const text = new TextDecoder().decode(applied.files.get(path)!.bytes);
    const edited = withFiles({ [path]: text.replace(/alice-\d{12}-qwen/g, "alice-x-qwen") }, applied);
    const result = checkRepo(edited, { now: NOW });
    expect(result.ok).toBe(false);
    expect(result.render).toBeUndefined();
    expect(result.diagnostics.map((d) => `${d.file} ${d.rule}`)).toEqual([`${path} invalid-value`]);
    expect(result.diagnostics[0]!.message).toContain(
      'served_name "alice-x-qwen" is not alice-<YYYYMMDDHHMM>-qwen',
    );
  });
});
