import type catalog from "../../schemas/vllm-engine-args.json";

/**
 * What a model owner may do with one vLLM engine argument:
 * - `platform`: the platform sets it from the spec or the cluster; never an owner's (no cluster can lift it).
 * - `denied`: on the built-in deny list: it loads code or modules, names classes or plugins, downloads, reads
 *   or writes files outside model_source's confinement, talks to a network endpoint, or is a config mapping
 *   that can carry any of those. An admin lifts an entry by name with engine_kwargs.allow in cluster.yaml.
 * - `capped`: a plain number, capped because it takes host RAM shared with other users' models. An admin
 *   lifts the cap by name with engine_kwargs.allow.
 * - `safe`: a plain tuning knob that only affects the owner's own replicas and GPUs.
 *
 * Path-valued arguments are denied rather than confined like model_source: the Serve config copies
 * engine_kwargs verbatim (no $HOME macros), and nested paths (speculative_config.model, default_mm_loras)
 * would each need their own confinement. Denying is the safe default; an admin may lift one.
 */
export type KwargPolicy =
  | { readonly class: "platform"; readonly why: string }
  | { readonly class: "denied"; readonly why: string }
  | { readonly class: "capped"; readonly max: number; readonly unit: string; readonly why: string }
  | { readonly class: "safe" };

export type KwargClass = KwargPolicy["class"];

const SAFE: KwargPolicy = { class: "safe" };
const platform = (why: string): KwargPolicy => ({ class: "platform", why });
const denied = (why: string): KwargPolicy => ({ class: "denied", why });
const capped = (max: number, unit: string, why: string): KwargPolicy => ({ class: "capped", max, unit, why });

const CODE = "code execution";
const DATA_PARALLEL = "the platform runs data parallelism 1: scale with num_replicas instead";
const HOST_RAM = "host RAM is shared with the other models on the node";

/**
 * One class for every argument of schemas/vllm-engine-args.json, in the catalog's order. The type requires
 * exactly the catalog's keys, so a catalog refresh does not compile until each new argument is classified.
 */
export const KWARG_POLICY: { readonly [K in keyof (typeof catalog)["args"]]: KwargPolicy } = {
  model: platform("set model_source instead"),
  served_model_name: platform("the platform names the model <user>-<timestamp>-<model_id>"),
  tokenizer: platform("the tokenizer is loaded from model_source"),
  hf_config_path: denied(
    "names a path or Hugging Face repo to load the model config from, outside model_source's confinement",
  ),
  runner: SAFE,
  convert: SAFE,
  task: SAFE,
  skip_tokenizer_init: SAFE,
  enable_prompt_embeds: denied(
    "lets clients send serialized tensors that vLLM loads with torch.load (memory-corruption CVEs)",
  ),
  tokenizer_mode: SAFE,
  trust_remote_code: denied(`runs the Python code shipped with the model (${CODE})`),
  allowed_local_media_path: denied("lets clients read files of the node as media"),
  // An allowlist: it can only narrow vLLM's default, which fetches media from any domain.
  allowed_media_domains: SAFE,
  download_dir: denied("names a folder of the node to write downloads to"),
  safetensors_load_strategy: SAFE,
  load_format: denied("selects loaders that download (runai_streamer, tensorizer) or plugin loaders"),
  config_format: SAFE,
  dtype: SAFE,
  kv_cache_dtype: SAFE,
  seed: SAFE,
  max_model_len: SAFE,
  cuda_graph_sizes: SAFE,
  cudagraph_capture_sizes: SAFE,
  max_cudagraph_capture_size: SAFE,
  distributed_executor_backend: platform("Ray Serve LLM chooses the executor"),
  pipeline_parallel_size: platform("the platform runs pipeline parallelism 1"),
  tensor_parallel_size: platform("set gpus_per_replica instead"),
  decode_context_parallel_size: SAFE,
  data_parallel_size: platform("scale with num_replicas instead"),
  data_parallel_rank: platform(DATA_PARALLEL),
  data_parallel_start_rank: platform(DATA_PARALLEL),
  data_parallel_size_local: platform(DATA_PARALLEL),
  data_parallel_address: platform(DATA_PARALLEL),
  data_parallel_rpc_port: platform(DATA_PARALLEL),
  data_parallel_hybrid_lb: platform(DATA_PARALLEL),
  data_parallel_backend: platform(DATA_PARALLEL),
  enable_expert_parallel: SAFE,
  all2all_backend: SAFE,
  enable_dbo: SAFE,
  dbo_decode_token_threshold: SAFE,
  dbo_prefill_token_threshold: SAFE,
  disable_nccl_for_dp_synchronization: SAFE,
  eplb_config: SAFE,
  enable_eplb: SAFE,
  expert_placement_strategy: SAFE,
  _api_process_count: platform("vLLM's API server sets this internal field"),
  _api_process_rank: platform("vLLM's API server sets this internal field"),
  num_redundant_experts: SAFE,
  eplb_window_size: SAFE,
  eplb_step_interval: SAFE,
  eplb_log_balancedness: SAFE,
  max_parallel_loading_workers: SAFE,
  block_size: SAFE,
  enable_prefix_caching: SAFE,
  prefix_caching_hash_algo: SAFE,
  disable_sliding_window: SAFE,
  disable_cascade_attn: SAFE,
  swap_space: capped(16, "GiB", `it is CPU swap space per GPU, and ${HOST_RAM}`),
  cpu_offload_gb: denied(`offloads weights into host RAM (GiB per GPU), and ${HOST_RAM}`),
  gpu_memory_utilization: SAFE,
  kv_cache_memory_bytes: SAFE,
  max_num_batched_tokens: SAFE,
  max_num_partial_prefills: SAFE,
  max_long_partial_prefills: SAFE,
  long_prefill_token_threshold: SAFE,
  max_num_seqs: SAFE,
  max_logprobs: SAFE,
  logprobs_mode: SAFE,
  disable_log_stats: SAFE,
  aggregate_engine_logging: SAFE,
  revision: SAFE,
  code_revision: denied(`picks the revision of the model's remote code to download and run (${CODE})`),
  rope_scaling: SAFE,
  rope_theta: SAFE,
  hf_token: denied("passes a Hugging Face credential, for downloads"),
  hf_overrides: denied("overrides any field of the model's config, auto_map (remote code) included"),
  tokenizer_revision: SAFE,
  quantization: SAFE,
  enforce_eager: SAFE,
  disable_custom_all_reduce: SAFE,
  limit_mm_per_prompt: SAFE,
  enable_mm_embeds: denied("lets clients send serialized embedding tensors that vLLM loads with torch.load"),
  interleave_mm_strings: SAFE,
  media_io_kwargs: denied("passes arbitrary keyword arguments to the media decoders that read client media"),
  mm_processor_kwargs: denied(
    "passes arbitrary keyword arguments to the Hugging Face processor's from_pretrained (download and cache options among them)",
  ),
  disable_mm_preprocessor_cache: SAFE,
  mm_processor_cache_gb: capped(16, "GiB", `it sizes the multimodal processor cache, and ${HOST_RAM}`),
  mm_processor_cache_type: SAFE,
  mm_shm_cache_max_object_size_mb: capped(
    1024,
    "MiB",
    `it sizes objects in the shared-memory cache, and ${HOST_RAM}`,
  ),
  mm_encoder_tp_mode: SAFE,
  mm_encoder_attn_backend: SAFE,
  io_processor_plugin: denied(`names an IO processor plugin that vLLM loads (${CODE})`),
  skip_mm_profiling: SAFE,
  video_pruning_rate: SAFE,
  enable_lora: SAFE,
  max_loras: SAFE,
  max_lora_rank: SAFE,
  default_mm_loras: denied(
    "names paths or Hugging Face repos of LoRA adapters, outside model_source's confinement",
  ),
  fully_sharded_loras: SAFE,
  max_cpu_loras: SAFE,
  lora_dtype: SAFE,
  lora_extra_vocab_size: SAFE,
  ray_workers_use_nsight: denied(
    "runs the Nsight profiler on the node, writing its reports to the node's disk",
  ),
  num_gpu_blocks_override: SAFE,
  num_lookahead_slots: SAFE,
  model_loader_extra_config: denied(
    "passes options to the model loader (download endpoints, credentials, files)",
  ),
  ignore_patterns: SAFE,
  enable_chunked_prefill: SAFE,
  disable_chunked_mm_input: SAFE,
  disable_hybrid_kv_cache_manager: SAFE,
  structured_outputs_config: denied(
    `can name a reasoning parser plugin file that vLLM executes (reasoning_parser_plugin, ${CODE}); set reasoning_parser on its own instead`,
  ),
  reasoning_parser: SAFE,
  guided_decoding_backend: SAFE,
  guided_decoding_disable_fallback: SAFE,
  guided_decoding_disable_any_whitespace: SAFE,
  guided_decoding_disable_additional_properties: SAFE,
  logits_processor_pattern: denied(`lets clients name logits processor classes that vLLM imports (${CODE})`),
  speculative_config: denied(
    "names a draft model (a path or Hugging Face repo, outside model_source's confinement) and its loading options",
  ),
  show_hidden_metrics_for_version: SAFE,
  otlp_traces_endpoint: denied("sends every request's traces to a network endpoint"),
  collect_detailed_traces: SAFE,
  scheduling_policy: SAFE,
  scheduler_cls: denied(`names a Python class that vLLM imports (${CODE})`),
  external_parameters: denied("passes parameters to a custom scheduler class"),
  pooler_config: SAFE,
  override_pooler_config: SAFE,
  compilation_config: denied(
    `can name custom compiler passes and Inductor settings (imports, cache and dump folders; ${CODE})`,
  ),
  worker_cls: denied(`names a Python class that vLLM imports (${CODE})`),
  worker_extension_cls: denied(`names a Python class that vLLM imports (${CODE})`),
  kv_transfer_config: denied(`names a KV connector module to import and network peers (${CODE})`),
  kv_events_config: denied("publishes KV cache events to a network endpoint"),
  generation_config: denied(
    "names a folder or Hugging Face repo to load the generation config from, outside model_source's confinement",
  ),
  enable_sleep_mode: denied(`moves the weights into host RAM when asleep, and ${HOST_RAM}`),
  override_generation_config: SAFE,
  model_impl: SAFE,
  override_attention_dtype: SAFE,
  calculate_kv_scales: SAFE,
  mamba_cache_dtype: SAFE,
  mamba_ssm_cache_dtype: SAFE,
  mamba_block_size: SAFE,
  additional_config: denied("passes free-form settings to platform plugins"),
  use_tqdm_on_load: SAFE,
  pt_load_map_location: SAFE,
  enable_multimodal_encoder_data_parallel: SAFE,
  logits_processors: denied(`names Python classes that vLLM imports (${CODE})`),
  async_scheduling: SAFE,
  kv_sharing_fast_prefill: SAFE,
  enable_log_requests: denied("writes every client's prompts into the cluster's logs"),
  disable_log_requests: denied(
    "set to false, writes every client's prompts into the cluster's logs (deprecated)",
  ),
};

/** An argument's policy, or undefined for a name vLLM's catalog does not know. */
export function kwargPolicy(name: string): KwargPolicy | undefined {
  return Object.hasOwn(KWARG_POLICY, name) ? (KWARG_POLICY as Record<string, KwargPolicy>)[name] : undefined;
}

/** The arguments of one class, in the catalog's order. */
export function kwargsOfClass(cls: KwargClass): string[] {
  return Object.entries(KWARG_POLICY as Record<string, KwargPolicy>)
    .filter(([, p]) => p.class === cls)
    .map(([name]) => name);
}
