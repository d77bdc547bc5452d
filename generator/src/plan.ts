import { applicationsOf, assemble, templateOf } from "./assemble";
import { classifyPath } from "./paths";
import { MAX_CONFIG_BYTES, parseYamlFile } from "./yaml-source";
import { checkRepo, type RepoCheck } from "./pipeline";
import { createSpecMemo } from "./validate";
import { renderFragments, sortedKeys } from "./render";
import { diagnostic, sortDiagnostics } from "./rules";
import type { ClusterConfig, Diagnostic, Fragment, RepoSnapshot, ServeApplication } from "./types";

/** The trailer an admin types into a merge message to let the agent undeploy more than sync.prune_limit models. */
export const ALLOW_PRUNE_TRAILER = "Serve-Gitops-Allow-Prune";

export interface ModelChange {
  /** <user>/<suffix> */
  readonly key: string;
  readonly user: string;
  readonly served_name: string;
  readonly endpoint: string;
  readonly spec: string;
  readonly gpus: number;
  /** "2x1 GPU", "autoscaling 1-4 x2 GPU" */
  readonly replicas: string;
  /** What changed, for updates: "num_replicas 1 -> 2", "engine_kwargs.max_model_len 4096 -> 8192". */
  readonly changes: readonly string[];
  /** Whether the update rebuilds the model's replicas (false for a scale-only change). */
  readonly restarts: boolean;
  /**
   * The served name is not fixed yet: no fragment of the model exists in the base or the head, so the name
   * carries the time of this plan and `render` fixes it when it first writes the fragment.
   */
  readonly provisional: boolean;
}

export interface UserBudget {
  readonly user: string;
  readonly before: number;
  readonly after: number;
  readonly quota: number;
  readonly over: boolean;
}

/**
 * A guard of the cluster's sync agent (agent/src/model/guards.ts) that refuses the change once it is merged:
 * the cluster keeps running what it runs now until a later commit passes the guard.
 */
export interface AgentRefusal {
  /** "empty": the change leaves the cluster with no models; "prune": it undeploys more than the prune limit. */
  readonly guard: "empty" | "prune";
  /** What the agent will refuse and how to go ahead. */
  readonly message: string;
}

export interface ClusterPlan {
  readonly cluster: string;
  readonly layout: string;
  readonly deploy: readonly ModelChange[];
  readonly update: readonly ModelChange[];
  readonly undeploy: readonly ModelChange[];
  /** Served names of models that restart although the change is not theirs, or is. */
  readonly restarts: readonly string[];
  readonly gpus: {
    readonly before: number;
    readonly after: number;
    readonly capacity: number;
    readonly over: boolean;
  };
  readonly users: readonly UserBudget[];
  /** What the cluster's sync agent will refuse to apply after the merge (empty when it applies the change). */
  readonly refusals: readonly AgentRefusal[];
}

export interface Plan {
  readonly base: string;
  readonly head: string;
  readonly ok: boolean;
  /**
   * Errors in the base: it renders nothing, so its side of the plan is what its valid specs would render
   * (rather than nothing, which would show every model as a new deploy).
   */
  readonly baseErrors?: number;
  /** True when some cluster deploys, updates or undeploys a model. */
  readonly changed: boolean;
  readonly clusters: readonly ClusterPlan[];
  readonly diagnostics: readonly Diagnostic[];
}

export interface PlanOptions {
  readonly now: Date;
  /**
   * Checks the caller already ran, reused instead of validating 10,000 specs twice more: `base` must be
   * checkRepo(base, {now}) and `head` checkRepo(head, {now, timestamps: [base.timestamps], blame?}).
   */
  readonly checks?: { readonly base: RepoCheck; readonly head: RepoCheck };
}

/** What merging head over base does to every cluster. Pure: both trees come in as snapshots. */
export function planChange(base: RepoSnapshot, head: RepoSnapshot, options: PlanOptions): Plan {
  const memo = createSpecMemo();
  const before = options.checks?.base ?? checkRepo(base, { now: options.now, memo });
  // Served names of models the base already has come from the base, so a change cannot rename them.
  const after =
    options.checks?.head ?? checkRepo(head, { now: options.now, timestamps: [before.timestamps], memo });
  // A cluster whose cluster.yaml the base breaks renders nothing there, while its agent keeps serving the
  // last good render: the fragments the base still commits. The plan reads them (laid out as the head's
  // cluster.yaml says), so fixing the file does not show the cluster's running models as new deploys.
  const brokenInBase = new Set(
    [...after.validation.model.clusters.keys()].filter(
      (name) =>
        !before.validation.model.clusters.has(name) && base.files.has(`clusters/${name}/cluster.yaml`),
    ),
  );
  const beforeFragments = [
    ...(before.render?.fragments ??
      renderFragments(before.validation.model, { now: options.now, timestamps: [before.timestamps] })
        .fragments),
    ...[...brokenInBase].flatMap((name) => committedFragments(base, name)),
  ];
  const afterFragments =
    after.render?.fragments ?? provisionalFragments(head, beforeFragments, before, after, options.now);
  const clusterNames = new Set([
    ...before.validation.model.clusters.keys(),
    ...after.validation.model.clusters.keys(),
  ]);
  // A model named by no fragment of either side has the name of this plan's `now`, not its final one.
  const named = new Set([...before.timestamps.keys(), ...after.timestamps.keys()]);
  const clusters: ClusterPlan[] = [];
  for (const name of [...clusterNames].sort()) {
    const cluster = after.validation.model.clusters.get(name) ?? before.validation.model.clusters.get(name)!;
    const oldCluster =
      before.validation.model.clusters.get(name) ??
      (brokenInBase.has(name) ? after.validation.model.clusters.get(name) : undefined);
    const old = beforeFragments.filter((f) => f.cluster === name);
    const now = afterFragments.filter((f) => f.cluster === name);
    clusters.push(
      planCluster(
        cluster,
        oldCluster,
        old,
        now,
        after.validation.model.users?.users,
        before.validation.model.users?.users,
        named,
        // A cluster the head removes has no agent left to refuse anything; a new one had no models.
        after.validation.model.clusters.has(name),
        oldCluster
          ? templateRebuilds(oldCluster, cluster, old, now, base, head)
          : { apps: new Set(), deployments: new Set() },
      ),
    );
  }
  const changed = clusters.some(
    (c) => c.deploy.length + c.update.length + c.undeploy.length + c.restarts.length > 0,
  );
  const refusals = agentRefusalDiagnostics(clusters, after.validation.model.clusters);
  return {
    base: base.label,
    head: head.label,
    ok: after.ok,
    baseErrors: before.diagnostics.filter((d) => d.severity === "error").length,
    changed,
    clusters,
    diagnostics:
      refusals.length > 0 ? sortDiagnostics([...after.diagnostics, ...refusals]) : after.diagnostics,
  };
}

/**
 * The plan's agent refusals as warnings (agent-will-refuse) on each cluster's cluster.yaml, for annotations:
 * a warning, not an error, since an admin may mean it (and confirm it the way the message says).
 */
export function agentRefusalDiagnostics(
  clusters: readonly ClusterPlan[],
  configs: ReadonlyMap<string, ClusterConfig>,
): Diagnostic[] {
  return clusters.flatMap((c) =>
    c.refusals.map((r) =>
      diagnostic(
        "agent-will-refuse",
        configs.get(c.cluster)?.file ?? `clusters/${c.cluster}/cluster.yaml`,
        { line: 1, column: 1 },
        r.message,
      ),
    ),
  );
}

/** The agent's guards, judged on the plan: the head's sync settings, the models the base has and the head drops. */
function agentRefusals(
  cluster: ClusterConfig,
  before: number,
  after: number,
  undeploys: number,
): AgentRefusal[] {
  const out: AgentRefusal[] = [];
  const { allow_empty, prune_limit } = cluster.sync;
  const stays = `until then the agent applies nothing on ${cluster.name}, which keeps running its current models`;
  if (before > 0 && after === 0 && !allow_empty) {
    out.push({
      guard: "empty",
      message:
        `the sync agent of cluster ${cluster.name} will refuse this change: it leaves the cluster with no models ` +
        `(it has ${before} now) and sync.allow_empty is false in ${cluster.file}; ${stays}. Keep a model ` +
        `on ${cluster.name}, or have its admins set sync.allow_empty: true if emptying it is intended`,
    });
  }
  if (undeploys > prune_limit) {
    out.push({
      guard: "prune",
      message:
        `the sync agent of cluster ${cluster.name} will refuse this change: it undeploys ${undeploys} models, ` +
        `more than sync.prune_limit (${prune_limit}); ${stays}. It needs an admin to merge it with the trailer ` +
        `\`${ALLOW_PRUNE_TRAILER}: ${undeploys}\` typed into the merge message (see agent/README.md, ` +
        `"Confirming a large prune"), or undeploy at most ${prune_limit} models per change`,
    });
  }
  return out;
}

const keyOf = (f: Fragment) => `${f.user}/${f.suffix}`;

/** The fragments a snapshot commits for a cluster, as written; a file that is no fragment is left out. */
function committedFragments(snapshot: RepoSnapshot, cluster: string): Fragment[] {
  const prefix = `clusters/${cluster}/rendered/`;
  const out: Array<{ path: string; fragment: Fragment }> = [];
  for (const file of snapshot.files.values()) {
    if (!file.path.startsWith(prefix) || file.kind !== "file") continue;
    const where = classifyPath(file.path);
    if (where.role !== "rendered") continue;
    // Read as strictly as a spec (no anchors or aliases; as large as a config file): a hand-edited file is not
    // trusted.
    const parsed = parseYamlFile(file.path, file.bytes, MAX_CONFIG_BYTES);
    if (!parsed.ok) continue;
    const f = parsed.doc.value as Record<string, unknown> | null;
    const strings = ["served_name", "created", "spec", "spec_sha256", "generator", "endpoint"];
    const objects = ["llm_config", "deployment"];
    if (
      typeof f !== "object" ||
      f === null ||
      f.cluster !== cluster ||
      f.user !== where.user ||
      f.suffix !== where.suffix ||
      !strings.every((k) => typeof f[k] === "string") ||
      !["gpus", "gpus_per_replica"].every((k) => Number.isInteger(f[k])) ||
      !objects.every((k) => typeof f[k] === "object" && f[k] !== null && !Array.isArray(f[k]))
    )
      continue;
    out.push({ path: file.path, fragment: f as unknown as Fragment });
  }
  // In path order, whatever order the snapshot lists its files in: the plan is deterministic.
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((e) => e.fragment);
}

/**
 * Applications whose code version a change to the cluster's template alters. Ray hashes an application's
 * import_path, runtime_env and args with sorted keys (deploy_utils.get_app_code_version) and rebuilds it when
 * that changes; args come from the fragments, but a template may set runtime_env (and the rest), so when the
 * template differs both sides are assembled through their own template and compared. Settings outside the
 * applications (http_options, logging_config) restart no model. A side that does not assemble reports its
 * own diagnostics and adds nothing here.
 */
function templateRebuilds(
  oldCluster: ClusterConfig,
  cluster: ClusterConfig,
  old: readonly Fragment[],
  now: readonly Fragment[],
  base: RepoSnapshot,
  head: RepoSnapshot,
): TemplateRestarts {
  const none: TemplateRestarts = { apps: new Set(), deployments: new Set() };
  const before = templateOf(oldCluster, base);
  const after = templateOf(cluster, head);
  const source = (t: typeof before) => (t.kind === "missing" ? undefined : t.source);
  if (before.kind === after.kind && source(before) === source(after)) return none;
  const wasConfig = assemble(oldCluster, old, base).config;
  const isConfig = assemble(cluster, now, head).config;
  if (!wasConfig?.applications.length || !isConfig?.applications.length) return none;
  // Keys sorted as Ray's json.dumps(sort_keys=True): a template may write runtime_env's keys in any order.
  const versions = (config: { applications: readonly ServeApplication[] }) =>
    new Map(config.applications.map((app) => [app.name, JSON.stringify(sortedKeys(codeFields(app)))]));
  const was = versions(wasConfig);
  const apps = new Set(
    [...versions(isConfig)]
      .filter(([name, version]) => was.has(name) && was.get(name) !== version)
      .map(([n]) => n),
  );
  // Deployments (by override name, unique per application) whose actor options the template changes.
  const actors = (config: { applications: readonly ServeApplication[] }) =>
    new Map(
      config.applications.flatMap((app) =>
        app.deployments.map((d) => [`${app.name}\u0000${String(d.name)}`, actorOf(d)]),
      ),
    );
  const wasActors = actors(wasConfig);
  const deployments = new Set(
    [...actors(isConfig)]
      .filter(([key, options]) => wasActors.has(key) && wasActors.get(key) !== options)
      .map(([key]) => key.slice(key.indexOf("\u0000") + 1)),
  );
  return { apps, deployments };
}

/** What a change to a cluster's template restarts: applications it rebuilds, deployments whose actors restart. */
interface TemplateRestarts {
  readonly apps: ReadonlySet<string>;
  /** override names (`LLMServer:<name>`) */
  readonly deployments: ReadonlySet<string>;
}

/**
 * What Ray's code version of an application covers (deploy_utils.get_app_code_version): import_path,
 * runtime_env (both the template's), args and, since Ray 2.5x, the autoscaling policy of every deployment
 * override that autoscales — so a model switched between num_replicas and autoscaling rebuilds its
 * application (older Ray: nothing restarts; the plan says what the newer one does).
 */
function codeFields(app: ServeApplication): Record<string, unknown> {
  const dicts = (key: string) =>
    app.deployments
      .map((d) => (d as Record<string, unknown>)[key])
      .filter((c): c is Record<string, unknown> => typeof c === "object" && c !== null && !Array.isArray(c));
  return {
    import_path: app.import_path,
    runtime_env: (app as { runtime_env?: unknown }).runtime_env ?? {},
    args: app.args,
    deployment_autoscaling_policies: dicts("autoscaling_config").map((c) => c.policy ?? null),
    deployment_request_router_configs: dicts("request_router_config"),
  };
}

/**
 * The override fields whose change restarts the deployment's replicas without rebuilding its application
 * (serve/_private/version.py: DeploymentVersion.requires_actor_restart compares the replica config's
 * ray_actor_options, placement group and max_replicas_per_node). Only a template sets them.
 */
const ACTOR_FIELDS = [
  "ray_actor_options",
  "placement_group_bundles",
  "placement_group_strategy",
  "max_replicas_per_node",
] as const;
const actorOf = (d: Record<string, unknown>) =>
  JSON.stringify(sortedKeys(Object.fromEntries(ACTOR_FIELDS.map((k) => [k, d[k] ?? null]))));

/** The code version of an application as applicationsOf builds it: its fragments' keys are already sorted. */
const codeOf = (app: ServeApplication): string => JSON.stringify(codeFields(app));

/**
 * A head with errors renders nothing, yet its plan must still show what the valid specs would do (an
 * over-quota or over-capacity budget is exactly what the author needs to see) and must not show a model
 * whose spec merely has an error, or whose cluster.yaml does, as undeployed: such a model keeps its base
 * fragment.
 */
function provisionalFragments(
  head: RepoSnapshot,
  base: readonly Fragment[],
  before: RepoCheck,
  after: RepoCheck,
  now: Date,
): Fragment[] {
  const { model } = after.validation;
  const rendered = renderFragments(model, { now, timestamps: [before.timestamps, after.timestamps] });
  const valid = new Set(model.models.map((m) => m.file));
  // A cluster whose cluster.yaml has errors renders nothing until it is fixed: its models stay as they are.
  const broken = (cluster: string) =>
    !model.clusters.has(cluster) && head.files.has(`clusters/${cluster}/cluster.yaml`);
  // The same model under the other extension (x.yaml renamed x.yml) is the same user and suffix.
  const specIn = (f: Fragment) =>
    [f.spec, f.spec.replace(/\.ya?ml$/, (ext) => (ext === ".yaml" ? ".yml" : ".yaml"))].filter((p) =>
      head.files.has(p),
    );
  // Kept while no valid spec of the model renders it (an invalid b.yml beside a valid b.yaml renders b.yaml).
  const kept = base.filter((f) => {
    const specs = specIn(f);
    return specs.length > 0 && (!specs.some((p) => valid.has(p)) || broken(f.cluster));
  });
  return [...rendered.fragments, ...kept];
}

function planCluster(
  cluster: ClusterConfig,
  oldCluster: ClusterConfig | undefined,
  old: readonly Fragment[],
  now: readonly Fragment[],
  users: ReadonlyMap<string, { gpu_quota: number }> | undefined,
  oldUsers: ReadonlyMap<string, { gpu_quota: number }> | undefined,
  named: ReadonlySet<string>,
  synced: boolean,
  byTemplate: TemplateRestarts,
): ClusterPlan {
  const oldByKey = new Map(old.map((f) => [keyOf(f), f]));
  const nowByKey = new Map(now.map((f) => [keyOf(f), f]));
  const deploy = now
    .filter((f) => !oldByKey.has(keyOf(f)))
    .map((f) => describe(f, [], true, !named.has(keyOf(f))));
  const undeploy = old.filter((f) => !nowByKey.has(keyOf(f))).map((f) => describe(f, [], true, false));
  // Ray rebuilds an application, restarting ALL its replicas, whenever its args change (or its runtime_env or
  // import_path, which only a cluster's template sets); a model that lands in an application that did not
  // exist (a layout or application_name change) starts afresh as well.
  const oldApps = new Map(oldCluster ? applicationsOf(oldCluster, old).map((a) => [a.name, codeOf(a)]) : []);
  const restarts: string[] = [];
  for (const app of applicationsOf(cluster, now)) {
    const previous = oldApps.get(app.name);
    if (previous === codeOf(app) && !byTemplate.apps.has(app.name)) continue;
    for (const config of app.args.llm_configs) {
      const served = (config.model_loading_config as { model_id: string }).model_id;
      if (old.some((f) => f.served_name === served)) restarts.push(served);
    }
  }
  for (const f of now) {
    const deployment = (f.deployment as { name: string }).name;
    if (!byTemplate.deployments.has(deployment) || restarts.includes(f.served_name)) continue;
    if (old.some((o) => o.served_name === f.served_name)) restarts.push(f.served_name);
  }

  const update: ModelChange[] = [];
  for (const f of now) {
    const previous = oldByKey.get(keyOf(f));
    if (!previous) continue;
    const changes = diffFragment(previous, f);
    if (changes.length === 0) continue;
    const rebuilt =
      JSON.stringify(previous.llm_config) !== JSON.stringify(f.llm_config) ||
      restarts.includes(f.served_name);
    update.push(describe(f, changes, rebuilt, false));
  }

  const sum = (list: readonly Fragment[]) => list.reduce((n, f) => n + f.gpus, 0);
  const userNames = new Set([...old, ...now].map((f) => f.user));
  const budgets: UserBudget[] = [...userNames].sort().map((user) => {
    const after = sum(now.filter((f) => f.user === user));
    const quota = users?.get(user)?.gpu_quota ?? oldUsers?.get(user)?.gpu_quota ?? 0;
    return { user, before: sum(old.filter((f) => f.user === user)), after, quota, over: after > quota };
  });
  const after = sum(now);
  return {
    cluster: cluster.name,
    layout: cluster.serve.layout,
    deploy,
    update,
    undeploy,
    restarts: restarts.sort(),
    gpus: { before: sum(old), after, capacity: cluster.gpus, over: after > cluster.gpus },
    users: budgets,
    refusals: synced && oldCluster ? agentRefusals(cluster, old.length, now.length, undeploy.length) : [],
  };
}

function describe(f: Fragment, changes: string[], restarts: boolean, provisional: boolean): ModelChange {
  const deployment = f.deployment as {
    num_replicas: number | "auto";
    autoscaling_config?: { min_replicas: number; max_replicas: number };
  };
  const replicas = deployment.autoscaling_config
    ? `autoscaling ${deployment.autoscaling_config.min_replicas}-${deployment.autoscaling_config.max_replicas} x${f.gpus_per_replica} GPU`
    : `${String(deployment.num_replicas)}x${f.gpus_per_replica} GPU`;
  return {
    key: keyOf(f),
    user: f.user,
    served_name: f.served_name,
    endpoint: f.endpoint,
    spec: f.spec,
    gpus: f.gpus,
    replicas,
    changes,
    restarts,
    provisional,
  };
}

/** Human-readable differences between two fragments of one model, on the fields that reach Ray and its users. */
export function diffFragment(a: Fragment, b: Fragment): string[] {
  const out: string[] = [];
  // The endpoint moves with the cluster's layout, route prefix or base URL: clients must be told.
  const seen = (f: Fragment) => ({
    llm_config: f.llm_config,
    deployment: f.deployment,
    endpoint: f.endpoint,
  });
  diffValue("", seen(a), seen(b), out);
  return out.map((line) =>
    line
      .replace(/^llm_config\.engine_kwargs\./, "engine_kwargs.")
      .replace(/^llm_config\.model_loading_config\.model_source/, "model_source")
      .replace(/^deployment\./, ""),
  );
}

function diffValue(path: string, a: unknown, b: unknown, out: string[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      diffValue(path ? `${path}.${key}` : key, a[key], b[key], out);
    }
    return;
  }
  const show = (v: unknown) => (v === undefined ? "(unset)" : JSON.stringify(v));
  out.push(`${path} ${show(a)} -> ${show(b)}`);
}
