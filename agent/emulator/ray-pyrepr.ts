/**
 * TEST/DEMO ONLY. Helpers for the Ray Serve dashboard emulator (ray-dashboard.ts): render values
 * the way Python's repr() does, and build Python-traceback-like text, so that error bodies and
 * status messages look like the ones a real Ray cluster returns. Never a real cluster.
 */
import { createHash } from "node:crypto";

/** Text emitted verbatim inside a repr (e.g. an enum member list). */
export class PyRaw {
  constructor(readonly text: string) {}
}

/** Python's str repr: single quotes unless the text has ' and no ". */
export function pyStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += "\\" + quote;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + quote;
}

/** repr() of a JSON-ish value; arrays render as lists unless `tuple`. */
export function pyRepr(v: unknown, tuple = false): string {
  if (v instanceof PyRaw) return v.text;
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : v > 0 ? "inf" : v < 0 ? "-inf" : "nan";
  if (typeof v === "string") return pyStr(v);
  if (Array.isArray(v)) {
    const items = v.map((x) => pyRepr(x));
    if (tuple) return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
    return `[${items.join(", ")}]`;
  }
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyStr(k)}: ${pyRepr(x)}`);
    return `{${entries.join(", ")}}`;
  }
  return pyStr(typeof v === "bigint" ? v.toString() : "<object>");
}

/** Python str(): strings as-is, everything else as repr(). */
export function pyText(v: unknown): string {
  return typeof v === "string" ? v : pyRepr(v);
}

/** One pydantic v1 error (ErrorWrapper.errors() entry). */
export interface PydanticV1Error {
  loc: (string | number)[];
  msg: string;
  type: string;
  ctx?: Record<string, unknown>;
}

/**
 * repr() of a pydantic v1 ValidationError, which is what serve_head.py put_all_applications
 * returns as the 400 body (`text=repr(e)`; ServeDeploySchema is a pydantic v1 model through
 * ray._common.pydantic_compat).
 */
export function pydanticV1Repr(model: string, errors: PydanticV1Error[]): string {
  const items = errors.map((e) => {
    const parts = [`'loc': ${pyRepr(e.loc, true)}`, `'msg': ${pyStr(e.msg)}`, `'type': ${pyStr(e.type)}`];
    if (e.ctx) parts.push(`'ctx': ${pyRepr(e.ctx)}`);
    return `{${parts.join(", ")}}`;
  });
  return `ValidationError(model=${pyStr(model)}, errors=[${items.join(", ")}])`;
}

/**
 * str() of a pydantic v1 ValidationError (pydantic/v1/error_wrappers.py ValidationError.__str__ and
 * display_errors): what a traceback's last line shows after "pydantic.v1.error_wrappers.ValidationError: ".
 */
export function pydanticV1Str(model: string, errors: PydanticV1Error[]): string {
  const n = errors.length;
  const lines = [`${n} validation error${n === 1 ? "" : "s"} for ${model}`];
  for (const e of errors) {
    const ctx = e.ctx ? Object.entries(e.ctx).map(([k, v]) => `; ${k}=${pyText(v)}`) : [];
    lines.push(e.loc.map(String).join(" -> "), `  ${e.msg} (type=${e.type}${ctx.join("")})`);
  }
  return lines.join("\n");
}

/** str() of a pydantic v2 ValidationError (Ray Serve LLM's LLMServingArgs/LLMConfig are v2 models). */
export function pydanticV2Str(
  model: string,
  errors: { loc: string; msg: string; type: string; input: unknown }[],
): string {
  const n = errors.length;
  const lines = [`${n} validation error${n === 1 ? "" : "s"} for ${model}`];
  for (const e of errors) {
    const input = pyRepr(e.input);
    const shown = input.length > 200 ? input.slice(0, 200) + "..." : input;
    if (e.loc) lines.push(e.loc);
    lines.push(`  ${e.msg} [type=${e.type}, input_value=${shown}, input_type=${pyType(e.input)}]`);
    lines.push(`    For further information visit https://errors.pydantic.dev/2.11/v/${e.type}`);
  }
  return lines.join("\n");
}

export function pyType(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "string") return "str";
  if (Array.isArray(v)) return "list";
  return "dict";
}

const SITE = "/home/ray/anaconda3/lib/python3.11/site-packages";

/** A frame: [path relative to site-packages (or absolute), line, function, source line]. */
export type Frame = [string, number, string, string];

/** Python traceback text: "Traceback (most recent call last):", frames, then the exception line. */
export function pyTraceback(frames: Frame[], exceptionLine: string): string {
  const lines = ["Traceback (most recent call last):"];
  for (const [file, line, fn, src] of frames) {
    const path = file.startsWith("/") ? file : `${SITE}/${file}`;
    lines.push(`  File "${path}", line ${line}, in ${fn}`, `    ${src}`);
  }
  lines.push(exceptionLine);
  return lines.join("\n");
}

/** Canonical JSON with sorted keys, like json.dumps(..., sort_keys=True). */
export function sortedJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v ?? null);
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(", ")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}: ${sortedJson(o[k])}`)
    .join(", ")}}`;
}

export function md5(text: string): string {
  return createHash("md5").update(text).digest("hex");
}

export function randomHex(n: number): string {
  let s = "";
  while (s.length < n)
    s += Math.floor(Math.random() * 0x100000000)
      .toString(16)
      .padStart(8, "0");
  return s.slice(0, n);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function deepClone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}
