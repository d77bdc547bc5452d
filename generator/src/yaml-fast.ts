import { CORE_SCHEMA } from "js-yaml";

/** The text is outside the subset this reader knows: js-yaml decides. */
export const OUTSIDE: unique symbol = Symbol("outside the fast subset");

/**
 * The value of a YAML text written in the plain block style every ServingSpec, users.yaml and cluster.yaml
 * we ship uses — printable ASCII, block mappings with simple keys, block sequences and one-line flow
 * sequences of scalars, plain scalars and quoted strings without escapes, whole-line and trailing comments —
 * or OUTSIDE for anything else: tabs, CR, non-ASCII, anchors, aliases, tags, block scalars, flow mappings,
 * multi-line scalars, document markers, duplicate keys, odd indentation. js-yaml then parses the text and
 * decides, so this reader is never the judge of an error: it only saves building the event list of a file
 * that is plainly valid. Plain scalars are resolved by js-yaml's own CORE_SCHEMA (the schema
 * constructFromEvents uses), so `0.9`, `true`, `~` and `0x1F` mean exactly what they mean to js-yaml.
 * yaml-fast.test.ts compares the two on every fixture and on generated texts.
 */
export function fastLoad(text: string): unknown {
  const lines = contentLines(text);
  if (lines === undefined || lines.length === 0) return OUTSIDE;
  // A mapping at indent 0 steps aside for an indented line (the first one included) and otherwise reads
  // to the end of the text: nothing is left over.
  return new Reader(text, lines).mapping(0, 0);
}

interface Line {
  /** Offset of the first non-space character. */
  readonly start: number;
  /** Offset of the line break (or the end of the text). */
  readonly end: number;
  readonly indent: number;
}

const MAX_DEPTH = 8;

/** The lines that hold content, or undefined when a character or a line is outside the subset. */
function contentLines(text: string): Line[] | undefined {
  const lines: Line[] = [];
  let lineStart = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 10;
    if (c === 10) {
      let s = lineStart;
      while (s < i && text.charCodeAt(s) === 32) s++;
      if (s < i && text.charCodeAt(s) !== 35 /* # */) {
        // Document markers and directives start at column 1.
        if (s === lineStart) {
          const head = text.slice(s, s + 3);
          if (head === "---" || head === "..." || head[0] === "%") return undefined;
        }
        lines.push({ start: s, end: i, indent: s - lineStart });
      }
      lineStart = i + 1;
    } else if (c < 32 || c > 126) return undefined;
  }
  return lines;
}

class Reader {
  at = 0;

  constructor(
    private readonly text: string,
    private readonly lines: readonly Line[],
  ) {}

  /** A block mapping whose keys sit at `indent`. */
  mapping(indent: number, depth: number): unknown {
    if (depth > MAX_DEPTH) return OUTSIDE;
    const out: Record<string, unknown> = {};
    const { text, lines } = this;
    while (this.at < lines.length) {
      const line = lines[this.at]!;
      if (line.indent < indent) break;
      if (line.indent > indent) return OUTSIDE;
      // key: [A-Za-z_][A-Za-z0-9_.-]*, then ":" and a space or the end of the line.
      let i = line.start;
      const first = text.charCodeAt(i);
      if (!(isLetter(first) || first === 95)) return OUTSIDE;
      while (i < line.end && isKeyChar(text.charCodeAt(i))) i++;
      if (text.charCodeAt(i) !== 58 /* : */) return OUTSIDE;
      const key = text.slice(line.start, i);
      i++;
      if (i < line.end && text.charCodeAt(i) !== 32) return OUTSIDE;
      if (key === "__proto__" || Object.hasOwn(out, key) || resolvePlain(key) !== key) return OUTSIDE;
      this.at++;
      const rest = text.slice(i, line.end).trim();
      let value: unknown;
      if (rest === "" || rest.startsWith("#")) {
        const next = lines[this.at];
        if (next && next.indent > indent)
          value = this.isItem(next)
            ? this.sequence(next.indent, depth + 1)
            : this.mapping(next.indent, depth + 1);
        else if (next && next.indent === indent && this.isItem(next))
          value = this.sequence(indent, depth + 1);
        else value = resolvePlain("");
      } else {
        // A deeper line after it (a multi-line scalar, or an error) makes the next round step aside.
        value = inlineValue(rest);
      }
      if (value === OUTSIDE) return OUTSIDE;
      out[key] = value;
    }
    return out;
  }

  /** A block sequence of scalars whose dashes sit at `indent`. */
  sequence(indent: number, depth: number): unknown {
    if (depth > MAX_DEPTH) return OUTSIDE;
    const out: unknown[] = [];
    const { text, lines } = this;
    while (this.at < lines.length) {
      const line = lines[this.at]!;
      if (line.indent !== indent || !this.isItem(line)) break;
      const rest = text.slice(line.start + 1, line.end).trim();
      this.at++;
      // Items that are mappings, nested sequences or empty are left to js-yaml.
      if (rest === "" || rest.startsWith("#") || rest.startsWith("- ") || /:(?: |$)/.test(rest))
        return OUTSIDE;
      const value = inlineValue(rest);
      const next = lines[this.at];
      if (value === OUTSIDE || (next && next.indent > indent)) return OUTSIDE;
      out.push(value);
    }
    return out;
  }

  private isItem(line: Line): boolean {
    return (
      this.text.charCodeAt(line.start) === 45 /* - */ &&
      (line.start + 1 === line.end || this.text.charCodeAt(line.start + 1) === 32)
    );
  }
}

/** A value written on one line after `key: ` or `- ` (already trimmed): a scalar or a flow sequence. */
function inlineValue(s: string): unknown {
  const c = s.charCodeAt(0);
  if (c === 39 /* ' */ || c === 34 /* " */) {
    const close = s.indexOf(s[0]!, 1);
    // '' (an escaped quote) leaves a quote right after the one taken as closing, which is no comment:
    // js-yaml reads it.
    if (close < 0 || !restIsComment(s, close + 1)) return OUTSIDE;
    const content = s.slice(1, close);
    // \ starts an escape in double quotes: leave it to js-yaml.
    if (c === 34 && content.includes("\\")) return OUTSIDE;
    return content;
  }
  if (c === 91 /* [ */) {
    const close = s.indexOf("]");
    if (close < 0 || !restIsComment(s, close + 1)) return OUTSIDE;
    const inner = s.slice(1, close).trim();
    if (inner === "") return [];
    const items: unknown[] = [];
    for (const part of inner.split(",")) {
      const item = part.trim();
      if (!FLOW_ITEM.test(item)) return OUTSIDE;
      items.push(resolvePlain(item));
    }
    return items;
  }
  const comment = s.indexOf(" #");
  const plain = (comment < 0 ? s : s.slice(0, comment)).trimEnd();
  if (!PLAIN.test(plain)) return OUTSIDE;
  return resolvePlain(plain);
}

/** After a closing quote or bracket: nothing, or spaces and a comment. */
function restIsComment(s: string, from: number): boolean {
  if (from === s.length) return true;
  return /^ +(#.*)?$/.test(s.slice(from));
}

/**
 * A plain scalar this reader accepts: it starts with a letter, digit or one of `_ $ / . ~ +`, or with `-`
 * before a digit or dot (a negative number); then letters, digits, spaces, `_ $ / . ~ + = @ % , ; - ' " ( )
 * ! & * ? # < > | [ ] { }` (indicators only at the start of a block scalar; a `#` after a space was cut as
 * a comment), and `:` only before a non-space. Everything else goes to js-yaml.
 */
const PLAIN = /^(?:[A-Za-z0-9_$/.~+]|-[0-9.])(?:[A-Za-z0-9_$/.~+=@%,; '"()!&*?#<>|[\]{}-]|:(?=[^ ]))*$/;
/** A flow sequence item: no spaces, commas, colons or brackets. */
const FLOW_ITEM = /^(?:[A-Za-z0-9_$/.~+]|-[0-9.])[A-Za-z0-9_$/.~+=@%-]*$/;

function resolvePlain(source: string): unknown {
  return CORE_SCHEMA.resolveImplicitScalarTag(source).value;
}

function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

function isKeyChar(c: number): boolean {
  return isLetter(c) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 46;
}
