// A commit's snapshot -> what the agent should apply to its cluster, re-validated with the generator's own
// pipeline (never a second copy of its rules). Pure.
import {
  assemble,
  checkRepo,
  fragmentPath,
  isRenderCurrent,
  otherGeneratorVersions,
  placement,
  type Diagnostic,
  type Fragment,
  type RepoSnapshot,
  type SpecMemo,
} from "../../../generator/src/index";
import { fitDescription } from "../report/describe";
import type { DesiredModel, DesiredState } from "./types";

export type DesiredResult =
  | { readonly ok: true; readonly desired: DesiredState }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly diagnostics: readonly Diagnostic[];
      /** The commit does not define the agent's cluster: the agent's configuration (--cluster), not the commit's fault. */
      readonly unknownCluster?: true;
    };

/** `memo` lets a new commit reuse the results of the specs it did not change (see RollingSpecMemo). */
export function desiredFromSnapshot(
  snapshot: RepoSnapshot,
  clusterName: string,
  now: Date,
  memo?: SpecMemo,
): DesiredResult {
  const check = checkRepo(snapshot, { now, ...(memo ? { memo } : {}) });
  const errors = check.diagnostics.filter((d) => d.severity === "error");
  if (!check.ok || !check.render) {
    const first = errors[0];
    const where = first ? `; ${first.file}:${first.line} ${first.code} ${first.message}` : "";
    return refuse(`invalid: ${errors.length} error${errors.length === 1 ? "" : "s"}${where}`, errors);
  }
  const cluster = check.validation.model.clusters.get(clusterName);
  if (!cluster)
    return {
      ok: false,
      reason: `cluster ${clusterName} is not defined (no clusters/${clusterName}/cluster.yaml)`,
      diagnostics: [],
      unknownCluster: true,
    };
  if (!isRenderCurrent(check.renderDiff)) {
    const diff = check.renderDiff!;
    const stale = diff.stale.length + diff.missing.length + diff.extra.length;
    // Each fragment records the version that rendered it: after an upgrade of either side, say which (in the
    // 140 characters of a commit status).
    const skew = otherGeneratorVersions(snapshot, diff.stale);
    const fragments = `${stale} fragment${stale === 1 ? " is" : "s are"} out of date`;
    return refuse(
      skew
        ? `not rendered: ${fragments}, ${skew} (the agent): versions must match`
        : `not rendered: ${fragments}; run serve-gitops render`,
      [],
    );
  }
  const fragments = check.render.fragments.filter((f) => f.cluster === clusterName);
  const assembled = assemble(cluster, fragments, snapshot);
  if (!assembled.config) {
    const first = assembled.diagnostics[0];
    return refuse(`invalid Serve config: ${first?.message ?? "assembly failed"}`, assembled.diagnostics);
  }
  const models = new Map<string, DesiredModel>();
  for (const fragment of fragments) {
    const model = desiredModel(
      cluster.name,
      fragment,
      placement(cluster, fragment.user, fragment.served_name),
    );
    models.set(model.key, model);
  }
  return {
    ok: true,
    desired: {
      sha: snapshot.label,
      cluster,
      config: assembled.config,
      apps: new Map(assembled.config.applications.map((a) => [a.name, a])),
      models,
    },
  };
}

const refuse = (reason: string, diagnostics: readonly Diagnostic[]): DesiredResult => ({
  ok: false,
  reason: fitDescription(reason),
  diagnostics,
});

function desiredModel(
  cluster: string,
  f: Fragment,
  where: { app: string; route: string; endpoint: string },
): DesiredModel {
  const loading = (f.llm_config.model_loading_config ?? {}) as { model_source?: unknown };
  return {
    key: `${f.user}/${f.suffix}`,
    user: f.user,
    suffix: f.suffix,
    served_name: f.served_name,
    created: f.created,
    spec: f.spec,
    fragment: fragmentPath(cluster, f.user, f.suffix),
    model_source: typeof loading.model_source === "string" ? loading.model_source : "",
    app: where.app,
    route: where.route,
    endpoint: f.endpoint,
    deployment: String(f.deployment.name),
    llm_config: f.llm_config,
    override: f.deployment,
    replicas: replicasLabel(f),
    gpus: f.gpus,
  };
}

/** "2x1 GPU" or "autoscaling 1-4 x2 GPU", as the plan shows it. */
export function replicasLabel(f: Pick<Fragment, "deployment" | "gpus_per_replica">): string {
  const d = f.deployment as {
    num_replicas?: unknown;
    autoscaling_config?: { min_replicas?: unknown; max_replicas?: unknown };
  };
  if (d.autoscaling_config) {
    return `autoscaling ${String(d.autoscaling_config.min_replicas)}-${String(d.autoscaling_config.max_replicas)} x${f.gpus_per_replica} GPU`;
  }
  return `${String(d.num_replicas)}x${f.gpus_per_replica} GPU`;
}
