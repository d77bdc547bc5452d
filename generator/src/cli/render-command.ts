import { mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { checkRepo } from "../pipeline";
import { otherGeneratorVersions } from "../render-check";
import { parse, parseNow } from "./args";
import type { Command } from "./command";
import { printable } from "../text";
import { formatDiagnostics } from "./output";
import { loadRepo } from "./repo";

export const renderCommand: Command = {
  summary:
    "Render one fragment per (model, cluster) under clusters/<cluster>/rendered/<user>/<model_id>.yaml.",
  usage: `Usage: serve-gitops render [--repo DIR] [--check] [--now ISO8601]

  --check     write nothing; exit 1 listing every stale, missing or extra fragment
  --now TIME  the time a model rendered for the first time is named after (default: now): ISO 8601
              with Z or an offset, e.g. 2026-01-06T12:35:00Z; served names carry it in UTC

Nothing is written when any spec has an error. Unchanged fragments are not rewritten.`,
  async run(argv) {
    const { values } = parse(argv, {
      repo: { type: "string" },
      check: { type: "boolean" },
      now: { type: "string" },
    });
    const now = parseNow(values.now);
    const { root, snapshot } = loadRepo(values.repo);
    const result = checkRepo(snapshot, { now });
    if (!result.ok || !result.render || !result.renderDiff) {
      process.stdout.write(formatDiagnostics(result.diagnostics));
      process.stdout.write(
        values.check
          ? "render not checked: fix the errors above first\n"
          : "nothing rendered: fix the errors above first\n",
      );
      return 1;
    }
    const { stale, missing, extra } = result.renderDiff;
    const total = stale.length + missing.length + extra.length;
    if (values.check) {
      if (total === 0) {
        process.stdout.write(`render is current: ${result.render.files.size} fragments\n`);
        return 0;
      }
      const lines = [
        ...stale.map((p) => `stale    ${printable(p)}`),
        ...missing.map((p) => `missing  ${printable(p)}`),
        ...extra.map((p) => `extra    ${printable(p)}`),
      ];
      // Fragments record the version that rendered them: after an upgrade, say it is the version that differs.
      const skew = otherGeneratorVersions(snapshot, stale);
      process.stdout.write(
        skew
          ? `${lines.join("\n")}\n\nthe render is out of date, ${skew}: run \`npx serve-gitops render\` with the repository's version and commit clusters/*/rendered/\n`
          : `${lines.join("\n")}\n\nthe render is out of date: run \`npx serve-gitops render\` and commit clusters/*/rendered/\n`,
      );
      return 1;
    }
    // Every new text is written beside its target first; only when all are on disk are they renamed into
    // place (each rename atomic) and stale files removed. A failed write (a full disk, a file where a folder
    // belongs) leaves the committed render as it was.
    const staged: Array<readonly [string, string]> = [];
    try {
      for (const path of [...stale, ...missing]) {
        const target = join(root, path);
        mkdirSync(dirname(target), { recursive: true });
        const temporary = `${target}.tmp-${process.pid}`;
        staged.push([temporary, target]);
        writeFileSync(temporary, result.render.files.get(path)!);
      }
    } catch (error) {
      for (const [temporary] of staged) rmSync(temporary, { force: true });
      throw new Error(`nothing was written: ${(error as Error).message}`);
    }
    for (const [temporary, target] of staged) renameSync(temporary, target);
    for (const path of extra) {
      rmSync(join(root, path), { force: true });
      pruneEmpty(root, dirname(path));
    }
    process.stdout.write(
      total === 0
        ? `render is current: ${result.render.files.size} fragments\n`
        : `rendered: ${missing.length} added, ${stale.length} updated, ${extra.length} removed\n`,
    );
    return 0;
  },
};

/**
 * Remove `folder` (relative to `root`), then its parents, while they are empty: the folders a removed
 * fragment leaves behind. `<top>/<name>/` (clusters/<cluster>/, models/<user>/) and above are kept.
 */
export function pruneEmpty(root: string, folder: string): void {
  for (let dir = folder; dir.split("/").length > 2; dir = dirname(dir)) {
    try {
      if (readdirSync(join(root, dir)).length > 0) return;
      rmdirSync(join(root, dir));
    } catch {
      return;
    }
  }
}
