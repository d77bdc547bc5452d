// Desired vs observed, on the fields the agent sets only: Ray adds its own defaults to what it reports
// (deployed_app_config is exclude_unset, but nested configs grow), so a field-by-field equality would
// re-apply forever. Pure.
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
 * Whether serve-gitops deployed this application: a name it gives under the current cluster.yaml, or an
 * application it built under an earlier one (e.g. before serve.application_name was renamed) — Ray Serve
 * LLM's builder with only models named the way serve-gitops names them.
 */
export function isOwnApp(app: ObservedApp, cluster: ClusterConfig): boolean {
  if (isManagedAppName(cluster, app.name)) return true;
  const config = app.config;
  if (!config || config.import_path !== LLM_IMPORT_PATH) return false;
  const args = isRecord(config.args) ? config.args : undefined;
  const llmConfigs = args && Array.isArray(args.llm_configs) ? args.llm_configs : [];
  return (
    llmConfigs.length > 0 &&
    llmConfigs.every((llm) => {
      const loading = isRecord(llm) && isRecord(llm.model_loading_config) ? llm.model_loading_config : {};
      return typeof loading.model_id === "string" && SERVED_NAME.test(loading.model_id);
    })
  );
}

/** Declarative applications serve-gitops deployed, in any layout. */
export function managedApps(observed: Observed, cluster: ClusterConfig): string[] {
  return [...observed.apps.values()]
    .filter((a) => a.source !== "imperative" && isOwnApp(a, cluster))
    .map((a) => a.name);
}

/**
 * Applications the agent did not create and a PUT would delete. Only `imperative` is known to survive a PUT:
 * an app whose `source` is missing or "unknown" is guarded like a declarative one.
 */
export function unmanagedApps(observed: Observed, cluster: ClusterConfig): string[] {
  return [...observed.apps.values()]
    .filter((a) => a.source !== "imperative" && !isOwnApp(a, cluster))
    .map((a) => a.name)
    .sort();
}

export function observedModels(observed: Observed, cluster: ClusterConfig): Map<string, ObservedModel> {
  const out = new Map<string, ObservedModel>();
  for (const name of managedApps(observed, cluster)) {
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
}

export function compare(desired: DesiredState, observed: Observed): Comparison {
  const cluster = desired.cluster;
  const have = observedModels(observed, cluster);
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
    } else if (!isSubset(m.llm_config, o.llm_config)) {
      changes.push({ ...base, kind: "update", detail: "llm_config differs" });
    } else if (!isSubset(m.override, o.override)) {
      changes.push({ ...base, kind: "update", detail: "replicas differ" });
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
  for (const app of desired.apps.values()) {
    const config = observed.apps.get(app.name)?.config;
    if (!config) differences.push(`application ${app.name} is missing`);
    else if (!isSubset(app, config)) differences.push(`application ${app.name} differs`);
  }
  for (const name of managedApps(observed, cluster)) {
    if (!desired.apps.has(name) && observed.apps.get(name)?.config)
      differences.push(`application ${name} is not in the commit`);
  }
  return {
    inSync: differences.length === 0 && changes.length === 0,
    changes: changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    differences,
    unmanaged: unmanagedApps(observed, cluster),
    undeploys,
  };
}
