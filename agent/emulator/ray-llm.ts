/**
 * TEST/DEMO ONLY. `ray.serve.llm:build_openai_app` for the Ray Serve dashboard emulator
 * (ray-dashboard.ts, via ray-build.ts), modelled after Ray Serve LLM:
 * - python/ray/llm/_internal/serve/core/ingress/builder.py: LLMServingArgs (pydantic v2,
 *   extra="forbid"), "Duplicate models found. Make sure model ids are unique.", "List of models is
 *   empty. ...", llm_configs entries that are str must be existing files; ingress "OpenAiIngress";
 * - python/ray/llm/_internal/serve/core/server/builder.py: deployment name
 *   "LLMServer:" + (deployment_config.name or model_id with "/"->"--" and "."->"_"), DEFAULT
 *   options max_ongoing_requests, health_check_* and autoscaling_config, dropped autoscaling default
 *   when deployment_config sets num_replicas (dict_utils.maybe_apply_llm_deployment_config_defaults);
 * - python/ray/llm/_internal/serve/core/configs/llm_config.py: LLMConfig (extra="forbid"),
 *   accelerator_type must be in ray/util/accelerators/accelerators.py ("A10" -> "A10G"),
 *   "Unsupported accelerator type: X", "Invalid model_loading_config: {...}",
 *   "Invalid deployment config: {...}";
 * - .../deployments/llm/vllm/vllm_models.py: "Unknown engine argument: X" for engine_kwargs that
 *   are neither vLLM AsyncEngineArgs nor FrontendArgs fields; GPUs per replica =
 *   tensor_parallel_size * pipeline_parallel_size (one {"GPU": 1} bundle each, strategy PACK).
 * A model_source that is an absolute path missing from the emulator's fake filesystem builds fine
 * but makes every replica fail at startup (like vLLM failing to load weights).
 * Line numbers in the fake tracebacks are illustrative only.
 */
import { type Frame, deepClone, isRecord, pyRepr, pyText, pyTraceback, pydanticV2Str } from "./ray-pyrepr";
import type { BuildContext, BuiltDeployment } from "./ray-build";
import { checkDeploymentConfig } from "./ray-config";

/** ray/util/accelerators/accelerators.py (Ray 2.5x). */
// prettier-ignore
export const RAY_ACCELERATOR_TYPES: readonly string[] = [
  "V100", "P100", "T4", "P4", "K80", "A10G", "L4", "L40S", "A100", "H100", "H200", "H20", "B200",
  "Intel-GPU-Max-1550", "Intel-GPU-Max-1100", "Intel-GAUDI", "AMD-Instinct-MI100", "AMD-Instinct-MI250X",
  "AMD-Instinct-MI250X-MI250", "AMD-Instinct-MI210", "AMD-Instinct-MI300A", "AMD-Instinct-MI300X-OAM",
  "AMD-Instinct-MI300X-HF", "AMD-Instinct-MI308X", "AMD-Instinct-MI325X-OAM", "AMD-Radeon-R9-200-HD-7900",
  "AMD-Radeon-HD-7900", "aws-neuron-core", "TPU-V2", "TPU-V3", "TPU-V4", "TPU-V5P", "TPU-V5LITEPOD", "TPU-V6E",
  "Ascend910B", "Ascend910B4", "A100-40G", "A100-80G",
];

/** A subset of vLLM AsyncEngineArgs + FrontendArgs field names (override with knownEngineArgs). */
// prettier-ignore
export const DEFAULT_KNOWN_ENGINE_ARGS: readonly string[] = [
  "tokenizer", "tokenizer_mode", "trust_remote_code", "download_dir", "load_format", "dtype", "kv_cache_dtype",
  "seed", "max_model_len", "distributed_executor_backend", "pipeline_parallel_size", "tensor_parallel_size",
  "data_parallel_size", "enable_expert_parallel", "max_parallel_loading_workers", "block_size",
  "enable_prefix_caching", "swap_space", "cpu_offload_gb", "gpu_memory_utilization", "max_num_batched_tokens",
  "max_num_seqs", "max_logprobs", "disable_log_stats", "revision", "code_revision", "tokenizer_revision",
  "quantization", "enforce_eager", "max_seq_len_to_capture", "disable_custom_all_reduce",
  "limit_mm_per_prompt", "mm_processor_kwargs", "enable_lora", "max_loras", "max_lora_rank", "max_cpu_loras",
  "device", "num_scheduler_steps", "speculative_config", "enable_chunked_prefill", "guided_decoding_backend",
  "generation_config", "override_generation_config", "enable_sleep_mode", "compilation_config",
  "kv_transfer_config", "hf_overrides", "served_model_name", "model", "enable_auto_tool_choice",
  "tool_call_parser", "reasoning_parser", "chat_template", "response_role", "enable_log_requests", "api_key",
];

/** Ray Serve LLM constants.py defaults. */
const LLM_MAX_ONGOING = 1_000_000_000;
const LLM_SERVER_DEFAULTS = {
  max_ongoing_requests: LLM_MAX_ONGOING,
  health_check_period_s: 10,
  health_check_timeout_s: 10,
  autoscaling_config: { target_ongoing_requests: LLM_MAX_ONGOING },
};
/** OpenAiIngress defaults (DEFAULT_LLM_ROUTER_* in constants.py; simplified: no per-model ratio). */
const INGRESS_DEFAULTS = {
  max_ongoing_requests: LLM_MAX_ONGOING,
  autoscaling_config: {
    min_replicas: 2,
    initial_replicas: 2,
    max_replicas: 1000,
    target_ongoing_requests: LLM_MAX_ONGOING,
  },
};
// prettier-ignore
const LLM_CONFIG_KEYS = [
  "runtime_env", "model_loading_config", "llm_engine", "engine_kwargs", "accelerator_type",
  "placement_group_config", "lora_config", "deployment_config", "experimental_configs", "log_engine_metrics",
  "callback_config", "use_cpu", "topology", "server_cls",
];
/** The keyword arguments of ray.serve.deployment() (serve/api.py): LLMConfig's deployment_config passes through it. */
const DEPLOYMENT_KWARGS = [
  "name",
  "version",
  "num_replicas",
  "route_prefix",
  "ray_actor_options",
  "placement_group_bundles",
  "placement_group_strategy",
  "max_replicas_per_node",
  "user_config",
  "max_ongoing_requests",
  "max_queued_requests",
  "autoscaling_config",
  "graceful_shutdown_wait_loop_s",
  "graceful_shutdown_timeout_s",
  "health_check_period_s",
  "health_check_timeout_s",
  "logging_config",
  "request_router_config",
];

const REPLICA_KEYS = [
  "ray_actor_options",
  "placement_group_bundles",
  "placement_group_strategy",
  "max_replicas_per_node",
];

const F = {
  build: [
    "ray/serve/_private/application_state.py",
    1217,
    "build_serve_application",
    "app = call_user_app_builder_with_args_if_necessary(",
  ],
  call: [
    "ray/serve/_private/api.py",
    372,
    "call_user_app_builder_with_args_if_necessary",
    "app = builder(args)",
  ],
  openai: [
    "ray/llm/_internal/serve/core/ingress/builder.py",
    252,
    "build_openai_app",
    "builder_config = LLMServingArgs.model_validate(builder_config)",
  ],
  validate: ["pydantic/main.py", 705, "model_validate", "return cls.__pydantic_validator__.validate_python("],
  llmDep: [
    "ray/llm/_internal/serve/core/ingress/builder.py",
    262,
    "build_openai_app",
    "llm_deployments = {c.model_id: build_llm_deployment(c) for c in llm_configs}",
  ],
  options: [
    "ray/llm/_internal/serve/core/server/builder.py",
    61,
    "build_llm_deployment",
    "deployment_options = deployment_cls.get_deployment_options(llm_config)",
  ],
  engine: [
    "ray/llm/_internal/serve/core/server/llm_server.py",
    480,
    "get_deployment_options",
    "engine_config = llm_config.get_engine_config()",
  ],
} satisfies Record<string, Frame>;

export function buildFailure(frames: Frame[], exceptionLine: string): string {
  return pyTraceback([F.build, ...frames], exceptionLine);
}

interface V2Err {
  loc: string;
  msg: string;
  type: string;
  input: unknown;
}

function validationFailure(model: string, errors: V2Err[]): string {
  return buildFailure(
    [F.call, F.openai, F.validate],
    `pydantic_core._pydantic_core.ValidationError: ${pydanticV2Str(model, errors)}`,
  );
}

function checkLlmConfig(raw: unknown, ctx: BuildContext): V2Err[] {
  if (!isRecord(raw))
    return [
      {
        loc: "",
        msg: "Input should be a valid dictionary or instance of LLMConfig",
        type: "model_type",
        input: raw,
      },
    ];
  const errs: V2Err[] = [];
  const e = (loc: string, msg: string, input: unknown, type = "value_error") =>
    errs.push({ loc, msg, type, input });
  const mlc = raw.model_loading_config;
  if (!("model_loading_config" in raw)) e("model_loading_config", "Field required", raw, "missing");
  else if (
    !isRecord(mlc) ||
    typeof mlc.model_id !== "string" ||
    Object.keys(mlc).some((k) => !["model_id", "model_source", "tokenizer_source"].includes(k))
  )
    e("model_loading_config", `Value error, Invalid model_loading_config: ${pyRepr(mlc)}`, mlc);
  if ("llm_engine" in raw && raw.llm_engine !== "vLLM")
    e("llm_engine", `Value error, Unsupported engine: ${pyText(raw.llm_engine)}`, raw.llm_engine);
  if ("engine_kwargs" in raw && !isRecord(raw.engine_kwargs))
    e("engine_kwargs", "Input should be a valid dictionary", raw.engine_kwargs, "dict_type");
  // llm_config.py: runtime_env is Optional[Dict[str, Any]]; validate_lora_config builds LoraConfig(**value),
  // whose dynamic_lora_loading_path must be a remote URI.
  if ("runtime_env" in raw && raw.runtime_env !== null && !isRecord(raw.runtime_env))
    e("runtime_env", "Input should be a valid dictionary", raw.runtime_env, "dict_type");
  const lora = raw.lora_config;
  if (
    isRecord(lora) &&
    typeof lora.dynamic_lora_loading_path === "string" &&
    !/^(s3|gs|abfss|azure):\/\//.test(lora.dynamic_lora_loading_path)
  )
    e("lora_config", `Value error, Invalid lora_config: ${pyRepr(lora)}`, lora);
  const acc = raw.accelerator_type;
  if (acc !== undefined && acc !== null) {
    const v = acc === "A10" ? "A10G" : acc;
    if (typeof v !== "string" || !RAY_ACCELERATOR_TYPES.includes(v))
      e("accelerator_type", `Value error, Unsupported accelerator type: ${pyText(v)}`, acc);
  }
  const dc = raw.deployment_config;
  if (dc !== undefined) {
    // LLMConfig.deployment_config is a pydantic v2 Dict[str, Any]; its field_validator
    // validate_deployment_config (llm_config.py) then runs Serve's full DeploymentConfig(**value)
    // (ray/serve/_private/config.py, with AutoscalingConfig from ray/serve/config.py) and turns any
    // failure into "Invalid deployment config: {value}".
    if (!isRecord(dc)) e("deployment_config", "Input should be a valid dictionary", dc, "dict_type");
    else if (!checkDeploymentConfig(dc).ok)
      e("deployment_config", `Value error, Invalid deployment config: ${pyRepr(dc)}`, dc);
  }
  if (isRecord(raw.experimental_configs) && "num_router_replicas" in raw.experimental_configs)
    e(
      "experimental_configs",
      "Value error, The 'num_router_replicas' key in experimental_configs has been renamed to 'num_ingress_replicas'. Please update your configuration to use 'num_ingress_replicas' instead.",
      raw.experimental_configs,
    );
  for (const k of Object.keys(raw))
    if (!LLM_CONFIG_KEYS.includes(k)) e(k, "Extra inputs are not permitted", raw[k], "extra_forbidden");
  if (
    !errs.length &&
    raw.log_engine_metrics !== false &&
    isRecord(raw.engine_kwargs) &&
    raw.engine_kwargs.disable_log_stats
  )
    e(
      "",
      "Value error, disable_log_stats cannot be set to True when log_engine_metrics is enabled. Engine metrics require log stats to be enabled.",
      raw,
    );
  void ctx;
  return errs;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = deepClone(base);
  for (const [k, v] of Object.entries(over))
    out[k] = isRecord(v) && isRecord(out[k]) ? deepMerge(out[k], v) : deepClone(v);
  return out;
}

/** dict_utils.maybe_apply_llm_deployment_config_defaults */
function applyLlmDefaults(
  defaults: Record<string, unknown>,
  user: Record<string, unknown>,
): Record<string, unknown> {
  const d = deepClone(defaults);
  if ("num_replicas" in user) delete d.autoscaling_config;
  return deepMerge(d, user);
}

function splitOptions(all: Record<string, unknown>): {
  options: Record<string, unknown>;
  replica: Record<string, unknown>;
} {
  const options: Record<string, unknown> = {};
  const replica: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all)) {
    if (k === "name") continue;
    (REPLICA_KEYS.includes(k) ? replica : options)[k] = v;
  }
  return { options, replica };
}

function isLocalPathMissing(source: unknown, ctx: BuildContext): source is string {
  return typeof source === "string" && source.startsWith("/") && !ctx.pathExists(source);
}

function startupTraceback(modelSource: string): string {
  return pyTraceback(
    [
      [
        "ray/serve/_private/replica.py",
        1041,
        "initialize",
        "self._user_callable_asgi_app = await asyncio.wrap_future(",
      ],
      ["ray/serve/_private/replica.py", 2008, "initialize_callable", "await self._call_func_or_gen("],
      ["ray/llm/_internal/serve/core/server/llm_server.py", 162, "__init__", "await self.start()"],
      ["ray/llm/_internal/serve/core/server/llm_server.py", 190, "start", "await self._start_engine()"],
      [
        "ray/llm/_internal/common/utils/download_utils.py",
        241,
        "download_model_files",
        'raise OSError(f"{model_id} does not exist")',
      ],
    ],
    `OSError: ${modelSource} does not exist`,
  );
}

export function buildOpenAiApp(
  args: Record<string, unknown>,
  ctx: BuildContext,
  /** The application's runtime_env: the build task runs in it, and get_deployment_options reads it back. */
  appRuntimeEnv: Record<string, unknown> = {},
): { failure: string } | { deployments: BuiltDeployment[] } {
  const top: V2Err[] = [];
  for (const k of Object.keys(args))
    if (!["llm_configs", "ingress_cls_config", "ingress_deployment_config", "api_key"].includes(k))
      top.push({ loc: k, msg: "Extra inputs are not permitted", type: "extra_forbidden", input: args[k] });
  const list = args.llm_configs;
  if (!("llm_configs" in args))
    top.unshift({ loc: "llm_configs", msg: "Field required", type: "missing", input: args });
  else if (!Array.isArray(list))
    top.unshift({ loc: "llm_configs", msg: "Input should be a valid list", type: "list_type", input: list });
  else {
    // LLMServingArgs._validate_llm_configs: a str entry is a file path inside the cluster
    for (const c of list) {
      let inner: string | null = null;
      if (typeof c === "string")
        inner = ctx.pathExists(c)
          ? `emulator cannot read LLMConfig file ${c}: inline the LLMConfig dict instead`
          : `Could not load model config from ${c}, as the file does not exist.`;
      else {
        const errs = checkLlmConfig(c, ctx);
        if (errs.length) inner = pydanticV2Str("LLMConfig", errs);
      }
      if (inner !== null) {
        top.unshift({ loc: "llm_configs", msg: `Value error, ${inner}`, type: "value_error", input: list });
        break;
      }
    }
  }
  if (top.length) return { failure: validationFailure("LLMServingArgs", top) };
  const configs = list as Record<string, unknown>[];
  const ids = configs.map((c) => (c.model_loading_config as Record<string, unknown>).model_id as string);
  if (new Set(ids).size !== ids.length)
    return {
      failure: validationFailure("LLMServingArgs", [
        {
          loc: "",
          msg: "Value error, Duplicate models found. Make sure model ids are unique.",
          type: "value_error",
          input: args,
        },
      ]),
    };
  if (configs.length === 0)
    return {
      failure: validationFailure("LLMServingArgs", [
        {
          loc: "",
          msg: "Value error, List of models is empty. Maybe some parameters cannot be parsed into the LLMConfig config.",
          type: "value_error",
          input: args,
        },
      ]),
    };

  const deployments: BuiltDeployment[] = [];
  for (const c of configs) {
    const mlc = c.model_loading_config as Record<string, unknown>;
    const modelId = mlc.model_id as string;
    const dc = (c.deployment_config as Record<string, unknown> | undefined) ?? {};
    const ek = (c.engine_kwargs as Record<string, unknown> | undefined) ?? {};
    const frames: Frame[] = [F.call, F.llmDep, F.options];
    if ("placement_group_bundles" in dc || "placement_group_strategy" in dc)
      return {
        failure: buildFailure(
          frames,
          "ValueError: placement_group_bundles and placement_group_strategy must not be specified in deployment_config. You can override the default values by setting the `placement_group_config` in the LLMConfig.",
        ),
      };
    const unknown = Object.keys(ek).find((k) => !ctx.knownEngineArgs.has(k));
    if (unknown !== undefined)
      return {
        failure: buildFailure(
          [
            ...frames,
            F.engine,
            [
              "ray/llm/_internal/serve/deployments/llm/vllm/vllm_models.py",
              301,
              "from_llm_config",
              'raise ValueError(f"Unknown engine argument: {key}")',
            ],
          ],
          `ValueError: Unknown engine argument: ${unknown}`,
        ),
      };
    const deploymentFrames: Frame[] = [
      F.call,
      F.llmDep,
      [
        "ray/llm/_internal/serve/core/server/builder.py",
        80,
        "build_llm_deployment",
        "return serve.deployment(deployment_cls, **deployment_options).bind(",
      ],
      ["ray/serve/api.py", 444, "deployment", "raise ValueError("],
    ];
    // ray/serve/api.py deployment(): `if num_replicas == 0: raise ValueError("num_replicas is expected
    // to larger than 0")`, before the num_replicas/autoscaling_config check. DeploymentConfig allows 0
    // (Optional[NonNegativeInt]), so LLMConfig accepts it and the build task fails here. Python's
    // `== 0` holds for 0 and False, not for "0".
    // DeploymentConfig(**value), which LLMConfig ran, ignores a key it does not know; serve.deployment() does not.
    const stray = Object.keys(dc).find((k) => !DEPLOYMENT_KWARGS.includes(k));
    if (stray !== undefined)
      return {
        failure: buildFailure(
          deploymentFrames.slice(0, 3),
          `TypeError: deployment() got an unexpected keyword argument '${stray}'`,
        ),
      };
    if (dc.num_replicas === 0 || dc.num_replicas === false)
      return {
        failure: buildFailure(deploymentFrames, "ValueError: num_replicas is expected to larger than 0"),
      };
    const suffix = typeof dc.name === "string" ? dc.name : modelId.replace(/\//g, "--").replace(/\./g, "_");
    // serve.deployment() builds DeploymentConfig.from_default(...) (validate_assignment): the options
    // reach the controller coerced ("2" -> 2), like the DeploymentConfig check LLMConfig already passed.
    const checked = checkDeploymentConfig(dc);
    const merged = applyLlmDefaults(LLM_SERVER_DEFAULTS, checked.ok ? { ...dc, ...checked.dump } : dc);
    const autoscaling = merged.autoscaling_config;
    if (
      merged.num_replicas !== undefined &&
      merged.num_replicas !== null &&
      merged.num_replicas !== "auto" &&
      autoscaling !== undefined &&
      autoscaling !== null
    )
      return {
        failure: buildFailure(
          deploymentFrames,
          "ValueError: Manually setting num_replicas is not allowed when autoscaling_config is provided.",
        ),
      };
    const tp = typeof ek.tensor_parallel_size === "number" ? ek.tensor_parallel_size : 1;
    const pp = typeof ek.pipeline_parallel_size === "number" ? ek.pipeline_parallel_size : 1;
    const pg = c.placement_group_config;
    const gpus =
      c.use_cpu === true
        ? 0
        : isRecord(pg) && Array.isArray(pg.bundles)
          ? (pg.bundles as unknown[]).reduce<number>(
              (s, b) => s + (isRecord(b) && typeof b.GPU === "number" ? b.GPU : 0),
              0,
            )
          : tp * pp;
    const accKey = c.accelerator_type
      ? { [`accelerator_type:${c.accelerator_type === "A10" ? "A10G" : pyText(c.accelerator_type)}`]: 0.001 }
      : {};
    const bundles = Array.from({ length: Math.max(1, tp * pp) }, (_, i) => ({
      ...(i === 0 ? { CPU: 1 } : {}),
      GPU: 1,
      ...accKey,
    }));
    const { options, replica } = splitOptions(merged);
    replica.placement_group_bundles = bundles;
    replica.placement_group_strategy = isRecord(pg) && typeof pg.strategy === "string" ? pg.strategy : "PACK";
    replica.ray_actor_options = {
      ...(isRecord(merged.ray_actor_options) ? merged.ray_actor_options : {}),
      // LLMServer.get_deployment_options starts from ray.get_runtime_context().runtime_env (the app's, in
      // the build task) and updates it with the LLMConfig's: overriding the deployment later merges the same
      // app env again, so adding a replica override does not change the replica's version.
      runtime_env: { ...appRuntimeEnv, ...(isRecord(c.runtime_env) ? c.runtime_env : {}) },
    };
    const source = mlc.model_source ?? modelId;
    deployments.push({
      name: `LLMServer:${suffix}`,
      ingress: false,
      options,
      replica,
      gpusPerReplica: gpus,
      ...(isLocalPathMissing(source, ctx) ? { startupError: startupTraceback(source) } : {}),
    });
  }
  const names = deployments.map((d) => d.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined)
    return {
      failure: buildFailure(
        [["ray/serve/_private/build_app.py", 180, "build_app", "raise ValueError("]],
        `ValueError: Found multiple deployments with the name '${dup}' in the application. Deployment names must be unique within an application.`,
      ),
    };
  const ingressCfg = isRecord(args.ingress_deployment_config) ? args.ingress_deployment_config : {};
  const ingress = splitOptions(applyLlmDefaults(INGRESS_DEFAULTS, ingressCfg));
  deployments.unshift({
    name: "OpenAiIngress",
    ingress: true,
    options: ingress.options,
    replica: ingress.replica,
    gpusPerReplica: 0,
  });
  return { deployments };
}
