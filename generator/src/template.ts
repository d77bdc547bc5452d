import type Handlebars from "handlebars";
import { load } from "js-yaml";
import { isDeepStrictEqual } from "node:util";
import type { RuleId } from "./rules";
import { parseYamlFile } from "./yaml-source";

/** A problem of a Serve config template, at a 1-based position in the template file. */
export interface TemplateProblem {
  readonly rule: Extract<RuleId, "template-invalid" | "template-unsafe">;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export type CompiledTemplate =
  | { readonly ok: true; readonly render: (data: object) => RenderedTemplate }
  | { readonly ok: false; readonly problems: readonly TemplateProblem[] };

export type RenderedTemplate =
  | { readonly ok: true; readonly text: string; readonly value: unknown }
  | { readonly ok: false; readonly problem: TemplateProblem };

type Loc = hbs.AST.SourceLocation;

/**
 * Handlebars is loaded on first use: validate and render load this module for every run, but only a cluster
 * with a template of its own needs the engine (about 13 ms of each process's start). `require` of a bundled
 * package stays lazy in the esbuild bundle too (a __commonJS wrapper run on the first call).
 */
let engine: typeof Handlebars | undefined;
const handlebars = (): typeof Handlebars =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a synchronous, lazy load (see above)
  (engine ??= (require("handlebars") as typeof Handlebars).create());

/** Block helpers only choose and repeat the template's own text: none of them inserts a value. */
const BLOCK_HELPERS = new Set(["each", "if", "unless", "with"]);
/** Helpers allowed inside an expression: `(lookup obj key)` reads a field, like a path does. */
const EXPRESSION_HELPERS = new Set(["lookup"]);

/**
 * What `{{json}}` leaves in the template's output before the values go in: a plain YAML scalar nothing else
 * produces. The output is parsed once with these and once with the values (see checkSlots).
 */
const SLOT = "serve_gitops_value_";
const SLOT_TOKEN = new RegExp(`${SLOT}(\\d+)_`, "g");
const SLOT_WHOLE = new RegExp(`^${SLOT}(\\d+)_$`);
/** The name the template's output goes by in the YAML reader's messages. */
const OUTPUT = "<output>";

/**
 * JSON of a value, with the characters some YAML parsers read as line breaks (PyYAML: U+0085, U+2028,
 * U+2029) or refuse (other controls) escaped. They can only occur inside JSON strings, where the escape
 * means the same character: the text stays one value on one line for every YAML reader, `serve deploy`'s too.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

class TemplateValueError extends Error {
  override name = "TemplateValueError";
  constructor(
    message: string,
    readonly loc: Loc | undefined,
  ) {
    super(message);
  }
}

/**
 * Parse a template and refuse anything that could put a value into the output other than through
 * `{{json value}}`; the compiled template renders through checkSlots. Never throws.
 */
export function compileTemplate(source: string): CompiledTemplate {
  const reserved = source.indexOf(SLOT);
  if (reserved >= 0) {
    const before = source.slice(0, reserved).split("\n");
    return {
      ok: false,
      problems: [
        {
          rule: "template-invalid",
          line: before.length,
          column: before.at(-1)!.length + 1,
          message: `the Serve config template may not contain the text "${SLOT}": the assembler marks where values go with it`,
        },
      ],
    };
  }
  let ast: hbs.AST.Program;
  try {
    ast = handlebars().parse(source);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const line = /on line (\d+)/.exec(message)?.[1];
    return {
      ok: false,
      problems: [
        {
          rule: "template-invalid",
          line: line ? Number(line) : 1,
          column: 1,
          message: `the Serve config template does not parse: ${message.replace(/\n/g, " ")}`,
        },
      ],
    };
  }
  const problems = unsafeStatements(ast, source);
  if (problems.length > 0) return { ok: false, problems };
  let template: HandlebarsTemplateDelegate;
  try {
    template = handlebars().compile(ast, { strict: true, noEscape: true, knownHelpers: { json: true } });
  } catch (error) {
    return { ok: false, problems: [failed(error)] };
  }
  return { ok: true, render: (data) => renderWithSlots(template, data) };
}

function failed(error: unknown): TemplateProblem {
  let line = 1;
  let column = 1;
  if (error instanceof TemplateValueError && error.loc) {
    line = error.loc.start.line;
    column = error.loc.start.column + 1;
  } else {
    // Handlebars' own errors (a missing field under `strict`) carry the position of the expression.
    const at = error as { lineNumber?: unknown; column?: unknown } | undefined;
    if (typeof at?.lineNumber === "number") line = at.lineNumber;
    if (typeof at?.column === "number") column = at.column + 1;
  }
  return {
    rule: "template-invalid",
    line,
    column,
    message: `the Serve config template failed: ${error instanceof Error ? error.message : String(error)}`,
  };
}

/** Every statement of the template that is not text, a comment, an allowed block or `{{json value}}`. */
function unsafeStatements(program: hbs.AST.Program, source: string): TemplateProblem[] {
  const lines = source.split("\n");
  const excerpt = (loc: Loc) => {
    const text =
      loc.start.line === loc.end.line
        ? (lines[loc.start.line - 1] ?? "").slice(loc.start.column, loc.end.column)
        : `${(lines[loc.start.line - 1] ?? "").slice(loc.start.column)}...`;
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  };
  const problems: TemplateProblem[] = [];
  const refuse = (node: hbs.AST.Node, why: string) =>
    problems.push({
      rule: "template-unsafe",
      line: node.loc.start.line,
      column: node.loc.start.column + 1,
      message: `\`${excerpt(node.loc)}\` ${why}`,
    });
  const expression = (node: hbs.AST.Expression): void => {
    if (node.type !== "SubExpression") return;
    const sub = node as hbs.AST.SubExpression;
    if (!EXPRESSION_HELPERS.has(sub.path.original) || sub.path.data)
      refuse(node, "calls a helper: inside an expression only (lookup ...) may be used");
    else if (sub.hash?.pairs.length)
      refuse(node, "passes key=value arguments, which no allowed helper takes");
    sub.params.forEach(expression);
  };
  const statements = (body: readonly hbs.AST.Statement[]): void => {
    for (const node of body) {
      switch (node.type) {
        case "ContentStatement":
        case "CommentStatement":
          break;
        case "MustacheStatement": {
          const m = node as hbs.AST.MustacheStatement;
          const isJson =
            m.path.type === "PathExpression" && (m.path as hbs.AST.PathExpression).original === "json";
          if (!isJson)
            refuse(
              node,
              `inserts a value without the json helper: values enter only as \`{{json value}}\`, which keeps each one a single YAML value whatever its text`,
            );
          else if (!m.escaped)
            refuse(node, "is a triple-stash or `{{&`: write `{{json value}}` with two braces");
          else if (m.params.length !== 1 || m.hash?.pairs.length)
            refuse(node, "must be `{{json value}}`: the json helper takes exactly one value");
          else m.params.forEach(expression);
          break;
        }
        case "BlockStatement": {
          const b = node as hbs.AST.BlockStatement;
          if (!BLOCK_HELPERS.has(b.path.original) || b.path.data)
            refuse(
              node,
              `opens a block a template may not use: only #each, #if, #unless and #with (they insert nothing)`,
            );
          else if (b.hash?.pairs.length)
            refuse(node, "passes key=value arguments, which no allowed helper takes");
          b.params.forEach(expression);
          statements(b.program?.body ?? []);
          statements(b.inverse?.body ?? []);
          break;
        }
        case "PartialStatement":
        case "PartialBlockStatement":
          refuse(node, "is a partial: a template is one file, and partials are not allowed");
          break;
        default:
          // Decorators, and whatever a later Handlebars adds: refused until someone decides it is safe.
          refuse(node, `is a ${node.type}, which a Serve config template may not use`);
      }
    }
  };
  statements(program.body);
  return problems;
}

/**
 * Render with each `{{json}}` value replaced by a slot token, then check that every value is one whole YAML
 * value where it stands: the output with the values must parse to exactly the output with the slots, each slot
 * replaced by its value. A value inside quotes, a block scalar or other text could otherwise close them and
 * add keys or applications of its own (a model owner's string becoming an import_path).
 */
function renderWithSlots(template: HandlebarsTemplateDelegate, data: object): RenderedTemplate {
  const slots: Array<{ value: unknown; loc: Loc | undefined }> = [];
  let skeleton: string;
  try {
    skeleton = template(data, {
      helpers: {
        json: (value: unknown, options: { loc?: Loc }) => {
          // `strict` does not reach helper arguments: a misspelt field arrives here as undefined and would
          // render as an empty (null) YAML value. Fail as a missing field would.
          if (value === undefined)
            throw new TemplateValueError("{{json}} got a missing field (misspelt name?)", options.loc);
          slots.push({ value, loc: options.loc });
          return `${SLOT}${slots.length - 1}_`;
        },
      },
    });
  } catch (error) {
    return { ok: false, problem: failed(error) };
  }
  const text = skeleton.replace(SLOT_TOKEN, (_, i: string) => jsonText(slots[Number(i)]!.value));
  const problem = checkSlots(skeleton, text, slots);
  return "problem" in problem
    ? { ok: false, problem: problem.problem }
    : { ok: true, text, value: problem.value };
}

const NOT_WHOLE =
  "`{{json}}` puts a value where it is not one whole YAML value (inside quotes, a block scalar, a key or next to other text), so the value's own text could change the YAML around it: put `{{json value}}` alone where a value goes";

/**
 * Parse the output with its values and check it against the output with slots: every slot a whole YAML value,
 * and the values changing nothing else.
 */
function checkSlots(
  skeleton: string,
  text: string,
  slots: ReadonlyArray<{ value: unknown; loc: Loc | undefined }>,
): { value: unknown } | { problem: TemplateProblem } {
  const at = (slot: number | undefined): { problem: TemplateProblem } => {
    const loc = slot === undefined ? undefined : slots[slot]?.loc;
    const where = loc ? { line: loc.start.line, column: loc.start.column + 1 } : { line: 1, column: 1 };
    return { problem: { rule: "template-unsafe", ...where, message: NOT_WHOLE } };
  };
  const invalid = (error: unknown): { problem: TemplateProblem } => ({
    problem: {
      rule: "template-invalid",
      line: 1,
      column: 1,
      message: `the Serve config template produced invalid YAML: ${error instanceof Error ? error.message : String(error)}`,
    },
  });
  // JSON begins and ends with a quote or bracket: next to the template's own quote, a value always ends the
  // string it seems to be in, whatever it holds.
  const quoted = new RegExp(`["']${SLOT}(\\d+)_|${SLOT}(\\d+)_["']`).exec(skeleton);
  if (quoted) return at(Number(quoted[1] ?? quoted[2]));
  // The output with slots is parsed as strictly as a spec: an alias could make it recursive (or exponentially
  // large) for every check after this one, and nothing a template needs takes an anchor, a tag or a second
  // document.
  const parsed = parseYamlFile(OUTPUT, new TextEncoder().encode(skeleton), Number.MAX_SAFE_INTEGER);
  if (!parsed.ok) {
    const [d] = parsed.diagnostics;
    if (d?.rule !== "yaml-syntax")
      return {
        problem: {
          rule: "template-invalid",
          line: 1,
          column: 1,
          message: `the Serve config template's output (line ${d?.line ?? 1}): ${d?.message ?? "is not valid YAML"}`,
        },
      };
    try {
      load(text);
    } catch (error) {
      return invalid(error);
    }
    // Only valid YAML once the values are in: a value completes (so could also change) the YAML around it.
    return at(undefined);
  }
  const shape = parsed.doc.value;
  let misplaced: number | undefined;
  const slotIn = (s: string) => {
    const found = new RegExp(`${SLOT}(\\d+)_`).exec(s);
    if (found) misplaced ??= Number(found[1]);
  };
  const fill = (node: unknown): unknown => {
    if (typeof node === "string") {
      const whole = SLOT_WHOLE.exec(node);
      if (whole) return JSON.parse(JSON.stringify(slots[Number(whole[1])]!.value)) as unknown;
      slotIn(node);
      return node;
    }
    if (Array.isArray(node)) return node.map(fill);
    if (node && typeof node === "object") {
      // fromEntries defines every key as data, `__proto__` included, as js-yaml does.
      return Object.fromEntries(
        Object.entries(node).map(([key, child]) => {
          slotIn(key);
          return [key, fill(child)];
        }),
      );
    }
    return node;
  };
  const filled = fill(shape);
  if (misplaced !== undefined) return at(misplaced);
  let value: unknown;
  try {
    value = load(text);
  } catch {
    return at(undefined);
  }
  return isDeepStrictEqual(filled, value) ? { value } : at(undefined);
}
