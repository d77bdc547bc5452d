import { printable } from "../../../generator/src/cli/output";

/**
 * User-controlled text (a file name: git allows newlines, backticks, `<!--` in one) as one inline code span
 * of Markdown: control characters are shown escaped, so the text cannot end the line and start a heading,
 * an image or an HTML comment, and the fence is longer than any run of backticks inside, so the text cannot
 * close the span either.
 */
export function codeSpan(text: string): string {
  const flat = printable(text);
  const fence = "`".repeat(Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length)) + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A code span inside a table cell: GitHub splits cells on `|` even inside code unless it is escaped. */
export const cellCodeSpan = (text: string): string => codeSpan(text).replace(/\|/g, "\\|");
