import catalog from "../../schemas/vllm-engine-args.json";
import type { RuleId } from "./rules";

export interface EngineArg {
  readonly type: "integer" | "number" | "string" | "boolean" | "object" | "array" | "any";
  readonly nullable?: boolean;
  readonly enum?: readonly unknown[];
}

const ARGS = catalog.args as unknown as Readonly<Record<string, EngineArg>>;
export const VLLM_VERSION: string = catalog.vllm_version;

/** Whether vLLM's catalog knows this engine argument. */
export const isEngineArg = (name: string): boolean => Object.hasOwn(ARGS, name);
export const engineArgNames = (): string[] => Object.keys(ARGS);

/**
 * Keys the platform sets itself from the spec and the cluster: an owner setting them would contradict
 * gpus_per_replica, the served name or the model source.
 */
export const PLATFORM_KWARGS: Readonly<Record<string, string>> = {
  model: "set model_source instead",
  tokenizer: "the tokenizer is loaded from model_source",
  served_model_name: "the platform names the model <user>-<timestamp>-<model_id>",
  tensor_parallel_size: "set gpus_per_replica instead",
  pipeline_parallel_size: "the platform runs pipeline parallelism 1",
  data_parallel_size: "scale with num_replicas instead",
  distributed_executor_backend: "Ray Serve LLM chooses the executor",
};

export interface KwargProblem {
  readonly key: string;
  readonly rule: RuleId;
  readonly message: string;
  /** Point at the value rather than the key. */
  readonly atValue?: boolean;
}

/**
 * Check an owner's engine_kwargs against the platform's keys, a cluster's deny list and vLLM's catalog.
 * `deniedBy` says where the deny list comes from, for the message ("cluster lab's engine_kwargs.deny").
 */
export function checkEngineKwargs(
  kwargs: Readonly<Record<string, unknown>>,
  denied: ReadonlySet<string>,
  deniedBy = "this cluster's engine_kwargs.deny",
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
    if (denied.has(key)) {
      problems.push({
        key,
        rule: "engine-kwarg-denied",
        message: `engine_kwargs.${key} is not allowed: ${deniedBy}`,
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
    if (typeProblem)
      problems.push({
        key,
        rule: "engine-kwarg-type",
        message: `engine_kwargs.${key} ${typeProblem}`,
        atValue: true,
      });
  }
  return problems;
}

function checkType(value: unknown, arg: EngineArg): string | undefined {
  if (value === null) return arg.nullable || arg.type === "any" ? undefined : "may not be null";
  // YAML has .nan and .inf; the Serve config Ray receives is JSON, which has neither (they would become null).
  if (hasNonFinite(value))
    return "must be a finite number: .nan and .inf cannot reach Ray (JSON has no NaN or Infinity)";
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
