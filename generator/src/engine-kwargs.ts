import catalog from "../../schemas/vllm-engine-args.json";
import { KWARG_POLICY, kwargPolicy, kwargsOfClass, type KwargPolicy } from "./engine-kwargs-policy";
import { checkPlatformRelations, PLATFORM_RELATIONS, type PlatformSettings } from "./engine-kwargs-platform";
import type { RuleId } from "./rules";

export interface EngineArg {
  readonly type: "integer" | "number" | "string" | "boolean" | "object" | "array" | "any";
  readonly nullable?: boolean;
  readonly enum?: readonly unknown[];
  // vLLM's own range for the value: a pydantic Field(ge/gt/le/lt) in the config class `bounds_class`, which
  // refuses anything outside it when the replica starts (schemas/SOURCES.md says where each was read).
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
  readonly maximum?: number;
  readonly exclusiveMaximum?: number;
  readonly bounds_class?: string;
  /** vLLM checks the bound only when each named argument has this value (an absent one counts as null). */
  readonly bounds_when?: Readonly<Record<string, unknown>>;
  /** The kind of model vLLM checks the bound for ("for a multimodal model"), for the message. */
  readonly bounds_scope?: string;
}

const ARGS = catalog.args as unknown as Readonly<Record<string, EngineArg>>;
export const VLLM_VERSION: string = catalog.vllm_version;

/**
 * A check vLLM makes across two engine arguments (the catalog's `relations`; schemas/SOURCES.md says where each
 * was read): `args[0] op args[1]`, or `args[0] op value`, or for `exclusive` not both set.
 */
export interface EngineArgRelation {
  readonly args: readonly string[];
  readonly op: "<=" | ">=" | "exclusive";
  readonly value?: number;
  /** vLLM surely runs the check only when each named argument has this value (an absent one counts as null). */
  readonly when?: Readonly<Record<string, unknown>>;
  /** ... and each named argument is a number greater than this. */
  readonly when_above?: Readonly<Record<string, number>>;
  /** The default vLLM's source fixes for a compared argument the owner leaves unset. */
  readonly defaults?: Readonly<Record<string, number>>;
  /** The vLLM class that raises. */
  readonly class: string;
  readonly source: string;
}

export const RELATIONS = catalog.relations as unknown as readonly EngineArgRelation[];

/** The owner arguments a check against a platform value reads (checkPlatformRelations skips every other). */
const PLATFORM_RELATION_ARGS: ReadonlySet<string> = new Set(PLATFORM_RELATIONS.map((r) => r.arg));

/** Each relation's conditions as entries, and every argument it reads, taken apart once. */
const PREPARED: ReadonlyMap<
  EngineArgRelation,
  {
    readonly when: readonly [string, unknown][];
    readonly above: readonly [string, number][];
    readonly read: readonly string[];
  }
> = new Map(
  RELATIONS.map((relation) => {
    const when = Object.entries(relation.when ?? {});
    const above = Object.entries(relation.when_above ?? {});
    return [
      relation,
      {
        when,
        above,
        read: [...relation.args, ...when, ...above].map((a) => (typeof a === "string" ? a : a[0])),
      },
    ];
  }),
);

/**
 * The relations each argument can bring into play. A relation can only fail when the spec sets an argument
 * its conditions require (a `when` value other than null, a `when_above` number), or else one of the arguments
 * it compares (checkRelation): a spec is checked against the relations of the keys it sets alone. Most specs
 * set none of them, and validating 10,000 specs must not pay for every relation on every one.
 */
const RELATIONS_OF: ReadonlyMap<string, readonly EngineArgRelation[]> = (() => {
  const of = new Map<string, EngineArgRelation[]>();
  for (const relation of RELATIONS) {
    const required = [
      ...Object.entries(relation.when ?? {}).flatMap(([name, value]) => (value === null ? [] : [name])),
      ...Object.keys(relation.when_above ?? {}),
    ];
    for (const arg of required.length > 0 ? required.slice(0, 1) : relation.args)
      of.set(arg, [...(of.get(arg) ?? []), relation]);
  }
  return of;
})();

/** Whether vLLM's catalog knows this engine argument. */
export const isEngineArg = (name: string): boolean => Object.hasOwn(ARGS, name);
export const engineArgNames = (): string[] => Object.keys(ARGS);

/**
 * Keys the platform sets itself from the spec and the cluster: an owner setting them would contradict
 * gpus_per_replica, the served name or the model source. No cluster can lift them.
 */
export const PLATFORM_KWARGS: Readonly<Record<string, string>> = Object.fromEntries(
  policies().flatMap(([key, p]) => (p.class === "platform" ? [[key, p.why]] : [])),
);

/**
 * Keys denied on every cluster (class `denied` in KWARG_POLICY): code or module loading, downloads, files
 * outside model_source's confinement, network endpoints, and config mappings that can carry any of those. A
 * cluster.yaml's engine_kwargs.deny adds to this list; only its engine_kwargs.allow lifts an entry, by name.
 */
export const BUILT_IN_DENIED_KWARGS: readonly string[] = kwargsOfClass("denied");

/** Keys whose value the platform caps (class `capped`); engine_kwargs.allow lifts a cap by name. */
export const CAPPED_KWARGS: readonly string[] = kwargsOfClass("capped");

/** What engine_kwargs.allow may name: a built-in denial or a cap. */
export const LIFTABLE_KWARGS: readonly string[] = [...BUILT_IN_DENIED_KWARGS, ...CAPPED_KWARGS];

function policies(): [string, KwargPolicy][] {
  return Object.entries(KWARG_POLICY as Readonly<Record<string, KwargPolicy>>);
}

interface KwargSettings {
  readonly deny: readonly string[];
  readonly allow: readonly string[];
}

/**
 * The engine arguments a cluster denies, each with why, for the message: the built-in list less what
 * `allow` lifts, plus what `deny` adds (a key both allowed and denied stays denied).
 */
export function deniedKwargs(cluster: string, settings: KwargSettings): ReadonlyMap<string, string> {
  const file = `clusters/${cluster}/cluster.yaml`;
  const denied = new Map<string, string>();
  for (const key of BUILT_IN_DENIED_KWARGS)
    if (!settings.allow.includes(key) || settings.deny.includes(key)) {
      const why = (kwargPolicy(key) as { why: string }).why;
      denied.set(
        key,
        `on cluster ${cluster}: it is on the platform's built-in deny list because it ${why}${settings.deny.includes(key) ? `, and ${file} denies it too` : `; only an admin can lift it, with engine_kwargs.allow in ${file}`}`,
      );
    }
  for (const key of settings.deny)
    if (!denied.has(key)) denied.set(key, `on cluster ${cluster}: ${file} denies it (engine_kwargs.deny)`);
  return denied;
}

/** A cap on an argument's value on one cluster, with the message for a value above it. */
export interface KwargCap {
  readonly max: number;
  readonly message: string;
}

/** The caps that apply on a cluster: every built-in cap that its `allow` does not lift. */
export function cappedKwargs(cluster: string, settings: KwargSettings): ReadonlyMap<string, KwargCap> {
  const caps = new Map<string, KwargCap>();
  for (const key of CAPPED_KWARGS) {
    if (settings.allow.includes(key)) continue;
    const p = kwargPolicy(key) as Extract<KwargPolicy, { class: "capped" }>;
    caps.set(key, {
      max: p.max,
      message: `engine_kwargs.${key} may be at most ${p.max} (${p.unit}) on cluster ${cluster}: ${p.why}; only an admin can lift the cap, with engine_kwargs.allow in clusters/${cluster}/cluster.yaml`,
    });
  }
  return caps;
}

export interface KwargProblem {
  readonly key: string;
  readonly rule: RuleId;
  readonly message: string;
  /** Point at the value rather than the key. */
  readonly atValue?: boolean;
}

/**
 * Check an owner's engine_kwargs against the platform's keys, a cluster's denied keys (deniedKwargs: each
 * with where its denial comes from, for the message), vLLM's catalog (type, choices, then vLLM's own numeric
 * bounds) and the cluster's caps (cappedKwargs), which apply only to a value vLLM would accept; then vLLM's
 * checks across two arguments (RELATIONS) and against what the platform sets for this spec on this cluster
 * (`platform`: gpus_per_replica, accelerator_type; PLATFORM_RELATIONS) on the values that passed all of that.
 */
export function checkEngineKwargs(
  kwargs: Readonly<Record<string, unknown>>,
  denied: ReadonlyMap<string, string>,
  caps: ReadonlyMap<string, KwargCap> = new Map(),
  platform: PlatformSettings = {},
): KwargProblem[] {
  const problems: KwargProblem[] = [];
  for (const [key, value] of Object.entries(kwargs)) {
    // hasOwn: a key such as `constructor` must not find Object.prototype's members.
    const platform = Object.hasOwn(PLATFORM_KWARGS, key) ? PLATFORM_KWARGS[key] : undefined;
    if (platform !== undefined) {
      problems.push({
        key,
        rule: "engine-kwarg-platform",
        message: `engine_kwargs.${key} is set by the platform: ${platform}`,
      });
      continue;
    }
    const why = denied.get(key);
    if (why !== undefined) {
      problems.push({
        key,
        rule: "engine-kwarg-denied",
        message: `engine_kwargs.${key} is not allowed ${why}`,
      });
      continue;
    }
    const arg = Object.hasOwn(ARGS, key) ? ARGS[key] : undefined;
    if (!arg) {
      const guess = suggest(key, Object.keys(ARGS));
      problems.push({
        key,
        rule: "engine-kwarg-unknown",
        message: `engine_kwargs.${key} is not a vLLM ${VLLM_VERSION} engine argument${guess ? `: did you mean \`${guess}\`?` : ""} (Ray would only fail at deploy time)`,
      });
      continue;
    }
    const typeProblem = checkType(value, arg);
    if (typeProblem) {
      problems.push({
        key,
        rule: "engine-kwarg-type",
        message: `engine_kwargs.${key} ${typeProblem}`,
        atValue: true,
      });
      continue;
    }
    const outside = checkBounds(key, value, arg, kwargs);
    if (outside) {
      problems.push({ key, rule: "engine-kwarg-range", message: outside, atValue: true });
      continue;
    }
    const cap = caps.get(key);
    if (cap && typeof value === "number" && value > cap.max)
      problems.push({ key, rule: "invalid-value", message: cap.message, atValue: true });
  }
  const candidates = new Set<EngineArgRelation>();
  let platformArgs = false;
  for (const key of Object.keys(kwargs)) {
    for (const r of RELATIONS_OF.get(key) ?? []) candidates.add(r);
    platformArgs ||= PLATFORM_RELATION_ARGS.has(key);
  }
  if (candidates.size === 0 && !platformArgs) return problems;
  const troubled = new Set(problems.map((p) => p.key));
  // In the catalog's order, whichever key brought a relation in: the same spec always lists the same order.
  for (const relation of RELATIONS) {
    if (!candidates.has(relation)) continue;
    const problem = checkRelation(relation, kwargs, troubled);
    if (problem) problems.push(problem);
  }
  if (platformArgs) problems.push(...checkPlatformRelations(kwargs, troubled, platform));
  return problems;
}

/**
 * The problem with one of vLLM's checks across two arguments, if vLLM surely runs it with these kwargs and it
 * fails: on the value of whichever compared argument comes later in the spec, which the message names first.
 * Skipped when an argument it reads already has a problem (that one is reported instead), and when a compared
 * argument is unset and vLLM's source fixes no default for it (vLLM picks one by GPU, usage context or model).
 */
function checkRelation(
  relation: EngineArgRelation,
  kwargs: Readonly<Record<string, unknown>>,
  troubled: ReadonlySet<string>,
): KwargProblem | undefined {
  const given = (name: string) => givenIn(kwargs, name);
  const { when, above, read } = PREPARED.get(relation)!;
  for (const [name, expected] of when) if (given(name) !== expected) return undefined;
  for (const [name, limit] of above) if (!(numberOf(given(name)) > limit)) return undefined;
  for (const name of read) if (troubled.has(name)) return undefined;
  const order = Object.keys(kwargs);
  const later = (names: readonly string[]) =>
    names.reduce((a, b) => (order.indexOf(b) > order.indexOf(a) ? b : a));
  const refuses = `(vLLM ${VLLM_VERSION} ${relation.class} refuses it when the replica starts)`;
  const condition = conditionText(relation.when, relation.when_above, relation.args);

  if (relation.op === "exclusive") {
    const set = (name: string) => given(name) !== null && given(name) !== false;
    if (!relation.args.every(set)) return undefined;
    const key = later(relation.args);
    const other = relation.args.find((name) => name !== key)!;
    const shown = (name: string) => (given(name) === true ? `${name}: true` : name);
    return {
      key,
      rule: "engine-kwarg-relation",
      message: `engine_kwargs.${shown(key)} cannot be set together with ${shown(other)}${condition} ${refuses}`,
      atValue: true,
    };
  }

  const owned = relation.args.filter((name) => typeof given(name) === "number");
  if (owned.length === 0) return undefined;
  const valueOf = (name: string) =>
    typeof given(name) === "number" ? (given(name) as number) : relation.defaults?.[name];
  const [first, second] = relation.args as [string, string | undefined];
  const left = valueOf(first);
  const right = second === undefined ? relation.value : valueOf(second);
  if (left === undefined || right === undefined) return undefined;
  if (relation.op === ">=" ? left >= right : left <= right) return undefined;
  const key = later(owned);
  const other = key === first ? second : first;
  const atLeast = (relation.op === ">=") === (key === first);
  const bound =
    other === undefined
      ? `${right}`
      : `${other} (${valueOf(other)}${typeof given(other) === "number" ? "" : ", vLLM's default"})`;
  return {
    key,
    rule: "engine-kwarg-relation",
    message: `engine_kwargs.${key} (${valueOf(key)}) must be ${atLeast ? "at least" : "at most"} ${bound}${condition} ${refuses}`,
    atValue: true,
  };
}

const numberOf = (value: unknown): number => (typeof value === "number" ? value : Number.NaN);

/**
 * " with runner: "pooling" and enable_chunked_prefill: false, and without task": when vLLM runs a check, for a
 * relation's message (its `when` and `when_above`) and a bound's (`bounds_when`).
 */
function conditionText(
  when: Readonly<Record<string, unknown>> = {},
  above: Readonly<Record<string, number>> = {},
  compared: readonly string[] = [],
): string {
  const withs: string[] = [];
  const withouts: string[] = [];
  for (const [name, expected] of Object.entries(when))
    if (expected === null) withouts.push(name);
    else withs.push(`${name}: ${JSON.stringify(expected)}`);
  // A compared argument's own condition (max_cpu_loras above 0) shows in its value.
  for (const [name, limit] of Object.entries(above))
    if (!compared.includes(name)) withs.push(`${name} above ${limit}`);
  const parts = [
    ...(withs.length > 0 ? [`with ${listText(withs)}`] : []),
    ...(withouts.length > 0 ? [`without ${listText(withouts)}`] : []),
  ];
  return parts.length > 0 ? ` ${parts.join(", and ")}` : "";
}

/** The value the owner gave an argument; an absent one counts as null, like vLLM's default None. */
const givenIn = (kwargs: Readonly<Record<string, unknown>>, name: string): unknown =>
  Object.hasOwn(kwargs, name) ? (kwargs[name] ?? null) : null;

const listText = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;

function checkType(value: unknown, arg: EngineArg): string | undefined {
  if (value === null) return arg.nullable || arg.type === "any" ? undefined : "may not be null";
  // YAML has .nan and .inf; the Serve config Ray receives is JSON, which has neither (they would become null).
  if (hasNonFinite(value))
    return "must be a finite number: .nan and .inf cannot reach Ray (JSON has no NaN or Infinity)";
  // Beyond 2^53 a YAML integer is read as the nearest double: the fragment would carry another number (or
  // 1e+23, a float to Ray). No engine argument needs one.
  if (arg.type === "integer" && Number.isInteger(value) && !Number.isSafeInteger(value))
    return `is too large to carry exactly: an integer must lie between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER} (YAML reads a larger one as the nearest it can hold, ${value as number} here)`;
  if (arg.enum && !arg.enum.includes(value))
    return `must be one of ${arg.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  const ok =
    arg.type === "any" ||
    (arg.type === "integer" && Number.isInteger(value)) ||
    (arg.type === "number" && typeof value === "number") ||
    (arg.type === "string" && typeof value === "string") ||
    (arg.type === "boolean" && typeof value === "boolean") ||
    (arg.type === "array" && Array.isArray(value)) ||
    (arg.type === "object" && typeof value === "object" && !Array.isArray(value));
  return ok ? undefined : `must be ${arg.type === "integer" ? "an" : "a"} ${arg.type}`;
}

/**
 * The message for a value outside vLLM's own range for the argument, if it is, and if vLLM checks it with
 * these kwargs (bounds_when). Run after checkType: the value is a finite number or null here.
 */
function checkBounds(
  key: string,
  value: unknown,
  arg: EngineArg,
  kwargs: Readonly<Record<string, unknown>>,
): string | undefined {
  if (typeof value !== "number") return undefined;
  const { minimum, exclusiveMinimum, maximum, exclusiveMaximum } = arg;
  const inside =
    (minimum === undefined || value >= minimum) &&
    (exclusiveMinimum === undefined || value > exclusiveMinimum) &&
    (maximum === undefined || value <= maximum) &&
    (exclusiveMaximum === undefined || value < exclusiveMaximum);
  if (inside) return undefined;
  const when = Object.entries(arg.bounds_when ?? {});
  if (!when.every(([name, expected]) => givenIn(kwargs, name) === expected)) return undefined;
  const lower =
    minimum !== undefined
      ? `at least ${minimum}`
      : exclusiveMinimum !== undefined
        ? `greater than ${exclusiveMinimum}`
        : undefined;
  const upper =
    maximum !== undefined
      ? `at most ${maximum}`
      : exclusiveMaximum !== undefined
        ? `less than ${exclusiveMaximum}`
        : undefined;
  const range = [lower, upper].filter((part) => part !== undefined).join(" and ");
  const condition = conditionText(arg.bounds_when);
  const scope = arg.bounds_scope ? `, ${arg.bounds_scope}` : "";
  return `engine_kwargs.${key} must be ${range} (vLLM ${VLLM_VERSION} ${arg.bounds_class ?? "EngineArgs"} refuses ${value} when the replica starts${condition}${scope})`;
}

function hasNonFinite(value: unknown): boolean {
  if (typeof value === "number") return !Number.isFinite(value);
  if (typeof value === "object" && value !== null) return Object.values(value).some(hasNonFinite);
  return false;
}

/**
 * The closest known name by edit distance, if it is close enough to be a typo. Letter case and "-" for "_"
 * (vLLM's command-line spelling, max-model-len) are no distance at all.
 */
export function suggest(name: string, known: readonly string[]): string | undefined {
  return closest(name, known) ?? namedPart(name, known);
}

/**
 * The one known name that holds `name` as whole words (`replicas` in num_replicas, `source` in model_source):
 * a field written without its prefix. None when several do, or the name is shorter than 3 letters.
 */
function namedPart(name: string, known: readonly string[]): string | undefined {
  const wanted = fold(name);
  if (wanted.replace(/_/g, "").length < 3) return undefined;
  const holds = known.filter((candidate) => `_${fold(candidate)}_`.includes(`_${wanted}_`));
  return holds.length === 1 ? holds[0] : undefined;
}

function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  const wanted = fold(name);
  for (const candidate of known) {
    if (Math.abs(candidate.length - name.length) >= bestDistance) continue;
    const d = distance(wanted, fold(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

const fold = (name: string): string => name.toLowerCase().replace(/-/g, "_");

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
