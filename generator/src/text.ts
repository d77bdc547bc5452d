/**
 * Control characters (and Unicode line separators and bidi overrides) from file names or values are shown
 * escaped: a file named "x\n::error::..." must not print a line of its own, which a CI runner would obey,
 * nor end a line of Markdown and start a heading of its own.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
export const printable = (text: string): string =>
  text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/**
 * User-controlled text (a file name: git allows newlines, backticks, `<!--` in one; an owner's value) as one
 * inline code span of Markdown: control characters are shown escaped, so the text cannot end the line, and
 * the fence is longer than any run of backticks inside, so the text cannot close the span either. (Inside a
 * code span backslash escapes would show literally.)
 */
export function codeSpan(text: string): string {
  const flat = printable(text);
  const fence = "`".repeat(Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length)) + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A code span inside a table cell: GitHub splits cells on `|` even inside code unless it is escaped. */
export const cellCodeSpan = (text: string): string => codeSpan(text).replace(/\|/g, "\\|");
