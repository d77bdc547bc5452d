import { renderGaps, type RenderGaps } from "../render-check";
import { validateRepo } from "../validate";
import { parse } from "./args";
import type { Command } from "./command";
import { formatDiagnostics } from "./output";
import { loadRepo, pathInRepo } from "./repo";

export const validateCommand: Command = {
  summary: "Check every spec, models/users.yaml and clusters/*/cluster.yaml; print diagnostics.",
  usage: `Usage: serve-gitops validate [--repo DIR] [--json] [PATH...]

  --repo DIR  the repository (default: the nearest folder at or above the current one holding models/ or clusters/)
  --json      print {"ok": bool, "diagnostics": [{file, line, column, severity, code, rule, message}],
              "outside": {"errors": n, "warnings": n}}; outside counts the diagnostics of files outside
              the PATHs (0 without PATHs)
  PATH...     only report diagnostics of these files or folders (the whole tree is still validated:
              capacity and quota problems the named specs contribute to are reported on them, and
              conflicts on both files). A relative PATH is taken from the current directory, or else
              from --repo; a PATH that does not exist is a usage error.

Exit: 0 valid (warnings allowed), 1 errors, 2 usage or internal error. With PATHs, "valid" and "ok" are
about the PATHs' diagnostics only: errors in other files are counted, not shown, and do not fail it.`,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { repo: { type: "string" }, json: { type: "boolean" } },
      true,
    );
    const { root, snapshot } = loadRepo(values.repo);
    const only = positionals.map((p) => pathInRepo(root, p));
    // "" is the repository itself (`validate .`): everything.
    const covers = (p: string, file: string) => p === "" || file === p || file.startsWith(`${p}/`);
    // Global problems (capacity, quota) are reported on the named specs that contribute to them.
    const named =
      only.length === 0
        ? undefined
        : new Set([...snapshot.files.keys()].filter((f) => only.some((p) => covers(p, f))));
    const result = validateRepo(snapshot, named ? { blame: named } : {});
    const shown =
      only.length === 0
        ? result.diagnostics
        : result.diagnostics.filter((d) => only.some((p) => covers(p, d.file)));
    const shownSet = new Set(shown);
    const hidden = result.diagnostics.filter((d) => !shownSet.has(d));
    const outside = {
      errors: hidden.filter((d) => d.severity === "error").length,
      warnings: hidden.filter((d) => d.severity !== "error").length,
    };
    const ok = !shown.some((d) => d.severity === "error");
    if (values.json)
      process.stdout.write(`${JSON.stringify({ ok, diagnostics: shown, outside }, null, 2)}\n`);
    else {
      if (shown.length > 0) process.stdout.write(formatDiagnostics(shown));
      else
        process.stdout.write(
          `ok: ${result.model.models.length} models, ${result.model.clusters.size} clusters\n`,
        );
      // After errors, only once they are fixed: render refuses a repository with any error anyway.
      const hint = ok && renderHint(renderGaps(snapshot, result.model), (f) => !named || named.has(f));
      if (hint) process.stdout.write(hint);
      if (hidden.length > 0)
        process.stdout.write(
          `(${count(outside.errors, "error")}, ${count(outside.warnings, "warning")} in files outside ${positionals.join(", ")}: not shown and not counted in this result; run validate without a PATH to see them)\n`,
        );
    }
    return ok ? 0 : 1;
  },
};

/**
 * A note, not a diagnostic (the exit stays validate's): the specs `render` has not run for, and fragments
 * whose spec is gone, as the listing shows them. The PR check fails on both, so say it before the push.
 */
function renderHint(gaps: RenderGaps, shown: (file: string) => boolean): string | undefined {
  const missing = gaps.missing.filter((m) => shown(m.spec));
  const extra = gaps.extra.filter(shown);
  if (missing.length === 0 && extra.length === 0) return undefined;
  const examples = (paths: readonly string[]) =>
    paths.length <= 3 ? paths.join(", ") : `${paths.slice(0, 3).join(", ")} and ${paths.length - 3} more`;
  const parts = [
    ...(missing.length > 0
      ? [
          `${count(missing.length, "fragment")} not rendered yet (${examples(missing.map((m) => m.fragment))})`,
        ]
      : []),
    ...(extra.length > 0
      ? [`${count(extra.length, "fragment")} that no spec renders any more (${examples(extra)})`]
      : []),
  ];
  return `note: the render is behind: ${parts.join("; ")}. Run \`serve-gitops render\` and commit clusters/ with your change (\`render --check\` also compares contents).\n`;
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? "" : "s"}`;
