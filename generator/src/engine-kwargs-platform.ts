import catalog from "../../schemas/vllm-engine-args.json";
import accelerators from "../../schemas/ray-accelerators.json";

/**
 * What the platform sets for a spec on one cluster, which vLLM checks owner engine arguments against: the
 * spec's gpus_per_replica (rendered as tensor_parallel_size) and the cluster's accelerator_type (from which
 * Ray Serve LLM picks vLLM's distributed_executor_backend).
 */
export interface PlatformSettings {
  /** The spec's gpus_per_replica; absent when that field is invalid (reported on its own). */
  readonly gpus_per_replica?: number;
  /** The spec leaves gpus_per_replica out: the platform renders its default, 1. */
  readonly gpus_per_replica_default?: boolean;
  /** The target cluster's name and accelerator_type; the type is absent when its cluster.yaml has errors. */
  readonly cluster?: string;
  readonly accelerator_type?: string;
}

/**
 * A check vLLM makes of one owner argument against a value the platform sets (the catalog's
 * `platform_relations`; schemas/SOURCES.md says where each was read): `arg` divides the platform value, or,
 * with `arg` set to `when`, the platform value is above `value` or one of `values`.
 */
export interface PlatformRelation {
  readonly arg: string;
  readonly when?: unknown;
  readonly op: "divides" | "above" | "one_of";
  readonly platform: string;
  readonly value?: number;
  readonly values?: readonly string[];
  /** The vLLM class that raises. */
  readonly class: string;
  readonly source: string;
}

/** Where a platform value comes from (the catalog's `platform_values`). */
interface PlatformValueSource {
  /** The spec field the platform renders the value from. */
  readonly spec_field?: string;
  /** The value Ray Serve LLM sets on these accelerator types (on any other the value is not known here). */
  readonly value?: string;
  readonly accelerator_types?: readonly string[];
}

export const PLATFORM_RELATIONS = catalog.platform_relations as unknown as readonly PlatformRelation[];
const PLATFORM_VALUES = catalog.platform_values as unknown as Readonly<Record<string, PlatformValueSource>>;
const ACCELERATOR_ALIASES: Readonly<Record<string, string>> = accelerators.aliases;

/** A platform value as known for one spec on one cluster, with the words that say where it comes from. */
interface Known {
  readonly value: number | string;
  /** "which the platform sets from gpus_per_replica (4)" */
  readonly from: string;
  /** The spec field the owner can change instead, if any. */
  readonly field?: string;
}

function platformValue(name: string, platform: PlatformSettings): Known | undefined {
  const source = Object.hasOwn(PLATFORM_VALUES, name) ? PLATFORM_VALUES[name] : undefined;
  if (source?.spec_field === "gpus_per_replica") {
    const gpus = platform.gpus_per_replica;
    if (gpus === undefined) return undefined;
    const shown = platform.gpus_per_replica_default ? `${gpus}, its default` : `${gpus}`;
    return {
      value: gpus,
      from: `which the platform sets from gpus_per_replica (${shown})`,
      field: "gpus_per_replica",
    };
  }
  if (source?.value !== undefined && platform.accelerator_type !== undefined) {
    const type = platform.accelerator_type;
    // Ray Serve LLM rewrites an alias ("A10" -> "A10G") before it picks the executor.
    const named = Object.hasOwn(ACCELERATOR_ALIASES, type) ? ACCELERATOR_ALIASES[type]! : type;
    if (!source.accelerator_types?.includes(named)) return undefined;
    return {
      value: source.value,
      from: `on cluster ${platform.cluster ?? "(default)"} Ray Serve LLM sets it to ${JSON.stringify(source.value)} (accelerator_type ${type})`,
    };
  }
  return undefined;
}

export interface PlatformProblem {
  readonly key: string;
  readonly rule: "engine-kwarg-relation";
  readonly message: string;
  readonly atValue: true;
}

/**
 * The problems with vLLM's checks of owner arguments against what the platform sets, where vLLM surely makes
 * the check and the platform value is known: on the owner argument's value. An argument in `troubled` (a type,
 * range or deny problem already reported) is skipped.
 */
export function checkPlatformRelations(
  kwargs: Readonly<Record<string, unknown>>,
  troubled: ReadonlySet<string>,
  platform: PlatformSettings,
): PlatformProblem[] {
  const problems: PlatformProblem[] = [];
  for (const relation of PLATFORM_RELATIONS) {
    const message = relationMessage(relation, kwargs, troubled, platform);
    if (message !== undefined)
      problems.push({ key: relation.arg, rule: "engine-kwarg-relation", message, atValue: true });
  }
  return problems;
}

function relationMessage(
  relation: PlatformRelation,
  kwargs: Readonly<Record<string, unknown>>,
  troubled: ReadonlySet<string>,
  platform: PlatformSettings,
): string | undefined {
  const { arg } = relation;
  if (!Object.hasOwn(kwargs, arg) || troubled.has(arg)) return undefined;
  const value = kwargs[arg];
  if (relation.when !== undefined && value !== relation.when) return undefined;
  const known = platformValue(relation.platform, platform);
  if (known === undefined) return undefined;
  const refuses = `(vLLM ${catalog.vllm_version} ${relation.class} refuses it when the replica starts)`;
  const shown =
    relation.when === undefined ? `${arg} (${String(value)})` : `${arg}: ${JSON.stringify(value)}`;

  if (relation.op === "divides") {
    const total = known.value as number;
    // x % 0 is NaN here, as it is a ZeroDivisionError in vLLM. A negative divisor passes exactly when its
    // magnitude divides (4 % -2 is 0 in JavaScript and Python alike; 4 % -3 is not 0 in either).
    if (typeof value !== "number" || total % value === 0) return undefined;
    return `engine_kwargs.${shown} must divide ${relation.platform}, ${known.from}: use ${orList(divisors(total))} ${refuses}`;
  }
  if (relation.op === "above") {
    if ((known.value as number) > relation.value!) return undefined;
    const fix = known.field !== undefined ? `: raise ${known.field}` : "";
    return `engine_kwargs.${shown} needs ${relation.platform} above ${relation.value}, ${known.from}${fix} ${refuses}`;
  }
  const allowed = relation.values ?? [];
  if (allowed.includes(known.value as string)) return undefined;
  return `engine_kwargs.${shown} needs ${relation.platform} ${orList(allowed)}, but ${known.from}: remove ${arg} ${refuses}`;
}

const divisors = (n: number): number[] =>
  Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);

const orList = (items: readonly (string | number)[]): string =>
  items.length <= 1 ? `${items[0] ?? ""}` : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
