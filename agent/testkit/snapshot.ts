/**
 * TEST ONLY. In-memory repository snapshots and Ray observations for the agent's pure functions: no git, no
 * HTTP. `desiredOf` renders the specs with the generator, as `serve-gitops render` would have committed them.
 */
import { checkRepo, type RepoSnapshot } from "../../generator/src/index";
import { compare } from "../src/model/compare";
import { desiredFromSnapshot } from "../src/model/desired";
import { markApplied, startRollout } from "../src/model/rollout";
import type {
  DesiredState,
  Observed,
  ObservedApp,
  ObservedDeployment,
  RolloutState,
} from "../src/model/types";
import { clusterYaml, specYaml, usersYaml, type ClusterOptions } from "./git-fixture";

export const NOW = new Date("2026-01-06T12:35:00Z");

export function snapshotOf(files: Record<string, string>, label = "a".repeat(40)): RepoSnapshot {
  return {
    label,
    files: new Map(
      Object.entries(files).map(([path, text]) => [
        path,
        { path, kind: "file" as const, bytes: Buffer.from(text) },
      ]),
    ),
  };
}

/** Specs by "user/suffix" -> spec YAML; rendered and turned into the desired state of cluster h1. */
export function desiredOf(
  specs: Record<string, string>,
  options: { cluster?: ClusterOptions; sha?: string } = {},
): DesiredState {
  const files: Record<string, string> = {
    "models/users.yaml": usersYaml({ alice: 64, bob: 64 }),
    "clusters/h1/cluster.yaml": clusterYaml(options.cluster),
  };
  for (const [key, text] of Object.entries(specs)) files[`models/${key}.yaml`] = text;
  const check = checkRepo(snapshotOf(files), { now: NOW });
  if (!check.render)
    throw new Error(check.diagnostics.map((d) => `${d.file}:${d.line} ${d.message}`).join("\n"));
  for (const [path, text] of check.render.files) files[path] = text;
  const result = desiredFromSnapshot(snapshotOf(files, options.sha ?? "a".repeat(40)), "h1", NOW);
  if (!result.ok) throw new Error(result.reason);
  return result.desired;
}

export const spec = specYaml;

/**
 * What Ray reports after taking `desired`: each app's config echoed back with fields Ray adds on its own, every
 * deployment in `status` (HEALTHY by default).
 */
export function observedOf(
  desired: DesiredState | undefined,
  options: {
    status?: Record<string, string>;
    appStatus?: Record<string, string>;
    extra?: ObservedApp[];
    deployedAt?: number;
  } = {},
): Observed {
  const apps = new Map<string, ObservedApp>();
  for (const app of desired?.config.applications ?? []) {
    const deployments = new Map<string, ObservedDeployment>();
    for (const d of app.deployments) {
      const name = String(d.name);
      deployments.set(name, { name, status: options.status?.[name] ?? "HEALTHY", message: "" });
    }
    // What Ray reports back is what was PUT (exclude_unset), plus the top-level logging_config copied into an
    // application that sets none (controller.py apply_config).
    const config = JSON.parse(JSON.stringify(app)) as Record<string, unknown>;
    const global = (desired?.config as { logging_config?: unknown } | undefined)?.logging_config;
    if (config.logging_config === undefined && global !== undefined) config.logging_config = global;
    apps.set(app.name, {
      name: app.name,
      status: options.appStatus?.[app.name] ?? "RUNNING",
      message: "",
      source: "declarative",
      route_prefix: app.route_prefix,
      last_deployed_time_s: options.deployedAt ?? 1000,
      config,
      deployments,
    });
  }
  for (const extra of options.extra ?? []) apps.set(extra.name, extra);
  return { apps };
}

/**
 * The rollout after the agent's first apply: every model of `desired` new on an empty Ray, watched from
 * time 0, the PUT sent at `appliedAt` (ms).
 */
export function firstRollout(desired: DesiredState, appliedAt: number): RolloutState {
  const empty = observedOf(undefined);
  const started = startRollout({
    state: { heads: [], tracked: [] },
    head: desired.sha,
    changes: compare(desired, empty).changes,
    desired,
    observed: empty,
    attribution: new Map(),
    now: 0,
  });
  return markApplied(started, desired.sha, appliedAt);
}

export function app(name: string, fields: Partial<ObservedApp> = {}): ObservedApp {
  return {
    name,
    status: "RUNNING",
    message: "",
    source: "declarative",
    route_prefix: `/${name}`,
    last_deployed_time_s: 1000,
    config: { name },
    deployments: new Map(),
    ...fields,
  };
}
