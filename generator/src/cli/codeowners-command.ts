import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CODEOWNERS_COMMAND, CODEOWNERS_FILE, codeownersOf } from "../codeowners";
import { USERS_FILE } from "../validate-config";
import { parse } from "./args";
import type { Command } from "./command";
import { formatDiagnostics } from "./output";
import { loadRepo } from "./repo";

export const codeownersCommand: Command = {
  summary: `Render ${CODEOWNERS_FILE} from ${USERS_FILE}: admins own admin and tool paths, user folders have no owner.`,
  usage: `Usage: serve-gitops codeowners [--repo DIR] [--check]

  --repo DIR  the repository (default: the nearest folder at or above the current one holding models/ or clusters/)
  --check     write nothing; exit 1 when ${CODEOWNERS_FILE} differs from what ${USERS_FILE} renders

The serving-specs check fails while the committed file is stale.`,
  async run(argv) {
    const { values } = parse(argv, { repo: { type: "string" }, check: { type: "boolean" } });
    const { root, snapshot } = loadRepo(values.repo);
    const result = codeownersOf(snapshot);
    if (result.text === undefined) {
      if (result.diagnostics.length > 0) process.stdout.write(formatDiagnostics(result.diagnostics));
      process.stdout.write(
        `${CODEOWNERS_FILE} not rendered: ${USERS_FILE} is ${result.diagnostics.length > 0 ? "invalid" : "missing"}\n`,
      );
      return 1;
    }
    const target = join(root, CODEOWNERS_FILE);
    const committed = existsSync(target) ? readFileSync(target, "utf8") : undefined;
    // A checkout with core.autocrlf holds it with CRLF line ends; git stores LF: the same file.
    if (committed?.replace(/\r\n/g, "\n") === result.text) {
      process.stdout.write(`${CODEOWNERS_FILE} is current\n`);
      return 0;
    }
    if (values.check) {
      process.stdout.write(
        `${CODEOWNERS_FILE} is ${committed === undefined ? "missing" : "out of date"}: run \`${CODEOWNERS_COMMAND}\` and commit it\n`,
      );
      return 1;
    }
    mkdirSync(dirname(target), { recursive: true });
    const temporary = `${target}.tmp-${process.pid}`;
    writeFileSync(temporary, result.text);
    renameSync(temporary, target);
    process.stdout.write(`wrote ${CODEOWNERS_FILE}\n`);
    return 0;
  },
};
