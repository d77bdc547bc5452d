// The events a cycle adds to a model's history (GET /status): what the agent asked of Ray, what Ray took, what
// held a commit back, and how a rollout ended. RUNNING and FAILED come from the model's state itself (models.ts).
import type { ModelChange } from "./compare";
import type { NewEvent } from "./models";
import type { SettledModel } from "./rollout";
import type { ModelEventType, OutcomeResult } from "./types";

/** A commit's PUT is about to go out: each model it changes is requested to deploy or undeploy. */
export const requestedEvents = (changes: readonly ModelChange[], sha: string): NewEvent[] =>
  changes.map((c): NewEvent => ({
    key: c.key,
    type: c.kind === "undeploy" ? "UNDEPLOY_REQUESTED" : "DEPLOY_REQUESTED",
    sha,
    message: c.detail,
  }));

/** Ray took a commit's (or a retry's) PUT. */
export const appliedEvents = (changes: readonly ModelChange[], sha: string): NewEvent[] =>
  changes.map((c): NewEvent => ({ key: c.key, type: "APPLIED", sha }));

/** Ray took the PUT that undid a hand-made change. */
export const driftCorrectedEvents = (changes: readonly ModelChange[], sha: string): NewEvent[] =>
  changes.map((c): NewEvent => ({ key: c.key, type: "DRIFT_CORRECTED", sha, message: c.detail }));

/** Serve differs from the applied commit and the agent may not correct it. */
export const driftDetectedEvents = (changes: readonly ModelChange[], sha: string): NewEvent[] =>
  changes.map((c): NewEvent => ({ key: c.key, type: "DRIFT_DETECTED", sha, message: c.detail }));

/** A guard refused the commit that changes these models. */
export const refusedEvents = (keys: Iterable<string>, sha: string, reason: string): NewEvent[] =>
  [...keys].map((key): NewEvent => ({ key, type: "REFUSED", sha, message: reason }));

const OUTCOME_EVENT: Readonly<Record<OutcomeResult, ModelEventType | undefined>> = {
  running: undefined,
  failed: undefined,
  timeout: "TIMED_OUT",
  undeployed: "UNDEPLOYED",
  superseded: "SUPERSEDED",
};

/** The event a model's rollout outcome adds, if any (RUNNING and FAILED come from the model's state). */
export function outcomeEvent(t: SettledModel): NewEvent | undefined {
  const type = OUTCOME_EVENT[t.outcome.result];
  return type ? { key: t.key, type, sha: t.sha, message: t.outcome.description } : undefined;
}
