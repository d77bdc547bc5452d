// How Ray's statuses become a model's phase: one table, read nowhere else. Pure.
import type { ObservedApp, ObservedDeployment } from "./types";

/**
 * "scaling": the model serves on the replicas it has, but not yet on as many as its config asks for. A commit
 * that changed the model is not done until they run (Ray may never place them: too few GPUs), nor is a
 * scale-up reported as success; nothing restarts meanwhile.
 *
 * "unhealthy": Ray says UNHEALTHY, which it may heal without a new config, unlike DEPLOY_FAILED. A replica
 * failing its health check is stopped and replaced, the deployment UNHEALTHY "until the replica recovers or a
 * new deploy happens" (python/ray/serve/_private/deployment_state.py check_and_update_replicas); replicas
 * failing to start while scaling make it UNHEALTHY too, and Ray keeps retrying them; UNHEALTHY goes HEALTHY
 * once the target replicas run (common.py DeploymentStatusInfo.handle_transition). DEPLOY_FAILED is what a
 * deploy whose replicas never started ends in: Ray stops retrying, "user must redeploy" (ray#49178, ray#51600).
 * So a rollout watches an UNHEALTHY model on until deploy_timeout_s (rollout.ts), as Flux and Argo CD wait for
 * health until their timeout; outside a rollout it counts as failed, as before.
 */
export type Phase = "serving" | "scaling" | "deploying" | "unhealthy" | "failed";

/**
 * A model's phase comes from its own deployment (LLMServer:<name>). UPSCALING stays until the target number of
 * replicas runs (a replica Ray cannot place keeps it there); DOWNSCALING already has at least the target.
 */
export const DEPLOYMENT_PHASE: Readonly<Record<string, Phase>> = {
  HEALTHY: "serving",
  UPSCALING: "scaling",
  DOWNSCALING: "serving",
  UPDATING: "deploying",
  DEPLOY_FAILED: "failed",
  UNHEALTHY: "unhealthy",
};

/**
 * Before the build task lists an application's deployments, the application's status is all there is.
 * A RUNNING application without the model's deployment has not picked it up yet: still deploying.
 */
export const APP_PHASE_WITHOUT_DEPLOYMENT: Readonly<Record<string, Phase>> = {
  NOT_STARTED: "deploying",
  DEPLOYING: "deploying",
  RUNNING: "deploying",
  DELETING: "deploying",
  DEPLOY_FAILED: "failed",
  // application_state.py _determine_app_status: a deployment went UNHEALTHY while the application ran.
  UNHEALTHY: "unhealthy",
};

export interface ModelObservation {
  /** "absent": Ray has no application for the model. */
  readonly phase: Phase | "absent";
  /** The raw status the phase came from (the deployment's, else the application's). */
  readonly status: string;
  /** Ray's message: the deployment's, else the application's (Ray can show an application DEPLOY_FAILED while
   * its deployments are HEALTHY, ray#33974; the app's status is context, not the model's state). */
  readonly message: string;
  readonly appStatus: string;
}

export function observeModel(app: ObservedApp | undefined, deployment: string): ModelObservation {
  if (!app) return { phase: "absent", status: "", message: "", appStatus: "" };
  const d: ObservedDeployment | undefined = app.deployments.get(deployment);
  if (d) {
    // An unknown (newer) status is never taken for success.
    const phase = DEPLOYMENT_PHASE[d.status] ?? "deploying";
    return {
      phase,
      status: d.status,
      message: d.message || (phase === "failed" || phase === "unhealthy" ? app.message : ""),
      appStatus: app.status,
    };
  }
  const phase = APP_PHASE_WITHOUT_DEPLOYMENT[app.status] ?? "deploying";
  return { phase, status: app.status, message: app.message, appStatus: app.status };
}

/**
 * The line of Ray's message an owner needs: the exception at the end of a traceback (`OSError: ... does not
 * exist`), not "Traceback (most recent call last):" nor a frame.
 */
export function errorSummary(message: string): string | undefined {
  const lines = message
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  if (lines.length === 0) return undefined;
  const exception = /^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Failure|Timeout)\b.*?:/;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (exception.test(lines[i]!)) return lines[i];
  }
  const skip = /^(Traceback \(most recent call last\):|File ".*", line \d+|\^+|~+)$/;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!skip.test(lines[i]!) && !lines[i]!.startsWith('File "')) return lines[i];
  }
  return lines[lines.length - 1];
}

/** Ray reports the model failed: for good ("failed"), or UNHEALTHY, which Ray may still heal. */
export const isFailing = (phase: Phase | "absent"): boolean => phase === "failed" || phase === "unhealthy";
