/**
 * Ray behaviours the emulator reproduces, and the agent's comparison copes with, each pinned with the Ray source
 * it follows (found in a review against Ray's code): config updates vs scaling, LoggingConfig as Ray stores it,
 * overrides applied onto the previous target. TEST/DEMO ONLY emulator.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any
   -- these tests inspect untyped JSON bodies (the emulator's GET output) */
import { afterEach, describe, expect, it } from "vitest";
import { asDeployed, isEqual } from "../src/model/compare";
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
async function deploy(e: RayEmulator, config: Record<string, unknown>): Promise<void> {
  const r = await putApps(e.url, config);
  expect([r.status, r.body]).toEqual([200, ""]);
}

describe("an autoscaling_config change is a config update, not a manual scale", () => {
  // python/ray/serve/_private/deployment_state.py, DeploymentTargetState.is_scaled_copy_of:
  //   self.info.deployment_config.dict(exclude={"num_replicas"})
  //       == other_target_state.info.deployment_config.dict(exclude={"num_replicas"}),
  // so new autoscaling bounds (min_replicas 2 -> 3) are NOT a scaled copy, and DeploymentState.deploy takes
  //   else:
  //       # Otherwise, the deployment configuration has actually been updated.
  //       self._curr_status_info = self._curr_status_info.handle_transition(
  //           trigger=DeploymentStatusInternalTrigger.CONFIG_UPDATE)
  // python/ray/serve/_private/common.py DeploymentStatusInfo.handle_transition, HEALTHY + CONFIG_UPDATE ->
  //   status=DeploymentStatus.UPDATING, status_trigger=DeploymentStatusTrigger.CONFIG_UPDATE_STARTED, message=""
  // and, once the target runs, UPDATING + HEALTHY -> HEALTHY / CONFIG_UPDATE_COMPLETED.
  // Only a change of num_replicas alone is MANUALLY_INCREASE_NUM_REPLICAS -> UPSCALING "Upscaling from N to M".
  // The agent reads UPDATING as "deploying" and UPSCALING as "scaling" (state-table.ts): the emulator must say
  // which one Ray would.
  it("reports UPDATING / CONFIG_UPDATE_STARTED with no message while new bounds are applied", async () => {
    const e = await start({ deployDelayMs: 400 });
    const auto = (min: number, max: number) =>
      llmApp(
        "a",
        [llmConfig("m1")],
        [
          {
            name: "LLMServer:m1",
            num_replicas: "auto",
            autoscaling_config: { min_replicas: min, max_replicas: max },
          },
        ],
      );
    await deploy(e, { applications: [auto(2, 4)] });
    await until(e, "a", "RUNNING");
    await deploy(e, { applications: [auto(3, 5)] });
    const d = (await appState(e, "a")).deployments["LLMServer:m1"];
    expect({ status: d.status, trigger: d.status_trigger, message: d.message }).toEqual({
      status: "UPDATING",
      trigger: "CONFIG_UPDATE_STARTED",
      message: "",
    });
    const done = (await until(e, "a", "RUNNING")).deployments["LLMServer:m1"];
    expect([done.status, done.status_trigger, done.target_num_replicas]).toEqual([
      "HEALTHY",
      "CONFIG_UPDATE_COMPLETED",
      3,
    ]);
  });
});

describe("(the agent against Ray) the top-level logging_config as Ray stores it in each application", () => {
  // The agent decides "in sync" with isEqual(asDeployed(app, config), asDeployed(deployed_app_config))
  // (compare.ts): it must expect what Ray stores, or it would re-PUT forever for a template that writes one of
  // these top-level logging_configs.
  const put = (logging: Record<string, unknown>) => ({
    logging_config: logging,
    applications: [llmApp("a", [llmConfig("m1")])],
  });
  const agentSeesInSync = async (e: RayEmulator, config: Record<string, unknown>) => {
    await deploy(e, config);
    const have = (await appState(e, "a")).deployed_app_config;
    const app = (config.applications as Record<string, unknown>[])[0]!;
    return { have: have.logging_config, inSync: isEqual(asDeployed(app, config), have) };
  };

  // python/ray/serve/_private/controller.py ServeController.apply_config:
  //   if app_config.logging_config is None and config.logging_config:
  //       app_config.logging_config = config.logging_config
  //   app_config_dict = app_config.dict(exclude_unset=True)
  // `config.logging_config` is a LoggingConfig instance (pydantic models define no __bool__/__len__: truthy even
  // with no field set), so `logging_config: {}` is copied into every application and dumped as {}.
  it("an empty top-level logging_config comes back as logging_config: {} in the application", async () => {
    const e = await start();
    const r = await agentSeesInSync(e, put({}));
    expect(r.have).toEqual({});
    expect(r.inSync).toBe(true);
  });

  // python/ray/serve/schema.py LoggingConfig.valid_log_level:
  //   if isinstance(v, int): ... return logging._levelToName[v]
  // so log_level 20 is stored (and returned in deployed_app_config) as "INFO"; the config schema the
  // generator checks templates against (schemas/ray-serve-config.schema.json loggingConfig) allows the ints.
  it("an int log_level comes back as its level name", async () => {
    const e = await start();
    const r = await agentSeesInSync(e, put({ log_level: 20 }));
    expect(r.have).toEqual({ log_level: "INFO" });
    expect(r.inSync).toBe(true);
  });
});

describe("additional_log_standard_attrs comes back in set order", () => {
  // python/ray/serve/schema.py LoggingConfig.valid_additional_log_standard_attrs:
  //   return list(set(v))
  // (run at the PUT, and again when controller.py get_app_configs re-parses the checkpoint with
  // ServeApplicationSchema.parse_obj). Python's str hashes are randomized per process, so the list Ray returns
  // in deployed_app_config is the same set in an order of its own, almost never the submitted one for several
  // attributes. The emulator returns them sorted, another order than a client sent: the agent compares the
  // list as a set (compare.ts storedLogging), or a template with two or more attributes would re-PUT forever.
  it("does not echo the submitted order of several attributes", async () => {
    const e = await start();
    const attrs = ["thread", "process", "name", "module", "lineno", "funcName", "filename", "levelname"];
    await deploy(e, {
      applications: [
        { ...llmApp("a", [llmConfig("m1")]), logging_config: { additional_log_standard_attrs: attrs } },
      ],
    });
    const have = (await appState(e, "a")).deployed_app_config.logging_config.additional_log_standard_attrs;
    expect([...have].sort()).toEqual([...attrs].sort());
    expect(have).not.toEqual(attrs);
  });
});

describe("a lightweight update merges into the previous overrides (sticky settings)", () => {
  // python/ray/serve/_private/application_state.py ApplicationState.apply_app_config, same code version:
  //   overrided_infos = override_deployment_info(self._target_state.deployment_infos, config)
  // i.e. the previous target infos, which already carry the previous config's overrides; and in
  // override_deployment_info:
  //   original_options = info.deployment_config.model_dump()   (.dict() in pydantic-v1 Ray)
  //   ...
  //   original_options.update(options)
  //   override_options["deployment_config"] = DeploymentConfig(**original_options)
  // so a setting a new override no longer names (max_ongoing_requests here; num_replicas 1 in both, no change of
  // import_path/runtime_env/args/policies: the same code version) keeps its previous value until the next
  // rebuild, while deployed_app_config drops the key (agent/README.md says so: write the default instead).
  it("keeps max_ongoing_requests after an override stops setting it", async () => {
    const e = await start();
    const cfg = (extra: Record<string, unknown>) => ({
      applications: [llmApp("a", [llmConfig("m1")], [{ name: "LLMServer:m1", num_replicas: 1, ...extra }])],
    });
    await deploy(e, cfg({ max_ongoing_requests: 7 }));
    expect(
      (await until(e, "a", "RUNNING")).deployments["LLMServer:m1"].deployment_config.max_ongoing_requests,
    ).toBe(7);
    await deploy(e, cfg({}));
    const after = await until(e, "a", "RUNNING");
    expect(after.deployed_app_config.deployments[0]).toEqual({ name: "LLMServer:m1", num_replicas: 1 });
    expect(after.deployments["LLMServer:m1"].deployment_config.max_ongoing_requests).toBe(7);
  });
});
