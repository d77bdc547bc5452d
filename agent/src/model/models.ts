// Per-model state for GET /status and the metrics: QUEUED -> DEPLOYING -> RUNNING | FAILED; DELETING -> gone;
// each model with its events and Ray's error summary. Pure: `now` comes in.
import { observedModels, ownership, type ObservedModel } from "./compare";
import { errorSummary, isFailing, observeModel } from "./state-table";
import type {
  DesiredState,
  ModelEvent,
  ModelEventType,
  ModelRecord,
  ModelState,
  Observed,
  RolloutState,
} from "./types";

export const MAX_EVENTS = 20;

export interface NewEvent {
  readonly key: string;
  readonly type: ModelEventType;
  readonly sha?: string;
  readonly message?: string;
}

export interface UpdateInput {
  readonly records: Readonly<Record<string, ModelRecord>>;
  readonly desired: DesiredState | undefined;
  readonly observed: Observed;
  readonly rollout: RolloutState;
  /** Models whose new config is held back (suspended or refused): QUEUED. */
  readonly queued: ReadonlySet<string>;
  readonly events: readonly NewEvent[];
  readonly now: Date;
  /** The applications the agent deployed (its record). */
  readonly deployed?: readonly string[];
}

export interface UpdateResult {
  readonly records: Record<string, ModelRecord>;
  readonly changed: boolean;
  /** Models that left Ray for good since the last update. */
  readonly gone: readonly string[];
}

export function updateModels(input: UpdateInput): UpdateResult {
  const at = input.now.toISOString();
  const out: Record<string, ModelRecord> = {};
  let changed = false;
  const gone: string[] = [];
  const events = new Map<string, NewEvent[]>();
  for (const e of input.events) events.set(e.key, [...(events.get(e.key) ?? []), e]);
  const open = new Map(input.rollout.tracked.filter((t) => !t.outcome).map((t) => [t.key, t]));
  // A model past the deploy timeout was reported failed on its commit: /status says the same until Ray
  // shows it serving (or failing with its own reason). (An older commit's entry is only ever "superseded".)
  const timedOut = new Map(
    input.rollout.tracked.filter((t) => t.outcome?.result === "timeout").map((t) => [t.key, t.outcome!]),
  );

  const settle = (
    key: string,
    next: Omit<ModelRecord, "events" | "updated" | "created"> & { created?: string },
  ) => {
    const before = input.records[key];
    const list: ModelEvent[] = [...(before?.events ?? [])];
    for (const e of events.get(key) ?? []) list.push(event(e, at));
    if (before && before.state !== next.state && (next.state === "RUNNING" || next.state === "FAILED")) {
      list.push({
        type: next.state,
        at,
        ...(next.sha ? { sha: next.sha } : {}),
        ...(next.error_summary ? { message: next.error_summary } : {}),
      });
    }
    if (!before && next.state === "RUNNING")
      list.push({ type: "RUNNING", at, ...(next.sha ? { sha: next.sha } : {}) });
    const same =
      before !== undefined &&
      list.length === before.events.length &&
      before.state === next.state &&
      before.error_summary === next.error_summary &&
      before.served_name === next.served_name &&
      before.replicas === next.replicas &&
      before.sha === next.sha &&
      before.endpoint === next.endpoint;
    if (same) {
      out[key] = before;
      return;
    }
    changed = true;
    const { created, ...rest } = next;
    out[key] = {
      ...rest,
      created: created ?? before?.created ?? at,
      events: list.slice(-MAX_EVENTS),
      updated: at,
    };
  };

  const desired = input.desired;
  const have: Map<string, ObservedModel> = desired
    ? observedModels(input.observed, ownership(desired, input.deployed))
    : new Map<string, ObservedModel>();
  for (const m of desired?.models.values() ?? []) {
    const tracked = open.get(m.key);
    const seen = observeModel(input.observed.apps.get(m.app), m.deployment);
    let state: ModelState;
    let error: string | undefined;
    if (tracked) state = tracked.kind === "undeploy" ? "DELETING" : "DEPLOYING";
    else if (input.queued.has(m.key) || seen.phase === "absent") state = "QUEUED";
    else if (seen.phase === "serving") state = "RUNNING";
    else if (seen.phase === "scaling" && !timedOut.has(m.key)) state = "RUNNING";
    else if (isFailing(seen.phase)) {
      state = "FAILED";
      error = errorSummary(seen.message) ?? seen.status;
    } else if (timedOut.has(m.key)) {
      state = "FAILED";
      error = timedOut.get(m.key)!.error_summary ?? timedOut.get(m.key)!.description;
    } else state = "DEPLOYING";
    const previous = input.records[m.key];
    // A model reported failed (Ray's reason, or the deploy timeout) stays FAILED with its error once the watch
    // forgets it: until a new commit changes it (tracked: DEPLOYING) or Ray shows it serving (RUNNING). Ray
    // still "deploying" or "scaling" a model that timed out is no news; calling it DEPLOYING would clear it.
    if (
      !tracked &&
      previous?.state === "FAILED" &&
      previous.error_summary &&
      (state === "DEPLOYING" || (state === "RUNNING" && seen.phase === "scaling"))
    ) {
      state = "FAILED";
      error = previous.error_summary;
    }
    // A failed model keeps Ray's reason while its replacement deploys, until it serves.
    if (state === "DEPLOYING" && !error && previous?.error_summary && previous.state === "FAILED")
      error = previous.error_summary;
    settle(m.key, {
      key: m.key,
      served_name: m.served_name,
      source: m.spec,
      model_source: m.model_source,
      replicas: m.replicas,
      gpus: m.gpus,
      state,
      endpoint: m.endpoint,
      ...(error ? { error_summary: error } : {}),
      // The commit that last changed THIS model (the watch attributes each change to its commit), not the
      // branch head: a commit that changes other models leaves its sha and updated time alone.
      sha: tracked?.sha ?? previous?.sha ?? desired!.sha,
      created: previous?.created ?? m.created,
    });
  }
  // Models Ray still holds that the commit no longer wants: DELETING while they go; as Ray shows them while a
  // guard or the suspend switch keeps them.
  const leaving = new Map<string, ObservedModel>();
  for (const o of have.values()) if (!desired?.models.has(o.key)) leaving.set(o.key, o);
  for (const key of Object.keys(input.records)) {
    if (desired?.models.has(key) || leaving.has(key)) continue;
    gone.push(key);
    changed = true;
  }
  for (const [key, o] of leaving) {
    const before = input.records[key];
    const app = input.observed.apps.get(o.app);
    const seen = observeModel(app, o.deployment);
    const state: ModelState =
      open.get(key)?.kind === "undeploy" || app?.status === "DELETING"
        ? "DELETING"
        : seen.phase === "serving" || seen.phase === "scaling"
          ? "RUNNING"
          : isFailing(seen.phase)
            ? "FAILED"
            : "DEPLOYING";
    settle(key, {
      key,
      served_name: o.served_name,
      source: before?.source ?? "",
      model_source: before?.model_source ?? "",
      replicas: before?.replicas ?? "",
      gpus: before?.gpus ?? 0,
      state,
      endpoint: before?.endpoint ?? "",
      ...(before?.sha ? { sha: before.sha } : {}),
    });
  }
  return { records: out, changed, gone };
}

/**
 * Events said outside a cycle's update (a commit git no longer has, found before Ray is observed), added to the
 * models the record holds, so they are saved with what says they were said.
 */
export function withEvents(
  records: Readonly<Record<string, ModelRecord>>,
  events: readonly NewEvent[],
  now: Date,
): Record<string, ModelRecord> {
  const at = now.toISOString();
  const out = { ...records };
  for (const e of events) {
    const r = out[e.key];
    if (r) out[e.key] = { ...r, events: [...r.events, event(e, at)].slice(-MAX_EVENTS), updated: at };
  }
  return out;
}

function event(e: NewEvent, at: string): ModelEvent {
  return { type: e.type, at, ...(e.sha ? { sha: e.sha } : {}), ...(e.message ? { message: e.message } : {}) };
}

export function countStates(records: Readonly<Record<string, ModelRecord>>): Record<ModelState, number> {
  const counts: Record<ModelState, number> = { QUEUED: 0, DEPLOYING: 0, RUNNING: 0, FAILED: 0, DELETING: 0 };
  for (const r of Object.values(records)) counts[r.state]++;
  return counts;
}

/**
 * The states a cluster status counts. A model whose new config is held back (the suspend switch, a guard) is
 * QUEUED, but it is not on its way in: it counts as Ray runs the config last applied (its deployment), or not
 * at all while Ray has none of it.
 */
export function clusterStates(
  records: Readonly<Record<string, ModelRecord>>,
  held: ReadonlySet<string>,
  desired: DesiredState,
  observed: Observed,
): Record<ModelState, number> {
  const counts = countStates(records);
  for (const key of held) {
    const m = desired.models.get(key);
    if (!m || records[key]?.state !== "QUEUED") continue;
    counts.QUEUED--;
    const app = observed.apps.get(m.app);
    if (!app?.deployments.has(m.deployment)) continue;
    const seen = observeModel(app, m.deployment);
    if (seen.phase === "serving" || seen.phase === "scaling") counts.RUNNING++;
    else if (isFailing(seen.phase)) counts.FAILED++;
    else counts.DEPLOYING++;
  }
  return counts;
}
