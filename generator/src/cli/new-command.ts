import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { validateRepo } from "../validate";
import { parse } from "./args";
import { FindingsError, UsageError } from "./errors";
import type { Command } from "./command";
import { formatDiagnostics } from "./output";
import { loadRepo } from "./repo";

export const newCommand: Command = {
  summary: "Scaffold a ServingSpec at models/<user>/<model_id>.yaml that validates.",
  usage: `Usage: serve-gitops new <user>/<model_id> --source PATH [--repo DIR] [--replicas N] [--gpus N]

  --source PATH   model_source: a path under $HOME/common/hf/... or $HOME/..., or org/name where allowed
  --replicas N    num_replicas (default 1)
  --gpus N        gpus_per_replica (default 1)`,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        repo: { type: "string" },
        source: { type: "string" },
        replicas: { type: "string" },
        gpus: { type: "string" },
      },
      true,
    );
    const [target] = positionals;
    const match = target ? /^([^/]+)\/([^/]+)$/.exec(target) : null;
    if (!match || positionals.length !== 1) throw new UsageError("give exactly one <user>/<model_id>");
    if (!values.source) throw new UsageError("--source is required");
    const [, user, suffix] = match as unknown as [string, string, string];
    const integer = (name: string, value: string | undefined) => {
      if (value === undefined) return 1;
      if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number`);
      return Number(value);
    };
    const { root, snapshot } = loadRepo(values.repo);
    const path = `models/${user}/${suffix}.yaml`;
    const existing = [path, `models/${user}/${suffix}.yml`].find((p) => existsSync(join(root, p)));
    if (existing !== undefined) throw new UsageError(`${existing} already exists`);
    const schema = relative(join(root, dirname(path)), join(root, "schemas/serving-spec.schema.json"));
    const text = [
      `# yaml-language-server: $schema=${schema}`,
      `model_id: ${suffix}`,
      `model_source: ${JSON.stringify(values.source)}`,
      `num_replicas: ${integer("replicas", values.replicas)}`,
      `gpus_per_replica: ${integer("gpus", values.gpus)}`,
      "engine_kwargs:",
      "  max_model_len: 8192",
      "",
    ].join("\n");
    const files = new Map(snapshot.files);
    files.set(path, { path, kind: "file", bytes: Buffer.from(text) });
    const problems = validateRepo({ files, label: snapshot.label }).diagnostics.filter(
      (d) => d.file === path && d.severity === "error",
    );
    if (problems.length > 0) throw new FindingsError(`${formatDiagnostics(problems)}${path} was not written`);
    mkdirSync(join(root, dirname(path)), { recursive: true });
    writeFileSync(join(root, path), text, { flag: "wx" });
    process.stdout.write(
      `wrote ${path}\nnext: npx serve-gitops render, then commit both and open a pull request\n`,
    );
    return 0;
  },
};
