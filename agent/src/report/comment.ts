// The one outcome comment the agent keeps on a pull request (per cluster), edited in place. Pure.
import type { ModelRecord, TrackedModel } from "../model/types";
import { sha7 } from "./describe";

export const commentMarker = (cluster: string): string => `<!-- serve-gitops:agent cluster=${cluster} -->`;

const MAX_ROWS = 200;
const MAX_SNIPPETS = 20;

export function commentBody(
  cluster: string,
  sha: string,
  tracked: readonly TrackedModel[],
  models: Readonly<Record<string, ModelRecord>>,
): string {
  const rows = [...tracked].sort((a, b) => (a.key < b.key ? -1 : 1));
  const lines = [
    commentMarker(cluster),
    `### serve-gitops: cluster \`${cluster}\`, commit ${sha7(sha)}`,
    "",
    "| model | served name | state | |",
    "|---|---|---|---|",
  ];
  for (const t of rows.slice(0, MAX_ROWS)) {
    lines.push(
      `| ${t.key} | \`${t.served_name}\` | ${stateOf(t)} | ${cell(t.outcome?.result === "running" ? t.endpoint : (t.outcome?.description ?? ""))} |`,
    );
  }
  if (rows.length > MAX_ROWS) lines.push(`| ... | ${rows.length - MAX_ROWS} more | | |`);
  const running = rows.filter((t) => t.outcome?.result === "running");
  for (const t of running.slice(0, MAX_SNIPPETS)) lines.push("", ...snippet(t));
  if (running.length === 0 && rows.some((t) => !t.outcome)) {
    lines.push("", "Deploying: this comment is updated when Ray reports each model serving or failed.");
  }
  const spec = (key: string) => models[key]?.source;
  const failed = rows.filter(
    (t) =>
      t.outcome &&
      t.outcome.result !== "running" &&
      t.outcome.result !== "undeployed" &&
      t.outcome.result !== "superseded",
  );
  if (failed.length > 0) {
    lines.push(
      "",
      `Failed models keep their previous state on the cluster until a later commit fixes them${failed.map((t) => spec(t.key)).filter(Boolean).length > 0 ? ` (${failed.map((t) => spec(t.key) ?? t.key).join(", ")})` : ""}.`,
    );
  }
  lines.push(
    "",
    `_Written by the serve-gitops sync agent of cluster \`${cluster}\`; edited in place on every change._`,
  );
  return lines.join("\n") + "\n";
}

function stateOf(t: TrackedModel): string {
  switch (t.outcome?.result) {
    case undefined:
      return t.kind === "undeploy" ? "DELETING" : "DEPLOYING";
    case "running":
      return "RUNNING";
    case "undeployed":
      return "UNDEPLOYED";
    case "superseded":
      return "SUPERSEDED";
    default:
      return "FAILED";
  }
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

function snippet(t: TrackedModel): string[] {
  const base = t.endpoint.replace(/\/+$/, "");
  const body = JSON.stringify({ model: t.served_name, messages: [{ role: "user", content: "Hello!" }] });
  return [
    `<details><summary>Call <code>${t.served_name}</code></summary>`,
    "",
    "```bash",
    `curl -s ${base}/chat/completions \\`,
    '  -H "Authorization: Bearer $OPENAI_API_KEY" -H "Content-Type: application/json" \\',
    `  -d '${body}'`,
    "```",
    "",
    "```python",
    "import os",
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url="${base}", api_key=os.environ["OPENAI_API_KEY"])`,
    `reply = client.chat.completions.create(model="${t.served_name}", messages=[{"role": "user", "content": "Hello!"}])`,
    "print(reply.choices[0].message.content)",
    "```",
    "</details>",
  ];
}
