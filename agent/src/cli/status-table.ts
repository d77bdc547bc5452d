// `serve-gitops status`: GET /status of an agent, as a table. Pure formatting.
import type { StatusDoc } from "../server/status-doc";

const short = (sha: string | undefined) => (sha ? sha.slice(0, 7) : "-");

export function statusTable(doc: StatusDoc): string {
  const lines = [
    `cluster ${doc.cluster}  branch ${doc.branch}  Ray ${doc.ray.version || "?"} at ${doc.ray.address || "?"}${doc.suspended ? "  SUSPENDED" : ""}${doc.dry_run ? "  DRY RUN" : ""}`,
    `attempted ${short(doc.marks.attempted?.sha)}  accepted ${short(doc.marks.accepted?.sha)}  applied ${short(doc.marks.applied?.sha)}  reported ${short(doc.marks.reported?.sha)}  head ${short(doc.head)}  outbox ${doc.outbox}`,
  ];
  if (doc.blocked) lines.push(`blocked: ${short(doc.blocked.sha)} ${doc.blocked.reason}`);
  if (doc.unreadable) lines.push(unreadable(doc.unreadable));
  for (const r of doc.refused.slice(-3)) lines.push(`refused: ${short(r.sha)} ${r.reason}`);
  if (doc.last_cycle && doc.last_cycle.faults.length > 0)
    lines.push(`last cycle faults: ${doc.last_cycle.faults.join("; ")}`);
  lines.push("");
  const rows = doc.models.map((m) => [
    m.key,
    m.served_name,
    m.state,
    m.replicas,
    String(m.gpus),
    m.updated.replace(/\.\d+Z$/, "Z"),
    m.state === "RUNNING" ? m.endpoint : (m.error_summary ?? ""),
  ]);
  const header = ["MODEL", "SERVED NAME", "STATE", "REPLICAS", "GPUS", "UPDATED", "ENDPOINT / ERROR"];
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((r) => [...r[i]!].length)));
  for (const row of table)
    lines.push(
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    );
  if (rows.length === 0) lines.push("(no models)");
  return lines.join("\n") + "\n";
}

/** The last applied commit git no longer has: what the guards count a new commit's drops against instead. */
function unreadable({ sha, models }: NonNullable<StatusDoc["unreadable"]>): string {
  const shown = models.length > 5 ? [...models.slice(0, 5), "..."] : models;
  return `unreadable: ${short(sha)} cannot be read from git (force-pushed away?): the guards count what a commit drops against Ray and its ${models.length} models (${shown.join(", ")})`;
}
