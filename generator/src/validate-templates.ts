import { assemble, templateOf } from "./assemble";
import { renderFragments, timestampsOf } from "./render";
import { diagnostic } from "./rules";
import type { Diagnostic, RepoModel, RepoSnapshot } from "./types";
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
): Diagnostic[] {
  const out: Diagnostic[] = [];
  // Messages name models as the render does: the served names the committed fragments carry.
  let timestamps: ReturnType<typeof timestampsOf> | undefined;
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
    const models = model.models.filter((m) => m.clusters.includes(cluster.name));
    const fragments = renderFragments(
      { ...model, models },
      { now: DRY_RUN, timestamps: [(timestamps ??= timestampsOf(snapshot))] },
    ).fragments.filter((f) => f.cluster === cluster.name);
    out.push(...assemble(cluster, fragments, snapshot).diagnostics);
  }
  return out;
}
