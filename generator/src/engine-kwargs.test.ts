import { describe, expect, it } from "vitest";
import catalog from "../../schemas/vllm-engine-args.json";
import {
  BUILT_IN_DENIED_KWARGS,
  cappedKwargs,
  checkEngineKwargs,
  deniedKwargs,
  PLATFORM_KWARGS,
  suggest,
  VLLM_VERSION,
} from "./engine-kwargs";
import type { PlatformSettings } from "./engine-kwargs-platform";
import accelerators from "../../schemas/ray-accelerators.json";

const check = (kwargs: Record<string, unknown>, deny: readonly string[] = BUILT_IN_DENIED_KWARGS) =>
  checkEngineKwargs(kwargs, new Map(deny.map((key) => [key, "on cluster t: denied"])));

describe("checkEngineKwargs", () => {
  it("accepts known arguments of the right type", () => {
    expect(
      check({
        max_model_len: 8192,
        gpu_memory_utilization: 0.9,
        enable_prefix_caching: true,
        kv_cache_dtype: "fp8",
        max_num_seqs: null,
      }),
    ).toEqual([]);
  });

  it("records the vLLM version the catalog was derived from", () => {
    expect(VLLM_VERSION).toBe(catalog.vllm_version);
    expect(VLLM_VERSION).toMatch(/^\d+\.\d+/);
  });

  it("suggests the closest name for a typo", () => {
    const [problem] = check({ max_model_lenght: 8192 });
    expect(problem).toMatchObject({ key: "max_model_lenght", rule: "engine-kwarg-unknown" });
    expect(problem!.message).toBe(
      `engine_kwargs.max_model_lenght is not a vLLM ${VLLM_VERSION} engine argument: did you mean \`max_model_len\`? (Ray would only fail at deploy time)`,
    );
    expect(check({ gpu_memory_utilisation: 0.9 })[0]!.message).toContain(
      "did you mean `gpu_memory_utilization`?",
    );
  });

  it("offers no suggestion for a name that is nothing like any argument", () => {
    expect(check({ frobnicate_everything: 1 })[0]!.message).not.toContain("did you mean");
  });

  it("refuses every key the platform owns", () => {
    const problems = check(Object.fromEntries(Object.keys(PLATFORM_KWARGS).map((k) => [k, 1])));
    expect(problems.map((p) => p.rule)).toEqual(
      Object.keys(PLATFORM_KWARGS).map(() => "engine-kwarg-platform"),
    );
    for (const key of [
      "tensor_parallel_size",
      "pipeline_parallel_size",
      "model",
      "served_model_name",
      "distributed_executor_backend",
    ]) {
      expect(Object.keys(PLATFORM_KWARGS)).toContain(key);
    }
    expect(check({ tensor_parallel_size: 2 })[0]!.message).toContain("set gpus_per_replica instead");
  });

  it("refuses denied keys, and only those the cluster denies", () => {
    expect(check({ worker_extension_cls: "x.Y", trust_remote_code: true }).map((p) => p.rule)).toEqual([
      "engine-kwarg-denied",
      "engine-kwarg-denied",
    ]);
    expect(check({ trust_remote_code: true }, [])).toEqual([]);
  });

  it("says where a denial comes from", () => {
    expect(check({ trust_remote_code: true })[0]!.message).toBe(
      "engine_kwargs.trust_remote_code is not allowed on cluster t: denied",
    );
  });

  it("checks value types against the catalog, pointing at the value", () => {
    expect(check({ max_model_len: "32k" })).toEqual([
      {
        key: "max_model_len",
        rule: "engine-kwarg-type",
        message: "engine_kwargs.max_model_len must be an integer",
        atValue: true,
      },
    ]);
    expect(check({ enable_prefix_caching: "yes" })[0]!.message).toBe(
      "engine_kwargs.enable_prefix_caching must be a boolean",
    );
    expect(check({ gpu_memory_utilization: null })[0]!.message).toBe(
      "engine_kwargs.gpu_memory_utilization may not be null",
    );
    expect(check({ max_model_len: 1.5 })[0]!.rule).toBe("engine-kwarg-type");
  });

  it("refuses a value outside an argument's choices, and accepts each choice", () => {
    expect(check({ dtype: "float99" })).toEqual([
      {
        key: "dtype",
        rule: "engine-kwarg-type",
        message:
          'engine_kwargs.dtype must be one of "auto", "half", "float16", "bfloat16", "float", "float32"',
        atValue: true,
      },
    ]);
    expect(check({ dtype: "bfloat16", scheduling_policy: "priority" })).toEqual([]);
  });

  it("refuses .nan and .inf, which JSON (and so Ray) cannot carry, also nested", () => {
    expect(check({ gpu_memory_utilization: Number.NaN })[0]).toMatchObject({
      rule: "engine-kwarg-type",
      atValue: true,
    });
    expect(check({ gpu_memory_utilization: Number.POSITIVE_INFINITY })[0]!.message).toContain(
      "must be a finite number",
    );
    expect(check({ override_generation_config: { temperature: Number.NEGATIVE_INFINITY } })[0]!.rule).toBe(
      "engine-kwarg-type",
    );
  });

  it("refuses an integer too large for a JavaScript number to carry exactly, and accepts the largest that is", () => {
    expect(check({ max_model_len: 2 ** 53 })).toEqual([
      {
        key: "max_model_len",
        rule: "engine-kwarg-type",
        message:
          "engine_kwargs.max_model_len is too large to carry exactly: an integer must lie between -9007199254740991 and 9007199254740991 (YAML reads a larger one as the nearest it can hold, 9007199254740992 here)",
        atValue: true,
      },
    ]);
    expect(check({ max_num_seqs: -(2 ** 60) })[0]!.rule).toBe("engine-kwarg-type");
    expect(check({ max_model_len: Number.MAX_SAFE_INTEGER })).toEqual([]);
  });

  it("does not mistake Object.prototype's members for arguments or platform keys", () => {
    const problems = check({ constructor: 1, toString: 2, hasOwnProperty: 3, __proto__: 4 });
    expect(problems.map((p) => p.rule)).toEqual([
      "engine-kwarg-unknown",
      "engine-kwarg-unknown",
      "engine-kwarg-unknown",
    ]);
    const own = JSON.parse('{"__proto__": 1}') as Record<string, unknown>;
    expect(check(own).map((p) => p.rule)).toEqual(["engine-kwarg-unknown"]);
  });
});

describe("checkEngineKwargs on vLLM's numeric bounds", () => {
  const range = (key: string, message: string) => ({
    key,
    rule: "engine-kwarg-range",
    message,
    atValue: true,
  });

  it("refuses gpu_memory_utilization outside (0, 1], pointing at the value, and accepts 0.9 and 1", () => {
    const refused = (value: number) =>
      range(
        "gpu_memory_utilization",
        `engine_kwargs.gpu_memory_utilization must be greater than 0 and at most 1 (vLLM ${VLLM_VERSION} CacheConfig refuses ${value} when the replica starts)`,
      );
    expect(check({ gpu_memory_utilization: 5 })).toEqual([refused(5)]);
    expect(check({ gpu_memory_utilization: 1.01 })).toEqual([refused(1.01)]);
    expect(check({ gpu_memory_utilization: 0 })).toEqual([refused(0)]);
    expect(check({ gpu_memory_utilization: -0.5 })).toEqual([refused(-0.5)]);
    expect(check({ gpu_memory_utilization: 0.9 })).toEqual([]);
    expect(check({ gpu_memory_utilization: 1 })).toEqual([]);
    expect(check({ gpu_memory_utilization: 0.01 })).toEqual([]);
  });

  it("refuses a negative value where vLLM says ge=0, and accepts 0", () => {
    expect(check({ swap_space: -1 })).toEqual([
      range(
        "swap_space",
        `engine_kwargs.swap_space must be at least 0 (vLLM ${VLLM_VERSION} CacheConfig refuses -1 when the replica starts)`,
      ),
    ]);
    expect(check({ swap_space: 0 })).toEqual([]);
    expect(check({ max_num_seqs: 0 })[0]!.message).toBe(
      `engine_kwargs.max_num_seqs must be at least 1 (vLLM ${VLLM_VERSION} SchedulerConfig refuses 0 when the replica starts)`,
    );
    expect(check({ mamba_block_size: 0 })[0]!.message).toContain("must be greater than 0");
  });

  it("says an upper bound is exclusive, and that a multimodal bound holds for a multimodal model", () => {
    expect(check({ video_pruning_rate: 1 })).toEqual([
      range(
        "video_pruning_rate",
        `engine_kwargs.video_pruning_rate must be at least 0 and less than 1 (vLLM ${VLLM_VERSION} MultiModalConfig refuses 1 when the replica starts, for a multimodal model)`,
      ),
    ]);
    expect(check({ video_pruning_rate: 0 })).toEqual([]);
    expect(check({ video_pruning_rate: 0.99 })).toEqual([]);
  });

  it("keeps null allowed where the argument is nullable, and a wrong type a type problem", () => {
    expect(check({ max_num_seqs: null, max_num_batched_tokens: null, mamba_block_size: null })).toEqual([]);
    expect(check({ gpu_memory_utilization: "5" }).map((p) => p.rule)).toEqual(["engine-kwarg-type"]);
    expect(check({ gpu_memory_utilization: null }).map((p) => p.rule)).toEqual(["engine-kwarg-type"]);
  });

  it("checks a bound only when vLLM does: max_loras with enable_lora, num_lookahead_slots without speculative_config", () => {
    expect(check({ max_loras: 0 })).toEqual([]);
    expect(check({ max_loras: 0, enable_lora: false })).toEqual([]);
    expect(check({ max_loras: 0, enable_lora: true })).toEqual([
      range(
        "max_loras",
        `engine_kwargs.max_loras must be at least 1 (vLLM ${VLLM_VERSION} LoRAConfig refuses 0 when the replica starts with enable_lora: true)`,
      ),
    ]);
    expect(check({ num_lookahead_slots: -1 })[0]!.message).toBe(
      `engine_kwargs.num_lookahead_slots must be at least 0 (vLLM ${VLLM_VERSION} SchedulerConfig refuses -1 when the replica starts without speculative_config)`,
    );
    expect(check({ num_lookahead_slots: -1, speculative_config: { method: "ngram" } }, [])).toEqual([]);
  });

  it("applies a cluster's cap after the bounds: a value inside vLLM's range can still be over the cap", () => {
    const caps = cappedKwargs("t", { deny: [], allow: [] });
    const capped = (kwargs: Record<string, unknown>) =>
      checkEngineKwargs(kwargs, new Map(), caps).map((p) => [p.rule, p.atValue]);
    expect(capped({ swap_space: -1 })).toEqual([["engine-kwarg-range", true]]);
    expect(capped({ swap_space: 20 })).toEqual([["invalid-value", true]]);
    expect(capped({ mm_processor_cache_gb: -2 })).toEqual([["engine-kwarg-range", true]]);
    expect(capped({ swap_space: 16, mm_processor_cache_gb: 0 })).toEqual([]);
  });

  it("enforces every bound the catalog records, and lets the bound itself through when it is inclusive", () => {
    type Entry = Record<string, unknown> & { bounds_when?: Record<string, unknown> };
    const args = catalog.args as unknown as Record<string, Entry>;
    let seen = 0;
    for (const [key, entry] of Object.entries(args)) {
      const when = entry.bounds_when ?? {};
      const probe = (value: number) => checkEngineKwargs({ ...when, [key]: value }, new Map());
      const step = entry.type === "integer" ? 1 : 0.001;
      const cases: Array<[number, boolean]> = [];
      if (typeof entry.minimum === "number") cases.push([entry.minimum - step, false], [entry.minimum, true]);
      if (typeof entry.exclusiveMinimum === "number") cases.push([entry.exclusiveMinimum, false]);
      if (typeof entry.maximum === "number") cases.push([entry.maximum + step, false], [entry.maximum, true]);
      if (typeof entry.exclusiveMaximum === "number") cases.push([entry.exclusiveMaximum, false]);
      if (cases.length > 0) seen++;
      for (const [value, ok] of cases)
        expect(
          probe(value).map((p) => p.rule),
          `${key}: ${value}`,
        ).toEqual(ok ? [] : ["engine-kwarg-range"]);
    }
    expect(seen).toBeGreaterThanOrEqual(14);
  });
});

/** A relation as the catalog records it (schemas/vllm-engine-args.json "relations"). */
interface CatalogRelation {
  readonly args: readonly string[];
  readonly op: string;
  readonly value?: number;
  readonly when?: Readonly<Record<string, unknown>>;
  readonly when_above?: Readonly<Record<string, unknown>>;
  readonly defaults?: Readonly<Record<string, unknown>>;
  readonly class: string;
  readonly source: string;
}
const RELATIONS: readonly CatalogRelation[] =
  (catalog as unknown as { relations?: readonly CatalogRelation[] }).relations ?? [];
const relationName = (r: CatalogRelation) =>
  r.op === "exclusive" ? `${r.args.join(" x ")}` : `${r.args[0]} ${r.op} ${r.args[1] ?? r.value}`;

describe("the catalog's relations (vLLM's checks across two arguments)", () => {
  it("are the ones read in vLLM's source, each well-formed: catalog keys, an owner's to set, with its source", () => {
    expect(RELATIONS.map(relationName)).toEqual([
      "max_num_batched_tokens >= max_num_seqs",
      "max_num_batched_tokens >= max_model_len",
      "max_num_partial_prefills <= 1",
      "long_prefill_token_threshold <= max_model_len",
      "max_long_partial_prefills <= max_num_partial_prefills",
      "max_cpu_loras >= max_loras",
      "cuda_graph_sizes x cudagraph_capture_sizes",
      "async_scheduling x speculative_config",
    ]);
    const args = catalog.args as unknown as Record<string, { type: string }>;
    const known = (name: string) => Object.hasOwn(args, name);
    for (const r of RELATIONS) {
      const name = relationName(r);
      const conditions = [...Object.keys(r.when ?? {}), ...Object.keys(r.when_above ?? {})];
      for (const arg of [...r.args, ...conditions]) {
        expect(known(arg), `${name}: ${arg} is a catalog key`).toBe(true);
        expect(Object.hasOwn(PLATFORM_KWARGS, arg), `${name}: ${arg} is an owner's to set`).toBe(false);
      }
      expect(["<=", ">=", "exclusive"], name).toContain(r.op);
      if (r.op === "exclusive") {
        expect(r.args.length, name).toBe(2);
        expect(r.value, name).toBeUndefined();
      } else {
        // Two arguments, or one against a number; both compared values are numbers.
        expect(r.args.length === 2 ? r.value === undefined : typeof r.value === "number", name).toBe(true);
        for (const arg of r.args) expect(["integer", "number"], `${name}: ${arg}`).toContain(args[arg]!.type);
      }
      for (const [arg, limit] of Object.entries(r.when_above ?? {})) {
        expect(typeof limit, `${name}: when_above.${arg}`).toBe("number");
        expect(["integer", "number"], `${name}: when_above.${arg}`).toContain(args[arg]!.type);
      }
      // A default stands in only for a compared argument, and only a number fixed in vLLM's source.
      for (const [arg, value] of Object.entries(r.defaults ?? {})) {
        expect(r.args, `${name}: defaults.${arg}`).toContain(arg);
        expect(typeof value, `${name}: defaults.${arg}`).toBe("number");
      }
      expect(r.class, name).toMatch(/^[A-Z]\w+$/);
      // file@commit Class.method: the check, quoted from the source.
      expect(r.source, name).toMatch(/^vllm\/[\w/]+\.py@[0-9a-f]{40} \w+\.\w+: .*`[^`]+`/);
      expect(r.source, name).toContain(r.class);
    }
  });
});

describe("checkEngineKwargs on vLLM's checks across two arguments", () => {
  const relation = (key: string, message: string) => ({
    key,
    rule: "engine-kwarg-relation",
    message,
    atValue: true,
  });
  const refuses = (who: string) => `(vLLM ${VLLM_VERSION} ${who} refuses it when the replica starts)`;
  const rules = (kwargs: Record<string, unknown>, deny?: readonly string[]) =>
    check(kwargs, deny).map((p) => p.rule);

  it("max_num_batched_tokens must be at least max_num_seqs, on whichever of the two comes later", () => {
    expect(check({ max_num_seqs: 256, max_num_batched_tokens: 128 })).toEqual([
      relation(
        "max_num_batched_tokens",
        `engine_kwargs.max_num_batched_tokens (128) must be at least max_num_seqs (256) ${refuses("SchedulerConfig")}`,
      ),
    ]);
    expect(check({ max_num_batched_tokens: 128, max_num_seqs: 256 })).toEqual([
      relation(
        "max_num_seqs",
        `engine_kwargs.max_num_seqs (256) must be at most max_num_batched_tokens (128) ${refuses("SchedulerConfig")}`,
      ),
    ]);
    expect(check({ max_num_seqs: 256, max_num_batched_tokens: 256 })).toEqual([]);
    // Without one of them vLLM picks a default by GPU and usage context: nothing to compare with.
    expect(check({ max_num_batched_tokens: 1 })).toEqual([]);
    expect(check({ max_num_seqs: 4096 })).toEqual([]);
    expect(check({ max_num_seqs: 256, max_num_batched_tokens: null })).toEqual([]);
    // A value that is already wrong is reported once, as what it is.
    expect(rules({ max_num_seqs: 256, max_num_batched_tokens: 0 })).toEqual(["engine-kwarg-range"]);
    expect(rules({ max_num_seqs: 256, max_num_batched_tokens: "128" })).toEqual(["engine-kwarg-type"]);
  });

  it("max_num_batched_tokens must be at least max_model_len only when chunked prefill is surely off", () => {
    const off = { runner: "pooling", enable_chunked_prefill: false };
    expect(check({ ...off, max_model_len: 8192, max_num_batched_tokens: 4096 })).toEqual([
      relation(
        "max_num_batched_tokens",
        `engine_kwargs.max_num_batched_tokens (4096) must be at least max_model_len (8192) with runner: "pooling" and enable_chunked_prefill: false, and without task ${refuses("SchedulerConfig")}`,
      ),
    ]);
    expect(check({ ...off, max_model_len: 8192, max_num_batched_tokens: 8192 })).toEqual([]);
    // vLLM turns chunked prefill on for any runner but pooling, and task can change the runner.
    expect(
      check({ enable_chunked_prefill: false, max_model_len: 8192, max_num_batched_tokens: 4096 }),
    ).toEqual([]);
    expect(check({ ...off, runner: "generate", max_model_len: 8192, max_num_batched_tokens: 4096 })).toEqual(
      [],
    );
    expect(check({ runner: "pooling", max_model_len: 8192, max_num_batched_tokens: 4096 })).toEqual([]);
    expect(check({ ...off, task: "embed", max_model_len: 8192, max_num_batched_tokens: 4096 })).toEqual([]);
    expect(check({ ...off, max_num_batched_tokens: 4096 })).toEqual([]);
    expect(check({ ...off, max_model_len: 8192 })).toEqual([]);
  });

  it("max_num_partial_prefills above 1 needs chunked prefill: refused when it is surely off", () => {
    const off = { runner: "pooling", enable_chunked_prefill: false };
    expect(check({ ...off, max_num_partial_prefills: 2 })).toEqual([
      relation(
        "max_num_partial_prefills",
        `engine_kwargs.max_num_partial_prefills (2) must be at most 1 with runner: "pooling" and enable_chunked_prefill: false, and without task ${refuses("SchedulerConfig")}`,
      ),
    ]);
    expect(check({ ...off, max_num_partial_prefills: 1 })).toEqual([]);
    expect(check({ runner: "pooling", max_num_partial_prefills: 2 })).toEqual([]);
    expect(check({ ...off, enable_chunked_prefill: true, max_num_partial_prefills: 2 })).toEqual([]);
  });

  it("long_prefill_token_threshold must be at most max_model_len with max_num_partial_prefills above 1", () => {
    expect(
      check({ max_num_partial_prefills: 2, max_model_len: 4096, long_prefill_token_threshold: 8192 }),
    ).toEqual([
      relation(
        "long_prefill_token_threshold",
        `engine_kwargs.long_prefill_token_threshold (8192) must be at most max_model_len (4096) with max_num_partial_prefills above 1 ${refuses("SchedulerConfig")}`,
      ),
    ]);
    expect(
      check({ max_num_partial_prefills: 2, max_model_len: 4096, long_prefill_token_threshold: 4096 }),
    ).toEqual([]);
    expect(
      check({ max_num_partial_prefills: 1, max_model_len: 4096, long_prefill_token_threshold: 8192 }),
    ).toEqual([]);
    expect(check({ max_model_len: 4096, long_prefill_token_threshold: 8192 })).toEqual([]);
    // The model's own length is vLLM's default: unknown here.
    expect(check({ max_num_partial_prefills: 2, long_prefill_token_threshold: 8192 })).toEqual([]);
    // Its condition's argument refused: reported alone.
    expect(
      rules({ max_num_partial_prefills: 2, max_model_len: 4096, long_prefill_token_threshold: 8192 }, [
        "max_num_partial_prefills",
      ]),
    ).toEqual(["engine-kwarg-denied"]);
  });

  it("max_long_partial_prefills must be at most max_num_partial_prefills, whose default 1 vLLM fixes", () => {
    expect(check({ max_num_partial_prefills: 2, max_long_partial_prefills: 3 })).toEqual([
      relation(
        "max_long_partial_prefills",
        `engine_kwargs.max_long_partial_prefills (3) must be at most max_num_partial_prefills (2) ${refuses("SchedulerConfig")}`,
      ),
    ]);
    expect(check({ max_long_partial_prefills: 3, max_num_partial_prefills: 2 })).toEqual([
      relation(
        "max_num_partial_prefills",
        `engine_kwargs.max_num_partial_prefills (2) must be at least max_long_partial_prefills (3) ${refuses("SchedulerConfig")}`,
      ),
    ]);
    expect(check({ max_long_partial_prefills: 2 })).toEqual([
      relation(
        "max_long_partial_prefills",
        `engine_kwargs.max_long_partial_prefills (2) must be at most max_num_partial_prefills (1, vLLM's default) ${refuses("SchedulerConfig")}`,
      ),
    ]);
    expect(check({ max_num_partial_prefills: 3, max_long_partial_prefills: 3 })).toEqual([]);
    expect(check({ max_num_partial_prefills: 4 })).toEqual([]);
    expect(check({ max_long_partial_prefills: 1 })).toEqual([]);
    expect(rules({ max_num_partial_prefills: 0, max_long_partial_prefills: 1 })).toEqual([
      "engine-kwarg-range",
    ]);
  });

  it("max_cpu_loras must be at least max_loras, only with enable_lora: true and a max_cpu_loras vLLM keeps", () => {
    expect(check({ enable_lora: true, max_loras: 4, max_cpu_loras: 2 })).toEqual([
      relation(
        "max_cpu_loras",
        `engine_kwargs.max_cpu_loras (2) must be at least max_loras (4) with enable_lora: true ${refuses("LoRAConfig")}`,
      ),
    ]);
    expect(check({ max_cpu_loras: 2, max_loras: 4, enable_lora: true })).toEqual([
      relation(
        "max_loras",
        `engine_kwargs.max_loras (4) must be at most max_cpu_loras (2) with enable_lora: true ${refuses("LoRAConfig")}`,
      ),
    ]);
    expect(check({ enable_lora: true, max_loras: 4, max_cpu_loras: 4 })).toEqual([]);
    expect(check({ max_loras: 4, max_cpu_loras: 2 })).toEqual([]);
    expect(check({ enable_lora: false, max_loras: 4, max_cpu_loras: 2 })).toEqual([]);
    // vLLM reads a max_cpu_loras of 0 or less (or null) as "as many as max_loras".
    expect(check({ enable_lora: true, max_loras: 4, max_cpu_loras: 0 })).toEqual([]);
    expect(check({ enable_lora: true, max_loras: 4, max_cpu_loras: -1 })).toEqual([]);
    expect(check({ enable_lora: true, max_loras: 4, max_cpu_loras: null })).toEqual([]);
    expect(check({ enable_lora: true, max_loras: 4 })).toEqual([]);
    expect(check({ enable_lora: true, max_cpu_loras: 1 })).toEqual([]);
    expect(rules({ enable_lora: true, max_loras: "4", max_cpu_loras: 2 })).toEqual(["engine-kwarg-type"]);
    // An argument the relation only reads (its enable_lora condition) that is refused is reported alone.
    expect(rules({ enable_lora: true, max_loras: 4, max_cpu_loras: 2 }, ["enable_lora"])).toEqual([
      "engine-kwarg-denied",
    ]);
  });

  it("cuda_graph_sizes and cudagraph_capture_sizes cannot both be set", () => {
    expect(check({ cuda_graph_sizes: [1, 2, 4], cudagraph_capture_sizes: [1, 2] })).toEqual([
      relation(
        "cudagraph_capture_sizes",
        `engine_kwargs.cudagraph_capture_sizes cannot be set together with cuda_graph_sizes ${refuses("EngineArgs")}`,
      ),
    ]);
    expect(check({ cuda_graph_sizes: [1, 2, 4], cudagraph_capture_sizes: null })).toEqual([]);
    expect(check({ cudagraph_capture_sizes: [1, 2] })).toEqual([]);
  });

  it("async_scheduling: true and speculative_config cannot both be set, where a cluster lifts speculative_config", () => {
    const spec = { method: "ngram", num_speculative_tokens: 3 };
    expect(check({ speculative_config: spec, async_scheduling: true }, [])).toEqual([
      relation(
        "async_scheduling",
        `engine_kwargs.async_scheduling: true cannot be set together with speculative_config ${refuses("EngineArgs")}`,
      ),
    ]);
    expect(check({ async_scheduling: true, speculative_config: spec }, [])).toEqual([
      relation(
        "speculative_config",
        `engine_kwargs.speculative_config cannot be set together with async_scheduling: true ${refuses("EngineArgs")}`,
      ),
    ]);
    expect(check({ async_scheduling: false, speculative_config: spec }, [])).toEqual([]);
    expect(check({ async_scheduling: true, speculative_config: null }, [])).toEqual([]);
    // Denied (the default): that is the one problem.
    expect(rules({ async_scheduling: true, speculative_config: spec })).toEqual(["engine-kwarg-denied"]);
  });
});

/** A check against a platform value as the catalog records it (schemas/vllm-engine-args.json "platform_relations"). */
interface CatalogPlatformRelation {
  readonly arg: string;
  readonly when?: unknown;
  readonly op: string;
  readonly platform: string;
  readonly value?: number;
  readonly values?: readonly string[];
  readonly class: string;
  readonly source: string;
}
interface CatalogPlatformValue {
  readonly spec_field?: string;
  readonly value?: string;
  readonly accelerator_types?: readonly string[];
  readonly source: string;
}
const PLATFORM_RELATIONS: readonly CatalogPlatformRelation[] =
  (catalog as unknown as { platform_relations?: readonly CatalogPlatformRelation[] }).platform_relations ??
  [];
const PLATFORM_VALUES: Readonly<Record<string, CatalogPlatformValue>> =
  (catalog as unknown as { platform_values?: Record<string, CatalogPlatformValue> }).platform_values ?? {};

describe("the catalog's platform relations (vLLM's checks against a value the platform sets)", () => {
  it("are the ones read in vLLM's source, each well-formed: an owner's argument, a platform key, the source", () => {
    expect(PLATFORM_RELATIONS.map((r) => `${r.arg} ${r.op} ${r.platform}`)).toEqual([
      "decode_context_parallel_size divides tensor_parallel_size",
      "enable_eplb above tensor_parallel_size",
      "async_scheduling one_of distributed_executor_backend",
    ]);
    const args = catalog.args as unknown as Record<string, { type: string }>;
    for (const r of PLATFORM_RELATIONS) {
      const name = `${r.arg} ${r.op} ${r.platform}`;
      expect(Object.hasOwn(args, r.arg), `${name}: ${r.arg} is a catalog key`).toBe(true);
      expect(Object.hasOwn(PLATFORM_KWARGS, r.arg), `${name}: ${r.arg} is an owner's to set`).toBe(false);
      expect(Object.hasOwn(args, r.platform), `${name}: ${r.platform} is a catalog key`).toBe(true);
      expect(Object.hasOwn(PLATFORM_KWARGS, r.platform), `${name}: the platform sets ${r.platform}`).toBe(
        true,
      );
      expect(Object.hasOwn(PLATFORM_VALUES, r.platform), `${name}: platform_values.${r.platform}`).toBe(true);
      expect(["divides", "above", "one_of"], name).toContain(r.op);
      if (r.op === "divides") expect(args[r.arg]!.type, name).toBe("integer");
      if (r.op === "above") expect(typeof r.value, name).toBe("number");
      if (r.op === "one_of") expect(r.values?.length, name).toBeGreaterThan(0);
      // A boolean switch is checked only when it is on.
      if (args[r.arg]!.type === "boolean") expect(r.when, name).toBe(true);
      expect(r.class, name).toMatch(/^[A-Z]\w+$/);
      expect(r.source, name).toMatch(/^vllm\/[\w/]+\.py@[0-9a-f]{40} \w+\.\w+: .*`[^`]+`/);
      expect(r.source, name).toContain(r.class);
    }
  });

  it("say where each platform value comes from: a spec field, or what Ray Serve LLM sets on which accelerators", () => {
    expect(Object.keys(PLATFORM_VALUES).sort()).toEqual([
      "distributed_executor_backend",
      "tensor_parallel_size",
    ]);
    expect(PLATFORM_VALUES.tensor_parallel_size!.spec_field).toBe("gpus_per_replica");
    const backend = PLATFORM_VALUES.distributed_executor_backend!;
    expect(backend.value).toBe("ray");
    // Only types Ray knows; Ray Serve LLM reads them as GPUs (its VLLMEngineConfig.use_gpu list).
    expect(backend.accelerator_types!.length).toBeGreaterThan(0);
    for (const type of backend.accelerator_types!) expect(accelerators.accelerators, type).toContain(type);
    expect(backend.accelerator_types).toContain("H20");
    expect(backend.accelerator_types).not.toContain("B200");
    for (const v of Object.values(PLATFORM_VALUES)) expect(v.source).toMatch(/\S/);
    expect(backend.source).toMatch(/ray-project\/ray python\/ray\/llm\/\S+\.py@[0-9a-f]{40}/);
  });
});

describe("checkEngineKwargs on vLLM's checks against a value the platform sets", () => {
  const H1 = { gpus_per_replica: 4, cluster: "h1", accelerator_type: "H20" };
  const checkOn = (
    kwargs: Record<string, unknown>,
    platform: PlatformSettings = H1,
    deny: readonly string[] = [],
  ) =>
    checkEngineKwargs(
      kwargs,
      new Map(deny.map((key) => [key, "on cluster h1: denied"])),
      new Map(),
      platform,
    );
  const relation = (key: string, message: string) => ({
    key,
    rule: "engine-kwarg-relation",
    message,
    atValue: true,
  });
  const refuses = (who: string) => `(vLLM ${VLLM_VERSION} ${who} refuses it when the replica starts)`;

  it("decode_context_parallel_size must divide tensor_parallel_size, which gpus_per_replica sets", () => {
    expect(checkOn({ decode_context_parallel_size: 3 })).toEqual([
      relation(
        "decode_context_parallel_size",
        `engine_kwargs.decode_context_parallel_size (3) must divide tensor_parallel_size, which the platform sets from gpus_per_replica (4): use 1, 2 or 4 ${refuses("EngineArgs")}`,
      ),
    ]);
    // Boundaries: every divisor, the whole of it, and twice it.
    for (const dcp of [1, 2, 4]) expect(checkOn({ decode_context_parallel_size: dcp }), `${dcp}`).toEqual([]);
    expect(checkOn({ decode_context_parallel_size: 8 }).map((p) => p.key)).toEqual([
      "decode_context_parallel_size",
    ]);
    // 4 % 0 is a ZeroDivisionError in vLLM: refused all the same.
    expect(checkOn({ decode_context_parallel_size: 0 }).map((p) => p.rule)).toEqual([
      "engine-kwarg-relation",
    ]);
    // A negative one passes vLLM's assert exactly when it divides, as Python's % has it.
    expect(checkOn({ decode_context_parallel_size: -2 })).toEqual([]);
    expect(checkOn({ decode_context_parallel_size: -3 }).map((p) => p.rule)).toEqual([
      "engine-kwarg-relation",
    ]);
    expect(
      checkOn({ decode_context_parallel_size: 2 }, { gpus_per_replica: 1, gpus_per_replica_default: true }),
    ).toEqual([
      relation(
        "decode_context_parallel_size",
        `engine_kwargs.decode_context_parallel_size (2) must divide tensor_parallel_size, which the platform sets from gpus_per_replica (1, its default): use 1 ${refuses("EngineArgs")}`,
      ),
    ]);
    // gpus_per_replica invalid (reported on its own): nothing to compare with.
    expect(checkOn({ decode_context_parallel_size: 3 }, {})).toEqual([]);
    // A value that is already wrong is reported once, as what it is.
    expect(checkOn({ decode_context_parallel_size: "3" }).map((p) => p.rule)).toEqual(["engine-kwarg-type"]);
  });

  it("enable_eplb: true needs tensor_parallel_size above 1 (data parallelism is 1 under the platform)", () => {
    expect(checkOn({ enable_expert_parallel: true, enable_eplb: true }, { gpus_per_replica: 1 })).toEqual([
      relation(
        "enable_eplb",
        `engine_kwargs.enable_eplb: true needs tensor_parallel_size above 1, which the platform sets from gpus_per_replica (1): raise gpus_per_replica ${refuses("ParallelConfig")}`,
      ),
    ]);
    expect(
      checkOn({ enable_eplb: true }, { gpus_per_replica: 1, gpus_per_replica_default: true })[0]!.message,
    ).toContain("from gpus_per_replica (1, its default)");
    expect(checkOn({ enable_expert_parallel: true, enable_eplb: true }, { gpus_per_replica: 2 })).toEqual([]);
    expect(checkOn({ enable_eplb: false }, { gpus_per_replica: 1 })).toEqual([]);
    expect(checkOn({ enable_eplb: true }, {})).toEqual([]);
  });

  it("async_scheduling: true is refused where Ray Serve LLM runs vLLM with the ray executor: every GPU it knows", () => {
    expect(checkOn({ async_scheduling: true })).toEqual([
      relation(
        "async_scheduling",
        `engine_kwargs.async_scheduling: true needs distributed_executor_backend mp, uni or external_launcher, but on cluster h1 Ray Serve LLM sets it to "ray" (accelerator_type H20): remove async_scheduling ${refuses("EngineArgs")}`,
      ),
    ]);
    const on = (accelerator_type: string) =>
      checkOn({ async_scheduling: true }, { gpus_per_replica: 1, cluster: "c", accelerator_type }).map(
        (p) => p.rule,
      );
    for (const gpu of ["L4", "A100", "H100", "A100-80G", "A10"])
      expect(on(gpu), gpu).toEqual(["engine-kwarg-relation"]);
    // Newer Ray runs vLLM's "mp" executor on an accelerator outside its GPU list, older Ray "ray": unknown here.
    for (const other of ["B200", "AMD-Instinct-MI300X-OAM", "TPU-V5P"]) expect(on(other), other).toEqual([]);
    expect(checkOn({ async_scheduling: false })).toEqual([]);
    // A cluster.yaml with errors: its accelerator is not known.
    expect(checkOn({ async_scheduling: true }, { gpus_per_replica: 4, cluster: "h1" })).toEqual([]);
    // With speculative_config lifted, both of vLLM's refusals are reported.
    expect(
      checkOn({ speculative_config: { method: "ngram" }, async_scheduling: true }).map(
        (p) => p.message.split(" ")[0],
      ),
    ).toEqual(["engine_kwargs.async_scheduling:", "engine_kwargs.async_scheduling:"]);
    expect(checkOn({ async_scheduling: "yes" }).map((p) => p.rule)).toEqual(["engine-kwarg-type"]);
    // Denied on the cluster: that is the problem, not what vLLM would make of it.
    expect(checkOn({ async_scheduling: true }, H1, ["async_scheduling"]).map((p) => p.rule)).toEqual([
      "engine-kwarg-denied",
    ]);
    // The accelerator as its cluster.yaml spells it, though Ray Serve LLM reads "A10" as "A10G".
    expect(
      checkOn({ async_scheduling: true }, { gpus_per_replica: 1, cluster: "c", accelerator_type: "A10" })[0]!
        .message,
    ).toContain('on cluster c Ray Serve LLM sets it to "ray" (accelerator_type A10):');
  });
});

describe("deniedKwargs", () => {
  const keys = (deny: string[], allow: string[]) => [...deniedKwargs("lab", { deny, allow }).keys()].sort();

  it("always holds the built-in list: deny adds to it, it never replaces it", () => {
    expect(keys([], [])).toEqual([...BUILT_IN_DENIED_KWARGS].sort());
    expect(keys(["enforce_eager"], [])).toEqual([...BUILT_IN_DENIED_KWARGS, "enforce_eager"].sort());
    expect(keys(["enforce_eager"], [])).toContain("worker_extension_cls");
  });

  it("lifts only the built-in entries allow names, and never one deny names too", () => {
    expect(keys([], ["trust_remote_code"])).toEqual(
      BUILT_IN_DENIED_KWARGS.filter((k) => k !== "trust_remote_code").sort(),
    );
    expect(keys(["trust_remote_code"], ["trust_remote_code"])).toContain("trust_remote_code");
    // An allow entry that is no built-in denial changes nothing (parseCluster warns about it).
    expect(keys(["enforce_eager"], ["enforce_eager"])).toContain("enforce_eager");
  });

  it("names the cluster and whether the built-in list or its cluster.yaml denies a key", () => {
    const denied = deniedKwargs("lab", { deny: ["enforce_eager", "download_dir"], allow: [] });
    expect(denied.get("trust_remote_code")).toBe(
      "on cluster lab: it is on the platform's built-in deny list because it runs the Python code shipped with the model (code execution); only an admin can lift it, with engine_kwargs.allow in clusters/lab/cluster.yaml",
    );
    expect(denied.get("download_dir")).toBe(
      "on cluster lab: it is on the platform's built-in deny list because it names a folder of the node to write downloads to, and clusters/lab/cluster.yaml denies it too",
    );
    expect(denied.get("enforce_eager")).toBe(
      "on cluster lab: clusters/lab/cluster.yaml denies it (engine_kwargs.deny)",
    );
  });
});

describe("suggest", () => {
  it.each([
    ["num_replica", ["num_replicas", "gpus_per_replica"], "num_replicas"],
    ["modle_id", ["model_id", "model_source"], "model_id"],
    ["xyz", ["model_id"], undefined],
    // Letter case and vLLM's command-line dashes cost nothing.
    ["MAX_MODEL_LEN", ["max_model_len", "max_num_seqs"], "max_model_len"],
    ["max-model-len", ["max_model_len", "max_num_seqs"], "max_model_len"],
    ["Max-Num-Seqs", ["max_model_len", "max_num_seqs"], "max_num_seqs"],
  ])("suggest(%j) = %j", (name, known, expected) => {
    expect(suggest(name, known)).toBe(expected);
  });
});
