import type { Diagnostic, RenderDiff } from "../../../generator/src";
import { cut } from "./comment-body";
import { cellCodeSpan, codeSpan } from "../../../generator/src/text";
import { RENDER_COMMAND } from "./render-check";

/** GitHub keeps at most 1 MiB (bytes) of job summary per step; stay clear of it with room for the notice. */
export const SUMMARY_LIMIT = 1_000_000;

export interface SummaryInput {
  readonly ok: boolean;
  /** "pull request #12 by @alice: 1234567...89abcde" or "push: 1234567". */
  readonly subject: string;
  readonly diagnostics: readonly Diagnostic[];
  /** Absent when nothing was rendered (errors, or no relevant change). */
  readonly render?: {
    readonly diff: RenderDiff;
    /** Staleness the base branch already had (a PR leaves it alone): an admin's to fix. */
    readonly inherited?: RenderDiff;
    readonly fragments: number;
    readonly pushed?: string;
  };
  /** Markdown of the plan, or the one line saying nothing changes. */
  readonly plan: string;
  /** Lines worth a reader's attention that are not diagnostics: a comment that could not be posted, a push refused. */
  readonly notes: readonly string[];
}

const inheritedCount = (diff: RenderDiff | undefined) =>
  diff ? diff.stale.length + diff.missing.length + diff.extra.length : 0;

/** The job summary: every diagnostic (annotations show only ten), the render check and the plan. */
export function summaryMarkdown(input: SummaryInput): string {
  const errors = input.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = input.diagnostics.length - errors;
  const lines = [`## serve-gitops check ${input.ok ? "✅ passed" : "❌ failed"}`, "", input.subject, ""];
  for (const note of input.notes) lines.push(`> ${note}`, "");
  if (input.diagnostics.length > 0) {
    lines.push(
      `### Diagnostics: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`,
      "",
    );
    lines.push("| file | line | code | rule | message |", "|---|---|---|---|---|");
    // Messages carry owner-controlled values: code spans keep HTML, links and mentions inert.
    for (const d of input.diagnostics) {
      lines.push(
        `| ${cellCodeSpan(d.file)} | ${d.line}:${d.column} | ${d.severity === "warning" ? "warning " : ""}${d.code} | ${d.rule} | ${cellCodeSpan(d.message)} |`,
      );
    }
    lines.push("");
  }
  if (input.render) {
    const { stale, missing, extra } = input.render.diff;
    lines.push("### Render");
    if (input.render.pushed)
      lines.push(
        "",
        `The render was out of date and has been pushed to the branch as ${input.render.pushed}; the check runs again on it. This commit keeps its stale render, so its check fails.`,
      );
    else if (stale.length + missing.length + extra.length === 0)
      lines.push(
        "",
        inheritedCount(input.render.inherited) === 0
          ? `The committed render is current: ${input.render.fragments} fragments.`
          : "Nothing this change renders is stale.",
      );
    else {
      lines.push(
        "",
        "The committed `clusters/*/rendered/` does not match the specs. Bring it up to date with:",
        "",
        "```sh",
        RENDER_COMMAND,
        "```",
        "",
      );
      for (const p of stale) lines.push(`- stale: ${codeSpan(p)}`);
      for (const p of missing) lines.push(`- missing: ${codeSpan(p)}`);
      for (const p of extra) lines.push(`- extra: ${codeSpan(p)}`);
    }
    const inherited = input.render.inherited;
    if (inherited && inheritedCount(inherited) > 0) {
      lines.push(
        "",
        "The base branch's own render is stale where this change does not touch it. That is not this change's to fix (re-rendering would change other people's fragments): an admin must re-render the base branch.",
        "",
      );
      for (const p of inherited.stale) lines.push(`- stale on the base: ${codeSpan(p)}`);
      for (const p of inherited.missing) lines.push(`- missing on the base: ${codeSpan(p)}`);
      for (const p of inherited.extra) lines.push(`- extra on the base: ${codeSpan(p)}`);
    }
    lines.push("");
  }
  lines.push("### Plan", "", input.plan.trimEnd(), "");
  const text = lines.join("\n");
  if (Buffer.byteLength(text, "utf8") <= SUMMARY_LIMIT) return text;
  // The runner measures the summary in bytes (it drops one over 1 MiB whole); cut() counts UTF-16 units: cut
  // at the units the first SUMMARY_LIMIT bytes hold (less one, for a character the byte boundary splits).
  const units = Buffer.from(text, "utf8").subarray(0, SUMMARY_LIMIT).toString("utf8").length - 1;
  return cut(text, units, "\n\n✂️ The summary is cut here: GitHub keeps at most 1 MiB per step.\n");
}
