import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { CLUSTER_NAME, USER_ID, validateRepo } from "../validate";
import { yamlScalar } from "../yaml-emit";
import { parse } from "./args";
import { FindingsError, UsageError } from "./errors";
import type { Command } from "./command";
import { formatDiagnostics } from "./output";
import { loadRepo } from "./repo";

export const newCommand: Command = {
  summary: "Scaffold a ServingSpec at models/<user>/<model_id>.yaml that validates.",
  usage: `Usage: serve-gitops new <user>/<model_id> --source PATH [--repo DIR] [--replicas N] [--gpus N] [--cluster NAME...]

  --source PATH   model_source: a path under $HOME/common/hf/... or $HOME/..., or a Hugging Face repo id
                  org/name on clusters that allow hub sources (name them with --cluster)
  --replicas N    num_replicas (default 1)
  --gpus N        gpus_per_replica (default 1)
  --cluster NAME  deploy to this cluster instead of the default one; repeat it or give a comma list
                  (--cluster h1,lab) for several: written as the spec's clusters: list
  --repo DIR      the repository (default: the nearest folder at or above the current one holding models/ or clusters/)

Nothing is written when the spec would not validate.`,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        repo: { type: "string" },
        source: { type: "string" },
        replicas: { type: "string" },
        gpus: { type: "string" },
        cluster: { type: "string", multiple: true },
      },
      true,
    );
    const [target] = positionals;
    // The file (alice/x.yaml, models/alice/x.yaml) where the model id goes: it would name a model "x.yaml".
    const file = target ? /^(?:models\/)?([^/]+)\/([^/]+)\.ya?ml$/.exec(target) : null;
    if (file && positionals.length === 1)
      throw new UsageError(
        `give <user>/<model_id>, not a file: serve-gitops new ${file[1]}/${file[2]} writes models/${file[1]}/${file[2]}.yaml`,
      );
    const match = target ? /^([^/]+)\/([^/]+)$/.exec(target) : null;
    if (!match || positionals.length !== 1) throw new UsageError("give exactly one <user>/<model_id>");
    if (!values.source) throw new UsageError("--source is required");
    const [, user, suffix] = match as unknown as [string, string, string];
    const integer = (name: string, value: string | undefined) => {
      if (value === undefined) return 1;
      if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number`);
      return Number(value);
    };
    // Like the spec's clusters: list: names, each once, in the order given.
    const clusters = [
      ...new Set((values.cluster ?? []).flatMap((v) => v.split(",")).map((name) => name.trim())),
    ];
    if (clusters.includes("")) throw new UsageError("--cluster needs a cluster name");
    const { root, snapshot } = loadRepo(values.repo);
    const path = `models/${user}/${suffix}.yaml`;
    const existing = [path, `models/${user}/${suffix}.yml`].find((p) => existsSync(join(root, p)));
    if (existing !== undefined) throw new UsageError(`${existing} already exists`);
    const schema = relative(join(root, dirname(path)), join(root, "schemas/serving-spec.schema.json"));
    const text = [
      `# yaml-language-server: $schema=${schema}`,
      // Quoted whenever YAML would read it as something else: a model id 123, 1e3 or null is a string too.
      `model_id: ${yamlScalar(suffix)}`,
      `model_source: ${JSON.stringify(values.source)}`,
      `num_replicas: ${integer("replicas", values.replicas)}`,
      `gpus_per_replica: ${integer("gpus", values.gpus)}`,
      ...(clusters.length > 0 ? [`clusters: [${clusters.map(flowItem).join(", ")}]`] : []),
      "engine_kwargs:",
      "  max_model_len: 8192",
      "",
    ].join("\n");
    const files = new Map(snapshot.files);
    files.set(path, { path, kind: "file", bytes: Buffer.from(text) });
    // Blamed as a pull request adding it would be: capacity and quota it breaks are reported on it.
    const result = validateRepo({ files, label: snapshot.label }, { blame: new Set([path]) });
    const problems = result.diagnostics.filter((d) => d.file === path && d.severity === "error");
    if (problems.length > 0) {
      const hints: string[] = [];
      if (problems.some((d) => d.rule === "model-source-hub-not-allowed"))
        hints.push(
          hubHint([...result.model.clusters.values()].filter((c) => c.sources.allow_hub).map((c) => c.name)),
        );
      if (problems.some((d) => d.rule === "model-source-outside-roots")) {
        const hint = expandedHomeHint(values.source, process.env.HOME);
        if (hint) hints.push(hint);
      }
      // An unregistered user cannot fix it with other options: an admin must register them first.
      // (With users.yaml missing or invalid, its own diagnostics say what to fix.)
      const unregistered =
        result.model.users !== undefined &&
        USER_ID.test(user) &&
        problems.some((d) => d.rule === "unregistered-user");
      const admins = result.model.users?.admins ?? [];
      const last = unregistered
        ? `${path} was not written: ${user} is not a registered user. An admin${admins.length > 0 ? ` (${admins.join(", ")})` : ""} must add ${user} to models/users.yaml first (with their GitHub login and gpu_quota); run new again once that is merged`
        : `${path} was not written: the problems above are in the spec it would hold; change the options and run new again`;
      throw new FindingsError(`${formatDiagnostics(problems)}${[...hints, last].join("\n")}`);
    }
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), text, { flag: "wx" });
    process.stdout.write(
      `wrote ${path}\nnext: npx serve-gitops render, then commit both and open a pull request\n`,
    );
    return 0;
  },
};

/** A cluster name in a flow list: plain when it is a valid name YAML reads as that string, else JSON-quoted. */
const flowItem = (name: string): string =>
  CLUSTER_NAME.test(name) ? yamlScalar(name) : JSON.stringify(name);

/**
 * `--source "$HOME/common/hf/..."` in double quotes reaches us expanded by the shell: the user's HOME on this
 * machine, not the cluster's $HOME macro. Say so when the source starts with the shell's HOME.
 */
function expandedHomeHint(source: string, home: string | undefined): string | undefined {
  const trimmed = home?.replace(/\/+$/, "");
  if (!trimmed || !source.startsWith("/") || !source.startsWith(`${trimmed}/`)) return undefined;
  const rest = source.slice(trimmed.length);
  return `hint: your shell expanded $HOME (to ${trimmed}): quote the source with single quotes so the spec keeps the macro ('$HOME${rest}')`;
}

/** Where a Hugging Face repo id may go instead: the clusters whose cluster.yaml allows hub sources. */
function hubHint(hubClusters: readonly string[]): string {
  if (hubClusters.length === 0)
    return "hint: no cluster allows Hugging Face repo ids (sources.allow_hub in cluster.yaml): give a path under $HOME/common/hf/... or $HOME/...";
  return hubClusters.length === 1
    ? `hint: Hugging Face repo ids are allowed only on cluster ${hubClusters[0]}: deploy there with --cluster ${hubClusters[0]}`
    : `hint: Hugging Face repo ids are allowed only on clusters ${hubClusters.join(", ")}: deploy to one or more of them with --cluster (e.g. --cluster ${hubClusters.join(",")})`;
}
