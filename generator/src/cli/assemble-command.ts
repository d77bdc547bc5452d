import { assemble } from "../assemble";
import { checkRepo, isRenderCurrent } from "../pipeline";
import { parse } from "./args";
import { UsageError } from "./errors";
import type { Command } from "./command";
import { formatDiagnostics } from "./output";
import { loadRepo } from "./repo";

export const assembleCommand: Command = {
  summary: "Print the complete Ray Serve config (what the sync agent PUTs) of one cluster.",
  usage: `Usage: serve-gitops assemble --cluster NAME [--repo DIR] [--format yaml|json]

The config is derived from the cluster's cluster.yaml and its rendered fragments; it is never committed.`,
  async run(argv) {
    const { values } = parse(argv, {
      repo: { type: "string" },
      cluster: { type: "string" },
      format: { type: "string" },
    });
    if (!values.cluster) throw new UsageError("--cluster is required");
    const format = values.format ?? "yaml";
    if (format !== "yaml" && format !== "json")
      throw new UsageError(`--format must be yaml or json (got "${format}")`);
    const { snapshot } = loadRepo(values.repo);
    const result = checkRepo(snapshot, { now: new Date() });
    if (!result.ok || !result.render) {
      process.stdout.write(formatDiagnostics(result.diagnostics));
      return 1;
    }
    if (!isRenderCurrent(result.renderDiff)) {
      process.stderr.write("the rendered fragments are out of date: run `npx serve-gitops render` first\n");
      return 1;
    }
    const cluster = result.validation.model.clusters.get(values.cluster);
    if (!cluster)
      throw new UsageError(
        `unknown cluster "${values.cluster}": ${[...result.validation.model.clusters.keys()].join(", ")}`,
      );
    const assembled = assemble(cluster, result.render.fragments, snapshot);
    if (!assembled.config) {
      process.stdout.write(formatDiagnostics(assembled.diagnostics));
      return 1;
    }
    process.stdout.write(
      format === "json" ? `${JSON.stringify(assembled.config, null, 2)}\n` : assembled.text!,
    );
    return 0;
  },
};
