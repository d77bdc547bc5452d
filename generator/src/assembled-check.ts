import { isDeepStrictEqual } from "node:util";
import type { ServeApplication } from "./types";

/** Applications as a template produced them: anything may be missing or of the wrong kind. */
export type Produced = Readonly<Record<string, unknown>>;

const show = (value: unknown): string => JSON.stringify(value) ?? "nothing";

/** The first path at which two JSON values differ, for a message that says where to look. */
function firstDifference(want: unknown, got: unknown, path = ""): string {
  if (
    want &&
    got &&
    typeof want === "object" &&
    typeof got === "object" &&
    Array.isArray(want) === Array.isArray(got)
  ) {
    const a = want as Record<string, unknown>;
    const b = got as Record<string, unknown>;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!isDeepStrictEqual(a[key], b[key])) return firstDifference(a[key], b[key], `${path}/${key}`);
    }
  }
  return `${path || "/"} is ${show(got)}, the fragment says ${show(want)}`;
}

/** The ingress deployment build_openai_app creates beside the models' LLMServer deployments. */
const LLM_INGRESS = "OpenAiIngress";

/**
 * What a template produced against what the cluster's fragments and layout determine: exactly these
 * applications, each with our import path, exactly its models' LLMConfigs in args and exactly their
 * per-deployment overrides, and no target_capacity. A template may add settings around them (runtime_env, logging_config,
 * http_options, ray_actor_options on an override...), never models, applications or code to run.
 */
export function checkAgainstFragments(config: Produced, expected: readonly ServeApplication[]): string[] {
  const problems: string[] = [];
  // target_capacity scales every deployment of the cluster: a replica count of the template's own.
  const capacity = config.target_capacity;
  if (capacity !== undefined && capacity !== null && capacity !== 100)
    problems.push(
      `target_capacity ${JSON.stringify(capacity)} would scale every model to that percentage of its replicas: replica counts come from the specs`,
    );
  const produced = config.applications as readonly Produced[];
  const wanted = new Map(expected.map((app) => [app.name, app]));
  const seen = new Set<string>();
  produced.forEach((app, i) => {
    const name = app.name;
    if (typeof name !== "string") {
      problems.push(
        `/applications/${i} has no name (Ray would call it "default"): every application must be named as the cluster's layout names it`,
      );
      return;
    }
    const want = wanted.get(name);
    if (!want) {
      problems.push(
        `application ${show(name)} is not one the fragments define: a template may not add applications`,
      );
      return;
    }
    seen.add(name);
    problems.push(...checkApplication(name, app, want));
  });
  for (const app of expected) {
    if (seen.has(app.name)) continue;
    const models = app.args.llm_configs.map(modelIdOf).join(", ");
    problems.push(
      `application ${show(app.name)} (model${app.args.llm_configs.length === 1 ? "" : "s"} ${models}) is missing`,
    );
  }
  return problems;
}

const modelIdOf = (llm: unknown): string => {
  const id = (llm as { model_loading_config?: { model_id?: unknown } } | null)?.model_loading_config
    ?.model_id;
  return typeof id === "string" ? id : show(id);
};

function checkApplication(name: string, app: Produced, want: ServeApplication): string[] {
  const problems: string[] = [];
  const at = `application ${show(name)}`;
  // Ray's default route is "/": a template that leaves it out for a "/" application changes nothing.
  const route = app.route_prefix === undefined ? "/" : app.route_prefix;
  if (route !== want.route_prefix)
    problems.push(`${at} has route_prefix ${show(route)}; the layout puts it at ${show(want.route_prefix)}`);
  if (app.import_path !== want.import_path)
    problems.push(
      `${at} has import_path ${show(app.import_path)}; it must be exactly ${show(want.import_path)}`,
    );

  const args = (app.args ?? {}) as Record<string, unknown>;
  const others = Object.keys(args).filter((k) => k !== "llm_configs");
  if (others.length > 0)
    problems.push(
      `${at} sets args ${others.map((k) => show(k)).join(", ")}: args hold the fragments' llm_configs only (any change to args restarts every model of the application)`,
    );
  const configs: unknown[] = Array.isArray(args.llm_configs) ? (args.llm_configs as unknown[]) : [];
  const wantConfigs = new Map(want.args.llm_configs.map((c) => [modelIdOf(c), c]));
  const gotConfigs = new Set<string>();
  for (const llm of configs) {
    const id = modelIdOf(llm);
    const mine = wantConfigs.get(id);
    if (!mine) problems.push(`${at} serves model ${id}, which no fragment of this application defines`);
    else if (gotConfigs.has(id)) problems.push(`${at} lists model ${id} twice`);
    else if (!isDeepStrictEqual(llm, mine))
      problems.push(
        `${at}: the LLMConfig of model ${id} differs from its fragment: ${firstDifference(mine, llm)}`,
      );
    gotConfigs.add(id);
  }
  for (const id of wantConfigs.keys())
    if (!gotConfigs.has(id)) problems.push(`${at} leaves out model ${id}, which its fragment puts here`);

  const overrides: unknown[] = Array.isArray(app.deployments) ? (app.deployments as unknown[]) : [];
  const wantOverrides = new Map(want.deployments.map((d) => [String(d.name), d]));
  const gotOverrides = new Set<string>();
  for (const override of overrides) {
    const entry = (override ?? {}) as Record<string, unknown>;
    const deployment = String(entry.name);
    const mine = wantOverrides.get(deployment);
    // Ray Serve LLM's own ingress (ray-serve.md): the template may size or tune it; it holds no model.
    if (!mine && deployment === LLM_INGRESS && !gotOverrides.has(LLM_INGRESS)) {
      gotOverrides.add(LLM_INGRESS);
      continue;
    }
    if (!mine) {
      problems.push(
        `${at} overrides deployment ${show(entry.name)}, which it does not have (Ray fails the application as DEPLOY_FAILED); its deployments are ${[...wantOverrides.keys()].join(", ")}`,
      );
      continue;
    }
    gotOverrides.add(deployment);
    // Replica settings come from the spec. (Adding autoscaling_config to a fixed count is Ray's error, caught
    // before this by checkServeConfig.)
    for (const key of Object.keys(mine)) {
      if (!isDeepStrictEqual(entry[key], mine[key]))
        problems.push(
          `${at}: the override of ${deployment} has ${key} ${show(entry[key])}; the fragment says ${show(mine[key])} (replica settings come from the spec)`,
        );
    }
  }
  for (const deployment of wantOverrides.keys())
    if (!gotOverrides.has(deployment))
      problems.push(
        `${at} has no override for deployment ${deployment}: its fragment's replica settings would be lost (deployments: is missing or incomplete)`,
      );
  return problems;
}
