// Desired vs observed. Ray reports each application's deployed_app_config as it was submitted
// (exclude_unset), plus the top-level logging_config it copies into an application that sets none: the two
// are compared for equality, so a setting a commit removes is a change too (a subset test missed it). Pure.
import {
  LLM_IMPORT_PATH,
  SERVED_NAME,
  deploymentName,
  isManagedAppName,
  type ClusterConfig,
} from "../../../generator/src/index";
import type { DesiredState, Observed, ObservedApp } from "./types";

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Whether everything `want` sets is in `have` with the same value (arrays: same length, item by item). */
export function isSubset(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) {
    return Array.isArray(have) && want.length === have.length && want.every((w, i) => isSubset(w, have[i]));
  }
  if (isRecord(want)) {
    return isRecord(have) && Object.entries(want).every(([k, v]) => isSubset(v, have[k]));
  }
  return want === have;
}

/**
 * Whether two JSON values are equal: same keys, same items in order, same primitives. Ray's
 * deployed_app_config is what was submitted (ServeApplicationSchema.dict(exclude_unset=True), the controller's
 * apply_config; Ray's own test_serve_agent asserts that equality), so a key a commit removes must be seen gone.
 */
export function isEqual(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) {
    return Array.isArray(have) && want.length === have.length && want.every((w, i) => isEqual(w, have[i]));
  }
  if (isRecord(want)) {
    if (!isRecord(have)) return false;
    const keys = Object.keys(want);
    return (
      keys.length === Object.keys(have).length && keys.every((k) => k in have && isEqual(want[k], have[k]))
    );
  }
  return want === have;
}

/**
 * An application as Ray reports it after a PUT of `config` (also a reported one, to compare the two):
 * controller.py apply_config gives an application that sets no logging_config the config's top-level one (a
 * LoggingConfig is truthy even with no field set), and every LoggingConfig is stored as schema.py validates it.
 */
export function asDeployed(
  app: Readonly<Record<string, unknown>>,
  config: Readonly<Record<string, unknown>> = {},
): Readonly<Record<string, unknown>> {
  const global = config.logging_config;
  const inherited = (app.logging_config ?? null) === null && isRecord(global) ? global : app.logging_config;
  const out: Record<string, unknown> = { ...app };
  if (inherited !== undefined) out.logging_config = storedLogging(inherited);
  if (Array.isArray(app.deployments)) out.deployments = app.deployments.map(deploymentAsStored);
  return out;
}

/** A deployment override as Ray stores it: its logging_config as schema.py validates it. */
export function deploymentAsStored(d: unknown): unknown {
  return isRecord(d) && d.logging_config !== undefined
    ? { ...d, logging_config: storedLogging(d.logging_config) }
    : d;
}

/** logging._levelToName: the levels Ray accepts as numbers. */
const LEVEL_NAMES: Readonly<Record<number, string>> = {
  0: "NOTSET",
  10: "DEBUG",
  20: "INFO",
  30: "WARNING",
  40: "ERROR",
  50: "CRITICAL",
};

/**
 * schema.py LoggingConfig: valid_log_level stores an int level by its name; valid_additional_log_standard_attrs
 * returns list(set(v)), in an order of its own (Python's string hashes differ per process): compared sorted.
 */
function storedLogging(v: unknown): unknown {
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = { ...v };
  const level = out.log_level;
  if (typeof level === "number" && Object.hasOwn(LEVEL_NAMES, level)) out.log_level = LEVEL_NAMES[level];
  const attrs = out.additional_log_standard_attrs;
  if (Array.isArray(attrs)) out.additional_log_standard_attrs = [...new Set(attrs.map(String))].sort();
  return out;
}

/** One model as Ray holds it, read back from a managed application's deployed_app_config. */
export interface ObservedModel {
  readonly served_name: string;
  /** <user>/<suffix> when the served name has serve-gitops' form, else the served name. */
  readonly key: string;
  readonly app: string;
  readonly deployment: string;
  readonly llm_config: Readonly<Record<string, unknown>>;
  readonly override: Readonly<Record<string, unknown>> | undefined;
}

export const keyOfServedName = (served: string): string => {
  const match = SERVED_NAME.exec(served);
  return match ? `${match[1]}/${match[3]}` : served;
};

/**
 * What tells the agent's own applications from anyone else's: the cluster (its current layout and
 * application_name), the applications the current commit defines, and the applications the agent itself
 * deployed, from its record (which keeps an application_name renamed since then the agent's own).
 */
export interface Ownership {
  readonly cluster: ClusterConfig;
  readonly defined: ReadonlySet<string>;
  readonly deployed: ReadonlySet<string>;
}

export const ownership = (desired: DesiredState, deployed: readonly string[] = []): Ownership => ({
  cluster: desired.cluster,
  defined: new Set(desired.apps.keys()),
  deployed: new Set(deployed),
});

const USER = /^[a-z][a-z0-9_]{0,31}$/;

/** The model ids of an application built with Ray Serve LLM's builder (empty for any other app). */
function llmModelIds(config: Readonly<Record<string, unknown>>): unknown[] {
  if (config.import_path !== LLM_IMPORT_PATH) return [];
  const args = isRecord(config.args) ? config.args : undefined;
  const llmConfigs = args && Array.isArray(args.llm_configs) ? args.llm_configs : [];
  return llmConfigs.map((llm) =>
    isRecord(llm) && isRecord(llm.model_loading_config) ? llm.model_loading_config.model_id : undefined,
  );
}

/** Whether a name and its models are what the CURRENT layout would give (any layout's name is not enough). */
function fitsLayout(cluster: ClusterConfig, name: string, ids: readonly unknown[]): boolean {
  const { layout, application_name } = cluster.serve;
  const served = ids.length > 0 && ids.every((id) => typeof id === "string" && SERVED_NAME.test(id));
  if (!served) return false;
  if (layout === "per-model") return ids.length === 1 && ids[0] === name;
  if (layout === "single") return name === application_name;
  const user = name.startsWith(`${application_name}-`) ? name.slice(application_name.length + 1) : "";
  return USER.test(user) && ids.every((id) => (id as string).startsWith(`${user}-`));
}

/**
 * Whether serve-gitops deployed this application. A PUT deletes every declarative application it does not
 * list, so a name alone never makes an application ours: it must be built with Ray Serve LLM's builder (the
 * only import_path the agent deploys) and be one the agent deployed (its record), one the commit defines, or
 * one the current layout would create with models named the serve-gitops way. An application Ray is deleting
 * (no config left) counts by its name: the PUT cannot delete it twice.
 */
export function isOwnApp(app: ObservedApp, own: Ownership): boolean {
  const named = own.deployed.has(app.name) || own.defined.has(app.name);
  if (!app.config) return named || isManagedAppName(own.cluster, app.name);
  const ids = llmModelIds(app.config);
  if (ids.length === 0) return false;
  return named || fitsLayout(own.cluster, app.name, ids);
}

/** Declarative applications serve-gitops deployed, in any layout. */
export function managedApps(observed: Observed, own: Ownership): string[] {
  return [...observed.apps.values()]
    .filter((a) => a.source !== "imperative" && isOwnApp(a, own))
    .map((a) => a.name);
}

/**
 * Applications the agent did not create and a PUT would delete. Only `imperative` is known to survive a PUT:
 * an app whose `source` is missing or "unknown" is guarded like a declarative one.
 */
export function unmanagedApps(observed: Observed, own: Ownership): string[] {
  return [...observed.apps.values()]
    .filter((a) => a.source !== "imperative" && !isOwnApp(a, own))
    .map((a) => a.name)
    .sort();
}

export function observedModels(observed: Observed, own: Ownership): Map<string, ObservedModel> {
  const out = new Map<string, ObservedModel>();
  for (const name of managedApps(observed, own)) {
    const config = observed.apps.get(name)?.config;
    const args = config && isRecord(config.args) ? config.args : undefined;
    const llmConfigs = args && Array.isArray(args.llm_configs) ? args.llm_configs : [];
    const overrides = config && Array.isArray(config.deployments) ? config.deployments.filter(isRecord) : [];
    for (const llm of llmConfigs) {
      if (!isRecord(llm) || !isRecord(llm.model_loading_config)) continue;
      const served = llm.model_loading_config.model_id;
      if (typeof served !== "string") continue;
      const explicit = isRecord(llm.deployment_config) ? llm.deployment_config.name : undefined;
      const deployment = typeof explicit === "string" ? `LLMServer:${explicit}` : deploymentName(served);
      out.set(served, {
        served_name: served,
        key: keyOfServedName(served),
        app: name,
        deployment,
        llm_config: llm,
        override: overrides.find((d) => d.name === deployment),
      });
    }
  }
  return out;
}

export interface ModelChange {
  readonly key: string;
  readonly served_name: string;
  readonly kind: "deploy" | "update" | "undeploy";
  /** What differs, for logs and events. */
  readonly detail: string;
  readonly app: string;
  readonly deployment: string;
}

export interface Comparison {
  readonly inSync: boolean;
  /** Per model, for statuses and events. */
  readonly changes: readonly ModelChange[];
  /** Per application: what makes the cluster out of sync (also when no model changed, e.g. a route edited by hand). */
  readonly differences: readonly string[];
  readonly unmanaged: readonly string[];
  /** Models leaving Ray (not renames): what the prune limit counts. */
  readonly undeploys: number;
  /** The agent's own applications Ray holds (with a config): what a PUT of an empty config would delete. */
  readonly managed: readonly string[];
}

/** @param deployed the applications the agent deployed, from its record */
export function compare(
  desired: DesiredState,
  observed: Observed,
  deployed: readonly string[] = [],
): Comparison {
  const own = ownership(desired, deployed);
  const have = observedModels(observed, own);
  const haveKeys = new Set([...have.values()].map((m) => m.key));
  const changes: ModelChange[] = [];
  const wantServed = new Set<string>();
  for (const m of desired.models.values()) {
    wantServed.add(m.served_name);
    const o = have.get(m.served_name);
    const base = { key: m.key, served_name: m.served_name, app: m.app, deployment: m.deployment };
    if (!o) {
      changes.push({
        ...base,
        kind: haveKeys.has(m.key) ? "update" : "deploy",
        detail: haveKeys.has(m.key) ? "new served name" : "not in Ray",
      });
    } else if (o.app !== m.app) {
      changes.push({ ...base, kind: "update", detail: `moves from application ${o.app}` });
    } else if (!isEqual(m.llm_config, o.llm_config)) {
      changes.push({ ...base, kind: "update", detail: "llm_config differs" });
    } else if (
      !isEqual(
        deploymentAsStored(assembledOverride(desired, m) ?? m.override),
        deploymentAsStored(o.override),
      )
    ) {
      changes.push({
        ...base,
        kind: "update",
        detail: isSubset(m.override, o.override) ? "deployment settings differ" : "replicas differ",
      });
    }
  }
  let undeploys = 0;
  const seen = new Set<string>();
  for (const o of have.values()) {
    if (wantServed.has(o.served_name) || desired.models.has(o.key) || seen.has(o.key)) continue;
    seen.add(o.key);
    undeploys++;
    changes.push({
      key: o.key,
      served_name: o.served_name,
      kind: "undeploy",
      detail: "not in the commit",
      app: o.app,
      deployment: o.deployment,
    });
  }

  const differences: string[] = [];
  const managed = managedApps(observed, own).filter((name) => observed.apps.get(name)?.config);
  const top = desired.config as unknown as Readonly<Record<string, unknown>>;
  for (const app of desired.apps.values()) {
    const config = observed.apps.get(app.name)?.config;
    if (!config) differences.push(`application ${app.name} is missing`);
    else if (!isEqual(asDeployed(app as unknown as Record<string, unknown>, top), asDeployed(config)))
      differences.push(`application ${app.name} differs`);
  }
  for (const name of managed) {
    if (!desired.apps.has(name)) differences.push(`application ${name} is not in the commit`);
  }
  return {
    inSync: differences.length === 0 && changes.length === 0,
    changes: changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    differences,
    unmanaged: unmanagedApps(observed, own),
    undeploys,
    managed,
  };
}

/** The model's override as the assembled config holds it (a cluster's template may add settings to it). */
function assembledOverride(
  desired: DesiredState,
  m: { readonly app: string; readonly deployment: string },
): Readonly<Record<string, unknown>> | undefined {
  return desired.apps.get(m.app)?.deployments.find((d) => d.name === m.deployment);
}
