import type { ErrorObject } from "ajv";
import { CORE_SCHEMA, load } from "js-yaml";
import { suggest } from "./engine-kwargs";
import { diagnostic, ruleForSchemaError } from "./rules";
import type { Diagnostic } from "./types";
import { escapePointer, type YamlDoc } from "./yaml-source";

/** Fields the platform sets: an owner who writes them gets told where they come from, not just "unknown". */
const PLATFORM_FIELDS: Readonly<Record<string, string>> = {
  accelerator_type: "the platform sets accelerator_type from clusters/<cluster>/cluster.yaml",
  tensor_parallel_size: "set gpus_per_replica instead",
  served_model_name: "the platform names the model <user>-<timestamp>-<model_id>",
  route_prefix: "the cluster's layout sets the route prefix",
};

/** The schemas' patterns in words, with an example: an owner should not have to read a regex. */
export const PATTERN_WORDS: Readonly<Record<string, string>> = {
  // model_id
  "^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$":
    "1 to 64 lowercase letters, digits, `.`, `_` or `-`, starting and ending with a letter or digit (e.g. `qwen2.5-7b-instruct`)",
  // a cluster name
  "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$":
    "a cluster name: 1 to 63 lowercase letters, digits or `-`, starting and ending with a letter or digit (e.g. `gpu-east`)",
  // a label key
  "^[a-z0-9]([a-z0-9._/-]{0,62}[a-z0-9])?$":
    "1 to 64 lowercase letters, digits, `.`, `_`, `/` or `-`, starting and ending with a letter or digit (e.g. `team/owner`)",
  // a user id (models/<user_id>/)
  "^[a-z][a-z0-9_]{0,31}$":
    "a user id: 1 to 32 lowercase letters, digits or `_`, starting with a letter (e.g. `alice` or `bob_2`)",
  // a GitHub login (admins, github)
  "^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(\\[bot\\])?$":
    "a GitHub login: 1 to 39 letters, digits or `-`, not starting with `-`, no `@` (e.g. `alice-smith`; a bot's ends in `[bot]`, e.g. `renovate[bot]`)",
  // serve.application_name
  "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$":
    "1 to 63 letters, digits, `_`, `.` or `-`, not starting with `.` or `-` (e.g. `argus_llm_app`)",
  // serve.template
  "^[A-Za-z0-9_.-]+\\.hbs$": "a file name in the cluster's folder ending in `.hbs` (e.g. `serve.hbs`)",
  // ray.dashboard_address
  "^https?://[^\\s/@]+(/.*)?$":
    "an http(s) URL of the Ray dashboard without credentials (no `user:password@`: the agent's --ray-token-file carries a token), e.g. `http://ray-head:8265`",
  // openai.server_url
  "^https?://[^\\s/?#]+(/[^\\s?#]*)?$":
    "an http(s) URL without white space, query or fragment (e.g. `https://dstack.company.com`)",
  // openai.base_url
  "^(?!.*(?:^|/)\\.\\.?(?:/|$))(?:https?://[^\\s/?#]+(?:/[^\\s?#%]*)?|(?!//)[^\\s?#:%]+)$":
    "an http(s) URL or a path joined to server_url (e.g. `/access/models/team1/`), without white space, query, fragment, `%` or `.`/`..` segments",
  // serve.route_prefix
  "^/([^{}/]+(/[^{}/]+)*)?$":
    "a route starting with `/`, without empty segments, a trailing `/` or braces (e.g. `/llm`)",
  // sources.roots.shared
  "^(?:/(?!\\.\\.?(?:/|$))[^/\\s]+)+$":
    "an absolute folder path without white space, a trailing `/` or `.`/`..` segments (e.g. `/private/hf`)",
  // sources.roots.user
  "^(?=.*\\{user\\})(?!.*\\{user\\}.*\\{user\\})(?:/(?!\\.\\.?(?:/|$))[^/\\s]+)+$":
    "an absolute folder path holding `{user}` once, without white space, a trailing `/` or `.`/`..` segments (e.g. `/private/users/{user}`)",
};

/** ajv's message, or for a pattern the schema's words for it. */
function problem(error: ErrorObject): string {
  const pattern = (error.params as { pattern?: unknown }).pattern;
  if (error.keyword === "pattern" && typeof pattern === "string" && Object.hasOwn(PATTERN_WORDS, pattern))
    return `must be ${PATTERN_WORDS[pattern]}`;
  const allowed = (error.params as { allowedValues?: unknown }).allowedValues;
  if (error.keyword === "enum" && Array.isArray(allowed) && allowed.length <= 10)
    return `must be one of ${allowed.map((v) => `\`${String(v)}\``).join(", ")}`;
  const limit = (error.params as { limit?: unknown }).limit;
  if ((error.keyword === "minItems" || error.keyword === "minLength") && limit === 1)
    return "must not be empty";
  return error.message ?? "is invalid";
}

/**
 * Turn ajv errors into diagnostics positioned on the offending key or value. ajv reports a failing `not`
 * or `if` on the parent too; the owner needs one clear line per problem, so duplicates are merged.
 */
export function schemaDiagnostics(
  doc: YamlDoc,
  errors: readonly ErrorObject[],
  knownFields: readonly string[],
): Diagnostic[] {
  const out = new Map<string, Diagnostic>();
  for (const error of errors) {
    const d = toDiagnostic(doc, error, knownFields);
    if (!d) continue;
    const key = `${d.line}:${d.column}:${d.rule}:${d.message}`;
    if (!out.has(key)) out.set(key, d);
  }
  return [...out.values()];
}

function toDiagnostic(
  doc: YamlDoc,
  error: ErrorObject,
  knownFields: readonly string[],
): Diagnostic | undefined {
  const path = error.instancePath;
  // The field as written: a JSON pointer's segments unescaped (a label key may hold `/`), joined with dots.
  const written = path
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
  const where = path === "" ? "the document" : `\`${written}\``;
  const within = path === "" ? "at the top level" : `in ${where}`;
  const params = error.params as Record<string, unknown>;
  // A key failing `propertyNames`: ajv reports the inner failure with the key's name, then a wrapper.
  const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
  if (propertyName !== undefined)
    return diagnostic(
      ruleForSchemaError(error.keyword, path),
      doc.file,
      doc.keyAt(`${path}/${escapePointer(propertyName)}`),
      `key \`${propertyName}\` ${within} ${problem(error)}`,
    );
  switch (error.keyword) {
    case "propertyNames":
      return undefined;
    case "uniqueItems": {
      const later = Math.max(Number(params.i), Number(params.j));
      const earlier = Math.min(Number(params.i), Number(params.j));
      return diagnostic(
        ruleForSchemaError(error.keyword, path),
        doc.file,
        doc.valueAt(`${path}/${later}`),
        `${where} lists the same value twice (items ${earlier + 1} and ${later + 1}): keep one`,
      );
    }
    case "maxProperties":
      return diagnostic(
        ruleForSchemaError(error.keyword, path),
        doc.file,
        doc.keyAt(path),
        `${where} ${error.message ?? "is invalid"}`,
      );
    case "additionalProperties": {
      const field = String(params.additionalProperty);
      const pointer = `${path}/${escapePointer(field)}`;
      const platform =
        path === "" && Object.hasOwn(PLATFORM_FIELDS, field) ? PLATFORM_FIELDS[field] : undefined;
      if (platform)
        return diagnostic(
          "platform-field",
          doc.file,
          doc.keyAt(pointer),
          `\`${field}\` is not a spec field: ${platform}`,
        );
      const guess = path === "" ? suggest(field, knownFields) : undefined;
      return diagnostic(
        "unknown-field",
        doc.file,
        doc.keyAt(pointer),
        `unknown field \`${field}\` ${within}${guess ? `: did you mean \`${guess}\`?` : ""}`,
      );
    }
    case "required":
      return diagnostic(
        "required-field",
        doc.file,
        doc.keyAt(path),
        `missing required field \`${String(params.missingProperty)}\` ${within}`,
      );
    case "not":
      if (path === "")
        return diagnostic(
          "invalid-value",
          doc.file,
          doc.keyAt("/autoscaling"),
          "set either num_replicas or autoscaling, not both",
        );
      break;
    case "type": {
      // `model_id: 123` or `version: 1.10` was meant as text: YAML read a number (or a bool); say how to keep it.
      const actual = pointerValue(doc.value, path);
      // `clusters: h1` was meant as a list of one.
      const scalar = typeof actual === "string" || typeof actual === "number" ? String(actual) : undefined;
      const quote =
        params.type === "string" && (typeof actual === "number" || typeof actual === "boolean")
          ? `: YAML read ${String(actual)} as a ${typeof actual}; put the value in quotes to make it text`
          : params.type === "array" && scalar !== undefined && /^[\w.-]+$/.test(scalar)
            ? `: write a list, e.g. \`${written.split(".").pop()!}: [${plainOrQuoted(scalar)}]\``
            : "";
      return diagnostic(
        ruleForSchemaError("type", path),
        doc.file,
        doc.valueAt(path),
        `${where} must be ${article(String(params.type))}${quote}`,
      );
    }
  }
  return diagnostic(
    ruleForSchemaError(error.keyword, path),
    doc.file,
    doc.valueAt(path),
    `${where} ${problem(error)}`,
  );
}

/** A list item as YAML reads it back as this text: plain where it would be text, else quoted (`"true"`, `"1.10"`). */
function plainOrQuoted(text: string): string {
  try {
    const [item] = load(`[${text}]`, { schema: CORE_SCHEMA }) as unknown[];
    return typeof item === "string" ? text : JSON.stringify(text);
  } catch {
    return JSON.stringify(text);
  }
}

function pointerValue(value: unknown, pointer: string): unknown {
  let current = value;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function article(type: string): string {
  const human = type.replace(/,/g, " or ");
  return /^[aeiou]/.test(human) ? `an ${human}` : `a ${human}`;
}
