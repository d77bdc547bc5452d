import { describe, expect, it } from "vitest";
import { app } from "../../testkit/snapshot";
import { DEPLOYMENT_PHASE, errorSummary, observeModel } from "./state-table";

const RAY_TRACEBACK = `The deployment failed to start 3 times in a row. This may be due to a problem with its constructor or initial health check failing. See controller logs for details. Error:
Traceback (most recent call last):
  File "ray/serve/_private/replica.py", line 1041, in initialize
    self._user_callable_asgi_app = await asyncio.wrap_future(
  File "ray/llm/_internal/common/utils/download_utils.py", line 241, in download_model_files
    raise OSError(f"{model_id} does not exist")
OSError: /private/users/alice/checkpoints/x does not exist
`;

describe("the state mapping table", () => {
  it("maps every DeploymentStatus Ray has to one phase", () => {
    expect(DEPLOYMENT_PHASE).toEqual({
      HEALTHY: "serving",
      UPSCALING: "scaling",
      DOWNSCALING: "serving",
      UPDATING: "deploying",
      DEPLOY_FAILED: "failed",
      UNHEALTHY: "unhealthy",
    });
  });

  it("an UNHEALTHY deployment or application is one Ray may heal without a new config, not a failure", () => {
    // common.py DeploymentStatusInfo.handle_transition: UNHEALTHY -> HEALTHY once the replaced replica runs;
    // DEPLOY_FAILED (replicas never started after a deploy) is terminal until a redeploy (ray#51600).
    const deployments = new Map([["LLMServer:m", { name: "LLMServer:m", status: "UNHEALTHY", message: "" }]]);
    expect(
      observeModel(
        app("a", {
          status: "UNHEALTHY",
          message: "The deployments ['LLMServer:m'] are UNHEALTHY.",
          deployments,
        }),
        "LLMServer:m",
      ),
    ).toMatchObject({ phase: "unhealthy", message: "The deployments ['LLMServer:m'] are UNHEALTHY." });
    expect(observeModel(app("a", { status: "UNHEALTHY" }), "LLMServer:m").phase).toBe("unhealthy");
  });

  it("takes the model's own deployment over its application's status (ray#33974)", () => {
    const deployments = new Map([["LLMServer:m", { name: "LLMServer:m", status: "HEALTHY", message: "" }]]);
    const seen = observeModel(
      app("a", {
        status: "DEPLOY_FAILED",
        message: "Failed to update the deployments ['Other']",
        deployments,
      }),
      "LLMServer:m",
    );
    expect(seen).toMatchObject({ phase: "serving", status: "HEALTHY", appStatus: "DEPLOY_FAILED" });
  });

  it("gives a failed deployment without a message of its own its application's message, and no other", () => {
    const at = (status: string) =>
      observeModel(
        app("a", {
          status: "DEPLOY_FAILED",
          message: "Deploying app 'a' failed with exception: boom",
          deployments: new Map([["LLMServer:m", { name: "LLMServer:m", status, message: "" }]]),
        }),
        "LLMServer:m",
      );
    expect(at("DEPLOY_FAILED").message).toBe("Deploying app 'a' failed with exception: boom");
    expect(at("HEALTHY").message).toBe("");
  });

  it("an UPSCALING deployment serves but has not reached its target yet: scaling, not serving", () => {
    const deployments = new Map([["LLMServer:m", { name: "LLMServer:m", status: "UPSCALING", message: "" }]]);
    expect(observeModel(app("a", { deployments }), "LLMServer:m").phase).toBe("scaling");
  });

  it("reads the application while the build task has listed no deployment yet", () => {
    expect(observeModel(app("a", { status: "DEPLOYING" }), "LLMServer:m").phase).toBe("deploying");
    expect(observeModel(app("a", { status: "RUNNING" }), "LLMServer:m").phase).toBe("deploying");
    expect(observeModel(app("a", { status: "DEPLOY_FAILED", message: "boom" }), "LLMServer:m")).toMatchObject(
      { phase: "failed", message: "boom" },
    );
    expect(observeModel(undefined, "LLMServer:m").phase).toBe("absent");
  });

  it("never takes an unknown (newer) status for success", () => {
    const deployments = new Map([
      ["LLMServer:m", { name: "LLMServer:m", status: "WARMING_UP", message: "" }],
    ]);
    expect(observeModel(app("a", { deployments }), "LLMServer:m").phase).toBe("deploying");
  });
});

describe("errorSummary", () => {
  it("is the exception line at the end of Ray's traceback, not its first line", () => {
    expect(errorSummary(RAY_TRACEBACK)).toBe("OSError: /private/users/alice/checkpoints/x does not exist");
  });
  it("keeps a message without a traceback", () => {
    expect(errorSummary("Failed to update the deployments ['LLMServer:x'].")).toBe(
      "Failed to update the deployments ['LLMServer:x'].",
    );
    expect(
      errorSummary("ValueError: Deployment 'LLMServer:x' does not exist. Available: ['OpenAiIngress']"),
    ).toMatch(/^ValueError: Deployment/);
    expect(errorSummary("  \n ")).toBeUndefined();
  });
});
