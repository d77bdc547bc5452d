import { printable } from "../text";
import type { Diagnostic } from "../types";

const useColor = (stream: NodeJS.WriteStream) => stream.isTTY === true && !process.env.NO_COLOR;
const paint = (on: boolean, code: string, text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);

/** `file:line:column  E403 rule-id  message`, grouped by file, coloured on a TTY only. */
export function formatDiagnostics(
  list: readonly Diagnostic[],
  stream: NodeJS.WriteStream = process.stdout,
): string {
  const color = useColor(stream);
  const lines: string[] = [];
  let file: string | undefined;
  for (const d of list) {
    if (d.file !== file) {
      if (file !== undefined) lines.push("");
      lines.push(paint(color, "1", printable(d.file)));
      file = d.file;
    }
    const code = paint(
      color,
      d.severity === "error" ? "31" : "33",
      `${d.severity === "warning" ? "warning " : ""}${d.code}`,
    );
    lines.push(
      `${printable(d.file)}:${d.line}:${d.column}  ${code} ${paint(color, "2", d.rule)}  ${printable(d.message)}`,
    );
  }
  const errors = list.filter((d) => d.severity === "error").length;
  const warnings = list.length - errors;
  if (list.length > 0)
    lines.push(
      "",
      `${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`,
    );
  return lines.join("\n") + (lines.length > 0 ? "\n" : "");
}
