import { describe, expect, it } from "vitest";
import { bare, clusterText, NOW, where, withFiles, type FileChange } from "../test-fixtures/helpers";
import { fragmentTimestamps, renderFragments } from "./render";
import { planChange } from "./plan";
import clusterSchema from "../../schemas/cluster.schema.json";
import specSchema from "../../schemas/serving-spec.schema.json";
import usersSchema from "../../schemas/users.schema.json";
import {
  diagnostic,
  hasErrors,
  KEYWORD_RULES,
  RULES,
  ruleForSchemaError,
  sortDiagnostics,
  type RuleId,
} from "./rules";
import {
  UnreadableFileError,
  type Diagnostic,
  type DiagnosticCode,
  type ModelSpec,
  type RepoModel,
} from "./types";
import { validateRepo } from "./validate";

// One scenario per rule, keyed by RuleId so the compiler refuses a new rule without one. Each scenario
// must produce exactly the listed diagnostics: deleting the check that raises a rule fails its row.

const S = "models/alice/t.yaml";
const SRC = "model_id: t\nmodel_source: $HOME/common/hf/t\n";
const validate = (changes: Record<string, FileChange>): readonly Diagnostic[] =>
  validateRepo(bare(changes)).diagnostics;
const spec = (extra: string) => validate({ [S]: SRC + extra });
const at = (file: string, line: number, column: number) => ({ file, line, column });
const ROOMY_USERS =
  "admins: [root]\nusers:\n  alice: {github: [alice], gpu_quota: 1000}\n  bob: {github: [bob], gpu_quota: 4}\n";

type Scenario =
  | { run: () => readonly Diagnostic[]; at: ReturnType<typeof at>[]; severity?: "warning" }
  | { external: string };

const SCENARIOS: Record<RuleId, Scenario> = {
  "yaml-syntax": {
    run: () => validate({ [S]: 'model_id: t\nmodel_source: "unclosed\n' }),
    at: [at(S, 3, 1)],
  },
  "yaml-duplicate-key": { run: () => validate({ [S]: "model_id: t\nmodel_id: t\n" }), at: [at(S, 2, 1)] },
  "yaml-multiple-documents": {
    run: () => validate({ [S]: "model_id: t\n---\nmodel_id: t\n" }),
    at: [at(S, 3, 1)],
  },
  "yaml-empty": { run: () => validate({ [S]: "" }), at: [at(S, 1, 1)] },
  "yaml-not-utf8": {
    run: () => validate({ [S]: new Uint8Array([0x6d, 0x3a, 0x20, 0xc3, 0x28]) }),
    at: [at(S, 1, 4)],
  },
  "yaml-anchor": { run: () => validate({ [S]: "model_id: &a t\n" }), at: [at(S, 1, 11)] },
  "yaml-alias": { run: () => validate({ [S]: "model_id: t\nmodel_source: *a\n" }), at: [at(S, 2, 15)] },
  "yaml-tag": { run: () => validate({ [S]: "model_id: !!str t\n" }), at: [at(S, 1, 11)] },
  "file-too-large": { run: () => validate({ [S]: `${SRC}#${"x".repeat(70_000)}\n` }), at: [at(S, 1, 1)] },
  "not-a-mapping": { run: () => validate({ [S]: "[model_id, t]\n" }), at: [at(S, 1, 1)] },
  "required-field": { run: () => validate({ [S]: "model_id: t\n" }), at: [at(S, 1, 1)] },
  "unknown-field": { run: () => spec("replicas: 2\n"), at: [at(S, 3, 1)] },
  "platform-field": { run: () => spec("accelerator_type: H100\n"), at: [at(S, 3, 1)] },
  "wrong-type": { run: () => spec('num_replicas: "2"\n'), at: [at(S, 3, 15)] },
  "invalid-value": { run: () => spec("clusters: []\n"), at: [at(S, 3, 11)] },
  "name-mismatch": {
    run: () => validate({ "models/alice/u.yaml": SRC }),
    at: [at("models/alice/u.yaml", 1, 11)],
  },
  "engine-kwarg-unknown": {
    run: () => spec("engine_kwargs:\n  max_model_lenght: 8192\n"),
    at: [at(S, 4, 3)],
  },
  "engine-kwarg-type": { run: () => spec("engine_kwargs:\n  max_model_len: big\n"), at: [at(S, 4, 18)] },
  "engine-kwarg-range": {
    run: () => spec("engine_kwargs:\n  gpu_memory_utilization: 5\n"),
    at: [at(S, 4, 27)],
  },
  "engine-kwarg-relation": {
    run: () => spec("engine_kwargs:\n  max_num_seqs: 256\n  max_num_batched_tokens: 128\n"),
    at: [at(S, 5, 27)],
  },
  "unknown-cluster": { run: () => spec("clusters: [h9]\n"), at: [at(S, 3, 12)] },
  "no-default-cluster": {
    run: () => validate({ "clusters/h1/cluster.yaml": clusterText({ default: false }), [S]: SRC }),
    at: [at(S, 1, 1)],
  },
  "accelerator-unknown": {
    run: () =>
      validate({ "clusters/h1/cluster.yaml": clusterText({ default: true, accelerator_type: "H9000" }) }),
    at: [at("clusters/h1/cluster.yaml", 2, 19)],
  },
  "template-invalid": {
    // A misspelt field: caught by validate's dry run, not first when the agent assembles after the merge.
    run: () =>
      validate({
        "clusters/h1/cluster.yaml": clusterText({ default: true, serve: { template: "t.hbs" } }),
        "clusters/h1/t.hbs": "applications:\n{{#each applications}}\n  - name: {{json nmae}}\n{{/each}}\n",
        [S]: SRC,
      }),
    at: [at("clusters/h1/t.hbs", 3, 11)],
  },
  "spec-location": {
    run: () => validate({ "models/alice/team/t.yaml": SRC }),
    at: [at("models/alice/team/t.yaml", 1, 1)],
  },
  "model-source-outside-roots": {
    run: () => validate({ [S]: "model_id: t\nmodel_source: /etc/t\n" }),
    at: [at(S, 2, 15)],
  },
  "model-source-other-user": {
    run: () => validate({ [S]: "model_id: t\nmodel_source: /private/users/bob/t\n" }),
    at: [at(S, 2, 15)],
  },
  "model-source-traversal": {
    run: () => validate({ [S]: "model_id: t\nmodel_source: $HOME/../bob/t\n" }),
    at: [at(S, 2, 15)],
  },
  "model-source-url": {
    run: () => validate({ [S]: "model_id: t\nmodel_source: https://huggingface.co/x/y\n" }),
    at: [at(S, 2, 15)],
  },
  "model-source-hub-not-allowed": {
    run: () => validate({ [S]: "model_id: t\nmodel_source: Qwen/Qwen3-8B\n" }),
    at: [at(S, 2, 15)],
  },
  "unregistered-user": {
    run: () => validate({ "models/carol/t.yaml": SRC }),
    at: [at("models/carol/t.yaml", 1, 1)],
  },
  "engine-kwarg-platform": {
    run: () => spec("engine_kwargs:\n  tensor_parallel_size: 2\n"),
    at: [at(S, 4, 3)],
  },
  "engine-kwarg-denied": {
    run: () => spec("engine_kwargs:\n  worker_extension_cls: x.Y\n"),
    at: [at(S, 4, 3)],
  },
  symlink: {
    run: () =>
      validate({ [S]: { path: S, kind: "symlink", bytes: new TextEncoder().encode("../bob/t.yaml") } }),
    at: [at(S, 1, 1)],
  },
  "engine-kwarg-deny-unknown": {
    run: () =>
      validate({
        "clusters/h1/cluster.yaml": clusterText({
          default: true,
          engine_kwargs: { deny: ["trust_remote_cod"] },
        }),
      }),
    at: [at("clusters/h1/cluster.yaml", 12, 7)],
    severity: "warning",
  },
  "engine-kwarg-allow-unused": {
    // enforce_eager is no built-in denial: allowing it lifts nothing.
    run: () =>
      validate({
        "clusters/h1/cluster.yaml": clusterText({
          default: true,
          engine_kwargs: { allow: ["trust_remote_code", "enforce_eager"] },
        }),
      }),
    at: [at("clusters/h1/cluster.yaml", 13, 7)],
    severity: "warning",
  },
  "special-file": {
    run: () => validate({ [S]: { path: S, kind: "other", bytes: new Uint8Array() } }),
    at: [at(S, 1, 1)],
  },
  "file-unreadable": {
    run: () =>
      validate({
        [S]: {
          path: S,
          kind: "file",
          get bytes(): Uint8Array {
            throw new UnreadableFileError(`cannot read ${S}: EACCES`);
          },
        },
      }),
    at: [at(S, 1, 1)],
  },
  "missing-file": {
    // A cluster folder whose settings file has the wrong name would otherwise be ignored.
    run: () => validate({ "clusters/gpu2/cluster.yml": clusterText() }),
    at: [at("clusters/gpu2/cluster.yaml", 1, 1)],
  },
  "template-unsafe": {
    run: () =>
      validate({
        "clusters/h1/cluster.yaml": clusterText({ default: true, serve: { template: "t.hbs" } }),
        "clusters/h1/t.hbs": "applications:\n{{#each applications}}\n  - name: {{name}}\n{{/each}}\n",
      }),
    at: [at("clusters/h1/t.hbs", 3, 11)],
  },
  ownership: { external: "raised by the pull-request check (who may change which files), not by the core" },
  "duplicate-model": {
    run: () => validate({ [S]: SRC, "models/alice/t.yml": SRC }),
    at: [at(S, 1, 1), at("models/alice/t.yml", 1, 1)],
  },
  "duplicate-deployment-name": {
    run: () =>
      validate({
        "models/alice/q.b.yaml": "model_id: q.b\nmodel_source: $HOME/common/hf/t\n",
        "models/alice/q_b.yaml": "model_id: q_b\nmodel_source: $HOME/common/hf/t\n",
      }),
    at: [at("models/alice/q.b.yaml", 1, 1), at("models/alice/q_b.yaml", 1, 1)],
  },
  "duplicate-served-name": {
    // Unreachable through validateRepo (user + suffix is unique there); the render still guards it.
    run: () => {
      const model = validateRepo(bare({ [S]: SRC })).model;
      const twin: ModelSpec = { ...model.models[0]!, file: "models/alice/t.yml" };
      const doubled: RepoModel = { ...model, models: [...model.models, twin] };
      return renderFragments(doubled, { now: NOW, timestamps: [] }).diagnostics;
    },
    at: [at("models/alice/t.yml", 1, 1)],
  },
  "served-name-conflict": {
    run: () =>
      fragmentTimestamps(
        bare({
          "clusters/h1/rendered/alice/t.yaml": "# header\nserved_name: alice-202601061235-t\n",
          "clusters/lab/rendered/alice/t.yaml": "served_name: alice-202601010000-t\n",
        }),
      ).diagnostics,
    at: [at("clusters/h1/rendered/alice/t.yaml", 2, 14), at("clusters/lab/rendered/alice/t.yaml", 1, 14)],
  },
  "template-mismatch": {
    // A template that drops the models: Ray would accept it and undeploy every one of them.
    run: () =>
      validate({
        "clusters/h1/cluster.yaml": clusterText({ default: true, serve: { template: "t.hbs" } }),
        "clusters/h1/t.hbs": "applications: []\n",
        [S]: SRC,
      }),
    at: [at("clusters/h1/t.hbs", 1, 1)],
  },
  "agent-will-refuse": {
    // Moving the cluster's only model away empties it; allow_empty is false by default.
    run: () => {
      const before = bare({ [S]: SRC });
      const rendered = renderFragments(validateRepo(before).model, { now: NOW, timestamps: [] }).files;
      const base = withFiles(Object.fromEntries(rendered), before);
      const head = withFiles(
        {
          "clusters/lab/cluster.yaml": clusterText(),
          [S]: `${SRC}clusters: [lab]\n`,
        },
        base,
      );
      return planChange(base, head, { now: NOW }).diagnostics;
    },
    at: [at("clusters/h1/cluster.yaml", 1, 1)],
    severity: "warning",
  },
  "render-stale": {
    external:
      "raised by renderStaleDiagnostics (the Action's render check and `plan`) from checkRepo's renderDiff (pinned in render-check.test.ts)",
  },
  "codeowners-stale": { external: "raised by the Action's CODEOWNERS check" },
  "multiple-default-clusters": {
    run: () => validate({ "clusters/lab/cluster.yaml": clusterText({ default: true }) }),
    at: [at("clusters/h1/cluster.yaml", 1, 1), at("clusters/lab/cluster.yaml", 1, 1)],
  },
  "replicas-range": { run: () => spec("num_replicas: 0\n"), at: [at(S, 3, 15)] },
  "gpus-range": { run: () => spec("gpus_per_replica: 0\n"), at: [at(S, 3, 19)] },
  "gpus-per-node": { run: () => spec("gpus_per_replica: 9\n"), at: [at(S, 3, 19)] },
  "autoscaling-range": {
    run: () => spec("autoscaling:\n  min_replicas: 3\n  max_replicas: 2\n"),
    at: [at(S, 4, 17)],
  },
  "cluster-capacity": {
    run: () =>
      validate({
        "clusters/h1/cluster.yaml": clusterText({ default: true, gpus: 4, gpus_per_node: 4 }),
        [S]: `${SRC}num_replicas: 5\n`,
      }),
    at: [at("clusters/h1/cluster.yaml", 3, 7)],
  },
  "user-quota": {
    run: () => validate({ "models/bob/t.yaml": `${SRC}num_replicas: 5\n` }),
    at: [at("models/bob/t.yaml", 3, 1)],
  },
  packing: {
    // 12 GPUs on 3 nodes of 4: four 3-GPU replicas fit the total but only three fit the nodes.
    run: () =>
      validate({
        "models/users.yaml": ROOMY_USERS,
        "clusters/h1/cluster.yaml": clusterText({ default: true, gpus: 12, gpus_per_node: 4 }),
        [S]: `${SRC}num_replicas: 4\ngpus_per_replica: 3\n`,
      }),
    at: [at("clusters/h1/cluster.yaml", 3, 7)],
    severity: "warning",
  },
};

describe("every rule has a scenario that raises it", () => {
  it("covers every rule in RULES", () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual(Object.keys(RULES).sort());
  });

  const rows = Object.entries(SCENARIOS).filter(
    (e): e is [RuleId, Exclude<Scenario, { external: string }>] => !("external" in e[1]),
  );
  it.each(rows)("%s", (rule, scenario) => {
    const diagnostics = scenario.run();
    expect(diagnostics.map(where)).toEqual(scenario.at.map((a) => ({ ...a, code: RULES[rule], rule })));
    for (const d of diagnostics) expect(d.severity).toBe(scenario.severity ?? "error");
  });

  it("raises a packing warning without failing validation", () => {
    const packing = SCENARIOS.packing as { run: () => readonly Diagnostic[] };
    expect(hasErrors(packing.run())).toBe(false);
  });
});

describe("the code table", () => {
  it("uses only the original serving API's classes", () => {
    const codes = new Set<DiagnosticCode>(Object.values(RULES));
    expect([...codes].sort()).toEqual(["E400", "E403", "E409", "E422"]);
  });

  it.each([
    ["minimum", "/num_replicas", "replicas-range", "E422"],
    ["maximum", "/num_replicas", "replicas-range", "E422"],
    ["minimum", "/gpus_per_replica", "gpus-range", "E422"],
    ["maximum", "/gpus_per_replica", "gpus-range", "E422"],
    ["minimum", "/autoscaling/max_replicas", "autoscaling-range", "E422"],
    ["exclusiveMinimum", "/autoscaling/target_ongoing_requests", "autoscaling-range", "E422"],
    ["type", "/num_replicas", "wrong-type", "E400"],
    ["required", "", "required-field", "E400"],
    ["additionalProperties", "", "unknown-field", "E400"],
    ["pattern", "/model_id", "invalid-value", "E400"],
    ["minimum", "/labels", "invalid-value", "E400"],
  ])("maps ajv %s at %s to %s (%s)", (keyword, path, rule, code) => {
    const mapped = ruleForSchemaError(keyword, path);
    expect(mapped).toBe(rule);
    expect(RULES[mapped]).toBe(code);
  });

  it("has a rule for every validation keyword the spec, users and cluster schemas use", () => {
    const VALIDATION = new Set([
      "type",
      "enum",
      "const",
      "multipleOf",
      "maximum",
      "exclusiveMaximum",
      "minimum",
      "exclusiveMinimum",
      "maxLength",
      "minLength",
      "pattern",
      "format",
      "maxItems",
      "minItems",
      "uniqueItems",
      "contains",
      "maxProperties",
      "minProperties",
      "required",
      "dependentRequired",
      "additionalProperties",
      "propertyNames",
      "patternProperties",
      "not",
      "anyOf",
      "oneOf",
      "allOf",
      "if",
      "unevaluatedProperties",
      "unevaluatedItems",
    ]);
    const used = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === "object") {
        for (const [key, child] of Object.entries(node)) {
          if (VALIDATION.has(key)) used.add(key);
          // Property names are data, not keywords.
          if (key === "properties" || key === "$defs") Object.values(child as object).forEach(walk);
          else walk(child);
        }
      }
    };
    [specSchema, usersSchema, clusterSchema].forEach(walk);
    expect(used.size).toBeGreaterThan(5);
    for (const keyword of used) expect(Object.keys(KEYWORD_RULES), keyword).toContain(keyword);
  });

  it("maps num_replicas 0 and 1001 and max_replicas 0 through the keyword map to E422", () => {
    for (const extra of [
      "num_replicas: 0\n",
      "num_replicas: 1001\n",
      "autoscaling:\n  min_replicas: 0\n  max_replicas: 0\n",
    ]) {
      const [d] = spec(extra);
      expect(d?.code).toBe("E422");
    }
  });
});

describe("diagnostic helpers", () => {
  it("gives packing warning severity and everything else error", () => {
    expect(diagnostic("packing", "f", { line: 1, column: 1 }, "m").severity).toBe("warning");
    expect(diagnostic("user-quota", "f", { line: 1, column: 1 }, "m").severity).toBe("error");
  });

  it("sorts by file, line, column, then rule", () => {
    const d = (file: string, line: number, column: number, rule: RuleId) =>
      diagnostic(rule, file, { line, column }, "m");
    const sorted = sortDiagnostics([
      d("b", 1, 1, "symlink"),
      d("a", 2, 1, "symlink"),
      d("a", 1, 5, "wrong-type"),
      d("a", 1, 5, "unknown-field"),
    ]);
    expect(sorted.map((x) => `${x.file}:${x.line}:${x.column}:${x.rule}`)).toEqual([
      "a:1:5:unknown-field",
      "a:1:5:wrong-type",
      "a:2:1:symlink",
      "b:1:1:symlink",
    ]);
  });
});
