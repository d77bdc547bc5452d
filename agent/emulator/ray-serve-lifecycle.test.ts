/**
 * Tests of the Ray Serve dashboard emulator's controller behaviour (TEST/DEMO ONLY emulator):
 * status progression, declarative deletes, Ray Serve LLM build errors, startup failures,
 * restart vs lightweight updates, UNHEALTHY on demand, GPU starvation, drift.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment,
   @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return,
   @typescript-eslint/no-explicit-any -- these tests inspect untyped JSON bodies (the emulator's GET output) */
import { afterEach, describe, expect, it } from "vitest";
import { type RayEmulator, type RayEmulatorOptions, startRayEmulator } from "./ray-dashboard";
import { getApps, llmApp, llmConfig, putApps, waitFor } from "./ray-test-utils";

let emu: RayEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});
const start = async (o: RayEmulatorOptions = {}) =>
  (emu = await startRayEmulator({ deployDelayMs: 20, ...o }));

async function appState(e: RayEmulator, name: string): Promise<any> {
  return (await getApps(e.url)).applications[name];
}
const until = (e: RayEmulator, name: string, status: string): Promise<any> =>
  waitFor(
    async () => {
      const a = await appState(e, name);
      return a?.status === status && a;
    },
    2000,
    `${name} ${status}`,
  );
async function deploy(e: RayEmulator, apps: unknown[]): Promise<void> {
  const r = await putApps(e.url, { applications: apps });
  expect([r.status, r.body]).toEqual([200, ""]);
}
const lastLine = (s: string) => s.trimEnd().split("\n").at(-1);

describe("ray dashboard emulator: Serve controller", () => {
  it("answers 200 before deploying, then DEPLOYING (no deployments yet) -> RUNNING", async () => {
    const e = await start({ deployDelayMs: 200 });
    const cfg = llmApp("chat", [llmConfig("qwen")]);
    await deploy(e, [cfg]);
    const first = await appState(e, "chat");
    expect(first).toMatchObject({
      status: "DEPLOYING",
      message: "",
      deployments: {},
      route_prefix: null,
      deployed_app_config: cfg,
    });
    const updating = await waitFor(async () => {
      const a = await appState(e, "chat");
      return Object.keys(a.deployments).length > 0 && a;
    });
    expect(updating.status).toBe("DEPLOYING");
    expect(updating.deployments["LLMServer:qwen"]).toMatchObject({
      status: "UPDATING",
      status_trigger: "CONFIG_UPDATE_STARTED",
    });
    expect(updating.deployments["LLMServer:qwen"].replicas[0].state).toBe("STARTING");
    const running = await until(e, "chat", "RUNNING");
    // Ingress name, source: ray-project/ray python/ray/llm/_internal/serve/core/ingress/builder.py @2dcbf5ee
    // (serve.deployment(make_fastapi_ingress(OpenAiIngress), **ingress_options), no "name" in the options) and
    // core/ingress/ingress.py make_fastapi_ingress (type(cls.__name__, ...)): Serve names it "OpenAiIngress".
    expect(Object.keys(running.deployments).sort()).toEqual(["LLMServer:qwen", "OpenAiIngress"]);
    expect(running.route_prefix).toBe("/chat");
    expect(running.deployments["LLMServer:qwen"]).toMatchObject({
      status: "HEALTHY",
      status_trigger: "CONFIG_UPDATE_COMPLETED",
    });
    expect(running.deployed_app_config).toEqual(cfg);
    expect(e.starts("LLMServer:qwen")).toBe(1);
    expect(e.restarts("LLMServer:qwen")).toBe(0);
  });

  it("adding a first replica override to an app with its own runtime_env restarts nothing", async () => {
    const e = await start();
    const app = { ...llmApp("chat", [llmConfig("qwen")]), runtime_env: { env_vars: { A: "1" } } };
    await deploy(e, [app]);
    await until(e, "chat", "RUNNING");
    await deploy(e, [{ ...app, deployments: [{ name: "LLMServer:qwen", num_replicas: 2 }] }]);
    const scaled = await waitFor(async () => {
      const a = await appState(e, "chat");
      return a.deployments["LLMServer:qwen"]?.replicas.length === 2 && a.status === "RUNNING" && a;
    });
    expect(scaled.deployments["LLMServer:qwen"].status).toBe("HEALTHY");
    expect(e.restarts("LLMServer:qwen")).toBe(0);
  });

  it("names LLMServer deployments like build_llm_deployment", async () => {
    const e = await start();
    const noName = {
      model_loading_config: { model_id: "Qwen/Qwen2.5-0.5B", model_source: "Qwen/Qwen2.5-0.5B" },
    };
    await deploy(e, [llmApp("a", [noName, llmConfig("x", { deployment_config: { name: "mine" } })])]);
    const a = await until(e, "a", "RUNNING");
    expect(Object.keys(a.deployments).sort()).toEqual([
      "LLMServer:Qwen--Qwen2_5-0_5B",
      "LLMServer:mine",
      "OpenAiIngress",
    ]);
    // LLM default autoscaling stays unless deployment_config.num_replicas is set
    expect(a.deployments["LLMServer:Qwen--Qwen2_5-0_5B"].deployment_config.autoscaling_config).toMatchObject({
      min_replicas: 1,
      max_replicas: 1,
      target_ongoing_requests: 1_000_000_000,
    });
    expect(a.deployments["LLMServer:Qwen--Qwen2_5-0_5B"].deployment_config.num_replicas).toBeUndefined();
  });

  it("deletes declarative apps missing from the next PUT (DELETING, then gone) and keeps imperative apps", async () => {
    const e = await start({ deployDelayMs: 200 }); // wide window for the transient-state checks
    e.addImperativeApp("manual");
    await deploy(e, [llmApp("a", [llmConfig("m1")]), llmApp("b", [llmConfig("m2")])]);
    await until(e, "b", "RUNNING");
    await deploy(e, [llmApp("a", [llmConfig("m1")])]);
    expect(await appState(e, "b")).toMatchObject({
      status: "DELETING",
      deployments: {},
      deployed_app_config: null,
    });
    await waitFor(async () => (await appState(e, "b")) === undefined);
    const all = await getApps(e.url);
    expect(Object.keys(all.applications).sort()).toEqual(["a", "manual"]);
    expect(all.applications.manual).toMatchObject({
      source: "imperative",
      deployed_app_config: null,
      status: "RUNNING",
    });
  });

  it("fails replicas whose model_source is an absolute path missing from the fake filesystem", async () => {
    const e = await start({ existingPaths: ["/models/present"] });
    const missing = "/private/users/alice/x";
    await deploy(e, [
      llmApp("bad", [llmConfig("x", { model_loading_config: { model_id: "x", model_source: missing } })]),
      llmApp("good", [
        llmConfig("y", { model_loading_config: { model_id: "y", model_source: "/models/present/y-7b" } }),
      ]),
    ]);
    const bad = await until(e, "bad", "DEPLOY_FAILED");
    // application_state._determine_app_status: the app names the failed deployments ...
    expect(bad.message).toBe("Failed to update the deployments ['LLMServer:x'].");
    // ... and the deployment carries the replica's traceback
    const dep = bad.deployments["LLMServer:x"];
    expect(dep).toMatchObject({
      status: "DEPLOY_FAILED",
      status_trigger: "REPLICA_STARTUP_FAILED",
      replicas: [],
    });
    expect(dep.message).toMatch(/^The deployment failed to start 3 times in a row\./);
    expect(dep.message).toContain("Error:\nTraceback (most recent call last):\n  File ");
    expect(lastLine(dep.message)).toBe(`OSError: ${missing} does not exist`);
    expect(bad.deployments.OpenAiIngress.status).toBe("HEALTHY");
    await until(e, "good", "RUNNING");
  });

  it("fails the app at deploy time (not 400) when an override names a missing deployment", async () => {
    const e = await start();
    await deploy(e, [llmApp("a", [llmConfig("m1")], [{ name: "m1", num_replicas: 2 }])]);
    const a = await until(e, "a", "DEPLOY_FAILED");
    expect(a.message.split("\n")[0]).toBe("Traceback (most recent call last):");
    expect(lastLine(a.message)).toBe(
      "ValueError: Deployment 'm1' does not exist. Available: ['OpenAiIngress', 'LLMServer:m1']",
    );
    expect(a.deployments).toEqual({});
    // fixing the name (same args: same code version) deploys it
    await deploy(e, [llmApp("a", [llmConfig("m1")], [{ name: "LLMServer:m1", num_replicas: 2 }])]);
    const ok = await until(e, "a", "RUNNING");
    expect(ok.deployments["LLMServer:m1"].target_num_replicas).toBe(2);
  });

  it("fails the build of build_openai_app for empty or duplicate llm_configs and bad LLMConfigs", async () => {
    const e = await start();
    await deploy(e, [
      llmApp("empty", []),
      llmApp("dup", [llmConfig("m"), llmConfig("m", { deployment_config: { name: "other" } })]),
      llmApp("acc", [llmConfig("a1", { accelerator_type: "MI300X" })]),
      llmApp("eng", [llmConfig("a2", { engine_kwargs: { tensor_parallel_size: 1, not_a_vllm_arg: true } })]),
      llmApp("extra", [llmConfig("a3", { acelerator_type: "H100" })]),
      llmApp("noid", [{ model_loading_config: { model_source: "org/x" } }]),
    ]);
    const failed = async (name: string) => {
      const a = await until(e, name, "DEPLOY_FAILED");
      expect(a.message.split("\n").slice(0, 2)).toEqual([
        `Deploying app '${name}' failed with exception:`,
        "Traceback (most recent call last):",
      ]);
      expect(a.deployments).toEqual({});
      return a.message as string;
    };
    expect(await failed("empty")).toContain(
      "List of models is empty. Maybe some parameters cannot be parsed into the LLMConfig config.",
    );
    expect(await failed("dup")).toContain("Duplicate models found. Make sure model ids are unique.");
    expect(await failed("acc")).toContain("Unsupported accelerator type: MI300X");
    expect(lastLine(await failed("eng"))).toBe("ValueError: Unknown engine argument: not_a_vllm_arg");
    expect(await failed("extra")).toContain("acelerator_type\n  Extra inputs are not permitted");
    expect(await failed("noid")).toContain("Invalid model_loading_config: {'model_source': 'org/x'}");
  });

  it("fails the build for what Ray Serve LLM's builder refuses beyond an LLMConfig's own fields", async () => {
    const e = await start();
    await deploy(e, [
      llmApp("mlc", [llmConfig("a1", { model_loading_config: { model_id: "a1", revision: "main" } })]),
      llmApp("engine", [llmConfig("a2", { llm_engine: "SGLang" })]),
      { ...llmApp("args", [llmConfig("a3")]), args: { llm_configs: [llmConfig("a3")], router: {} } },
      llmApp("pg", [
        llmConfig("a4", { deployment_config: { name: "a4", placement_group_bundles: [{ GPU: 1 }] } }),
      ]),
      llmApp("names", [
        llmConfig("a5", { deployment_config: { name: "same" } }),
        llmConfig("a6", { deployment_config: { name: "same" } }),
      ]),
    ]);
    const failed = async (name: string) => {
      const a = await until(e, name, "DEPLOY_FAILED");
      expect(a.message.split("\n")[0]).toBe(`Deploying app '${name}' failed with exception:`);
      expect(a.deployments).toEqual({});
      return a.message as string;
    };
    expect(await failed("mlc")).toContain(
      "Invalid model_loading_config: {'model_id': 'a1', 'revision': 'main'}",
    );
    expect(await failed("engine")).toContain("Unsupported engine: SGLang");
    expect(await failed("args")).toContain("router\n  Extra inputs are not permitted");
    expect(lastLine(await failed("pg"))).toMatch(
      /^ValueError: placement_group_bundles and placement_group_strategy must not be specified in deployment_config\./,
    );
    expect(lastLine(await failed("names"))).toBe(
      "ValueError: Found multiple deployments with the name 'LLMServer:same' in the application. Deployment names must be unique within an application.",
    );
  });

  it("accepts Ray's accelerator names (H20, A100-80G, A10 -> A10G) and unknown import paths fail to import", async () => {
    const e = await start({ importPaths: { "my_app.main:app": ["Ingress", "Worker"] } });
    await deploy(e, [
      llmApp("h20", [
        llmConfig("a", { accelerator_type: "H20" }),
        llmConfig("b", { accelerator_type: "A100-80G" }),
        llmConfig("c", { accelerator_type: "A10" }),
      ]),
      { name: "mine", route_prefix: "/mine", import_path: "my_app.main:app" },
      { name: "nomod", route_prefix: "/nomod", import_path: "not_installed.main:app" },
    ]);
    await until(e, "h20", "RUNNING");
    expect(Object.keys((await until(e, "mine", "RUNNING")).deployments)).toEqual(["Ingress", "Worker"]);
    expect(lastLine((await until(e, "nomod", "DEPLOY_FAILED")).message)).toBe(
      "ModuleNotFoundError: No module named 'not_installed'",
    );
  });

  it("treats a malformed app route_prefix as a deploy-time failure, as Ray 2.5x does", async () => {
    const e = await start();
    await deploy(e, [
      llmApp("a", [llmConfig("m")]),
      { ...llmApp("b", [llmConfig("n")]), route_prefix: "/b/" },
    ]);
    expect(lastLine((await until(e, "b", "DEPLOY_FAILED")).message)).toBe(
      "ValueError: Invalid route_prefix '/b/', may not end with a trailing '/'.",
    );
    await until(e, "a", "RUNNING");
  });

  it("applies replica-count overrides without restarting anything", async () => {
    const e = await start({ deployDelayMs: 200 }); // wide window for the transient-state checks
    const cfg = (n: number) =>
      llmApp("a", [llmConfig("m1"), llmConfig("m2")], [{ name: "LLMServer:m1", num_replicas: n }]);
    await deploy(e, [cfg(1)]);
    await until(e, "a", "RUNNING");
    await deploy(e, [cfg(3)]);
    const scaling = await appState(e, "a");
    expect(scaling.status).toBe("DEPLOYING");
    expect(scaling.deployments["LLMServer:m1"]).toMatchObject({
      status: "UPSCALING",
      status_trigger: "CONFIG_UPDATE_STARTED",
      target_num_replicas: 3,
    });
    const a = await until(e, "a", "RUNNING");
    expect(a.deployments["LLMServer:m1"]).toMatchObject({
      status: "HEALTHY",
      status_trigger: "UPSCALE_COMPLETED",
    });
    expect(a.deployments["LLMServer:m1"].replicas.map((r: { state: string }) => r.state)).toEqual([
      "RUNNING",
      "RUNNING",
      "RUNNING",
    ]);
    for (const d of ["LLMServer:m1", "LLMServer:m2", "OpenAiIngress"]) expect(e.restarts(d, "a")).toBe(0);
  });

  it("applies autoscaling bounds without restarting anything once a deployment autoscales", async () => {
    const e = await start({ deployDelayMs: 200 });
    const auto = (min: number, max: number) =>
      llmApp(
        "a",
        [llmConfig("m1"), llmConfig("m2")],
        [
          {
            name: "LLMServer:m1",
            num_replicas: "auto",
            autoscaling_config: { min_replicas: min, max_replicas: max },
          },
        ],
      );
    await deploy(e, [auto(2, 4)]);
    const first = await until(e, "a", "RUNNING");
    expect(first.deployments["LLMServer:m1"].target_num_replicas).toBe(2);
    expect(first.deployments["LLMServer:m1"].deployment_config.autoscaling_config).toMatchObject({
      min_replicas: 2,
      max_replicas: 4,
      target_ongoing_requests: 2,
    });
    // The policy list of the code version is unchanged (one default policy): a lightweight update.
    await deploy(e, [auto(3, 5)]);
    const again = await until(e, "a", "RUNNING");
    expect(again.deployments["LLMServer:m1"].target_num_replicas).toBe(3);
    for (const d of ["LLMServer:m1", "LLMServer:m2", "OpenAiIngress"]) expect(e.restarts(d, "a")).toBe(0);
  });

  it("keeps a deployment's current replica count within new autoscaling bounds (AutoscalingState.register)", async () => {
    const e = await start();
    const m1 = (override: Record<string, unknown>) =>
      llmApp("a", [llmConfig("m1")], [{ name: "LLMServer:m1", ...override }]);
    const target = async () =>
      (await until(e, "a", "RUNNING")).deployments["LLMServer:m1"].target_num_replicas as number;
    await deploy(e, [m1({ num_replicas: 3 })]);
    expect(await target()).toBe(3);
    // A switch to autoscaling keeps the 3 running replicas (within 1..5), it does not start over at min_replicas.
    await deploy(e, [m1({ num_replicas: "auto", autoscaling_config: { min_replicas: 1, max_replicas: 5 } })]);
    expect(await target()).toBe(3);
    // Lowering min_replicas keeps the count; a max below it clamps it.
    await deploy(e, [m1({ num_replicas: "auto", autoscaling_config: { min_replicas: 0, max_replicas: 2 } })]);
    expect(await target()).toBe(2);
    // initial_replicas applies when the deployment's config changes.
    await deploy(e, [
      m1({
        num_replicas: "auto",
        autoscaling_config: { min_replicas: 0, max_replicas: 4, initial_replicas: 4 },
      }),
    ]);
    expect(await target()).toBe(4);
  });

  it("restarts every deployment of an app whose args change, and leaves other apps alone", async () => {
    const e = await start({ deployDelayMs: 200 }); // wide window for the transient-state checks
    const a1 = llmApp("a", [llmConfig("m1"), llmConfig("m2")]);
    const b = llmApp("b", [llmConfig("m3")]);
    await deploy(e, [a1, b]);
    await until(e, "a", "RUNNING");
    await until(e, "b", "RUNNING");
    const a2 = llmApp("a", [
      llmConfig("m1", { engine_kwargs: { tensor_parallel_size: 1, max_model_len: 4096 } }),
      llmConfig("m2"),
    ]);
    await deploy(e, [a2, b]);
    expect(await appState(e, "a")).toMatchObject({ status: "DEPLOYING", deployments: {} }); // rebuilding
    await waitFor(async () => (await appState(e, "a")).deployments["LLMServer:m2"]?.status === "UPDATING");
    await until(e, "a", "RUNNING");
    expect([
      e.restarts("LLMServer:m1"),
      e.restarts("LLMServer:m2"),
      e.restarts("OpenAiIngress", "a"),
    ]).toEqual([1, 1, 1]);
    expect([e.restarts("LLMServer:m3"), e.restarts("OpenAiIngress", "b")]).toEqual([0, 0]);
    expect(e.restarts("OpenAiIngress")).toBe(1);
    // unchanged resubmission: nothing happens
    await deploy(e, [a2, b]);
    expect((await appState(e, "a")).status).toBe("RUNNING");
    expect(e.restarts("LLMServer:m1")).toBe(1);
  });

  it("restarts one deployment for a heavyweight override and reconfigures in place for user_config", async () => {
    const e = await start({ deployDelayMs: 200 }); // wide window for the transient-state checks
    const cfg = (o: Record<string, unknown>) =>
      llmApp("a", [llmConfig("m1"), llmConfig("m2")], [{ name: "LLMServer:m1", ...o }]);
    await deploy(e, [cfg({ user_config: { v: 1 } })]);
    await until(e, "a", "RUNNING");
    await deploy(e, [cfg({ user_config: { v: 2 } })]);
    expect((await appState(e, "a")).deployments["LLMServer:m1"].status).toBe("UPDATING");
    await until(e, "a", "RUNNING");
    expect(e.restarts("LLMServer:m1")).toBe(0);
    await deploy(e, [cfg({ user_config: { v: 2 }, ray_actor_options: { num_cpus: 2 } })]);
    await until(e, "a", "RUNNING");
    expect([e.restarts("LLMServer:m1"), e.restarts("LLMServer:m2")]).toEqual([1, 0]);
  });

  it("lets autoscaling win over an override num_replicas on a deployment that autoscales in code", async () => {
    const e = await start();
    const code = {
      model_loading_config: { model_id: "m", model_source: "org/m" },
      deployment_config: { name: "m", autoscaling_config: { min_replicas: 1, max_replicas: 2 } },
    };
    await deploy(e, [llmApp("a", [code], [{ name: "LLMServer:m", num_replicas: 3 }])]);
    const a = await until(e, "a", "RUNNING");
    expect(a.deployments["LLMServer:m"].target_num_replicas).toBe(1);
    expect(a.deployments["LLMServer:m"].deployment_config.autoscaling_config).toMatchObject({
      min_replicas: 1,
      max_replicas: 2,
    });
  });

  it("checks autoscaling_config at deploy time with Serve's pydantic v1 AutoscalingConfig/DeploymentConfig", async () => {
    // application_state.py override_deployment_info: AutoscalingConfig(**new_config) for num_replicas
    // "auto", DeploymentConfig(**original_options) otherwise; ray/serve/config.py AutoscalingConfig
    // (PositiveFloat target_ongoing_requests / look_back_period_s, NonNegativeFloat upscale_delay_s,
    // NonNegativeInt min_replicas, replicas_settings_valid), in pydantic v1 wording (Ray 2.5x).
    const e = await start();
    const app = (name: string, o: Record<string, unknown>) =>
      llmApp(name, [llmConfig("m")], [{ name: "LLMServer:m", ...o }]);
    await deploy(e, [
      app("order", { autoscaling_config: { min_replicas: 3, max_replicas: 1 } }),
      app("init", { autoscaling_config: { min_replicas: 1, max_replicas: 2, initial_replicas: 3 } }),
      app("auto", {
        num_replicas: "auto",
        autoscaling_config: {
          min_replicas: 1,
          max_replicas: 2,
          target_ongoing_requests: 0,
          look_back_period_s: 0,
        },
      }),
      app("delay", { autoscaling_config: { min_replicas: 1, max_replicas: 2, upscale_delay_s: -1 } }),
      app("nullmin", { autoscaling_config: { min_replicas: null, max_replicas: 2 } }),
      app("metrics", {
        num_replicas: "auto",
        autoscaling_config: { metrics_interval_s: 0, downscale_delay_s: -1 },
      }),
      app("coerced", {
        autoscaling_config: { min_replicas: "2", max_replicas: 3.7, upscale_delay_s: "1_0", bogus: 1 },
      }),
    ]);
    const failed = async (name: string) => {
      const a = await until(e, name, "DEPLOY_FAILED");
      expect(a.message.split("\n")[0]).toBe("Traceback (most recent call last):");
      expect(a.deployments).toEqual({});
      return a.message.slice(a.message.indexOf("pydantic.v1.error_wrappers.ValidationError: ")) as string;
    };
    expect(await failed("order")).toBe(
      "pydantic.v1.error_wrappers.ValidationError: 1 validation error for DeploymentConfig\n" +
        "autoscaling_config -> max_replicas\n" +
        "  max_replicas (1) must be greater than or equal to min_replicas (3)! (type=value_error)",
    );
    expect(await failed("init")).toContain(
      "  max_replicas (2) must be greater than or equal to initial_replicas (3)! (type=value_error)",
    );
    expect(await failed("auto")).toBe(
      "pydantic.v1.error_wrappers.ValidationError: 2 validation errors for AutoscalingConfig\n" +
        "target_ongoing_requests\n" +
        "  ensure this value is greater than 0 (type=value_error.number.not_gt; limit_value=0)\n" +
        "look_back_period_s\n" +
        "  ensure this value is greater than 0 (type=value_error.number.not_gt; limit_value=0)",
    );
    expect((await appState(e, "auto")).message).toContain(
      'options["autoscaling_config"] = AutoscalingConfig(**new_config)',
    );
    expect(await failed("delay")).toBe(
      "pydantic.v1.error_wrappers.ValidationError: 1 validation error for DeploymentConfig\n" +
        "autoscaling_config -> upscale_delay_s\n" +
        "  ensure this value is greater than or equal to 0 (type=value_error.number.not_ge; limit_value=0)",
    );
    expect(await failed("nullmin")).toContain(
      "autoscaling_config -> min_replicas\n  none is not an allowed value (type=type_error.none.not_allowed)",
    );
    const metrics = await failed("metrics");
    expect(metrics).toContain("2 validation errors for AutoscalingConfig\nmetrics_interval_s\n");
    expect(metrics).toContain("downscale_delay_s\n  ensure this value is greater than or equal to 0");
    // pydantic v1 coerces ("2" -> 2, 3.7 -> 3, "1_0" -> 10.0) and ignores unknown keys
    const ok = await until(e, "coerced", "RUNNING");
    const auto = ok.deployments["LLMServer:m"].deployment_config.autoscaling_config;
    expect(auto).toMatchObject({ min_replicas: 2, max_replicas: 3, upscale_delay_s: 10 });
    expect(auto).not.toHaveProperty("bogus");
    expect(ok.deployments["LLMServer:m"].target_num_replicas).toBe(2);
  });

  it("validates an LLMConfig's deployment_config with Serve's full DeploymentConfig", async () => {
    // llm_config.py LLMConfig.validate_deployment_config: DeploymentConfig(**value) (ray/serve/_private/
    // config.py, its AutoscalingConfig from ray/serve/config.py); any failure -> "Invalid deployment config"
    const e = await start();
    const bad: [string, Record<string, unknown>][] = [
      ["hcp", { health_check_period_s: -1 }],
      ["hct", { health_check_timeout_s: 0 }],
      ["gsw", { graceful_shutdown_wait_loop_s: -1 }],
      ["gst", { graceful_shutdown_timeout_s: -0.5 }],
      ["mq0", { max_queued_requests: 0 }],
      ["tor", { autoscaling_config: { min_replicas: 1, max_replicas: 2, target_ongoing_requests: 0 } }],
      ["lbp", { autoscaling_config: { look_back_period_s: 0 } }],
      ["mis", { autoscaling_config: { metrics_interval_s: -1 } }],
      ["upd", { autoscaling_config: { upscale_delay_s: -1 } }],
      ["dnd", { autoscaling_config: { downscale_delay_s: -1 } }],
      ["upf", { autoscaling_config: { upscaling_factor: 0 } }],
      ["minnull", { autoscaling_config: { min_replicas: null } }],
      ["minmax", { autoscaling_config: { min_replicas: 3, max_replicas: 2 } }],
      ["mininit", { autoscaling_config: { min_replicas: 2, max_replicas: 3, initial_replicas: 1 } }],
      ["minneg", { autoscaling_config: { min_replicas: -1 } }],
      ["mor", { max_ongoing_requests: 0 }],
      ["rr", { request_router_config: { request_routing_stats_period_s: 0 } }],
      ["log", { logging_config: { log_level: "LOUD" } }],
    ];
    const cfg = (id: string, dc: Record<string, unknown>) => ({
      model_loading_config: { model_id: id, model_source: `org/${id}` },
      deployment_config: dc,
    });
    await deploy(e, [
      ...bad.map(([n, dc]) => llmApp(n, [cfg(n, dc)])),
      llmApp("ok", [cfg("ok", { name: "ok", num_replicas: "2", max_queued_requests: -1 })]),
      llmApp("okauto", [cfg("okauto", { autoscaling_config: { min_replicas: "1", max_replicas: 2 } })]),
    ]);
    for (const [n, dc] of bad) {
      const a = await until(e, n, "DEPLOY_FAILED");
      expect(a.message, n).toContain(`Value error, Invalid deployment config: `);
      expect(a.message, n).toContain(`'deployment_config': {'${Object.keys(dc)[0]}'`);
      expect(a.deployments).toEqual({});
    }
    // DeploymentConfig coerces, and so does serve.deployment()'s DeploymentConfig.from_default
    const ok = await until(e, "ok", "RUNNING");
    expect(ok.deployments["LLMServer:ok"].target_num_replicas).toBe(2);
    expect(ok.deployments["LLMServer:ok"].deployment_config.num_replicas).toBe(2);
    const okauto = await until(e, "okauto", "RUNNING");
    expect(okauto.deployments["LLMServer:okauto"].deployment_config.autoscaling_config).toMatchObject({
      min_replicas: 1,
      max_replicas: 2,
    });
  });

  it("fails the build for an LLM deployment_config num_replicas of 0 (serve.deployment rejects it)", async () => {
    // ray/serve/api.py deployment(): `if num_replicas == 0: raise ValueError("num_replicas is expected
    // to larger than 0")`; DeploymentConfig (NonNegativeInt) lets 0 through LLMConfig.
    const e = await start();
    await deploy(e, [
      llmApp("a", [llmConfig("m", { deployment_config: { name: "m", num_replicas: 0 } })]),
      // Python's `False == 0` holds too.
      llmApp("b", [llmConfig("n", { deployment_config: { name: "n", num_replicas: false } })]),
    ]);
    const a = await until(e, "a", "DEPLOY_FAILED");
    expect(a.message.split("\n")[0]).toBe("Deploying app 'a' failed with exception:");
    expect(a.message).toContain('File "/home/ray/anaconda3/lib/python3.11/site-packages/ray/serve/api.py"');
    expect(lastLine(a.message)).toBe("ValueError: num_replicas is expected to larger than 0");
    expect(a.deployments).toEqual({});
    const b = await until(e, "b", "DEPLOY_FAILED");
    expect(lastLine(b.message)).toBe("ValueError: num_replicas is expected to larger than 0");
  });

  it("reports UNHEALTHY on demand", async () => {
    const e = await start();
    await deploy(e, [llmApp("a", [llmConfig("m1")])]);
    await until(e, "a", "RUNNING");
    e.makeUnhealthy("LLMServer:m1", "replica health check failed");
    const a = await appState(e, "a");
    expect(a).toMatchObject({
      status: "UNHEALTHY",
      message: "The deployments ['LLMServer:m1'] are UNHEALTHY.",
    });
    expect(a.deployments["LLMServer:m1"]).toMatchObject({
      status: "UNHEALTHY",
      status_trigger: "HEALTH_CHECK_FAILED",
      message: "replica health check failed",
    });
    e.recover("LLMServer:m1");
    expect((await appState(e, "a")).status).toBe("RUNNING");
    expect(() => e.makeUnhealthy("LLMServer:nope")).toThrow();
  });

  it("says what Ray says on a replica failing its health check (deployment_state.py check_and_update_replicas)", async () => {
    const e = await start();
    await deploy(e, [llmApp("a", [llmConfig("m1")])]);
    await until(e, "a", "RUNNING");
    e.makeUnhealthy("LLMServer:m1");
    expect((await appState(e, "a")).deployments["LLMServer:m1"]).toMatchObject({
      status: "UNHEALTHY",
      status_trigger: "HEALTH_CHECK_FAILED",
      message:
        "A replica's health check failed. This deployment will be UNHEALTHY until the replica recovers or a new deploy happens.",
    });
  });

  it("keeps an app that needs more GPUs than are free DEPLOYING until GPUs are freed", async () => {
    const e = await start({ totalGpus: 2 });
    // GPUs per replica = tensor_parallel_size x pipeline_parallel_size, source: ray-project/ray
    // python/ray/llm/_internal/serve/engines/vllm/vllm_models.py @b4061b5e (num_devices, placement_bundles:
    // one {"GPU": 1} bundle per device; placement_strategy "PACK" unless placement_group_config says otherwise).
    const big = (id: string) => llmConfig(id, { engine_kwargs: { tensor_parallel_size: 2 } });
    await deploy(e, [llmApp("a", [big("m1")]), llmApp("b", [big("m2")])]);
    await until(e, "a", "RUNNING");
    const b = await appState(e, "b");
    expect(b.status).toBe("DEPLOYING");
    expect(b.deployments["LLMServer:m2"].status).toBe("UPDATING");
    expect(b.deployments["LLMServer:m2"].message).toContain("taken more than 30s to be scheduled");
    expect(e.gpus()).toEqual({ total: 2, used: 2 });
    await deploy(e, [llmApp("b", [big("m2")])]);
    await until(e, "b", "RUNNING");
    expect(e.gpus()).toEqual({ total: 2, used: 2 });
  });

  it("lets tests tamper with the stored config (drift) until the next PUT", async () => {
    const e = await start();
    const cfg = llmApp("a", [llmConfig("m1")], [{ name: "LLMServer:m1", num_replicas: 1 }]);
    await deploy(e, [cfg]);
    await until(e, "a", "RUNNING");
    e.tamper("a", (c) => {
      c.deployments[0].num_replicas = 5;
    });
    expect((await appState(e, "a")).deployed_app_config.deployments[0].num_replicas).toBe(5);
    await deploy(e, [cfg]);
    expect((await appState(e, "a")).deployed_app_config).toEqual(cfg);
    expect(() => e.tamper("zzz", () => undefined)).toThrow();
  });
});

describe("ray dashboard emulator: parity with Ray's code version (hunt-emu)", () => {
  // Ray 2.5x, python/ray/serve/_private/deploy_utils.py get_app_code_version: besides import_path,
  // runtime_env and args, the hash covers, for every entry of applications[].deployments whose
  // autoscaling_config is a dict, its autoscaling policy (autoscaling_config.get("policy", {}).get(
  // "policy_function", DEFAULT_AUTOSCALING_POLICY_NAME); newer: autoscaling_config.get("policy")) and its
  // request_router_config. application_state.py apply_app_config compares that version with the target's:
  // a different one clears the target state and starts a new build task (every deployment gets the new
  // version, so every replica of the app restarts). Turning one model's override from a fixed num_replicas
  // into num_replicas "auto" + autoscaling_config therefore rebuilds the whole application on Ray.
  it("rebuilds the whole app when an override gains an autoscaling_config (code version covers it)", async () => {
    const e = await start({ deployDelayMs: 200 });
    const fixed = llmApp(
      "a",
      [llmConfig("m1"), llmConfig("m2")],
      [{ name: "LLMServer:m1", num_replicas: 1 }],
    );
    await deploy(e, [fixed]);
    await until(e, "a", "RUNNING");
    const auto = llmApp(
      "a",
      [llmConfig("m1"), llmConfig("m2")],
      [
        {
          name: "LLMServer:m1",
          num_replicas: "auto",
          autoscaling_config: { min_replicas: 1, max_replicas: 2 },
        },
      ],
    );
    await deploy(e, [auto]);
    // a new build task: the target deployments are unknown again (list_deployment_details lists none)
    const building = await appState(e, "a");
    expect([building.status, Object.keys(building.deployments)]).toEqual(["DEPLOYING", []]);
    await until(e, "a", "RUNNING");
    // the untouched model restarts too, as does the ingress
    expect([e.restarts("LLMServer:m2", "a"), e.restarts("OpenAiIngress", "a")]).toEqual([1, 1]);
  });
});

describe("ray dashboard emulator: parity with Ray's deployment reconciliation (hunt-emu)", () => {
  // Ray 2.5x: a failed build (application_state.py _reconcile_build_app_task -> DEPLOY_FAILED) leaves the
  // target deployment_infos None, so the deployments already running are not touched and keep their
  // version. Reverting to the config they run starts a new build task (the target code_version was
  // cleared), but its result is the same DeploymentInfo (same code version, same configs), and
  // deployment_state.py DeploymentState.deploy() exits early ("If the deployment already exists with the
  // same version, config, target_capacity, and target_capacity_direction, this method returns False"):
  // no replica restarts, statuses stay HEALTHY.
  it("restarts nothing when a failed build is reverted to the config the replicas already run", async () => {
    const e = await start({ deployDelayMs: 200 });
    const good = llmApp("a", [llmConfig("m1"), llmConfig("m2")]);
    await deploy(e, [good]);
    await until(e, "a", "RUNNING");
    const bad = llmApp("a", [
      llmConfig("m1", { engine_kwargs: { tensor_parallel_size: 1, no_such_engine_arg: 1 } }),
      llmConfig("m2"),
    ]);
    await deploy(e, [bad]);
    await until(e, "a", "DEPLOY_FAILED");
    await deploy(e, [good]); // the revert
    await until(e, "a", "RUNNING");
    expect([e.restarts("LLMServer:m1", "a"), e.restarts("LLMServer:m2", "a")]).toEqual([0, 0]);
  });
});

describe("ray dashboard emulator: parity with Ray's deployment status messages (hunt-emu)", () => {
  // Ray 2.5x python/ray/serve/_private/deployment_state.py DeploymentState.deploy(): a config update whose
  // only effect is num_replicas (is_scaled_copy_of) goes through handle_transition(
  // MANUALLY_INCREASE_NUM_REPLICAS, message=f"Upscaling from {old_num} to {new_num} replicas.")
  // (MANUALLY_DECREASE_NUM_REPLICAS / "Downscaling from ..."); common.py DeploymentStatusInfo.handle_transition
  // keeps that message on the UPSCALING/CONFIG_UPDATE_STARTED status until the HEALTHY transition clears it.
  it("says 'Upscaling from 1 to 3 replicas.' while an override scales a deployment up", async () => {
    const e = await start({ deployDelayMs: 200 });
    const cfg = (n: number) => llmApp("a", [llmConfig("m1")], [{ name: "LLMServer:m1", num_replicas: n }]);
    await deploy(e, [cfg(1)]);
    await until(e, "a", "RUNNING");
    await deploy(e, [cfg(3)]);
    expect((await appState(e, "a")).deployments["LLMServer:m1"]).toMatchObject({
      status: "UPSCALING",
      status_trigger: "CONFIG_UPDATE_STARTED",
      message: "Upscaling from 1 to 3 replicas.",
    });
  });
});

describe("ray dashboard emulator: parity with Ray's recovery transition (hunt-emu)", () => {
  // Ray 2.5x python/ray/serve/_private/common.py DeploymentStatusInfo.handle_transition: from UNHEALTHY, the
  // HEALTHY trigger gives status HEALTHY with status_trigger UNSPECIFIED ("The deployment recovered"), not
  // CONFIG_UPDATE_COMPLETED (which is only the UPDATING -> HEALTHY transition).
  it("reports a recovered deployment HEALTHY with status_trigger UNSPECIFIED", async () => {
    const e = await start();
    await deploy(e, [llmApp("a", [llmConfig("m1")])]);
    await until(e, "a", "RUNNING");
    e.makeUnhealthy("LLMServer:m1", "replica health check failed");
    await until(e, "a", "UNHEALTHY");
    e.recover("LLMServer:m1");
    const a = await until(e, "a", "RUNNING");
    expect(a.deployments["LLMServer:m1"]).toMatchObject({ status: "HEALTHY", status_trigger: "UNSPECIFIED" });
  });
});

describe("ray dashboard emulator: parity with Ray Serve LLM's deployment_config handling (hunt-emu)", () => {
  // LLMConfig.validate_deployment_config (python/ray/llm/_internal/serve/core/configs/llm_config.py) only runs
  // DeploymentConfig(**value), which ignores unknown keys, so a misspelt key passes LLMConfig. The build then
  // reaches core/server/builder.py build_llm_deployment -> serve.deployment(deployment_cls,
  // **deployment_options) (LLMServer.get_deployment_options copies deployment_config as is), and
  // ray/serve/api.py deployment() has no **kwargs: Python raises "TypeError: deployment() got an unexpected
  // keyword argument 'num_replica'", the build task fails and the app goes DEPLOY_FAILED.
  it("fails the build for an unknown key in an LLMConfig's deployment_config", async () => {
    const e = await start();
    const typo = llmConfig("m1", { deployment_config: { name: "m1", num_replica: 2 } });
    await deploy(e, [llmApp("a", [typo])]);
    const a = await until(e, "a", "DEPLOY_FAILED").catch(async () => appState(e, "a"));
    expect(a.status).toBe("DEPLOY_FAILED");
    expect(lastLine(a.message)).toContain("unexpected keyword argument 'num_replica'");
  });
});

describe("ray dashboard emulator: parity with LLMConfig field validation (hunt-emu)", () => {
  // python/ray/llm/_internal/serve/core/configs/llm_config.py (pydantic v2, via LLMServingArgs in
  // core/ingress/builder.py): runtime_env is Optional[Dict[str, Any]] ("Input should be a valid
  // dictionary"), and validate_lora_config builds LoraConfig(**value), whose dynamic_lora_loading_path
  // validator asserts a remote path (s3://, gs://, abfss://, azure://) -> "Invalid lora_config: {...}".
  // Either error fails build_openai_app, so the app goes DEPLOY_FAILED.
  it("fails the build for an LLMConfig whose runtime_env is not a dict or whose lora path is local", async () => {
    const e = await start();
    await deploy(e, [
      llmApp("a", [llmConfig("m1", { runtime_env: "not-a-dict" })]),
      { ...llmApp("b", [llmConfig("m2", { lora_config: { dynamic_lora_loading_path: "/local/loras" } })]) },
    ]);
    const settle = async (name: string) => {
      await waitFor(async () => ["RUNNING", "DEPLOY_FAILED"].includes((await appState(e, name))?.status));
      return appState(e, name);
    };
    const [a, b] = [await settle("a"), await settle("b")];
    expect([a.status, b.status]).toEqual(["DEPLOY_FAILED", "DEPLOY_FAILED"]);
    expect(a.message).toContain("Input should be a valid dictionary");
    expect(b.message).toContain("Invalid lora_config");
  });
});
