// A small deterministic YAML writer for our own generated files (fragments). js-yaml's dump is general and
// slow (half of a 10,000-model render); our values are plain JSON data, so block style with JSON-quoted
// strings where a plain scalar could be misread is enough. Round-trip tests pin that load(emit(x)) == x.

const PLAIN = /^[A-Za-z_/$][A-Za-z0-9_./:@+$-]*$/;
const RESERVED = /^(true|false|null|yes|no|on|off|y|n)$/i;

/**
 * One scalar as YAML that reads back as the same value: a string stays plain only when it starts with a
 * letter (or `_`, `/`, `$`) and is no YAML 1.1 or 1.2 boolean or null; anything else (`123`, `1e3`, `0x1f`,
 * `null`, `yes`, `on`) is JSON-quoted, so no YAML reader takes it for a number, boolean or null.
 */
export function yamlScalar(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number")
    return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
  if (typeof value === "boolean") return String(value);
  // Only strings remain here (maps and lists are emitted by the caller); anything else goes out as JSON.
  if (typeof value !== "string") return JSON.stringify(value) ?? "null";
  const text = value;
  return PLAIN.test(text) && !text.endsWith(":") && !RESERVED.test(text) ? text : JSON.stringify(text);
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function emit(value: unknown, indent: string, out: string[]): void {
  if (isMap(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (child === undefined) continue;
      const k = yamlScalar(key);
      if (isMap(child) && Object.keys(child).length > 0) {
        out.push(`${indent}${k}:\n`);
        emit(child, `${indent}  `, out);
      } else if (Array.isArray(child) && child.length > 0) {
        out.push(`${indent}${k}:\n`);
        emit(child, indent, out);
      } else out.push(`${indent}${k}: ${inline(child)}\n`);
    }
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isMap(item) && Object.keys(item).length > 0) {
        const lines: string[] = [];
        emit(item, `${indent}  `, lines);
        out.push(`${indent}- ${lines.join("").slice(indent.length + 2)}`);
      } else if (Array.isArray(item) && item.length > 0) out.push(`${indent}- ${JSON.stringify(item)}\n`);
      else out.push(`${indent}- ${inline(item)}\n`);
    }
  }
}

function inline(value: unknown): string {
  if (isMap(value)) return "{}";
  if (Array.isArray(value)) return "[]";
  return yamlScalar(value);
}

/** YAML for a mapping of plain data (no cycles, no functions). */
export function emitYaml(value: Readonly<Record<string, unknown>>): string {
  const out: string[] = [];
  emit(value, "", out);
  return out.join("");
}
