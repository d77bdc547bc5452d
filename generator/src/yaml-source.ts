import { EVENT_ID, SCALAR_STYLE, YAMLException, constructFromEvents, parseEvents, type Event } from "js-yaml";
import { diagnostic } from "./rules";
import { fastLoad, OUTSIDE } from "./yaml-fast";
import type { Diagnostic } from "./types";

export const MAX_FILE_BYTES = 64 * 1024;
/** users.yaml and cluster.yaml are admin-owned and grow with the organisation: a larger, still finite bound. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export interface Position {
  line: number;
  column: number;
}

/** A parsed YAML file that can point at any of its keys or values, computed only when a message needs it. */
export interface YamlDoc {
  readonly file: string;
  readonly value: unknown;
  /** Position of the value at a JSON pointer ("/engine_kwargs/max_model_len"); the nearest parent if absent. */
  valueAt(pointer: string): Position;
  /** Position of the key at a JSON pointer; the value's position for the root or sequence items. */
  keyAt(pointer: string): Position;
}

export type ParseResult = { ok: true; doc: YamlDoc } | { ok: false; diagnostics: Diagnostic[] };

const utf8 = new TextDecoder("utf-8", { fatal: true });
const START: Position = { line: 1, column: 1 };

/**
 * Parse one YAML file into a value and a lazy position map from ONE parse: js-yaml 5's parseEvents gives
 * events with source offsets, constructFromEvents builds the value from the same events. A file in the
 * plain block style (yaml-fast.ts) skips the events: its value is read directly, and the events are parsed
 * only if a message needs a position. `fast: false` always takes js-yaml's path (tests compare the two).
 * Never throws.
 */
export function parseYamlFile(
  file: string,
  bytes: Uint8Array,
  maxBytes = MAX_FILE_BYTES,
  { fast = true }: { fast?: boolean } = {},
): ParseResult {
  const fail = (d: Diagnostic): ParseResult => ({ ok: false, diagnostics: [d] });
  if (bytes.length > maxBytes) {
    return fail(
      diagnostic(
        "file-too-large",
        file,
        START,
        `file is ${bytes.length} bytes; the limit is ${maxBytes} bytes`,
      ),
    );
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail(
      diagnostic(
        "yaml-not-utf8",
        file,
        positionOf(bytesPrefixText(bytes), Infinity),
        "file is not valid UTF-8",
      ),
    );
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const nul = text.indexOf("\0");
  if (nul >= 0)
    return fail(
      diagnostic("yaml-not-utf8", file, positionOf(text, nul), "file contains a NUL byte (binary data)"),
    );

  if (fast) {
    const value = fastLoad(text);
    if (value !== OUTSIDE) return { ok: true, doc: new LazyDoc(file, text, undefined, value) };
  }
  let events: Event[];
  try {
    events = parseEvents(text, { filename: file, maxDepth: 20 });
  } catch (error) {
    return fail(yamlError("yaml-syntax", file, text, error));
  }
  const documents = events.filter((e) => e.type === EVENT_ID.DOCUMENT).length;
  if (documents === 0 || (events.length === 3 && isEmptyScalar(events[1]))) {
    const blank = text.trim() === ""; // trim() drops a byte order mark too
    return fail(
      diagnostic(
        "yaml-empty",
        file,
        START,
        blank
          ? "file is empty: expected a YAML mapping"
          : "file holds only comments, blank lines or document markers (`---`): expected a YAML mapping (a line starting with `#` is a comment, not a field)",
      ),
    );
  }
  if (documents > 1) {
    const second = events.findIndex((e, i) => i > 0 && e.type === EVENT_ID.DOCUMENT);
    return fail(
      diagnostic(
        "yaml-multiple-documents",
        file,
        positionOf(text, offsetOf(events[second + 1], text) ?? text.length),
        "file holds more than one YAML document: put one spec in each file",
      ),
    );
  }
  for (const event of events) {
    if (event.type === EVENT_ID.ALIAS) {
      return fail(
        diagnostic(
          "yaml-alias",
          file,
          positionOf(text, event.anchorStart - 1),
          "YAML aliases (*name) are not allowed: write the value out",
        ),
      );
    }
    if ("anchorStart" in event && event.anchorStart >= 0) {
      return fail(
        diagnostic(
          "yaml-anchor",
          file,
          positionOf(text, event.anchorStart - 1),
          "YAML anchors (&name) are not allowed: write the value out",
        ),
      );
    }
    if ("tagStart" in event && event.tagStart >= 0) {
      return fail(
        diagnostic("yaml-tag", file, positionOf(text, event.tagStart), "YAML tags (!tag) are not allowed"),
      );
    }
  }
  let value: unknown;
  try {
    value = constructFromEvents(events, { source: text, filename: file, maxAliases: 0 })[0];
  } catch (error) {
    const rule =
      error instanceof YAMLException && /duplicat/i.test(error.reason) ? "yaml-duplicate-key" : "yaml-syntax";
    return fail(yamlError(rule, file, text, error));
  }
  return { ok: true, doc: new LazyDoc(file, text, events, value) };
}

function isEmptyScalar(event: Event | undefined): boolean {
  return event?.type === EVENT_ID.SCALAR && event.valueStart === -1 && event.tagStart === -1;
}

function yamlError(rule: "yaml-syntax" | "yaml-duplicate-key", file: string, text: string, error: unknown) {
  if (error instanceof YAMLException && error.mark) {
    const reason = error.reason || "invalid YAML";
    let { position, column } = error.mark;
    let key: string | undefined;
    if (rule === "yaml-duplicate-key") {
      // A quoted key's mark is past its opening quote: the key, as written, starts at the quote.
      if (text[position - 1] === "'" || text[position - 1] === '"') {
        position--;
        column--;
      }
      key = duplicateKeyName(text.slice(position));
    }
    const message =
      rule === "yaml-duplicate-key"
        ? `duplicate key${key ? ` \`${key}\`` : ""}: a key may appear once per mapping (${reason})`
        : `invalid YAML: ${reason}`;
    return diagnostic(rule, file, { line: error.mark.line + 1, column: column + 1 }, message);
  }
  return diagnostic(
    rule,
    file,
    START,
    `invalid YAML: ${error instanceof Error ? error.message : String(error)}`,
  );
}

/** The name of the key a line starts with: plain, or quoted (unquoted, as YAML reads it). */
function duplicateKeyName(line: string): string | undefined {
  const match = /^\s*(?:- )?(?:'((?:[^'\n]|'')*)'|("(?:[^"\\\n]|\\.)*")|([^:\n]+?))\s*:/.exec(line);
  if (!match) return undefined;
  if (match[1] !== undefined) return match[1].replace(/''/g, "'");
  if (match[2] !== undefined) {
    try {
      return JSON.parse(match[2]) as string;
    } catch {
      return match[2].slice(1, -1); // a YAML escape JSON lacks (\x41, \e): shown as written
    }
  }
  return match[3];
}

function bytesPrefixText(bytes: Uint8Array): string {
  // Decode up to the first invalid byte so the position points at it.
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      utf8.decode(bytes.subarray(0, mid));
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return new TextDecoder().decode(bytes.subarray(0, lo));
}

export function positionOf(text: string, offset: number): Position {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  // YAML breaks lines at LF, CRLF and a lone CR; our files use LF, so the scan for CR runs only when needed.
  if (text.lastIndexOf("\r", end) !== -1) {
    for (let i = 0; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) {
        line++;
        lineStart = i + 1;
      }
    }
    return { line, column: end - lineStart + 1 };
  }
  for (let i = text.indexOf("\n"); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}

function offsetOf(event: Event | undefined, text: string): number | undefined {
  if (!event) return undefined;
  if (event.type === EVENT_ID.SCALAR) {
    if (event.valueStart < 0) return undefined;
    // valueStart is past a quoted scalar's opening quote; the value, as the owner wrote it, starts at the quote.
    const quoted = event.style === SCALAR_STYLE.SINGLE_QUOTED || event.style === SCALAR_STYLE.DOUBLE_QUOTED;
    if (quoted) return event.valueStart - 1;
    // A block scalar's (| or >) valueStart is the start of its first content line: its indentation, or a
    // blank line. The value's text starts at the first character that is not white space.
    if (event.style === SCALAR_STYLE.LITERAL_BLOCK || event.style === SCALAR_STYLE.FOLDED_BLOCK) {
      let at = event.valueStart;
      while (at < event.valueEnd && " \t\r\n".includes(text[at]!)) at++;
      return at < event.valueEnd ? at : event.valueStart;
    }
    return event.valueStart;
  }
  if (event.type === EVENT_ID.MAPPING || event.type === EVENT_ID.SEQUENCE) return event.start;
  return undefined;
}

interface Located {
  key: number;
  value: number;
}

class LazyDoc implements YamlDoc {
  #positions: Map<string, Located> | undefined;

  #events: Event[] | undefined;

  constructor(
    readonly file: string,
    private readonly text: string,
    events: Event[] | undefined,
    readonly value: unknown,
  ) {
    this.#events = events;
  }

  /** The events of a fast-read file are parsed here, for the first position asked (the text is valid). */
  private get events(): Event[] {
    return (this.#events ??= parseEvents(this.text, { filename: this.file, maxDepth: 20 }));
  }

  valueAt(pointer: string): Position {
    return positionOf(this.text, this.#find(pointer).value);
  }

  keyAt(pointer: string): Position {
    return positionOf(this.text, this.#find(pointer).key);
  }

  #find(pointer: string): Located {
    const positions = (this.#positions ??= this.#index());
    for (let p = pointer; ; p = p.slice(0, p.lastIndexOf("/"))) {
      const hit = positions.get(p);
      if (hit) return hit;
      if (p === "") return { key: 0, value: 0 };
    }
  }

  /** Walk the events once, recording where every key and value starts, by JSON pointer. */
  #index(): Map<string, Located> {
    const out = new Map<string, Located>();
    const text = this.text;
    let i = 1; // skip the DOCUMENT event
    const walk = (pointer: string, key: number): void => {
      const event = this.events[i++];
      if (!event) return;
      const start = offsetOf(event, text) ?? key;
      out.set(pointer, { key, value: start });
      if (event.type === EVENT_ID.MAPPING) {
        while (this.events[i] && this.events[i]!.type !== EVENT_ID.POP) {
          const keyEvent = this.events[i]!;
          // An empty key (`: 1`) has no place of its own: its value, just after it, is the closest.
          const keyOffset =
            offsetOf(keyEvent, text) ??
            (keyEvent.type === EVENT_ID.SCALAR ? offsetOf(this.events[i + 1], text) : undefined) ??
            start;
          const name =
            keyEvent.type === EVENT_ID.SCALAR
              ? keyEvent.fast && isLiteralKey(text, keyEvent)
                ? text.slice(keyEvent.valueStart, keyEvent.valueEnd)
                : String(scalarText(text, keyEvent))
              : "";
          i++;
          if (keyEvent.type !== EVENT_ID.SCALAR) skipNode(keyEvent);
          walk(`${pointer}/${escapePointer(name)}`, keyOffset);
        }
        i++;
      } else if (event.type === EVENT_ID.SEQUENCE) {
        let index = 0;
        while (this.events[i] && this.events[i]!.type !== EVENT_ID.POP) {
          const itemStart = offsetOf(this.events[i], text) ?? start;
          walk(`${pointer}/${index++}`, itemStart);
        }
        i++;
      }
    };
    const skipNode = (event: Event): void => {
      if (event.type !== EVENT_ID.MAPPING && event.type !== EVENT_ID.SEQUENCE) return;
      let depth = 1;
      while (depth > 0 && i < this.events.length) {
        const e = this.events[i++]!;
        if (e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) depth++;
        else if (e.type === EVENT_ID.POP) depth--;
      }
    };
    walk("", 0);
    return out;
  }
}

/**
 * Whether a fast-read key's text is its name. A plain key is resolved like any plain scalar before it
 * becomes a string (an empty key is "null", `0x10` is "16"): only a plain identifier that no schema type
 * claims is taken as written; anything else is built the way js-yaml builds it.
 */
function isLiteralKey(text: string, event: Event & { type: typeof EVENT_ID.SCALAR }): boolean {
  if (event.style !== SCALAR_STYLE.PLAIN) return true;
  const raw = text.slice(event.valueStart, event.valueEnd);
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(raw) && !/^(?:null|true|false)$/i.test(raw);
}

function scalarText(text: string, event: Event & { type: typeof EVENT_ID.SCALAR }): unknown {
  // Quoted or multi-line keys are rare in our files; build the value the same way js-yaml does.
  return constructFromEvents(
    [
      { type: EVENT_ID.DOCUMENT, explicitStart: false, explicitEnd: false, directives: [] },
      event,
      { type: EVENT_ID.POP },
    ],
    {
      source: text,
    },
  )[0];
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}
