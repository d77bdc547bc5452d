import { isAbsolute } from "node:path";
import { validateRepo } from "../validate";
import { parse } from "./args";
import { UsageError } from "./errors";
import type { Command } from "./command";
import { formatDiagnostics } from "./output";
import { loadRepo, repoRelative } from "./repo";

export const validateCommand: Command = {
  summary: "Check every spec, models/users.yaml and clusters/*/cluster.yaml; print diagnostics.",
  usage: `Usage: serve-gitops validate [--repo DIR] [--json] [PATH...]

  --repo DIR  the repository (default: the current directory)
  --json      print {"ok": bool, "diagnostics": [{file, line, column, severity, code, rule, message}]}
  PATH...     only report diagnostics of these files or folders (the whole tree is still validated:
              capacity, quotas and names are global)

Exit: 0 valid (warnings allowed), 1 errors, 2 usage or internal error.`,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { repo: { type: "string" }, json: { type: "boolean" } },
      true,
    );
    const { root, snapshot } = loadRepo(values.repo);
    const result = validateRepo(snapshot);
    const only = positionals.map((p) => repoRelative(root, p));
    // A path outside the repository would match nothing and turn every error into "ok".
    const outside = positionals.find(
      (_, i) => only[i] === ".." || only[i]!.startsWith("../") || isAbsolute(only[i]!),
    );
    if (outside !== undefined) throw new UsageError(`${outside} is not inside the repository ${root}`);
    // "" is the repository itself (`validate .`): everything.
    const covers = (p: string, file: string) => p === "" || file === p || file.startsWith(`${p}/`);
    const shown =
      only.length === 0
        ? result.diagnostics
        : result.diagnostics.filter((d) => only.some((p) => covers(p, d.file)));
    const ok = !shown.some((d) => d.severity === "error");
    if (values.json) process.stdout.write(`${JSON.stringify({ ok, diagnostics: shown }, null, 2)}\n`);
    else if (shown.length > 0) process.stdout.write(formatDiagnostics(shown));
    else
      process.stdout.write(
        `ok: ${result.model.models.length} models, ${result.model.clusters.size} clusters\n`,
      );
    return ok ? 0 : 1;
  },
};
