import type { Diagnostic, DiagnosticCode, Severity } from "./types";

/**
 * Every rule the core enforces, with its code. This table is the single place that decides which class
 * a problem belongs to (README "Diagnostics" documents it from here); code never writes a code by hand.
 */
export const RULES = {
  // E400: the file is not a valid document or spec.
  "yaml-syntax": "E400",
  "yaml-duplicate-key": "E400",
  "yaml-multiple-documents": "E400",
  "yaml-empty": "E400",
  "yaml-not-utf8": "E400",
  "yaml-anchor": "E400",
  "yaml-alias": "E400",
  "yaml-tag": "E400",
  "file-too-large": "E400",
  "not-a-mapping": "E400",
  "required-field": "E400",
  "unknown-field": "E400",
  "platform-field": "E400",
  "wrong-type": "E400",
  "invalid-value": "E400",
  "name-mismatch": "E400",
  "engine-kwarg-unknown": "E400",
  "engine-kwarg-type": "E400",
  // A value outside vLLM's own range for the argument (gpu_memory_utilization: 5): an invalid value vLLM would
  // refuse at replica start, like a wrong type; not a resource limit of the platform's (those are E422).
  "engine-kwarg-range": "E400",
  // Two arguments vLLM checks against each other (max_cpu_loras below max_loras with enable_lora), or one against
  // what the platform sets (decode_context_parallel_size against gpus_per_replica): refused when the replica
  // starts, like a value out of range.
  "engine-kwarg-relation": "E400",
  // A warning: a cluster's deny list names no known engine argument.
  "engine-kwarg-deny-unknown": "E400",
  // A warning: a cluster's allow list names no built-in denial (or one its deny list keeps), so lifts nothing.
  "engine-kwarg-allow-unused": "E400",
  "unknown-cluster": "E400",
  "no-default-cluster": "E400",
  "accelerator-unknown": "E400",
  "template-invalid": "E400",
  "spec-location": "E400",
  "missing-file": "E400",
  "file-unreadable": "E400",
  // E403: forbidden.
  "model-source-outside-roots": "E403",
  "model-source-other-user": "E403",
  "model-source-traversal": "E403",
  "model-source-url": "E403",
  "model-source-hub-not-allowed": "E403",
  "unregistered-user": "E403",
  "engine-kwarg-platform": "E403",
  "engine-kwarg-denied": "E403",
  symlink: "E403",
  "special-file": "E403",
  ownership: "E403",
  // A Serve config template that could let a value change the YAML around it (a value outside {{json}}).
  "template-unsafe": "E403",
  // A warning from `plan`: the cluster's sync agent will refuse the change (empties the cluster, or undeploys
  // more than sync.prune_limit models without an admin's confirmation).
  "agent-will-refuse": "E403",
  // E409: conflicts.
  "duplicate-model": "E409",
  "duplicate-served-name": "E409",
  "duplicate-deployment-name": "E409",
  "multiple-default-clusters": "E409",
  // Fragments of one model carry different served names (a hand edit).
  "served-name-conflict": "E409",
  // The assembled Serve config disagrees with the fragments it was assembled from.
  "template-mismatch": "E409",
  // The committed output no longer matches its source (the Action's render and CODEOWNERS checks).
  "render-stale": "E409",
  "codeowners-stale": "E409",
  // E422: unprocessable resources.
  "replicas-range": "E422",
  "gpus-range": "E422",
  "gpus-per-node": "E422",
  "autoscaling-range": "E422",
  "cluster-capacity": "E422",
  "user-quota": "E422",
  packing: "E422",
} as const satisfies Record<string, DiagnosticCode>;

export type RuleId = keyof typeof RULES;

/** Every JSON Schema keyword our schemas use, and the rule a failure of it is. */
export const KEYWORD_RULES = {
  required: "required-field",
  additionalProperties: "unknown-field",
  type: "wrong-type",
  pattern: "invalid-value",
  minLength: "invalid-value",
  maxLength: "invalid-value",
  enum: "invalid-value",
  const: "invalid-value",
  not: "invalid-value",
  uniqueItems: "invalid-value",
  minItems: "invalid-value",
  maxItems: "invalid-value",
  maxProperties: "invalid-value",
  propertyNames: "invalid-value",
  minimum: "invalid-value",
  maximum: "invalid-value",
  exclusiveMinimum: "invalid-value",
} as const satisfies Record<string, RuleId>;

/** Numeric limits on these spec fields are resource problems (E422), not malformed specs. */
const RESOURCE_FIELDS: Readonly<Record<string, RuleId>> = {
  num_replicas: "replicas-range",
  gpus_per_replica: "gpus-range",
  autoscaling: "autoscaling-range",
};
const NUMERIC_KEYWORDS = new Set(["minimum", "maximum", "exclusiveMinimum"]);

/** The rule of an ajv failure: a `minimum` on `num_replicas` is E422 replicas-range, a `type` anywhere E400. */
export function ruleForSchemaError(keyword: string, instancePath: string): RuleId {
  const field = instancePath.split("/")[1] ?? "";
  if (NUMERIC_KEYWORDS.has(keyword) && RESOURCE_FIELDS[field]) return RESOURCE_FIELDS[field];
  return (KEYWORD_RULES as Record<string, RuleId>)[keyword] ?? "invalid-value";
}

/** Rules that only warn: the exit code stays 0. */
const WARNING_RULES: ReadonlySet<RuleId> = new Set([
  "packing",
  "engine-kwarg-deny-unknown",
  "engine-kwarg-allow-unused",
  "agent-will-refuse",
]);

export function diagnostic(
  rule: RuleId,
  file: string,
  at: { line: number; column: number },
  message: string,
  severity: Severity = WARNING_RULES.has(rule) ? "warning" : "error",
): Diagnostic {
  return { file, line: at.line, column: at.column, severity, code: RULES[rule], rule, message };
}

export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      a.line - b.line ||
      a.column - b.column ||
      (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0),
  );
}

export const hasErrors = (list: readonly Diagnostic[]): boolean => list.some((d) => d.severity === "error");
