import { PLAN_MARKER, type Diagnostic } from "../../../generator/src";
import { codeSpan } from "../../../generator/src/text";

/** GitHub rejects an issue comment body over 65,536 characters with a 422. */
export const COMMENT_LIMIT = 65_536;

/** How many errors the comment lists; all of them are in the job summary. */
const COMMENT_ERRORS = 20;

export interface CommentInput {
  readonly ok: boolean;
  /** The commit the plan is for (the PR head). */
  readonly headSha: string;
  readonly diagnostics: readonly Diagnostic[];
  /** planMarkdown(plan), or the one line saying nothing changes. */
  readonly plan: string;
  /** The run page holding the job summary; undefined outside a runner. */
  readonly summaryUrl: string | undefined;
}

/** The sticky PR comment: the marker (how the next run finds it), the verdict, the errors, the plan. */
export function commentBody(input: CommentInput, limit = COMMENT_LIMIT): string {
  const errors = input.diagnostics.filter((d) => d.severity === "error");
  const warnings = input.diagnostics.length - errors.length;
  const summary = input.summaryUrl ? `[job summary](${input.summaryUrl})` : "job summary";
  const lines = [
    PLAN_MARKER,
    `### serve-gitops plan for ${input.headSha.slice(0, 7)}: ${input.ok ? "✅ passes" : `❌ ${errors.length} error${errors.length === 1 ? "" : "s"}`}${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}`,
    "",
  ];
  if (errors.length > 0) {
    // A message carries owner-controlled values (a model_id, an unknown key): as a code span it cannot
    // mention a team, autolink a URL, render HTML or forge the marker. Escaping each character could not.
    for (const d of errors.slice(0, COMMENT_ERRORS))
      lines.push(`- ${codeSpan(`${d.file}:${d.line}`)} ${d.code} ${d.rule}: ${codeSpan(d.message)}`);
    if (errors.length > COMMENT_ERRORS)
      lines.push(`- … and ${errors.length - COMMENT_ERRORS} more in the ${summary}`);
    lines.push("");
  }
  lines.push(input.plan.trimEnd(), "");
  return cut(
    lines.join("\n"),
    limit,
    `\n\n---\n✂️ The plan is cut here: a PR comment holds at most ${thousands(limit)} characters. The whole plan is in the ${summary}.\n`,
  );
}

/**
 * 65536 -> "65,536", as en-US writes it. Not toLocaleString: its first call starts ICU, 15-35 ms of a run that
 * otherwise never needs it (and the template literal calls it on every run, cut or not).
 */
const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+$)/g, ",");

/**
 * Cut text at a line boundary so that text + notice fits `limit` UTF-16 units (never more code points than
 * that, which is GitHub's measure). A <details> block left open by the cut is closed so the notice shows.
 */
export function cut(text: string, limit: number, notice: string): string {
  if (text.length <= limit) return text;
  const closing = "\n</details>";
  let end = Math.max(0, limit - notice.length - closing.length * 8);
  const newline = text.lastIndexOf("\n", end);
  if (newline > 0) end = newline;
  let head = text.slice(0, end);
  // Only the tags the plan itself emits, each at the start of its own line: an owner's value quoted in the
  // plan (inside a list item's code span) may hold "<details>" or "</details>" too, and must not count.
  const open = (head.match(/^<details>/gm) ?? []).length - (head.match(/^<\/details>$/gm) ?? []).length;
  head += closing.repeat(Math.min(Math.max(open, 0), 8));
  return head + notice;
}
