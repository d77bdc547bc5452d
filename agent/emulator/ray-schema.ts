/**
 * TEST/DEMO ONLY. Request-body validation for the Ray Serve dashboard emulator: a re-creation
 * (on ray-pydantic.ts) of the pydantic v1 models ServeDeploySchema / ServeApplicationSchema / DeploymentSchema /
 * HTTPOptionsSchema / gRPCOptionsSchema / LoggingConfig / RayActorOptionsSchema in
 * python/ray/serve/schema.py (Ray 2.5x, via ray._common.pydantic_compat), including their
 * field order, coercions, error messages and `.dict(exclude_unset=True)` dump (which is what the
 * controller stores and later returns as `deployed_app_config`, controller.py apply_config).
 *
 * Mirrors, notably:
 * - unknown keys are silently ignored at every level (no model has extra=forbid except
 *   LoggingConfig), so they never reach `deployed_app_config`;
 * - ServeDeploySchema validators on `applications`, in order: application_names_unique ("Found
 *   multiple configs for application ..."), application_routes_unique, application_names_nonempty;
 *   root validator nested_host_and_port;
 * - DeploymentSchema root validator: an int num_replicas with autoscaling_config is rejected;
 *   autoscaling_config itself is an unchecked Dict here (its values are checked at deploy time);
 * - ServeApplicationSchema has NO route_prefix validator in Ray 2.5x: a malformed app route_prefix
 *   passes the PUT and fails at deploy time (application_state.py override_deployment_info ->
 *   validate_route_prefix), see ray-controller.ts.
 */
import {
  FAIL,
  type ModelOut,
  PyError,
  bool,
  bounded,
  dict,
  dictOf,
  enumOf,
  float,
  int,
  isModelOut,
  list,
  model,
  str,
  strictInt,
  union,
  valueError,
} from "./ray-pydantic";
import { type PydanticV1Error, isRecord, md5, pyText, pydanticV1Repr, sortedJson } from "./ray-pyrepr";

// ---- validators mirrored from schema.py ----
function remoteUris(v: unknown): unknown {
  const env = v as Record<string, unknown>;
  const uris: unknown[] = Array.isArray(env.py_modules) ? [...(env.py_modules as unknown[])] : [];
  if ("working_dir" in env) uris.push(env.working_dir);
  for (const uri of uris) {
    if (uri === null || uri === undefined) continue;
    if (typeof uri !== "string" || !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri))
      throw valueError(
        "runtime_envs in the Serve config support only remote URIs in working_dir and py_modules. " +
          `Got error when parsing URI: Invalid protocol for runtime_env URI ${pyText(uri)}.`,
      );
  }
  return v;
}

function importPathFormat(v: unknown): unknown {
  const s = v as string;
  const count = (c: string) => s.split(c).length - 1;
  if (s.includes(":")) {
    if (count(":") > 1)
      throw valueError(`Got invalid import path "${s}". An import path may have at most one colon.`);
    if (s.lastIndexOf(":") === 0 || s.lastIndexOf(":") === s.length - 1)
      throw valueError(`Got invalid import path "${s}". An import path may not start or end with a colon.`);
    return s;
  }
  if (count(".") < 1)
    throw valueError(
      `Got invalid import path "${s}". An import path must contain at least on dot or colon separating the ` +
        `module (and potentially submodules) from the deployment graph. E.g.: "module.deployment_graph".`,
    );
  if (s.lastIndexOf(".") === 0 || s.lastIndexOf(".") === s.length - 1)
    throw valueError(`Got invalid import path "${s}". An import path may not start or end with a dot.`);
  return s;
}

const LOG_LEVELS: Record<string, number> = {
  CRITICAL: 50,
  FATAL: 50,
  ERROR: 40,
  WARN: 30,
  WARNING: 30,
  INFO: 20,
  DEBUG: 10,
  NOTSET: 0,
};
// prettier-ignore
const LOG_ATTRS = [
  "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info", "exc_text",
  "stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread", "threadName",
  "processName", "process", "taskName", "message", "asctime",
];

export const loggingConfig = model({
  forbidExtra: true,
  fields: [
    {
      name: "encoding",
      type: str,
      validators: [
        (v) => {
          if (v !== "TEXT" && v !== "JSON")
            throw valueError(
              `Got '${String(v)}' for encoding. Encoding must be one of {<EncodingType.TEXT: 'TEXT'>, <EncodingType.JSON: 'JSON'>}.`,
            );
          return v;
        },
      ],
    },
    {
      name: "log_level",
      type: union(int, str),
      validators: [
        (v) => {
          const byNum = Object.entries(LOG_LEVELS).find(([, n]) => n === v);
          if (typeof v === "number") {
            if (!byNum)
              throw valueError(`Got "${v}" for log_level. log_level must be one of [50, 40, 30, 20, 10, 0].`);
            return byNum[0] === "FATAL" ? "CRITICAL" : byNum[0] === "WARN" ? "WARNING" : byNum[0];
          }
          if (!(String(v) in LOG_LEVELS))
            throw valueError(
              `Got "${String(v)}" for log_level. log_level must be one of [${Object.keys(LOG_LEVELS)
                .map((k) => `'${k}'`)
                .join(", ")}].`,
            );
          return v;
        },
      ],
    },
    { name: "logs_dir", type: str, nullable: true },
    { name: "enable_access_log", type: bool },
    {
      name: "additional_log_standard_attrs",
      type: list(str),
      validators: [
        (v) => {
          for (const a of v as string[])
            if (!LOG_ATTRS.includes(a))
              throw valueError(
                `Unknown attribute '${a}'. Additional log standard attributes must be one of ${LOG_ATTRS.join(", ")}.`,
              );
          // list(set(v)): Python's set order, its own per process (string hashes are randomized); here sorted,
          // so a client that compares the list item by item meets another order than it sent.
          return [...new Set(v as string[])].sort();
        },
      ],
    },
  ],
});

const rayActorOptions = model({
  fields: [
    { name: "runtime_env", type: dict, validators: [remoteUris] },
    { name: "num_cpus", type: bounded(float, { ge: 0 }), nullable: true },
    { name: "num_gpus", type: bounded(float, { ge: 0 }), nullable: true },
    { name: "memory", type: bounded(float, { ge: 0 }), nullable: true },
    { name: "resources", type: dict },
    { name: "accelerator_type", type: str, nullable: true },
  ],
});

const deploymentSchema = model({
  fields: [
    { name: "name", type: str, required: true },
    { name: "num_replicas", type: union(bounded(int, { gt: 0 }), str), nullable: true },
    { name: "max_ongoing_requests", type: bounded(int, { gt: 0 }) },
    { name: "max_queued_requests", type: strictInt },
    { name: "user_config", type: dict, nullable: true },
    { name: "autoscaling_config", type: dict, nullable: true },
    { name: "graceful_shutdown_wait_loop_s", type: bounded(float, { ge: 0 }) },
    { name: "graceful_shutdown_timeout_s", type: bounded(float, { ge: 0 }) },
    { name: "health_check_period_s", type: bounded(float, { gt: 0 }) },
    { name: "health_check_timeout_s", type: bounded(float, { gt: 0 }) },
    { name: "ray_actor_options", type: rayActorOptions },
    { name: "placement_group_bundles", type: list(dictOf(str, float)) },
    { name: "placement_group_strategy", type: str },
    { name: "max_replicas_per_node", type: int },
    { name: "logging_config", type: loggingConfig },
    { name: "request_router_config", type: dict },
  ],
  roots: [
    (values) => {
      const n = values.num_replicas;
      const auto = values.autoscaling_config;
      if (typeof n === "number") {
        if (auto !== undefined && auto !== null)
          throw valueError(
            "Manually setting num_replicas is not allowed when autoscaling_config is provided.",
          );
      } else if (n !== "auto" && n !== null && n !== undefined) {
        throw valueError(`\`num_replicas\` must be an int or "auto", but got: ${pyText(n)}`);
      }
    },
    (values) => {
      const m = values.max_replicas_per_node;
      const b = values.placement_group_bundles;
      if (m !== undefined && m !== null && b !== undefined && b !== null)
        throw valueError(
          "Setting max_replicas_per_node is not allowed when placement_group_bundles is provided.",
        );
    },
    (values) => {
      const q = values.max_queued_requests;
      if (typeof q === "number" && q < 1 && q !== -1)
        throw valueError("max_queued_requests must be -1 (no limit) or a positive integer.");
    },
  ],
});

const applicationSchema = model({
  fields: [
    { name: "name", type: str },
    { name: "route_prefix", type: str, nullable: true },
    { name: "import_path", type: str, required: true, validators: [importPathFormat] },
    { name: "runtime_env", type: dict, validators: [remoteUris] },
    { name: "host", type: str },
    { name: "port", type: int },
    { name: "deployments", type: list(deploymentSchema) },
    { name: "autoscaling_policy", type: dict, nullable: true },
    { name: "args", type: dict },
    { name: "logging_config", type: loggingConfig, nullable: true },
    { name: "external_scaler_enabled", type: bool },
  ],
  roots: [
    (values) => {
      if (values.external_scaler_enabled !== true) return;
      const deps = (values.deployments as Record<string, unknown>[] | undefined) ?? [];
      const auto = deps.filter((d) => d.num_replicas === "auto" || (d.autoscaling_config ?? null) !== null);
      if (auto.length)
        throw valueError(
          `external_scaler_enabled is set to True, but the following deployment(s) have autoscaling configured: ` +
            `${auto.map((d) => `"${String(d.name)}"`).join(", ")}. When using an external autoscaler, Serve's ` +
            `built-in autoscaling must be disabled for all deployments in the application.`,
        );
    },
  ],
});

const appName = (a: Record<string, unknown>) => (a.name as string | undefined) ?? "default";
const appRoute = (a: Record<string, unknown>) =>
  "route_prefix" in a ? (a.route_prefix as string | null) : "/";
const dupes = (xs: string[]) => [...new Set(xs.filter((x, i) => xs.indexOf(x) !== i))].map((x) => `"${x}"`);

const deploySchema = model({
  fields: [
    { name: "proxy_location", type: enumOf("ProxyLocation", ["Disabled", "HeadOnly", "EveryNode"]) },
    {
      name: "http_options",
      type: model({
        fields: [
          { name: "host", type: str },
          { name: "port", type: int },
          { name: "root_path", type: str },
          { name: "request_timeout_s", type: float, nullable: true },
          { name: "keep_alive_timeout_s", type: int },
          { name: "ssl_keyfile", type: str, nullable: true },
          { name: "ssl_certfile", type: str, nullable: true },
          { name: "ssl_keyfile_password", type: str, nullable: true },
          { name: "ssl_ca_certs", type: str, nullable: true },
        ],
      }),
    },
    {
      name: "grpc_options",
      type: model({
        fields: [
          { name: "port", type: int },
          { name: "grpc_servicer_functions", type: list(str) },
          { name: "request_timeout_s", type: float, nullable: true },
        ],
      }),
    },
    { name: "logging_config", type: loggingConfig, nullable: true },
    {
      name: "applications",
      type: list(applicationSchema),
      required: true,
      validators: [
        (v) => {
          const d = dupes((v as ModelOut[]).map((a) => appName(a.values)));
          if (d.length)
            throw valueError(
              `Found multiple configs for ${d.length === 1 ? "application " : "applications "}${d.join(", ")}. Please remove all duplicates.`,
            );
          return v;
        },
        (v) => {
          const routes = (v as ModelOut[])
            .map((a) => appRoute(a.values))
            .filter((r): r is string => r !== null);
          const d = dupes(routes);
          if (d.length)
            throw valueError(
              `Found duplicate applications for ${d.length === 1 ? "route prefix " : "route prefixes "}${d.join(", ")}. ` +
                "Please ensure each application's route_prefix is unique.",
            );
          return v;
        },
        (v) => {
          if ((v as ModelOut[]).some((a) => appName(a.values).length === 0))
            throw valueError("Application names must be nonempty.");
          return v;
        },
      ],
    },
    { name: "target_capacity", type: bounded(float, { ge: 0, le: 100 }), nullable: true },
  ],
  roots: [
    (values) => {
      const apps = values.applications as Record<string, unknown>[] | undefined;
      if (apps === undefined) throw new PyError("type_error", "'NoneType' object is not iterable");
      for (const a of apps) {
        if ("host" in a)
          throw valueError(
            `Host "${String(a.host)}" is set in the config for application \`${appName(a)}\`. Please remove it and set host in the top level deploy config only.`,
          );
        if ("port" in a)
          throw valueError(
            `Port ${String(a.port)} is set in the config for application \`${appName(a)}\`. Please remove it and set port in the top level deploy config only.`,
          );
      }
    },
  ],
});

/** One application of a validated config. */
export interface ParsedApp {
  name: string;
  /** null = not exposed over HTTP; "/" when unset */
  routePrefix: string | null;
  /** whether route_prefix was given (override_deployment_info only rewrites it when set) */
  routePrefixSet: boolean;
  importPath: string;
  runtimeEnv: Record<string, unknown>;
  args: Record<string, unknown>;
  /** per-deployment overrides, each `DeploymentSchema.dict(exclude_unset=True)` */
  deployments: Record<string, unknown>[];
  /** `ServeApplicationSchema.dict(exclude_unset=True)`, the future `deployed_app_config` */
  dump: Record<string, unknown>;
  /**
   * get_app_code_version (deploy_utils.py, Ray 2.5x): md5 of sorted JSON of import_path, runtime_env, args and,
   * for every per-deployment override whose autoscaling_config is a dict, its policy (and every dict
   * request_router_config): switching a deployment between num_replicas and autoscaling rebuilds the app.
   */
  codeVersion: string;
}

export interface ParsedDeploy {
  proxyLocation: string | undefined;
  httpOptions: Record<string, unknown> | undefined;
  grpcOptions: Record<string, unknown> | undefined;
  targetCapacity: number | null;
  applications: ParsedApp[];
}

/** get_app_code_version of Ray 2.5x (deploy_utils.py). */
export function appCodeVersion(
  importPath: string,
  runtimeEnv: Record<string, unknown>,
  args: Record<string, unknown>,
  deployments: readonly Record<string, unknown>[],
): string {
  const dicts = (key: string) => deployments.map((d) => d[key]).filter(isRecord);
  return md5(
    sortedJson({
      import_path: importPath,
      runtime_env: runtimeEnv,
      args,
      request_router_configs: dicts("request_router_config"),
      deployment_autoscaling_policies: dicts("autoscaling_config").map((c) => c.policy ?? null),
    }),
  );
}

/** Validate a PUT body like ServeDeploySchema.parse_obj; on failure, the 400 text Ray returns. */
export function parseDeployBody(
  body: unknown,
): { ok: true; config: ParsedDeploy } | { ok: false; text: string } {
  const errs: PydanticV1Error[] = [];
  if (!isRecord(body)) {
    const t = Array.isArray(body)
      ? "list"
      : body === null
        ? "NoneType"
        : typeof body === "string"
          ? "str"
          : "int";
    errs.push({ loc: ["__root__"], msg: `ServeDeploySchema expected dict not ${t}`, type: "type_error" });
    return { ok: false, text: pydanticV1Repr("ServeDeploySchema", errs) };
  }
  const r = deploySchema(body, [], errs);
  if (r === FAIL || !isModelOut(r)) return { ok: false, text: pydanticV1Repr("ServeDeploySchema", errs) };
  const top = r.dump;
  const globalLogging = top.logging_config as Record<string, unknown> | null | undefined;
  const applications = (top.applications as Record<string, unknown>[]).map((dump) => {
    // controller.py apply_config: an app without logging_config inherits the global one, and the
    // assignment makes it part of the stored (exclude_unset) config.
    if ((dump.logging_config ?? null) === null && globalLogging) dump.logging_config = globalLogging;
    const runtimeEnv = (dump.runtime_env as Record<string, unknown> | undefined) ?? {};
    const args = (dump.args as Record<string, unknown> | undefined) ?? {};
    const importPath = dump.import_path as string;
    return {
      name: appName(dump),
      routePrefix: appRoute(dump),
      routePrefixSet: "route_prefix" in dump,
      importPath,
      runtimeEnv,
      args,
      deployments: (dump.deployments as Record<string, unknown>[] | undefined) ?? [],
      dump,
      codeVersion: appCodeVersion(
        importPath,
        runtimeEnv,
        args,
        (dump.deployments as Record<string, unknown>[] | undefined) ?? [],
      ),
    } satisfies ParsedApp;
  });
  return {
    ok: true,
    config: {
      proxyLocation: top.proxy_location as string | undefined,
      httpOptions: top.http_options as Record<string, unknown> | undefined,
      grpcOptions: top.grpc_options as Record<string, unknown> | undefined,
      targetCapacity: (top.target_capacity as number | null | undefined) ?? null,
      applications,
    },
  };
}
