// How Ray's statuses become a model's phase: one table, read nowhere else. Pure.
import type { ObservedApp, ObservedDeployment } from "./types";

/**
 * "scaling": the model serves on the replicas it has, but not yet on as many as its config asks for. A commit
 * that changed the model is not done until they run (Ray may never place them: too few GPUs), nor is a
 * scale-up reported as success; nothing restarts meanwhile.
 */
export type Phase = "serving" | "scaling" | "deploying" | "failed";

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
  UNHEALTHY: "failed",
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
  UNHEALTHY: "failed",
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
      message: d.message || (phase === "failed" ? app.message : ""),
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
