import { createHash } from "node:crypto";
import specSchema from "../../schemas/serving-spec.schema.json";
import { cappedKwargs, checkEngineKwargs, deniedKwargs, type KwargCap } from "./engine-kwargs";
import { checkModelSource } from "./model-source";
import { DEFAULT_SOURCE_ROOTS, type PartialCluster } from "./validate-config";
import { diagnostic } from "./rules";
import { schemaDiagnostics } from "./schema-diagnostics";
import { schemaErrors } from "./schemas";
import type { Autoscaling, ClusterConfig, Diagnostic, ModelSpec, SnapshotFile } from "./types";
import { escapePointer, parseYamlFile, type Position } from "./yaml-source";

const SPEC_FIELDS = Object.keys(specSchema.properties);

interface RawSpec {
  model_id: string;
  model_source: string;
  num_replicas?: number;
  gpus_per_replica?: number;
  autoscaling?: Autoscaling;
  engine_kwargs?: Record<string, unknown>;
  clusters?: string[];
  description?: string;
  labels?: Record<string, string>;
}

export interface SpecContext {
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
  readonly defaultCluster: ClusterConfig | undefined;
  /**
   * Clusters whose cluster.yaml has errors (already reported there): specs naming them are not blamed for
   * that, but are still checked against what the file validly says.
   */
  readonly broken: ReadonlyMap<string, PartialCluster | undefined>;
}

export interface SpecResult {
  readonly spec?: ModelSpec;
  readonly diagnostics: Diagnostic[];
}

/** Validate one ServingSpec at models/<user>/<suffix>.yaml against the schema and every per-file rule. */
export function validateSpec(
  file: SnapshotFile,
  user: string,
  suffix: string,
  ctx: SpecContext,
  digest = sha256(file.bytes),
): SpecResult {
  const parsed = parseYamlFile(file.path, file.bytes);
  if (!parsed.ok) return { diagnostics: parsed.diagnostics };
  const { doc } = parsed;
  if (typeof doc.value !== "object" || doc.value === null || Array.isArray(doc.value)) {
    return {
      diagnostics: [
        diagnostic(
          "not-a-mapping",
          file.path,
          doc.valueAt(""),
          "a ServingSpec must be a YAML mapping of fields",
        ),
      ],
    };
  }
  const errors = schemaErrors("serving-spec", doc.value);
  const diagnostics = schemaDiagnostics(doc, errors, SPEC_FIELDS);
  const raw = doc.value as Partial<RawSpec>;

  if (typeof raw.model_id === "string" && raw.model_id !== suffix) {
    diagnostics.push(
      diagnostic(
        "name-mismatch",
        file.path,
        doc.valueAt("/model_id"),
        `model_id "${raw.model_id}" must equal the file name "${suffix}": rename the file or change model_id`,
      ),
    );
  }
  const scaling = raw.autoscaling;
  if (
    scaling &&
    Number.isInteger(scaling.min_replicas) &&
    Number.isInteger(scaling.max_replicas) &&
    scaling.min_replicas > scaling.max_replicas
  ) {
    diagnostics.push(
      diagnostic(
        "autoscaling-range",
        file.path,
        doc.valueAt("/autoscaling/min_replicas"),
        `autoscaling.min_replicas (${scaling.min_replicas}) is greater than max_replicas (${scaling.max_replicas})`,
      ),
    );
  }

  // Which clusters: named ones must exist; otherwise the default.
  let targets: ClusterConfig[] = [];
  const brokenTargets: TargetRules[] = [];
  const partially = (name: string) => {
    const partial = ctx.broken.get(name);
    if (partial) brokenTargets.push(partialRules(name, partial));
  };
  if (Array.isArray(raw.clusters) && !errors.some((e) => e.instancePath.startsWith("/clusters"))) {
    raw.clusters.forEach((name, i) => {
      const cluster = ctx.clusters.get(name);
      if (cluster) targets.push(cluster);
      else if (ctx.broken.has(name)) partially(name);
      else
        diagnostics.push(
          diagnostic(
            "unknown-cluster",
            file.path,
            doc.valueAt(`/clusters/${i}`),
            `unknown cluster "${name}": known clusters are ${[...ctx.clusters.keys()].join(", ") || "(none)"}`,
          ),
        );
    });
  } else if (raw.clusters === undefined) {
    const brokenDefaults = [...ctx.broken].filter(([, p]) => p?.default === true);
    if (ctx.defaultCluster) targets = [ctx.defaultCluster];
    else if (brokenDefaults.length === 1) partially(brokenDefaults[0]![0]);
    else if (ctx.broken.size === 0)
      diagnostics.push(
        diagnostic(
          "no-default-cluster",
          file.path,
          doc.keyAt("/model_id"),
          "no cluster is marked default: true: name one under `clusters:`",
        ),
      );
  }

  const gpus = Number.isInteger(raw.gpus_per_replica) ? raw.gpus_per_replica! : 1;
  // What vLLM will see as tensor_parallel_size, for its checks of engine_kwargs against it: not known while
  // gpus_per_replica itself is invalid (that is the problem reported).
  const gpusPlatform = () =>
    errors.some((e) => e.instancePath === "/gpus_per_replica")
      ? {}
      : {
          gpus_per_replica: gpus,
          ...(raw.gpus_per_replica === undefined ? { gpus_per_replica_default: true } : {}),
        };
  let resolvedSource: string | undefined;
  // With no usable target (a broken cluster.yaml, reported there, or an unknown name), the spec's own
  // problems must still show: check it against the platform's default roots, leaving hub ids and the deny
  // list to the cluster once it is fixed. Nothing is rendered from such a spec.
  const usable = [...targets.map(targetRules), ...brokenTargets];
  const checked: readonly TargetRules[] = usable.length > 0 ? usable : [FALLBACK_RULES];
  // Positions are computed only for a diagnostic: a valid spec never walks its events a second time.
  let sourcePosition: Position | undefined;
  const sourceAt = () => (sourcePosition ??= doc.valueAt("/model_source"));
  for (const cluster of checked) {
    if (cluster.gpus_per_node !== undefined && gpus > cluster.gpus_per_node) {
      diagnostics.push(
        diagnostic(
          "gpus-per-node",
          file.path,
          doc.valueAt("/gpus_per_replica"),
          `gpus_per_replica (${gpus}) exceeds the ${cluster.gpus_per_node} GPUs of one node on cluster ${cluster.name}: one replica must fit on one node`,
        ),
      );
    }
    if (typeof raw.model_source === "string") {
      const check = checkModelSource(raw.model_source, user, cluster.roots, cluster.allow_hub);
      if (check.ok) resolvedSource ??= check.resolved;
      // Once per rule on model_source (not once per cluster), without hiding another field's same rule.
      else if (
        !diagnostics.some(
          (d) => d.rule === check.rule && d.line === sourceAt().line && d.column === sourceAt().column,
        )
      )
        diagnostics.push(
          diagnostic(
            check.rule,
            file.path,
            sourceAt(),
            targets.length > 1 ? `${check.message} (cluster ${cluster.name})` : check.message,
          ),
        );
    }
    if (raw.engine_kwargs && typeof raw.engine_kwargs === "object" && !Array.isArray(raw.engine_kwargs)) {
      const platform = {
        ...gpusPlatform(),
        cluster: cluster.name,
        ...(cluster.accelerator_type !== undefined ? { accelerator_type: cluster.accelerator_type } : {}),
      };
      for (const problem of checkEngineKwargs(raw.engine_kwargs, cluster.denied, cluster.capped, platform)) {
        const pointer = `/engine_kwargs/${escapePointer(problem.key)}`;
        if (diagnostics.some((d) => d.rule === problem.rule && d.message === problem.message)) continue;
        diagnostics.push(
          diagnostic(
            problem.rule,
            file.path,
            problem.atValue ? doc.valueAt(pointer) : doc.keyAt(pointer),
            problem.message,
          ),
        );
      }
    }
  }
  if (diagnostics.length > 0 || targets.length === 0 || resolvedSource === undefined) return { diagnostics };

  const spec: RawSpec = raw as RawSpec;
  return {
    diagnostics,
    spec: {
      user,
      suffix,
      file: file.path,
      digest: lineEndingFree(file.bytes, digest),
      source: spec.model_source,
      resolvedSource,
      ...(spec.autoscaling ? { autoscaling: spec.autoscaling } : { num_replicas: spec.num_replicas ?? 1 }),
      gpus_per_replica: gpus,
      engine_kwargs: spec.engine_kwargs ?? {},
      clusters: targets.map((c) => c.name),
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      ...(spec.labels !== undefined ? { labels: spec.labels } : {}),
    },
  };
}

/** What a spec is checked against on one target cluster. */
interface TargetRules {
  readonly name: string;
  readonly gpus_per_node?: number;
  /** Unknown when its cluster.yaml has errors: checks that depend on it are then left out. */
  readonly accelerator_type?: string;
  readonly roots: ClusterConfig["sources"]["roots"];
  readonly allow_hub: boolean;
  /** Denied engine arguments, each with where its denial comes from (deniedKwargs). */
  readonly denied: ReadonlyMap<string, string>;
  /** Capped engine arguments (cappedKwargs): the built-in caps its allow list does not lift. */
  readonly capped: ReadonlyMap<string, KwargCap>;
}

/** A cluster's rules are the same for each of its 10,000 specs: built once per ClusterConfig. */
const rulesOf = new WeakMap<ClusterConfig, TargetRules>();
const targetRules = (c: ClusterConfig): TargetRules => {
  let rules = rulesOf.get(c);
  if (rules === undefined) {
    rules = {
      name: c.name,
      gpus_per_node: c.gpus_per_node,
      accelerator_type: c.accelerator_type,
      roots: c.sources.roots,
      allow_hub: c.sources.allow_hub,
      denied: deniedKwargs(c.name, c.engine_kwargs),
      capped: cappedKwargs(c.name, c.engine_kwargs),
    };
    rulesOf.set(c, rules);
  }
  return rules;
};

const partialRules = (name: string, p: PartialCluster): TargetRules => ({
  name,
  ...(p.gpus_per_node !== undefined ? { gpus_per_node: p.gpus_per_node } : {}),
  roots: p.roots,
  allow_hub: p.allow_hub ?? true,
  denied: deniedKwargs(name, p.engine_kwargs),
  capped: cappedKwargs(name, p.engine_kwargs),
});

const FALLBACK_RULES: TargetRules = {
  name: "(default)",
  roots: DEFAULT_SOURCE_ROOTS,
  allow_hub: true,
  denied: new Map(),
  capped: new Map(),
};

/**
 * The digest a fragment records for its spec: of the text with CRLF read as LF, so a Windows checkout with
 * core.autocrlf (CRLF on disk, LF in git) renders the same fragment as CI does. Most files have no CR.
 */
function lineEndingFree(bytes: Uint8Array, digest: string): string {
  if (!bytes.includes(13)) return digest;
  return sha256(Buffer.from(Buffer.from(bytes).toString("latin1").replace(/\r\n/g, "\n"), "latin1"));
}

export const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** GPUs a model may hold on one cluster: max_replicas when autoscaling. */
export function modelGpus(
  spec: Pick<ModelSpec, "num_replicas" | "autoscaling" | "gpus_per_replica">,
): number {
  return (
    (spec.autoscaling ? spec.autoscaling.max_replicas : (spec.num_replicas ?? 1)) * spec.gpus_per_replica
  );
}
