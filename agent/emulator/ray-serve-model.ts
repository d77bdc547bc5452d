/**
 * TEST/DEMO ONLY. Data model of the Ray Serve dashboard emulator's controller (ray-controller.ts):
 * status enums (exact strings of python/ray/serve/_private/common.py and schema.py), Serve
 * defaults, the per-deployment override merge, the application status rule and the
 * DeploymentDetails rendering. Never a real cluster.
 *
 * Mirrors python/ray/serve/_private/application_state.py (Ray 2.5x):
 * - override_deployment_info: "Deployment 'X' does not exist. Available: [...]"; num_replicas
 *   "auto" -> AutoscalingConfig.default() updated with the given or code autoscaling_config;
 *   `original_options.update(options)`, so an override autoscaling_config replaces the code's;
 *   ray_actor_options / placement_group_* / max_replicas_per_node go to the replica config
 *   (HeavyWeight: a change restarts replicas); when both num_replicas and autoscaling_config end
 *   up set, autoscaling wins (DeploymentConfig has no mutual-exclusion check and deployment_state
 *   autoscales whenever autoscaling_config is not None); `AutoscalingConfig(**new_config)` (for
 *   "auto") and `DeploymentConfig(**original_options)` run Serve's full field constraints here
 *   (ray-config.ts, pydantic v1 -> "pydantic.v1.error_wrappers.ValidationError: ..." ->
 *   DEPLOY_FAILED), not at PUT;
 *   then validate_route_prefix (ray/serve/_private/utils.py) on the app's route_prefix;
 * - _determine_app_status: DEPLOY_FAILED "Failed to update the deployments [...]." / UNHEALTHY
 *   "The deployments [...] are UNHEALTHY." / DEPLOYING while any deployment is UPDATING or
 *   UPSCALING|DOWNSCALING with trigger CONFIG_UPDATE_STARTED / RUNNING.
 */
import type { BuildResult, BuiltDeployment } from "./ray-build";
import { checkAutoscalingConfig, checkDeploymentConfig, validationErrorLine } from "./ray-config";
import { deepClone, isRecord, md5, pyRepr, pyTraceback, sortedJson } from "./ray-pyrepr";
import type { ParsedApp } from "./ray-schema";

export type AppStatus = "NOT_STARTED" | "DEPLOYING" | "DEPLOY_FAILED" | "RUNNING" | "UNHEALTHY" | "DELETING";
export type DeploymentStatus =
  "UPDATING" | "HEALTHY" | "UNHEALTHY" | "DEPLOY_FAILED" | "UPSCALING" | "DOWNSCALING";
export type StatusTrigger =
  | "UNSPECIFIED"
  | "CONFIG_UPDATE_STARTED"
  | "CONFIG_UPDATE_COMPLETED"
  | "UPSCALE_COMPLETED"
  | "DOWNSCALE_COMPLETED"
  | "AUTOSCALING"
  | "REPLICA_STARTUP_FAILED"
  | "HEALTH_CHECK_FAILED"
  | "INTERNAL_ERROR"
  | "DELETING";
export type ReplicaState =
  "STARTING" | "UPDATING" | "RECOVERING" | "RUNNING" | "STOPPING" | "PENDING_MIGRATION";

/** Serve DeploymentConfig defaults (ray/serve/_private/constants.py). */
export const SERVE_DEFAULTS: Record<string, unknown> = {
  num_replicas: 1,
  max_ongoing_requests: 5,
  max_queued_requests: -1,
  user_config: null,
  graceful_shutdown_wait_loop_s: 2,
  graceful_shutdown_timeout_s: 20,
  health_check_period_s: 10,
  health_check_timeout_s: 30,
  autoscaling_config: null,
};
export const AUTOSCALING_DEFAULTS: Record<string, unknown> = {
  min_replicas: 1,
  initial_replicas: null,
  max_replicas: 1,
  target_ongoing_requests: 2,
  metrics_interval_s: 10,
  look_back_period_s: 30,
  smoothing_factor: 1,
  upscale_smoothing_factor: null,
  downscale_smoothing_factor: null,
  upscaling_factor: null,
  downscaling_factor: null,
  downscale_delay_s: 600,
  downscale_to_zero_delay_s: null,
  upscale_delay_s: 30,
  aggregation_function: "mean",
  policy: { policy_function: "ray.serve.autoscaling_policy:default_autoscaling_policy", policy_kwargs: {} },
};
/** AutoscalingConfig.default(), used by num_replicas: "auto". */
export const AUTO_DEFAULTS = { target_ongoing_requests: 2, min_replicas: 1, max_replicas: 100 };
export const REQUEST_ROUTER = {
  request_router_class: "ray.serve._private.request_router:PowerOfTwoChoicesRequestRouter",
  request_router_kwargs: {},
  request_routing_stats_period_s: 10,
  request_routing_stats_timeout_s: 30,
};
export const NODE_IP = "10.0.0.1";

export interface Replica {
  replica_id: string;
  state: ReplicaState;
  pid: number;
  actor_id: string;
  worker_id: string;
  start_time_s: number;
}
export type Phase = "pending" | "starting" | "scaling" | "reconfiguring" | "steady";

export interface Effective {
  name: string;
  config: Record<string, unknown>;
  replica: Record<string, unknown>;
  target: number;
  gpus: number;
  version: string;
  startupError?: string;
}
export interface Deployment extends Effective {
  app: string;
  phase: Phase;
  readyAt: number;
  scalingUp: boolean;
  status: DeploymentStatus;
  trigger: StatusTrigger;
  message: string;
  replicas: Replica[];
  /** GPUs currently held by this deployment's replicas */
  allocated: number;
}
export interface App {
  name: string;
  source: "declarative" | "imperative";
  storedConfig: Record<string, unknown> | null;
  codeVersion: string | null;
  routePrefix: string | null;
  failure: string | null;
  deployedAt: number;
  build: { doneAt: number; app: ParsedApp; result: BuildResult } | null;
  /** live deployments; listed in GET only when `targetKnown` */
  deployments: Map<string, Deployment>;
  targetKnown: boolean;
  deletingUntil: number | null;
  externalScaler: boolean;
  unhealthy: Map<string, string>;
}

export class OverrideFailure extends Error {}

/** override_deployment_info, producing the deployments' effective config. */
export function overrideDeploymentInfo(
  specs: BuiltDeployment[],
  app: ParsedApp,
  codeVersion: string,
  caller: string,
  /**
   * The previous target of each deployment (apply_app_config: `override_deployment_info(
   * self._target_state.deployment_infos, config)`): overrides apply onto it, so a setting a new override no
   * longer names keeps its previous value until the next rebuild (`original_options.update(options)`).
   */
  previous?: ReadonlyMap<string, { config: Record<string, unknown>; replica: Record<string, unknown> }>,
): Effective[] {
  const infos = new Map(
    specs.map((s) => {
      const before = previous?.get(s.name);
      const config: Record<string, unknown> = before
        ? deepClone(before.config)
        : { ...SERVE_DEFAULTS, request_router_config: REQUEST_ROUTER, ...deepClone(s.options) };
      return [s.name, { spec: s, config, replica: deepClone(before?.replica ?? s.replica) }] as const;
    }),
  );
  const fail = (frames: [string, number, string, string][], line: string): never => {
    throw new OverrideFailure(
      pyTraceback(
        [
          [
            "ray/serve/_private/application_state.py",
            caller === "apply_app_config" ? 548 : 820,
            caller,
            "overrided_infos = override_deployment_info(",
          ],
          ...frames,
        ],
        line,
      ),
    );
  };
  for (const raw of app.deployments) {
    const options = deepClone(raw);
    const name = options.name as string;
    const info = infos.get(name);
    if (!info)
      fail(
        [["ray/serve/_private/application_state.py", 1297, "override_deployment_info", "raise ValueError("]],
        `ValueError: Deployment '${name}' does not exist. Available: ${pyRepr([...infos.keys()])}`,
      );
    else {
      if (options.num_replicas === "auto") {
        options.num_replicas = null;
        // `options.get("autoscaling_config") or info.deployment_config.autoscaling_config`: an empty
        // dict falls back to the code's, like None
        const own = options.autoscaling_config;
        const given = isRecord(own) && Object.keys(own).length ? own : info.config.autoscaling_config;
        // `options["autoscaling_config"] = AutoscalingConfig(**new_config)` (ray-config.ts)
        const auto = checkAutoscalingConfig({ ...AUTO_DEFAULTS, ...(isRecord(given) ? given : {}) });
        if (!auto.ok)
          fail(
            [
              [
                "ray/serve/_private/application_state.py",
                1322,
                "override_deployment_info",
                'options["autoscaling_config"] = AutoscalingConfig(**new_config)',
              ],
            ],
            validationErrorLine(auto),
          );
        else options.autoscaling_config = auto.dump; // the model: coerced, unknown keys dropped
      }
      const rao =
        "ray_actor_options" in options
          ? (options.ray_actor_options as Record<string, unknown>)
          : ((info.replica.ray_actor_options as Record<string, unknown> | undefined) ?? {});
      delete options.ray_actor_options;
      info.replica.ray_actor_options = {
        ...rao,
        runtime_env: { ...app.runtimeEnv, ...(isRecord(rao.runtime_env) ? rao.runtime_env : {}) },
      };
      for (const k of ["placement_group_bundles", "placement_group_strategy", "max_replicas_per_node"]) {
        if (k in options) info.replica[k] = options[k];
        delete options[k];
      }
      delete options.name;
      Object.assign(info.config, options);
      // `override_options["deployment_config"] = DeploymentConfig(**original_options)`: Serve's full
      // DeploymentConfig/AutoscalingConfig constraints (ray-config.ts, shared with the LLMConfig check)
      const checked = checkDeploymentConfig(info.config);
      if (!checked.ok)
        fail(
          [
            [
              "ray/serve/_private/application_state.py",
              1370,
              "override_deployment_info",
              'override_options["deployment_config"] = DeploymentConfig(**original_options)',
            ],
          ],
          validationErrorLine(checked),
        );
      else if (isRecord(checked.dump.autoscaling_config))
        // DeploymentSchema kept autoscaling_config a plain Dict; the AutoscalingConfig model coerces it
        // ("1" -> 1) and ignores unknown keys
        info.config.autoscaling_config = checked.dump.autoscaling_config;
    }
  }
  if (app.routePrefixSet && app.routePrefix !== null) {
    const rp = app.routePrefix;
    const why = !rp.startsWith("/")
      ? "must start with a forward slash ('/')."
      : rp !== "/" && rp.endsWith("/")
        ? "may not end with a trailing '/'."
        : rp.includes("{") || rp.includes("}")
          ? "may not contain wildcards."
          : null;
    if (why)
      fail(
        [
          [
            "ray/serve/_private/application_state.py",
            1388,
            "override_deployment_info",
            "validate_route_prefix(app_route_prefix)",
          ],
          ["ray/serve/_private/utils.py", 598, "validate_route_prefix", "raise ValueError("],
        ],
        `ValueError: Invalid route_prefix '${rp}', ${why}`,
      );
  }
  return [...infos.values()].map(({ spec, config, replica }) => {
    const auto = config.autoscaling_config;
    if (isRecord(auto)) config.autoscaling_config = { ...AUTOSCALING_DEFAULTS, ...auto };
    const a = config.autoscaling_config as Record<string, unknown> | null;
    const target = a
      ? ((a.initial_replicas as number | null) ?? (a.min_replicas as number))
      : ((config.num_replicas as number | null) ?? 1);
    return {
      name: spec.name,
      config,
      replica,
      target,
      gpus: spec.gpusPerReplica,
      version: `${codeVersion}/${md5(sortedJson(replica))}`,
      ...(spec.startupError ? { startupError: spec.startupError } : {}),
    };
  });
}

/** ApplicationState._determine_app_status (plus build/deleting states). */
export function appStatus(app: App): [AppStatus, string] {
  if (app.deletingUntil !== null) return ["DELETING", ""];
  if (app.build) return ["DEPLOYING", ""];
  if (app.failure !== null) return ["DEPLOY_FAILED", app.failure];
  const deps = [...app.deployments.values()];
  const named = (s: DeploymentStatus) => pyRepr(deps.filter((d) => d.status === s).map((d) => d.name));
  if (deps.some((d) => d.status === "DEPLOY_FAILED"))
    return ["DEPLOY_FAILED", `Failed to update the deployments ${named("DEPLOY_FAILED")}.`];
  if (deps.some((d) => d.status === "UNHEALTHY"))
    return ["UNHEALTHY", `The deployments ${named("UNHEALTHY")} are UNHEALTHY.`];
  if (deps.some((d) => d.status === "UPDATING")) return ["DEPLOYING", ""];
  if (
    deps.some(
      (d) =>
        (d.status === "UPSCALING" || d.status === "DOWNSCALING") && d.trigger === "CONFIG_UPDATE_STARTED",
    )
  )
    return ["DEPLOYING", ""];
  return ["RUNNING", ""];
}

/** DeploymentDetails as returned in GET (schema.py _deployment_info_to_schema, exclude_unset). */
export function renderDeployment(d: Deployment, nodeId: string): Record<string, unknown> {
  const c = d.config;
  const rao = (d.replica.ray_actor_options as Record<string, unknown> | undefined) ?? { num_cpus: 1 };
  const config: Record<string, unknown> = {
    name: d.name,
    max_ongoing_requests: c.max_ongoing_requests,
    max_queued_requests: c.max_queued_requests,
    user_config: c.user_config,
    graceful_shutdown_wait_loop_s: c.graceful_shutdown_wait_loop_s,
    graceful_shutdown_timeout_s: c.graceful_shutdown_timeout_s,
    health_check_period_s: c.health_check_period_s,
    health_check_timeout_s: c.health_check_timeout_s,
    ray_actor_options: deepClone(rao),
    request_router_config: deepClone(c.request_router_config),
  };
  if (isRecord(c.autoscaling_config)) config.autoscaling_config = deepClone(c.autoscaling_config);
  else config.num_replicas = c.num_replicas;
  const resources: Record<string, number> = { CPU: typeof rao.num_cpus === "number" ? rao.num_cpus : 1 };
  if (typeof rao.num_gpus === "number" && rao.num_gpus > 0) resources.GPU = rao.num_gpus;
  return {
    name: d.name,
    status: d.status,
    status_trigger: d.trigger,
    message: d.message,
    deployment_config: config,
    target_num_replicas: d.target,
    required_resources: resources,
    replicas: d.replicas.map((r) => ({
      node_id: nodeId,
      node_ip: NODE_IP,
      actor_id: r.actor_id,
      actor_name: `SERVE_REPLICA::${d.app}#${d.name}#${r.replica_id}`,
      worker_id: r.worker_id,
      log_file_path: `/serve/replica_${d.app}_${d.name}_${r.replica_id}.log`,
      replica_id: r.replica_id,
      state: r.state,
      pid: r.pid,
      start_time_s: r.start_time_s,
    })),
  };
}
