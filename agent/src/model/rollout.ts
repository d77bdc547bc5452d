// A rollout: the models a commit changed, watched until each serves, fails, or passes the deploy timeout; and
// a newer commit superseding an older one mid-deploy. Pure: the clock comes in as `now`.
import { describe } from "../report/describe";
import { isEqual, isSubset, observedModels, ownership, type ModelChange } from "./compare";
import { errorSummary, observeModel } from "./state-table";
import type { DesiredState, HeadRollout, Observed, Outcome, RolloutState, TrackedModel } from "./types";

export interface StartInput {
  readonly state: RolloutState;
  readonly head: string;
  readonly changes: readonly ModelChange[];
  readonly desired: DesiredState;
  readonly observed: Observed;
  /** key -> commits that changed the model since the last apply, newest first (empty: the head). */
  readonly attribution: ReadonlyMap<string, readonly string[]>;
  readonly now: number;
  /** Endpoints of models leaving Ray, from the agent's record. */
  readonly endpoints?: ReadonlyMap<string, string>;
  /** Ray already holds the head's config (no PUT follows): what it shows now is the head's. */
  readonly adopted?: boolean;
  /**
   * An agent without a record on a Ray an agent before it ran: the per-model statuses GitHub already shows are
   * resolved too, also for a commit that gets a summary (HeadRollout.successor).
   */
  readonly successor?: boolean;
  /** With `successor`: the models the head commit itself changed; the others are marked TrackedModel.unchanged. */
  readonly ownChanges?: ReadonlySet<string>;
}

/** Start watching a new head: older pending models it changes again resolve to "superseded by <sha7>". */
export function startRollout(input: StartInput): RolloutState {
  const { head, now } = input;
  const changed = new Set(input.changes.map((c) => c.key));
  const removed = new Set(input.changes.filter((c) => c.kind === "undeploy").map((c) => c.key));
  const applied = new Set(input.state.heads.filter((h) => h.applied).map((h) => h.sha));
  // A model the older commit changed and this one changes again, or one whose PUT never went out, is superseded;
  // the others keep being watched and get their own outcome. Superseded by its removal, its endpoint is going
  // away: its status links no endpoint.
  const supersede = (t: TrackedModel): TrackedModel =>
    t.outcome || (!changed.has(t.key) && applied.has(t.head))
      ? t
      : {
          ...t,
          ...(removed.has(t.key) ? { endpoint: "" } : {}),
          outcome: { result: "superseded", description: describe.superseded(head), at: now },
        };
  // A model whose PUT never went out that this head attributes to the same commit again is watched on under this
  // head: nothing was said for it yet, and it is not "superseded" by a commit that did not touch it.
  const carried = new Set(
    [...input.attribution].flatMap(([key, shas]) =>
      changed.has(key) ? shas.map((sha) => `${key} ${sha}`) : [],
    ),
  );
  const tracked = input.state.tracked
    .filter((t) => t.outcome || applied.has(t.head) || !carried.has(`${t.key} ${t.sha}`))
    .map(supersede);
  const held = new Set(input.state.held ?? []);
  const heads: HeadRollout[] = input.state.heads.map((h) =>
    h.settled ? h : { ...h, settled: true, supersededBy: head, ...(held.has(h.sha) ? { said: true } : {}) },
  );
  // Commits the suspend switch held (their status says "suspended") are superseded by this one.
  for (const sha of held) {
    if (sha === head || heads.some((h) => h.sha === sha)) continue;
    heads.push({
      sha,
      startedAt: now,
      applied: false,
      announced: false,
      said: true,
      settled: true,
      supersededBy: head,
      summaryShas: [],
    });
  }

  const perSha = new Map<string, number>();
  for (const change of input.changes) {
    const commits = input.attribution.get(change.key) ?? [];
    const sha = commits[0] ?? head;
    // Each commit's statuses count, the older commits' "superseded" ones too.
    for (const c of commits.length > 0 ? commits : [head]) perSha.set(c, (perSha.get(c) ?? 0) + 1);
    const model = input.desired.models.get(change.key);
    const base = {
      key: change.key,
      served_name: model?.served_name ?? change.served_name,
      kind: change.kind,
      head,
      app: model?.app ?? change.app,
      deployment: model?.deployment ?? change.deployment,
      endpoint: model?.endpoint ?? input.endpoints?.get(change.key) ?? "",
      replicas: model?.replicas ?? "",
      startedAt: now,
      appDeployedBefore: input.adopted
        ? null
        : (input.observed.apps.get(model?.app ?? change.app)?.last_deployed_time_s ?? null),
    };
    const unchanged = input.ownChanges !== undefined && !input.ownChanges.has(change.key);
    tracked.push({ ...base, sha, ...(unchanged ? { unchanged: true } : {}) });
    // Older commits between the last apply and this head that changed the model too: nothing to watch for them.
    for (const older of commits.slice(1)) {
      tracked.push({
        ...base,
        ...(change.kind === "undeploy" ? { endpoint: "" } : {}),
        sha: older,
        older: true,
        outcome: { result: "superseded", description: describe.superseded(sha), at: now },
      });
    }
  }
  const max = input.desired.cluster.sync.max_model_statuses;
  const summaryShas = [...perSha.entries()].filter(([, n]) => n > max).map(([sha]) => sha);
  heads.push({
    sha: head,
    startedAt: now,
    applied: false,
    announced: false,
    settled: false,
    summaryShas,
    ...(input.successor ? { successor: true } : {}),
  });
  return { heads, tracked };
}

/**
 * The PUT was accepted: statuses may now say "deploying"; the watch starts now. Only once per head: the agent
 * calls this on every in-sync cycle too (a PUT that landed before a restart), and restarting the clock there
 * would keep the deploy timeout from ever passing.
 */
export function markApplied(state: RolloutState, head: string, now: number): RolloutState {
  if (!state.heads.some((h) => h.sha === head && !h.applied)) return state;
  return {
    ...state,
    heads: state.heads.map((h) =>
      h.sha === head && !h.applied ? { ...h, applied: true, startedAt: now } : h,
    ),
    tracked: state.tracked.map((t) => (t.head === head && !t.outcome ? { ...t, startedAt: now } : t)),
  };
}

/** Ray refused the PUT for good: every model of the head fails with Ray's reason; the head settles. */
export function failHead(state: RolloutState, head: string, reason: string, now: number): RolloutState {
  const outcome: Outcome = {
    result: "failed",
    description: describe.failed(reason),
    error_summary: reason,
    at: now,
  };
  return {
    ...state,
    heads: state.heads.map((h) =>
      h.sha === head && !h.settled ? { ...h, settled: true, failure: describe.failed(reason) } : h,
    ),
    tracked: state.tracked.map((t) => (t.head === head && !t.outcome ? { ...t, outcome } : t)),
  };
}

/**
 * A newer commit takes the place of older ones whose PUT never went through without being PUT itself (a guard
 * refuses it, the suspend switch holds it): nothing retries them now, so they are superseded by it and the watch
 * can end.
 */
export function supersedeUnapplied(state: RolloutState, head: string, now: number): RolloutState {
  const waiting = new Set(
    state.heads.filter((h) => !h.settled && !h.applied && h.sha !== head).map((h) => h.sha),
  );
  if (waiting.size === 0) return state;
  const outcome: Outcome = { result: "superseded", description: describe.superseded(head), at: now };
  return {
    ...state,
    heads: state.heads.map((h) => (waiting.has(h.sha) ? { ...h, settled: true, supersededBy: head } : h)),
    tracked: state.tracked.map((t) => (waiting.has(t.head) && !t.outcome ? { ...t, outcome } : t)),
  };
}

export interface ProgressInput {
  readonly state: RolloutState;
  readonly observed: Observed;
  readonly desired: DesiredState;
  readonly now: number;
  /** Models of the cluster still deploying, changed or not (the cluster status stays pending meanwhile). */
  readonly clusterDeploying: number;
  /** The applications the agent deployed (its record): its own also under an earlier application_name. */
  readonly deployed?: readonly string[];
  /**
   * `desired` is a commit held back (the suspend switch, a guard): Ray was never asked for its config, so the
   * models being watched are not compared with it (they run what their own commit asked).
   */
  readonly heldBack?: boolean;
}

export function progressRollout(input: ProgressInput): RolloutState {
  const { observed, desired, now } = input;
  const timeoutMs = desired.cluster.sync.deploy_timeout_s * 1000;
  const have = observedModels(observed, ownership(desired, input.deployed));
  const tracked = input.state.tracked.map((t): TrackedModel => {
    if (t.outcome) return t;
    const head = input.state.heads.find((h) => h.sha === t.head);
    if (!head?.applied) return t;
    const outcome = observeOutcome(t, input, have, timeoutMs);
    return outcome ? { ...t, outcome } : t;
  });
  const heads = input.state.heads.map((h): HeadRollout => {
    if (h.settled || !h.applied) return h;
    const mine = tracked.filter((t) => t.head === h.sha);
    const modelsDone = mine.every((t) => t.outcome);
    const timedOut = now - h.startedAt > timeoutMs;
    return modelsDone && (input.clusterDeploying === 0 || timedOut) ? { ...h, settled: true } : h;
  });
  return { ...input.state, heads, tracked };
}

function observeOutcome(
  t: TrackedModel,
  input: ProgressInput,
  have: ReturnType<typeof observedModels>,
  timeoutMs: number,
): Outcome | undefined {
  const { observed, now } = input;
  const late = now - t.startedAt > timeoutMs;
  const seconds = Math.round(timeoutMs / 1000);
  if (t.kind === "undeploy") {
    const stillThere =
      have.has(t.served_name) || [...observed.apps.values()].some((a) => a.deployments.has(t.deployment));
    if (!stillThere) return { result: "undeployed", description: describe.undeployed(), at: now };
    return late
      ? { result: "timeout", description: describe.timeout(seconds, "DELETING"), at: now }
      : undefined;
  }
  const app = observed.apps.get(t.app);
  // Ray records a PUT before it deploys it: until the app shows our PUT and our config, its status is the old one's.
  const tookPut =
    t.appDeployedBefore === null ||
    app?.last_deployed_time_s === undefined ||
    app.last_deployed_time_s !== t.appDeployedBefore;
  const wanted = input.heldBack ? undefined : input.desired.models.get(t.key);
  const mine = have.get(t.served_name);
  const configured =
    mine !== undefined &&
    mine.app === t.app &&
    (!wanted || (isEqual(wanted.llm_config, mine.llm_config) && isSubset(wanted.override, mine.override)));
  const seen = app && tookPut && configured ? observeModel(app, t.deployment) : undefined;
  if (seen?.phase === "serving")
    return { result: "running", description: describe.running(t.served_name), at: now };
  if (seen?.phase === "failed") {
    const summary = errorSummary(seen.message) ?? seen.status;
    return { result: "failed", description: describe.failed(summary), error_summary: summary, at: now };
  }
  if (!late) return undefined;
  if (seen?.phase === "unhealthy") {
    // Ray did not heal it within the deploy timeout (state-table.ts "unhealthy"): its reason is the owner's news.
    const description = describe.unhealthyTimeout(seconds, errorSummary(seen.message) ?? seen.status);
    return { result: "timeout", description, error_summary: description, at: now };
  }
  if (seen?.phase === "scaling") {
    // Ray says why it cannot place the replicas (e.g. no GPU left): the owner needs that line.
    const summary = errorSummary(seen.message);
    const description = describe.scalingTimeout(seconds, seen.status);
    return {
      result: "timeout",
      description,
      error_summary: summary ? `${description}: ${summary}` : description,
      at: now,
    };
  }
  const status = seen?.status || app?.status || "not started";
  return {
    result: "timeout",
    description: describe.timeout(seconds, status),
    error_summary: `not serving after ${seconds} s (${status})`,
    at: now,
  };
}

/**
 * Whether a head is still being watched. A head whose PUT never went through and that the suspend switch now
 * holds waits, unwatched, for the switch: it is retried once sync resumes (its head stays unsettled for that).
 */
export const isRolloutActive = (state: RolloutState): boolean =>
  state.heads.some((h) => !h.settled && (h.applied || !(state.held ?? []).includes(h.sha)));

/** The most commits kept as held by the suspend switch (newest last). */
const MAX_HELD = 50;

/** The suspend switch holds a commit: the next applied commit resolves its pending status ("superseded by"). */
export function holdCommit(state: RolloutState, sha: string): RolloutState {
  const held = [...(state.held ?? []).filter((s) => s !== sha), sha];
  return { ...state, held: held.slice(-MAX_HELD) };
}

/**
 * A pending cluster status was posted on the head before its PUT went through ("retrying"): a newer commit that
 * supersedes it must resolve that status.
 */
export function markSaid(state: RolloutState, head: string): RolloutState {
  return { ...state, heads: state.heads.map((h) => (h.sha === head ? { ...h, said: true } : h)) };
}

export type SettledModel = TrackedModel & { readonly outcome: Outcome };

/** The models `after` has an outcome for and `before` had not: one entry is one model, commit and head. */
export function newlySettled(before: RolloutState, after: RolloutState): SettledModel[] {
  const id = (t: { key: string; sha: string; head: string }) => `${t.key} ${t.sha} ${t.head}`;
  const settledBefore = new Set(before.tracked.filter((t) => t.outcome).map(id));
  return after.tracked.filter((t): t is SettledModel => t.outcome !== undefined && !settledBefore.has(id(t)));
}

/** The heads `after` settled that `before` had not: applied, not superseded nor failed (their models settled). */
export function newlyApplied(before: RolloutState, after: RolloutState): HeadRollout[] {
  return after.heads.filter(
    (h) =>
      h.settled &&
      !h.supersededBy &&
      !h.failure &&
      !before.heads.find((b) => b.sha === h.sha)?.settled &&
      h.applied,
  );
}
