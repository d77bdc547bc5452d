import { assemble, templateOf } from "./assemble";
import { renderFragments, timestampsOf } from "./render";
import { diagnostic } from "./rules";
import type { Autoscaling, Diagnostic, ModelSpec, RepoModel, RepoSnapshot } from "./types";
import type { Position } from "./yaml-source";

/** The time a model not rendered yet is named after in a dry run: any time gives names of the right shape. */
const DRY_RUN = new Date("2000-01-01T00:00:00Z");

/**
 * A cluster's own Serve config template, checked where every check runs (validate, render, the PR check, the
 * agent) rather than first at assembly after the merge: parsed, held to `{{json}}`, and assembled once over
 * the models validated for the cluster. The built-in template is not assembled here: its checks are pinned by
 * tests, and assembling every cluster would cost validate a render of every spec.
 */
export function checkTemplates(
  model: RepoModel,
  snapshot: RepoSnapshot,
  templateAt: ReadonlyMap<string, Position>,
  known?: ReadonlyMap<string, string>,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  // Messages name models as the render does: the served names the committed fragments carry.
  let timestamps: ReadonlyMap<string, string> | undefined = known;
  for (const cluster of model.clusters.values()) {
    if (!cluster.serve.template) continue;
    const template = templateOf(cluster, snapshot);
    if (template.kind === "missing") {
      out.push(
        diagnostic(
          "template-invalid",
          cluster.file,
          templateAt.get(cluster.name) ?? { line: 1, column: 1 },
          `serve.template names ${template.file}, which does not exist: commit it, or remove serve.template to use the built-in template`,
        ),
      );
      continue;
    }
    const deployed = model.models.filter((m) => m.clusters.includes(cluster.name));
    const dryRun = (models: ModelSpec[]) => {
      const fragments = renderFragments(
        { ...model, models },
        { now: DRY_RUN, timestamps: [(timestamps ??= timestampsOf(snapshot))] },
      ).fragments.filter((f) => f.cluster === cluster.name);
      return assemble(cluster, fragments, snapshot).diagnostics;
    };
    const problems = dryRun(deployed);
    // Each kind of model no spec on the cluster is yet (a fixed replica count, autoscaling) is then tried with
    // a sample, so the template's per-model parts are checked at the admin's change, not first on the pull
    // request of the owner who deploys the first model of that kind (on a file only admins may change).
    const samples = [
      ...(deployed.some((m) => !m.autoscaling) ? [] : [sampleModel(cluster.name, "template-dry-run")]),
      ...(deployed.some((m) => m.autoscaling)
        ? []
        : [sampleModel(cluster.name, "template-dry-run-autoscaling", { min_replicas: 0, max_replicas: 2 })]),
    ];
    if (problems.length > 0 || samples.length === 0) {
      out.push(...problems);
      continue;
    }
    // On a cluster with models, the config the agent applies is fine: what only a sample meets is a warning
    // (it fails the pull request of the first owner who deploys such a model, on a file only admins change).
    const sampled = dryRun(samples);
    out.push(
      ...(deployed.length === 0
        ? sampled
        : sampled.map((d) => ({
            ...d,
            severity: "warning" as const,
            message: `the first ${samples[0]!.autoscaling ? "autoscaling model" : "model with a fixed replica count"} deployed to ${cluster.name} will fail this template (tried with a sample): ${d.message}`,
          }))),
    );
  }
  return out;
}

/** A model a template is tried with where no spec of its kind deploys yet (named so in any message). */
function sampleModel(cluster: string, suffix: string, autoscaling?: Autoscaling): ModelSpec {
  return {
    user: "sample",
    suffix,
    file: `models/sample/${suffix}.yaml`,
    digest: "0".repeat(64),
    source: "$HOME/common/hf/sample",
    resolvedSource: "/private/hf/sample",
    ...(autoscaling ? { autoscaling } : { num_replicas: 1 }),
    gpus_per_replica: 1,
    engine_kwargs: { max_model_len: 4096 },
    clusters: [cluster],
  };
}
