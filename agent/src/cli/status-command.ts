import { parse } from "../../../generator/src/cli/args";
import type { Command } from "../../../generator/src/cli/command";
import { UsageError } from "../../../generator/src/cli/errors";
import type { StatusDoc } from "../server/status-doc";
import { redactUrl } from "../redact-url";
import { fetchFailure } from "./fetch-failure";
import { statusTable } from "./status-table";

export const statusCommand: Command = {
  summary: "Print a sync agent's per-model status (GET /status of its --listen address) as a table.",
  usage: `Usage: serve-gitops status --agent URL [--json]

  --agent URL   the agent's --listen address, e.g. http://127.0.0.1:9464   [SERVE_GITOPS_AGENT_URL]
  --json        print the agent's JSON as is

Exit: 0 printed, 1 the agent could not be reached, 2 usage error.`,
  async run(argv) {
    const { values } = parse(argv, { agent: { type: "string" }, json: { type: "boolean" } });
    const base = values.agent ?? process.env.SERVE_GITOPS_AGENT_URL;
    if (!base) throw new UsageError("--agent URL is required");
    let url: URL;
    try {
      url = new URL("/status", base);
    } catch {
      throw new UsageError(`--agent must be a URL such as http://127.0.0.1:9464 (got "${redactUrl(base)}")`);
    }
    // /status needs no credentials, and fetch() refuses a URL that carries them (echoing it, password included).
    if (url.username || url.password) throw new UsageError("--agent must not carry credentials");
    let doc: StatusDoc;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      doc = (await res.json()) as StatusDoc;
    } catch (error) {
      process.stderr.write(
        `serve-gitops status: cannot read ${url.href}: ${fetchFailure(error, url.port)}\n`,
      );
      return 1;
    }
    process.stdout.write(values.json ? `${JSON.stringify(doc, null, 2)}\n` : statusTable(doc));
    return 0;
  },
};
