/**
 * TEST/DEMO ONLY. Ray Serve's DeploymentConfig and AutoscalingConfig field constraints for the Ray
 * Serve dashboard emulator, on ray-pydantic.ts (pydantic v1 semantics: Ray 2.5x builds these models
 * through ray._common.pydantic_compat, i.e. pydantic.v1). ONE implementation, used by both paths that
 * construct them in Ray:
 * - Ray Serve LLM, LLMConfig.validate_deployment_config (python/ray/llm/_internal/serve/core/configs/
 *   llm_config.py): `DeploymentConfig(**value)`, any failure -> "Invalid deployment config: {value}"
 *   (see ray-llm.ts);
 * - per-deployment overrides, override_deployment_info (python/ray/serve/_private/application_state.py):
 *   `AutoscalingConfig(**new_config)` for num_replicas "auto", then
 *   `DeploymentConfig(**original_options)`; a failure is a pydantic.v1 ValidationError ->
 *   DEPLOY_FAILED (see ray-serve-model.ts).
 * Sources: python/ray/serve/config.py AutoscalingConfig (NonNegativeInt min_replicas /
 * initial_replicas, PositiveInt max_replicas, PositiveFloat target_ongoing_requests /
 * metrics_interval_s / look_back_period_s / smoothing and scaling factors, NonNegativeFloat
 * upscale_delay_s / downscale_delay_s / downscale_to_zero_delay_s, validator replicas_settings_valid
 * with always=True) and RequestRouterConfig; python/ray/serve/_private/config.py DeploymentConfig
 * (Optional[NonNegativeInt] num_replicas, PositiveInt max_ongoing_requests, int max_queued_requests
 * with validate_max_queued_requests, NonNegativeFloat graceful_shutdown_*, PositiveFloat
 * health_check_*, Optional[AutoscalingConfig], logging_config_valid -> LoggingConfig(**v)).
 * Unknown keys are ignored (pydantic v1 Extra.ignore), as `DeploymentConfig(**value)` ignores an
 * LLM deployment_config's `name` or `ray_actor_options`.
 */
import {
  FAIL,
  PyError,
  any,
  bool,
  bounded,
  dict,
  dictOf,
  float,
  int,
  isModelOut,
  list,
  model,
  str,
  valueError,
} from "./ray-pydantic";
import { type PydanticV1Error, pydanticV1Str } from "./ray-pyrepr";
import { loggingConfig } from "./ray-schema";

const nonNegativeInt = bounded(int, { ge: 0 });
const positiveInt = bounded(int, { gt: 0 });
const positiveFloat = bounded(float, { gt: 0 });
const nonNegativeFloat = bounded(float, { ge: 0 });

/** ray/serve/config.py AutoscalingConfig.replicas_settings_valid (a max_replicas validator, always=True). */
function replicasSettingsValid(maxReplicas: unknown, values: Record<string, unknown>): unknown {
  const max = maxReplicas as number;
  const min = values.min_replicas as number | undefined;
  const initial = values.initial_replicas as number | null | undefined;
  if (min !== undefined && max < min)
    throw valueError(`max_replicas (${max}) must be greater than or equal to min_replicas (${min})!`);
  if (initial !== undefined && initial !== null) {
    // min_replicas failed its own validation: `initial_replicas < None` is a TypeError in Python
    if (min === undefined)
      throw new PyError("type_error", "'<' not supported between instances of 'int' and 'NoneType'");
    if (initial < min)
      throw valueError(`min_replicas (${min}) must be less than or equal to initial_replicas (${initial})!`);
    if (initial > max)
      throw valueError(
        `max_replicas (${max}) must be greater than or equal to initial_replicas (${initial})!`,
      );
  }
  return maxReplicas;
}

export const autoscalingConfigModel = model({
  fields: [
    { name: "min_replicas", type: nonNegativeInt },
    { name: "initial_replicas", type: nonNegativeInt, nullable: true },
    { name: "max_replicas", type: positiveInt, validators: [replicasSettingsValid], always: { default: 1 } },
    { name: "target_ongoing_requests", type: positiveFloat, nullable: true },
    { name: "metrics_interval_s", type: positiveFloat },
    { name: "look_back_period_s", type: positiveFloat },
    { name: "smoothing_factor", type: positiveFloat },
    { name: "upscale_smoothing_factor", type: positiveFloat, nullable: true },
    { name: "downscale_smoothing_factor", type: positiveFloat, nullable: true },
    { name: "upscaling_factor", type: positiveFloat, nullable: true },
    { name: "downscaling_factor", type: positiveFloat, nullable: true },
    { name: "downscale_delay_s", type: nonNegativeFloat },
    { name: "downscale_to_zero_delay_s", type: nonNegativeFloat, nullable: true },
    { name: "upscale_delay_s", type: nonNegativeFloat },
    { name: "prometheus_metrics", type: list(str), nullable: true },
    { name: "policy", type: dict },
    { name: "aggregation_function", type: str },
  ],
});

const requestRouterConfigModel = model({
  fields: [
    { name: "request_router_class", type: str },
    { name: "request_router_kwargs", type: dictOf(str, any) },
    { name: "request_routing_stats_period_s", type: positiveFloat },
    { name: "request_routing_stats_timeout_s", type: positiveFloat },
  ],
});

export const deploymentConfigModel = model({
  fields: [
    { name: "num_replicas", type: nonNegativeInt, nullable: true },
    { name: "max_ongoing_requests", type: positiveInt },
    {
      name: "max_queued_requests",
      type: int,
      always: { default: -1 },
      validators: [
        (v) => {
          const q = v as number;
          if (q < 1 && q !== -1)
            throw valueError("max_queued_requests must be -1 (no limit) or a positive integer.");
          return v;
        },
      ],
    },
    { name: "user_config", type: any, nullable: true },
    { name: "graceful_shutdown_timeout_s", type: nonNegativeFloat },
    { name: "graceful_shutdown_wait_loop_s", type: nonNegativeFloat },
    { name: "health_check_period_s", type: positiveFloat },
    { name: "health_check_timeout_s", type: positiveFloat },
    { name: "autoscaling_config", type: autoscalingConfigModel, nullable: true },
    { name: "request_router_config", type: requestRouterConfigModel },
    { name: "is_cross_language", type: bool },
    { name: "version", type: str, nullable: true },
    {
      name: "logging_config",
      type: dict,
      nullable: true,
      validators: [
        (v) => {
          // logging_config_valid: LoggingConfig(**v); its ValidationError is a ValueError
          const errs: PydanticV1Error[] = [];
          if (loggingConfig(v, [], errs) === FAIL) throw valueError(pydanticV1Str("LoggingConfig", errs));
          return v;
        },
      ],
    },
  ],
});

/** The result of constructing one of these models from a dict. */
export type ConfigCheck =
  | { ok: true; /** the given fields, coerced (`.dict(exclude_unset=True)`) */ dump: Record<string, unknown> }
  | { ok: false; errors: PydanticV1Error[]; /** str(ValidationError) */ text: string };

function check(name: string, m: typeof deploymentConfigModel, v: Record<string, unknown>): ConfigCheck {
  const errors: PydanticV1Error[] = [];
  const r = m(v, [], errors);
  if (r === FAIL || !isModelOut(r)) return { ok: false, errors, text: pydanticV1Str(name, errors) };
  return { ok: true, dump: r.dump };
}

/** `DeploymentConfig(**v)` (ray/serve/_private/config.py). */
export const checkDeploymentConfig = (v: Record<string, unknown>): ConfigCheck =>
  check("DeploymentConfig", deploymentConfigModel, v);
/** `AutoscalingConfig(**v)` (ray/serve/config.py). */
export const checkAutoscalingConfig = (v: Record<string, unknown>): ConfigCheck =>
  check("AutoscalingConfig", autoscalingConfigModel, v);

/** The exception line a failed check leaves at the end of Ray's traceback. */
export const validationErrorLine = (c: { text: string }): string =>
  `pydantic.v1.error_wrappers.ValidationError: ${c.text}`;
