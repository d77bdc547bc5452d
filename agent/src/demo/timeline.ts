// The demo's readable timeline: what the repository, the agent, Ray and GitHub did, in order.
import type { GitHubApiServer } from "../../../generator/testkit/github-api-server";

export type Source = "repo" | "agent" | "ray" | "github" | "scene" | "note";

interface LogLine {
  msg?: string;
  sha?: string;
  model?: string;
  result?: string;
  description?: string;
  reason?: string;
  changes?: string[];
  applications?: number;
  cause?: string;
  guard?: string;
  models?: number;
}

export class Timeline {
  private readonly started = Date.now();
  private seenRequests = 0;
  private readonly logs: LogLine[] = [];

  constructor(private readonly out: (line: string) => void) {}

  /** A pino destination: the agent's JSON log lines become timeline entries. */
  readonly destination = {
    write: (line: string) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        // not JSON: ignore
      }
    },
  };

  say(source: Source, text: string): void {
    if (source === "scene") {
      this.out(`\n== ${text}`);
      return;
    }
    const t = ((Date.now() - this.started) / 1000).toFixed(1).padStart(5);
    this.out(`${t}s  ${source.padEnd(6)}  ${text}`);
  }

  /** Print what happened since the last call: the agent's notable log lines, then GitHub's writes. */
  flush(github: GitHubApiServer): void {
    for (const line of this.logs.splice(0)) {
      const text = describeLog(line);
      if (text) this.say(text.startsWith("PUT") ? "ray" : "agent", text);
    }
    const requests = github.requests.slice(this.seenRequests);
    this.seenRequests = github.requests.length;
    for (const r of requests) {
      const body = (r.body ?? {}) as {
        state?: string;
        context?: string;
        description?: string;
        body?: string;
      };
      const sha = /\/statuses\/([0-9a-f]{7})/.exec(r.path)?.[1];
      if (r.method === "POST" && sha)
        this.say(
          "github",
          `${sha}  ${String(body.context).padEnd(26)} ${String(body.state).padEnd(7)} ${body.description ?? ""}`,
        );
      else if (r.method === "POST" && r.path.includes("/comments"))
        this.say("github", `comment on PR #${/issues\/(\d+)/.exec(r.path)?.[1]} (curl and OpenAI snippets)`);
      else if (r.method === "PATCH") this.say("github", "PR comment updated in place");
    }
  }
}

const short = (sha: string | undefined) => (sha ?? "").slice(0, 7);

function describeLog(line: LogLine): string | undefined {
  switch (line.msg) {
    case "new commit":
      return `new commit ${short(line.sha)} is valid (${line.models} model${line.models === 1 ? "" : "s"} for this cluster)`;
    case "commit refused; the last good config keeps serving":
      return `REFUSED ${short(line.sha)}: ${line.reason}; the last good config keeps serving`;
    case "apply refused by a guard":
      return `REFUSED ${short(line.sha)} (${line.guard}): ${line.reason}`;
    case "PUT /api/serve/applications/ accepted":
      return `PUT /api/serve/applications/ accepted (${line.applications} applications, ${line.cause})`;
    case "model settled":
      return `${line.model}: ${line.result} (${line.description})`;
    case "drift corrected: re-applied the commit":
      return `DRIFT: Serve was changed by hand (${(line.changes ?? []).join(", ")}); re-applied ${short(line.sha)}`;
    case "model undeployed":
      return `${line.model} left Ray`;
    default:
      return undefined;
  }
}
