/**
 * POST /graphql of the GitHub API test server: the part of GitHub's GraphQL schema the sync agent reads, to
 * know how a pull request's title and description stood when it was merged (a REST pull request shows only
 * their current text):
 *
 *   repository(owner, name) { nameWithOwner
 *     pullRequest(number) { number title body merged mergedAt lastEditedAt
 *       timelineItems(first|last, itemTypes: [RENAMED_TITLE_EVENT]) {
 *         totalCount pageInfo { hasNextPage hasPreviousPage }
 *         nodes { __typename ... on RenamedTitleEvent { previousTitle currentTitle createdAt actor { login } } } } } }
 *
 * As github.com answers (https://docs.github.com/graphql/guides/forming-calls-with-graphql): HTTP 200 with
 * `{ data }`, or `{ errors }` for a query that does not validate (an unknown field or argument, a missing
 * variable, a connection without `first`/`last` or asking more than 100), or `{ data, errors }` with a
 * NOT_FOUND error and null where a repository or pull request does not exist. `lastEditedAt` ("the moment the
 * editor made the last edit", https://docs.github.com/graphql/reference/objects#pullrequest) moves with
 * edits of the description only; a title change is a RenamedTitleEvent in the timeline
 * (https://docs.github.com/graphql/reference/objects#renamedtitleevent). Edits are made with
 * server.editPull(). Anything outside this subset (fragments, directives, mutations, other fields, item
 * types or cursors) is recorded in `server.unexpected` as well.
 */
import type { Store } from "./github-api-routes";
import type { PullRequestInput, UnexpectedKind } from "./github-api-types";

export const GRAPHQL_DOCS = "https://docs.github.com/graphql";

/** What the server records of a pull request's edits (server.editPull). */
export interface PullEdits {
  /** The last edit of the description (GraphQL lastEditedAt); title changes do not move it. */
  lastEditedAt: string | undefined;
  renames: { from: string; to: string; actor: string; createdAt: string }[];
}

export interface GraphqlReply {
  status: number;
  body: unknown;
  unexpected?: { kind: UnexpectedKind; message: string };
}

interface Location {
  line: number;
  column: number;
}

type Value =
  | { kind: "variable"; name: string }
  | { kind: "int"; value: number }
  | { kind: "string"; value: string }
  | { kind: "enum"; value: string }
  | { kind: "boolean"; value: boolean }
  | { kind: "null" }
  | { kind: "list"; values: Value[] };

interface Field {
  kind: "field";
  alias: string | undefined;
  name: string;
  args: Map<string, Value>;
  selections: Selection[] | undefined;
  at: Location;
}

interface InlineFragment {
  kind: "fragment";
  on: string;
  selections: Selection[];
}

type Selection = Field | InlineFragment;

class QueryError extends Error {
  constructor(
    readonly error: Record<string, unknown>,
    readonly unsupported?: string,
  ) {
    super(String(error.message));
  }
}

interface Token {
  kind: "punct" | "name" | "int" | "string";
  text: string;
  at: Location;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    const at = { line, column: i - lineStart + 1 };
    if (ch === "\n") {
      line++;
      lineStart = ++i;
    } else if (/[\s,\uFEFF]/.test(ch)) i++;
    else if (ch === "#") while (i < source.length && source[i] !== "\n") i++;
    else if (source.startsWith("...", i)) {
      tokens.push({ kind: "punct", text: "...", at });
      i += 3;
    } else if ("{}()[]:!$=@".includes(ch)) {
      tokens.push({ kind: "punct", text: ch, at });
      i++;
    } else if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i))![0];
      tokens.push({ kind: "name", text: m, at });
      i += m.length;
    } else if (/[-0-9]/.test(ch)) {
      const m = /^-?[0-9]+/.exec(source.slice(i))?.[0];
      if (!m) throw parseError(ch, at);
      tokens.push({ kind: "int", text: m, at });
      i += m.length;
    } else if (ch === '"') {
      let j = i + 1;
      let text = "";
      while (j < source.length && source[j] !== '"' && source[j] !== "\n") {
        if (source[j] === "\\") {
          text += JSON.parse(`"${source.slice(j, j + 2)}"`) as string;
          j += 2;
        } else text += source[j++];
      }
      if (source[j] !== '"') throw parseError(ch, at);
      tokens.push({ kind: "string", text, at });
      i = j + 1;
    } else throw parseError(ch, at);
  }
  return tokens;
}

function parseError(text: string, at: Location): QueryError {
  return new QueryError({
    message: `Parse error on "${text}" at [${at.line}, ${at.column}]`,
    locations: [at],
  });
}

class Parser {
  private i = 0;
  readonly variableTypes = new Map<string, string>();

  constructor(private readonly tokens: Token[]) {}

  document(): Selection[] {
    const first = this.peek();
    if (first?.kind === "name") {
      if (first.text !== "query")
        throw new QueryError(
          {
            message: `${first.text} operations are not supported by this test server`,
            locations: [first.at],
          },
          `a ${first.text} operation`,
        );
      this.i++;
      if (this.peek()?.kind === "name") this.i++;
      if (this.take("(")) {
        while (!this.take(")")) {
          this.expect("$");
          const name = this.name();
          this.expect(":");
          this.variableTypes.set(name, this.type());
        }
      }
    }
    const selections = this.selectionSet();
    const rest = this.peek();
    if (rest)
      throw new QueryError(
        { message: "only one operation per document is supported by this test server", locations: [rest.at] },
        "more than one definition",
      );
    return selections;
  }

  private type(): string {
    let text: string;
    if (this.take("[")) {
      text = `[${this.type()}]`;
      this.expect("]");
    } else text = this.name();
    if (this.take("!")) text += "!";
    return text;
  }

  private selectionSet(): Selection[] {
    this.expect("{");
    const out: Selection[] = [];
    while (!this.take("}")) {
      if (this.take("...")) {
        const on = this.name();
        if (on !== "on")
          throw new QueryError(
            { message: "named fragments are not supported by this test server", locations: [] },
            "a named fragment",
          );
        out.push({ kind: "fragment", on: this.name(), selections: this.selectionSet() });
        continue;
      }
      const at = this.peek()?.at ?? { line: 0, column: 0 };
      let name = this.name();
      let alias: string | undefined;
      if (this.take(":")) {
        alias = name;
        name = this.name();
      }
      const args = new Map<string, Value>();
      if (this.take("(")) {
        while (!this.take(")")) {
          const arg = this.name();
          this.expect(":");
          args.set(arg, this.value());
        }
      }
      if (this.peek()?.text === "@")
        throw new QueryError({ message: "directives are not supported by this test server" }, "a directive");
      const selections = this.peek()?.text === "{" ? this.selectionSet() : undefined;
      out.push({ kind: "field", alias, name, args, selections, at });
    }
    return out;
  }

  private value(): Value {
    const t = this.next();
    if (t.kind === "punct" && t.text === "$") return { kind: "variable", name: this.name() };
    if (t.kind === "punct" && t.text === "[") {
      const values: Value[] = [];
      while (!this.take("]")) values.push(this.value());
      return { kind: "list", values };
    }
    if (t.kind === "int") return { kind: "int", value: Number(t.text) };
    if (t.kind === "string") return { kind: "string", value: t.text };
    if (t.kind === "name") {
      if (t.text === "true" || t.text === "false") return { kind: "boolean", value: t.text === "true" };
      if (t.text === "null") return { kind: "null" };
      return { kind: "enum", value: t.text };
    }
    throw parseError(t.text, t.at);
  }

  private name(): string {
    const t = this.next();
    if (t.kind !== "name") throw parseError(t.text, t.at);
    return t.text;
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private next(): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new QueryError({ message: "Parse error on end of query (end of input) at [0, 0]" });
    return t;
  }

  private take(text: string): boolean {
    const t = this.peek();
    if (t?.kind === "punct" && t.text === text) {
      this.i++;
      return true;
    }
    return false;
  }

  private expect(text: string): true {
    const t = this.next();
    if (t.kind !== "punct" || t.text !== text) throw parseError(t.text, t.at);
    return true;
  }
}

type Resolved = Record<string, unknown> | null;

interface Ctx {
  store: Store;
  repoKnown: (owner: string, name: string) => boolean;
  variables: Record<string, unknown>;
  variableTypes: Map<string, string>;
  errors: Record<string, unknown>[];
}

/** An object of the schema: its __typename and, per field, the arguments it takes and how it resolves. */
interface GqlObject {
  typename: string;
  fields: Record<
    string,
    { args?: readonly string[]; resolve: (args: Args, field: Field, path: readonly string[]) => unknown }
  >;
}

type Args = Record<string, unknown>;

const MAX_PAGE = 100;

function argValue(value: Value, ctx: Ctx, field: Field): unknown {
  switch (value.kind) {
    case "variable": {
      const type = ctx.variableTypes.get(value.name);
      if (type === undefined)
        throw new QueryError({
          path: ["query"],
          extensions: { code: "variableNotDefined", variableName: value.name },
          locations: [field.at],
          message: `Variable $${value.name} is used by anonymous query but not declared`,
        });
      const v = ctx.variables[value.name];
      if (v === undefined && type.endsWith("!"))
        throw new QueryError({
          extensions: { value: null, problems: [{ path: [], explanation: "Expected value to not be null" }] },
          locations: [field.at],
          message: `Variable $${value.name} of type ${type} was provided invalid value`,
        });
      return v ?? null;
    }
    case "list":
      return value.values.map((v) => argValue(v, ctx, field));
    case "null":
      return null;
    default:
      return value.value;
  }
}

function repositoryObject(owner: string, name: string, ctx: Ctx): GqlObject {
  return {
    typename: "Repository",
    fields: {
      nameWithOwner: { resolve: () => `${owner}/${name}` },
      pullRequest: {
        args: ["number"],
        resolve: (args, field, path) => {
          const number = Number(args.number);
          const key = `${owner}/${name}`.toLowerCase();
          const pull = ctx.store.pull(key, number);
          if (!pull) {
            ctx.errors.push({
              type: "NOT_FOUND",
              path,
              locations: [field.at],
              message: `Could not resolve to a PullRequest with the number of ${number}.`,
            });
            return null;
          }
          const edits = ctx.store.pullEdits.get(`${key}#${number}`) ??
            ctx.store.pullEdits.get(`*#${number}`) ?? { lastEditedAt: undefined, renames: [] };
          return pullRequestObject(pull, edits);
        },
      },
    },
  };
}

function pullRequestObject(pull: PullRequestInput, edits: PullEdits): GqlObject {
  const mergedAt = typeof pull.merged_at === "string" && pull.merged_at !== "" ? pull.merged_at : null;
  return {
    typename: "PullRequest",
    fields: {
      number: { resolve: () => pull.number },
      title: { resolve: () => pull.title ?? `PR #${pull.number}` },
      // GraphQL's body is String!: "" where REST says null.
      body: { resolve: () => pull.body ?? "" },
      merged: { resolve: () => mergedAt !== null },
      mergedAt: { resolve: () => mergedAt },
      lastEditedAt: { resolve: () => edits.lastEditedAt ?? null },
      timelineItems: {
        args: ["first", "last", "itemTypes", "after", "before", "since", "skip"],
        resolve: (args) => {
          for (const unsupported of ["after", "before", "since", "skip"])
            if (args[unsupported] !== undefined && args[unsupported] !== null)
              throw new QueryError(
                { message: `timelineItems(${unsupported}:) is not supported by this test server` },
                `timelineItems(${unsupported}:)`,
              );
          const types = args.itemTypes;
          if (!Array.isArray(types) || types.length !== 1 || types[0] !== "RENAMED_TITLE_EVENT")
            throw new QueryError(
              { message: "this test server lists only itemTypes: [RENAMED_TITLE_EVENT]" },
              `timelineItems(itemTypes: ${JSON.stringify(types)})`,
            );
          const first = typeof args.first === "number" ? args.first : undefined;
          const last = typeof args.last === "number" ? args.last : undefined;
          if (first === undefined && last === undefined)
            throw new QueryError({
              message:
                "You must provide a `first` or `last` value to properly paginate the `timelineItems` connection.",
            });
          for (const [which, n] of [
            ["first", first],
            ["last", last],
          ] as const)
            if (n !== undefined && n > MAX_PAGE)
              throw new QueryError({
                message: `Requesting ${n} records on the \`timelineItems\` connection exceeds the \`${which}\` limit of ${MAX_PAGE} records.`,
              });
          const all = edits.renames;
          const nodes =
            first !== undefined ? all.slice(0, first) : all.slice(Math.max(0, all.length - (last ?? 0)));
          const start = all.indexOf(nodes[0]!);
          return {
            typename: "PullRequestTimelineItemsConnection",
            fields: {
              totalCount: { resolve: () => all.length },
              pageInfo: {
                resolve: () => ({
                  typename: "PageInfo",
                  fields: {
                    hasNextPage: { resolve: () => nodes.length > 0 && start + nodes.length < all.length },
                    hasPreviousPage: { resolve: () => nodes.length > 0 && start > 0 },
                  },
                }),
              },
              nodes: {
                resolve: () =>
                  nodes.map((r): GqlObject => ({
                    typename: "RenamedTitleEvent",
                    fields: {
                      previousTitle: { resolve: () => r.from },
                      currentTitle: { resolve: () => r.to },
                      createdAt: { resolve: () => r.createdAt },
                      actor: {
                        resolve: () => ({ typename: "User", fields: { login: { resolve: () => r.actor } } }),
                      },
                    },
                  })),
              },
            },
          } satisfies GqlObject;
        },
      },
    },
  };
}

function isObject(value: unknown): value is GqlObject {
  return typeof value === "object" && value !== null && "typename" in value && "fields" in value;
}

function execute(object: GqlObject, selections: Selection[], ctx: Ctx, path: string[]): Resolved {
  const out: Record<string, unknown> = {};
  for (const selection of selections) {
    if (selection.kind === "fragment") {
      if (selection.on === object.typename)
        Object.assign(out, execute(object, selection.selections, ctx, path));
      continue;
    }
    const key = selection.alias ?? selection.name;
    if (selection.name === "__typename") {
      out[key] = object.typename;
      continue;
    }
    const def = object.fields[selection.name];
    if (!def)
      throw new QueryError(
        {
          path: [...path, selection.name],
          extensions: { code: "undefinedField", typeName: object.typename, fieldName: selection.name },
          locations: [selection.at],
          message: `Field '${selection.name}' doesn't exist on type '${object.typename}'`,
        },
        `${object.typename}.${selection.name}`,
      );
    const args: Args = {};
    for (const [name, value] of selection.args) {
      if (!(def.args ?? []).includes(name))
        throw new QueryError(
          {
            path: [...path, selection.name, name],
            extensions: {
              code: "argumentNotAccepted",
              name: selection.name,
              typeName: "Field",
              argumentName: name,
            },
            locations: [selection.at],
            message: `Field '${selection.name}' doesn't accept argument '${name}'`,
          },
          `${object.typename}.${selection.name}(${name}:)`,
        );
      args[name] = argValue(value, ctx, selection);
    }
    const value = def.resolve(args, selection, [...path, key]);
    out[key] = render(value, selection, ctx, [...path, key]);
  }
  return out;
}

function render(value: unknown, field: Field, ctx: Ctx, path: string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => render(v, field, ctx, path));
  if (isObject(value)) {
    if (!field.selections)
      throw new QueryError({
        path,
        extensions: {
          code: "selectionMismatch",
          nodeName: `field '${field.name}'`,
          typeName: value.typename,
        },
        locations: [field.at],
        message: `Field must have selections (field '${field.name}' returns ${value.typename} but has no selections.`,
      });
    return execute(value, field.selections, ctx, path);
  }
  return value;
}

/** Answers one POST /graphql; `repoKnown` says whether the server knows a repository. */
export function graphqlReply(
  body: unknown,
  store: Store,
  repoKnown: (owner: string, name: string) => boolean,
): GraphqlReply {
  const request = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof request.query !== "string")
    return {
      status: 200,
      body: { errors: [{ message: "A query attribute must be specified and must be a string." }] },
      unexpected: { kind: "invalid-body", message: "the GraphQL request has no query" },
    };
  const variables =
    typeof request.variables === "object" && request.variables !== null
      ? (request.variables as Record<string, unknown>)
      : {};
  const ctx: Ctx = { store, repoKnown, variables, variableTypes: new Map(), errors: [] };
  try {
    const parser = new Parser(tokenize(request.query));
    const selections = parser.document();
    for (const [name, type] of parser.variableTypes) ctx.variableTypes.set(name, type);
    const root: GqlObject = {
      typename: "Query",
      fields: {
        repository: {
          args: ["owner", "name", "followRenames"],
          resolve: (args, field, path) => {
            const owner = String(args.owner);
            const name = String(args.name);
            if (!repoKnown(owner, name)) {
              ctx.errors.push({
                type: "NOT_FOUND",
                path,
                locations: [field.at],
                message: `Could not resolve to a Repository with the name '${owner}/${name}'.`,
              });
              return null;
            }
            return repositoryObject(owner, name, ctx);
          },
        },
      },
    };
    const data = execute(root, selections, ctx, []);
    return { status: 200, body: ctx.errors.length > 0 ? { data, errors: ctx.errors } : { data } };
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    return {
      status: 200,
      body: { errors: [error.error] },
      unexpected: {
        kind: "invalid-body",
        message: error.unsupported
          ? `GraphQL: ${error.unsupported} is not implemented by this server`
          : `GraphQL: ${error.message}`,
      },
    };
  }
}
