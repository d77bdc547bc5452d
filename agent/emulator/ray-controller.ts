/**
 * TEST/DEMO ONLY. The Serve controller of the Ray Serve dashboard emulator (ray-dashboard.ts):
 * application and deployment state machines, computed lazily from timestamps on every read (no
 * timers). Never a real cluster.
 *
 * Mirrors python/ray/serve/_private/application_state.py (Ray 2.5x):
 * - a new application starts DEPLOYING (ApplicationState.__init__; NOT_STARTED is only reported for
 *   apps that do not exist), with no deployments listed until its build task finishes
 *   (list_deployment_details iterates target deployments, None while building);
 * - apply_app_config: same code version (get_app_code_version = hash of import_path, runtime_env,
 *   args) -> overrides re-applied in place (lightweight); different -> new build task, after which
 *   every deployment of the app gets the new version and its replicas restart;
 * - build failure -> DEPLOY_FAILED "Deploying app '<app>' failed with exception:\n<traceback>";
 *   override/route_prefix failure -> DEPLOY_FAILED with the bare traceback; both leave no
 *   deployments listed (target state cleared) and reset the code version;
 * - status rule and override merge: see ray-serve-model.ts;
 * - apply_app_configs: declarative apps missing from the new config go DELETING (no deployments,
 *   deployed_app_config null) and then disappear; imperative apps are kept;
 * Replica restarts: a new code version restarts every deployment of the app; a changed
 * ray_actor_options / placement_group_* / max_replicas_per_node override restarts that deployment
 * (HeavyWeight); num_replicas/autoscaling changes scale (UPSCALING/DOWNSCALING); other overrides
 * (user_config, max_ongoing_requests, health_check_*, ...) reconfigure in place (UPDATING).
 */
import { type BuildContext, type BuiltDeployment, buildApplication } from "./ray-build";
import { deepClone, randomHex, sortedJson } from "./ray-pyrepr";
import type { ParsedDeploy } from "./ray-schema";
import {
  type App,
  type Deployment,
  type DeploymentStatus,
  type Effective,
  NODE_IP,
  OverrideFailure,
  REQUEST_ROUTER,
  type Replica,
  SERVE_DEFAULTS,
  type StatusTrigger,
  appStatus,
  overrideDeploymentInfo,
  renderDeployment,
} from "./ray-serve-model";

export interface ControllerOptions {
  deployDelayMs: number;
  totalGpus?: number;
  build: BuildContext;
}

export class ServeController {
  private apps = new Map<string, App>();
  private running = false;
  private startedAt = 0;
  private targetCapacity: number | null = null;
  private proxyLocation = "EveryNode";
  private http: Record<string, unknown> = {};
  private grpc: Record<string, unknown> = {};
  private readonly counts = new Map<string, { restarts: number; starts: number }>();
  private readonly nodeId = randomHex(56);
  private readonly actor = {
    controller: randomHex(32),
    proxy: randomHex(32),
    wc: randomHex(56),
    wp: randomHex(56),
  };

  constructor(private readonly opts: ControllerOptions) {}

  private get half(): number {
    return Math.max(1, this.opts.deployDelayMs / 2);
  }

  get isRunning(): boolean {
    return this.running;
  }

  private start(config?: ParsedDeploy): void {
    if (this.running) return; // serve_head.validate_http_options: later changes only log a warning
    this.running = true;
    this.startedAt = Date.now();
    this.proxyLocation = config?.proxyLocation ?? "EveryNode";
    this.http = {
      host: "0.0.0.0",
      port: 8000,
      root_path: "",
      request_timeout_s: null,
      keep_alive_timeout_s: 90,
      ssl_keyfile: null,
      ssl_certfile: null,
      ssl_keyfile_password: null,
      ssl_ca_certs: null,
      ...(config?.httpOptions ?? {}),
    };
    this.grpc = {
      port: 9000,
      grpc_servicer_functions: [],
      request_timeout_s: null,
      ...(config?.grpcOptions ?? {}),
    };
  }

  /** serve.shutdown() (DELETE /api/serve/applications/). */
  shutdown(): void {
    this.apps.clear();
    this.running = false;
    this.targetCapacity = null;
  }

  private newApp(name: string, source: App["source"]): App {
    return {
      name,
      source,
      storedConfig: null,
      codeVersion: null,
      routePrefix: null,
      failure: null,
      deployedAt: Date.now() / 1000,
      build: null,
      deployments: new Map(),
      targetKnown: false,
      deletingUntil: null,
      externalScaler: false,
      unhealthy: new Map(),
    };
  }

  /** controller.apply_config + ApplicationStateManager.apply_app_configs. */
  apply(config: ParsedDeploy): void {
    this.reconcile();
    this.start(config);
    const now = Date.now();
    this.targetCapacity = config.targetCapacity;
    const names = new Set(config.applications.map((a) => a.name));
    for (const parsed of config.applications) {
      let app = this.apps.get(parsed.name);
      if (!app) {
        app = this.newApp(parsed.name, "declarative");
        this.apps.set(parsed.name, app);
      }
      app.source = "declarative";
      app.deployedAt = now / 1000;
      app.storedConfig = deepClone(parsed.dump);
      app.deletingUntil = null;
      app.externalScaler = parsed.dump.external_scaler_enabled === true;
      if (app.codeVersion !== null && app.codeVersion === parsed.codeVersion && app.build === null) {
        const specs = this.specsOf(app);
        try {
          this.applyEffective(
            app,
            overrideDeploymentInfo(specs, parsed, app.codeVersion, "apply_app_config", app.deployments),
            now,
          );
          app.routePrefix = parsed.routePrefixSet ? parsed.routePrefix : "/";
          app.failure = null;
        } catch (e) {
          if (!(e instanceof OverrideFailure)) throw e;
          this.clearTarget(app, e.message);
        }
      } else {
        this.clearTarget(app, null);
        app.build = {
          doneAt: now + this.half,
          app: parsed,
          result: buildApplication(parsed, this.opts.build),
        };
      }
    }
    for (const app of this.apps.values()) {
      if (names.has(app.name) || app.source !== "declarative") continue;
      if (app.deletingUntil === null) app.deletingUntil = now + this.half;
      app.storedConfig = null;
      this.clearTarget(app, null);
    }
  }

  private specs = new WeakMap<App, BuiltDeployment[]>();
  private specsOf(app: App): BuiltDeployment[] {
    return this.specs.get(app) ?? [];
  }

  private clearTarget(app: App, failure: string | null): void {
    app.codeVersion = null;
    app.targetKnown = false;
    app.build = null;
    app.failure = failure;
  }

  private count(app: string, name: string): { restarts: number; starts: number } {
    const key = `${app}\u0000${name}`;
    let c = this.counts.get(key);
    if (!c) this.counts.set(key, (c = { restarts: 0, starts: 0 }));
    return c;
  }

  private applyEffective(app: App, effs: Effective[], t: number): void {
    const keep = new Set(effs.map((e) => e.name));
    for (const name of [...app.deployments.keys()]) if (!keep.has(name)) app.deployments.delete(name);
    for (const eff of effs) {
      const live = app.deployments.get(eff.name);
      if (!live) {
        const d: Deployment = {
          ...eff,
          app: app.name,
          phase: "pending",
          readyAt: t,
          scalingUp: false,
          status: "UPDATING",
          trigger: "CONFIG_UPDATE_STARTED",
          message: "",
          replicas: [],
          allocated: 0,
        };
        app.deployments.set(eff.name, d);
        this.count(app.name, eff.name).starts++;
        this.begin(d, t, "start");
        continue;
      }
      const oldTarget = live.target;
      const oldVersion = live.version;
      const configChanged =
        sortedJson({ ...live.config, num_replicas: 0 }) !== sortedJson({ ...eff.config, num_replicas: 0 });
      const target = updatedTarget(eff, oldTarget, sortedJson(live.config) !== sortedJson(eff.config));
      Object.assign(live, eff, { target });
      if (!eff.startupError) delete live.startupError;
      if (eff.version !== oldVersion) {
        this.count(app.name, eff.name).restarts++;
        app.unhealthy.delete(eff.name);
        this.begin(live, t, "start");
      } else if (live.status === "DEPLOY_FAILED") {
        continue; // keeps failing until a new version is deployed
      } else if (live.phase === "pending" || live.phase === "starting") {
        if (target !== oldTarget) this.begin(live, t, "start");
      } else if (configChanged) {
        // DeploymentTargetState.is_scaled_copy_of compares the config without num_replicas: new autoscaling
        // bounds (or any other setting) are a config update, UPDATING, also when the count changes with them.
        live.phase = "reconfiguring";
        live.readyAt = t + this.half;
        this.setStatus(live, "UPDATING", "CONFIG_UPDATE_STARTED", "");
        for (const r of live.replicas) r.state = "UPDATING";
        if (target > live.replicas.length)
          for (let i = live.replicas.length; i < target; i++) live.replicas.push(this.newReplica(t));
        else live.replicas.forEach((r, i) => (r.state = i < target ? r.state : "STOPPING"));
      } else if (target !== oldTarget) {
        live.scalingUp = target > oldTarget;
        this.begin(live, t, "scale");
      }
    }
  }

  private setStatus(d: Deployment, status: DeploymentStatus, trigger: StatusTrigger, message: string): void {
    d.status = status;
    d.trigger = trigger;
    d.message = message;
  }

  private newReplica(t: number): Replica {
    return {
      replica_id: randomHex(8),
      state: "STARTING",
      pid: 1000 + Math.floor(Math.random() * 60000),
      actor_id: randomHex(32),
      worker_id: randomHex(56),
      start_time_s: t / 1000,
    };
  }

  /** Start (or restart) replicas, or scale, once GPUs are available. */
  private begin(d: Deployment, t: number, kind: "start" | "scale"): void {
    const need = d.target * d.gpus;
    if (
      this.opts.totalGpus !== undefined &&
      need > d.allocated &&
      need - d.allocated > this.opts.totalGpus - this.usedGpus()
    ) {
      d.phase = "pending";
      d.scalingUp = kind === "scale" ? d.scalingUp : false;
      this.setStatus(
        d,
        kind === "scale" ? "UPSCALING" : "UPDATING",
        "CONFIG_UPDATE_STARTED",
        `Deployment '${d.name}' in application '${d.app}' has ${d.target} replicas that have taken more than 30s to be scheduled. ` +
          "This may be due to waiting for the cluster to auto-scale or for a runtime environment to be installed. " +
          `Resources required for each replica: {"CPU": 1, "GPU": ${d.gpus}}, total resources available: ` +
          `{"GPU": ${this.opts.totalGpus - this.usedGpus()}}. Use \`ray status\` for more details.`,
      );
      return;
    }
    d.allocated = need;
    d.readyAt = t + this.half;
    if (kind === "start") {
      d.phase = "starting";
      d.replicas = Array.from({ length: d.target }, () => this.newReplica(t));
      this.setStatus(d, "UPDATING", "CONFIG_UPDATE_STARTED", "");
    } else {
      d.phase = "scaling";
      // deployment_state.py deploy() / autoscaling: "Upscaling from N to M replicas." (or "Downscaling ...").
      const from = d.replicas.filter((r) => r.state !== "STOPPING").length;
      if (d.target > d.replicas.length)
        for (let i = d.replicas.length; i < d.target; i++) d.replicas.push(this.newReplica(t));
      else d.replicas.forEach((r, i) => (r.state = i < d.target ? r.state : "STOPPING"));
      this.setStatus(
        d,
        d.scalingUp ? "UPSCALING" : "DOWNSCALING",
        "CONFIG_UPDATE_STARTED",
        `${d.scalingUp ? "Upscaling" : "Downscaling"} from ${from} to ${d.target} replicas.`,
      );
    }
  }

  private usedGpus(): number {
    let used = 0;
    for (const a of this.apps.values()) for (const d of a.deployments.values()) used += d.allocated;
    return used;
  }

  /** Advance every state machine to "now". Called before every read and write. */
  reconcile(): void {
    const now = Date.now();
    for (const app of [...this.apps.values()]) {
      if (app.deletingUntil !== null) {
        if (now >= app.deletingUntil) this.apps.delete(app.name);
        continue;
      }
      const b = app.build;
      if (b && now >= b.doneAt) {
        app.build = null;
        if (!b.result.ok) app.failure = b.result.message;
        else {
          try {
            const effs = overrideDeploymentInfo(
              b.result.deployments,
              b.app,
              b.app.codeVersion,
              "_reconcile_build_app_task",
            );
            this.specs.set(app, b.result.deployments);
            app.codeVersion = b.app.codeVersion;
            app.targetKnown = true;
            app.failure = null;
            app.routePrefix = b.app.routePrefixSet ? b.app.routePrefix : "/";
            // deployment_state.py DeploymentState.deploy() returns early for the same version and config: a
            // build that yields what already runs (a revert after a failed build) restarts nothing. A new
            // code version is a new deployment version, which does restart (applyEffective compares them).
            this.applyEffective(app, effs, b.doneAt);
          } catch (e) {
            if (!(e instanceof OverrideFailure)) throw e;
            app.failure = e.message;
          }
        }
      }
    }
    for (const app of this.apps.values()) {
      if (app.deletingUntil !== null) continue;
      for (const d of app.deployments.values()) {
        if (d.phase === "pending") this.begin(d, now, d.status === "UPSCALING" ? "scale" : "start");
        if (d.phase === "pending" || d.phase === "steady" || now < d.readyAt) continue;
        const done = d.phase;
        d.phase = "steady";
        if (done === "starting" && d.startupError && d.target > 0) {
          d.replicas = [];
          d.allocated = 0;
          this.setStatus(
            d,
            "DEPLOY_FAILED",
            "REPLICA_STARTUP_FAILED",
            `The deployment failed to start ${Math.min(20, d.target * 3)} times in a row. This may be due to a problem with its constructor or initial health check failing. See controller logs for details. Error:\n${d.startupError}`,
          );
          continue;
        }
        d.replicas = d.replicas.filter((r) => r.state !== "STOPPING");
        for (const r of d.replicas) r.state = "RUNNING";
        d.allocated = d.target * d.gpus;
        const trigger =
          done === "scaling"
            ? d.scalingUp
              ? "UPSCALE_COMPLETED"
              : "DOWNSCALE_COMPLETED"
            : "CONFIG_UPDATE_COMPLETED";
        this.setStatus(d, "HEALTHY", trigger, "");
      }
      for (const [name, message] of app.unhealthy) {
        const d = app.deployments.get(name);
        if (d && d.phase === "steady" && d.status !== "DEPLOY_FAILED")
          this.setStatus(d, "UNHEALTHY", "HEALTH_CHECK_FAILED", message);
      }
    }
  }

  /** GET /api/serve/applications/ body (ServeInstanceDetails, dict(exclude_unset=True)). */
  details(apiType?: "declarative" | "imperative"): Record<string, unknown> {
    this.reconcile();
    if (!this.running)
      return {
        deploy_mode: "MULTI_APP",
        controller_info: {},
        proxies: {},
        applications: {},
        target_capacity: null,
      };
    const applications: Record<string, unknown> = {};
    for (const app of this.apps.values()) {
      if (apiType && app.source !== apiType) continue;
      const [status, message] = appStatus(app);
      const deployments: Record<string, unknown> = {};
      if (app.targetKnown && app.deletingUntil === null)
        for (const d of app.deployments.values()) deployments[d.name] = renderDeployment(d, this.nodeId);
      applications[app.name] = {
        name: app.name,
        route_prefix: app.routePrefix,
        docs_path: null,
        status,
        message,
        last_deployed_time_s: app.deployedAt,
        deployed_app_config: app.storedConfig ? deepClone(app.storedConfig) : null,
        source: app.source,
        deployments,
        external_scaler_enabled: app.externalScaler,
      };
    }
    const actor = (id: string, name: string, worker: string, log: string) => ({
      node_id: this.nodeId,
      node_ip: NODE_IP,
      actor_id: id,
      actor_name: name,
      worker_id: worker,
      log_file_path: log,
    });
    return {
      controller_info: actor(
        this.actor.controller,
        "SERVE_CONTROLLER_ACTOR",
        this.actor.wc,
        `/serve/controller_${this.startedAt % 100000}.log`,
      ),
      proxy_location: this.proxyLocation,
      http_options: deepClone(this.http),
      grpc_options: deepClone(this.grpc),
      proxies:
        this.proxyLocation === "Disabled"
          ? {}
          : {
              [this.nodeId]: {
                ...actor(
                  this.actor.proxy,
                  `SERVE_PROXY_ACTOR-${this.nodeId}`,
                  this.actor.wp,
                  `/serve/proxy_${NODE_IP}.log`,
                ),
                status: "HEALTHY",
              },
            },
      applications,
      target_capacity: this.targetCapacity,
    };
  }

  /** An app made with serve.run (imperative): kept by declarative PUTs, listed with source "imperative". */
  addImperativeApp(name: string, opts: { routePrefix?: string | null; deployments?: string[] } = {}): void {
    this.reconcile();
    this.start();
    const app = this.newApp(name, "imperative");
    app.routePrefix = opts.routePrefix === undefined ? `/${name}` : opts.routePrefix;
    app.targetKnown = true;
    const now = Date.now();
    for (const dn of opts.deployments ?? [`${name}Deployment`]) {
      const replica = { ray_actor_options: { num_cpus: 1 } };
      app.deployments.set(dn, {
        name: dn,
        app: name,
        config: { ...SERVE_DEFAULTS, request_router_config: REQUEST_ROUTER },
        replica,
        target: 1,
        gpus: 0,
        version: randomHex(8),
        phase: "steady",
        readyAt: now,
        scalingUp: false,
        status: "HEALTHY",
        trigger: "CONFIG_UPDATE_COMPLETED",
        message: "",
        replicas: [{ ...this.newReplica(now), state: "RUNNING" }],
        allocated: 0,
      });
    }
    this.apps.set(name, app);
  }

  makeUnhealthy(deploymentName: string, message: string): number {
    this.reconcile();
    let n = 0;
    for (const app of this.apps.values())
      if (app.deployments.has(deploymentName)) {
        app.unhealthy.set(deploymentName, message);
        n++;
      }
    this.reconcile();
    return n;
  }

  recover(deploymentName: string): void {
    this.reconcile();
    for (const app of this.apps.values()) {
      const d = app.deployments.get(deploymentName);
      if (!app.unhealthy.delete(deploymentName) || !d || d.status !== "UNHEALTHY") continue;
      // common.py DeploymentStatusInfo.handle_transition: UNHEALTHY -> HEALTHY carries no trigger of its own.
      this.setStatus(d, "HEALTHY", "UNSPECIFIED", "");
    }
  }

  restarts(deploymentName: string, appName?: string): number {
    return this.sumCounts(deploymentName, appName, "restarts");
  }

  starts(deploymentName: string, appName?: string): number {
    return this.sumCounts(deploymentName, appName, "starts");
  }

  private sumCounts(name: string, appName: string | undefined, k: "restarts" | "starts"): number {
    this.reconcile();
    let n = 0;
    for (const [key, c] of this.counts) {
      const [a, d] = key.split("\u0000");
      if (d === name && (appName === undefined || a === appName)) n += c[k];
    }
    return n;
  }

  tamper(appName: string, mutate: (appConfig: Record<string, unknown>) => void): void {
    this.reconcile();
    const app = this.apps.get(appName);
    if (!app) throw new Error(`emulator: no application named ${appName}`);
    const copy = deepClone(app.storedConfig ?? {});
    mutate(copy);
    app.storedConfig = copy;
  }

  gpus(): { total: number | undefined; used: number } {
    this.reconcile();
    return { total: this.opts.totalGpus, used: this.usedGpus() };
  }
}

/**
 * The target of an existing deployment after an update (deployment_state.py deploy() ->
 * AutoscalingState.register): an autoscaling deployment keeps its current target, clamped to the new
 * bounds (apply_bounds), unless its config changed and sets initial_replicas. A new deployment starts at
 * initial_replicas or min_replicas (its current target is 0), as the build computed.
 */
function updatedTarget(eff: Effective, current: number, configChanged: boolean): number {
  const auto = eff.config.autoscaling_config as Record<string, unknown> | null | undefined;
  if (auto === null || typeof auto !== "object") return eff.target;
  const initial = auto.initial_replicas as number | null | undefined;
  const wanted = configChanged && initial != null ? initial : current;
  return Math.min(Math.max(wanted, auto.min_replicas as number), auto.max_replicas as number);
}
