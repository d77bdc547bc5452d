// How a cycle moves the agent's record (types.ts AgentRecord): the bounded list of refused commits, adopting a
// Ray that already runs the commit, and whether the record moved at all (an idle cycle writes nothing). Pure:
// the clock comes in as `now`.
import { isRolloutActive, markApplied, startRollout } from "./rollout";
import { observeModel } from "./state-table";
import type { AgentRecord, DesiredState, ModelRecord, Observed, RolloutState } from "./types";

/** The most refused commits the record keeps (newest last). */
export const MAX_REFUSED = 50;

type Refused = AgentRecord["refused"];
type Marks = AgentRecord["marks"];

/** The refused commits with `sha` refused for `reason`: newest last (a new reason moves it last), bounded. */
export function withRefusal(refused: Refused, sha: string, reason: string): Refused {
  const { [sha]: _, ...rest } = refused;
  return Object.fromEntries(Object.entries({ ...rest, [sha]: reason }).slice(-MAX_REFUSED));
}

/** The refused commits after the guards judged commit `sha`: refused for `reason`, or let through (none). */
export function guardRefusal(refused: Refused, sha: string, reason: string | undefined): Refused {
  if (reason !== undefined) return refused[sha] === reason ? refused : withRefusal(refused, sha, reason);
  if (!(sha in refused)) return refused;
  const { [sha]: _, ...rest } = refused;
  return rest;
}

/**
 * The last commit whose config Ray took: the accepted mark. (A record written before that mark existed: the
 * attempted commit, unless its PUT failed — Ray refused it, or it was never accepted — then the newest head
 * whose PUT went through, or the applied mark.) Attribution and the prune trailers are read from there, and a
 * guard's refusal holds Serve at it, so a commit whose PUT failed never counts as applied.
 */
export function lastApplied(record: Pick<AgentRecord, "marks" | "blocked" | "rollout">): string | undefined {
  const { attempted, accepted, applied } = record.marks;
  if (accepted) return accepted.sha;
  const heads = record.rollout.heads;
  const failed = (sha: string) =>
    record.blocked?.sha === sha || heads.some((h) => h.sha === sha && !h.applied);
  if (attempted && !failed(attempted.sha)) return attempted.sha;
  return heads.findLast((h) => h.applied)?.sha ?? applied?.sha;
}

/**
 * An agent without a record on a Ray already running some of the commit's applications: an agent before it
 * ran this cluster and may have left statuses pending on the commit (HeadRollout.successor).
 */
export function isSuccessor(marks: Marks, desired: DesiredState, observed: Observed): boolean {
  return marks.attempted === undefined && [...desired.apps.keys()].some((a) => observed.apps.get(a)?.config);
}

export interface InSyncInput {
  readonly desired: DesiredState;
  readonly observed: Observed;
  readonly rollout: RolloutState;
  readonly marks: Marks;
  readonly deployedApps: readonly string[] | undefined;
  readonly now: number;
  /** For a successor's adoption: the models the commit itself changed (StartInput.ownChanges). */
  readonly ownChanges?: ReadonlySet<string>;
}

export interface InSyncResult {
  readonly rollout: RolloutState;
  readonly marks: Marks;
  readonly deployedApps: readonly string[] | undefined;
  /** The commit declares no models and was just marked applied (Day 0): it gets a status of its own. */
  readonly appliedWithoutModels: boolean;
}

/** Ray runs what the commit asks for: what the record makes of it. */
export function adoptInSync(input: InSyncInput): InSyncResult {
  const { desired, now } = input;
  let { marks, deployedApps } = input;
  const mark = { sha: desired.sha, at: new Date(now).toISOString() };
  // Ray runs this commit's config: it is what Serve is held at from now on.
  const accept = (m: typeof marks) => (m.accepted?.sha === desired.sha ? m : { ...m, accepted: mark });
  // Ray runs exactly this commit's applications (also after the state directory was deleted): ours.
  if (!sameNames(deployedApps, desired.apps.keys())) deployedApps = [...desired.apps.keys()];
  let rollout = input.rollout;
  // Older commits still waiting — a PUT that kept failing, a commit the suspend switch held — that this one
  // takes the place of without a PUT (a revert back to what Ray runs): superseded by it, as a PUT would have
  // done, so their pending statuses resolve and the watch can end.
  const waiting =
    rollout.heads.some((h) => !h.settled && h.sha !== desired.sha) ||
    (rollout.held ?? []).some((sha) => sha !== desired.sha);
  if (waiting && !rollout.heads.some((h) => h.sha === desired.sha))
    rollout = startRollout({
      state: rollout,
      head: desired.sha,
      changes: [],
      desired,
      observed: input.observed,
      attribution: new Map(),
      now,
    });
  // No record of any commit (a new state directory, a lost volume): the agent before may have left statuses
  // pending on this commit, also for models Ray finished loading while no agent ran. The commit's models are
  // watched as its rollout, so each status resolves to what Ray does (one per model up to max_model_statuses,
  // else one summary, plus the per-model statuses GitHub already shows: HeadRollout.successor).
  if (marks.attempted === undefined && rollout.heads.length === 0) {
    const present = [...desired.models.values()].filter(
      (m) => observeModel(input.observed.apps.get(m.app), m.deployment).phase !== "absent",
    );
    if (present.length > 0) {
      // Taken as attempted at once, so a later cycle does not adopt it again once the watch has settled.
      marks = { ...marks, attempted: mark };
      rollout = startRollout({
        state: rollout,
        head: desired.sha,
        changes: present.map((m) => ({
          key: m.key,
          served_name: m.served_name,
          kind: "deploy",
          detail: "found in Ray when the agent started without a record",
          app: m.app,
          deployment: m.deployment,
        })),
        desired,
        observed: input.observed,
        attribution: new Map(),
        now,
        adopted: true,
        successor: true,
        ...(input.ownChanges ? { ownChanges: input.ownChanges } : {}),
      });
    }
  }
  // The PUT landed before a restart, the commit did not touch this cluster's Serve config, or it superseded.
  rollout = markApplied(rollout, desired.sha, now);
  let appliedWithoutModels = false;
  marks = accept(marks);
  if (!isRolloutActive(rollout) && marks.attempted?.sha !== desired.sha) {
    marks = { ...marks, attempted: mark, applied: mark };
    // Day 0: a commit with no models for a Ray holding none of the agent's applications is applied as is
    // (there is nothing to PUT or undeploy): its commit says so instead of staying without a status.
    appliedWithoutModels = desired.models.size === 0;
  }
  return { rollout, marks, deployedApps, appliedWithoutModels };
}

export interface CycleParts {
  readonly rollout: RolloutState;
  readonly marks: Marks;
  readonly refused: Refused;
  readonly models: Readonly<Record<string, ModelRecord>>;
  /** Undefined: the record's own stay. */
  readonly deployedApps: readonly string[] | undefined;
  /** The drift said and standing (runtime/held-back.ts); absent: none. */
  readonly drift?: AgentRecord["drift"];
}

/**
 * The record after a cycle, and whether its rollout, marks, applications, refusals, block, unreadable commit or
 * drift moved (the models say whether they changed themselves). A commit Ray refused blocks only while it is the
 * attempted one: once a later commit is taken (applied, or found already running), the block is gone.
 */
export function nextRecord(record: AgentRecord, parts: CycleParts): { next: AgentRecord; moved: boolean } {
  const { rollout, marks, refused, models, deployedApps, drift } = parts;
  const { blocked: _, unreadable: __, drift: ___, ...rest } = record;
  const blocked = record.blocked?.sha === marks.attempted?.sha ? record.blocked : undefined;
  // The unreadable commit stands in for the last applied one only while it is that: not once another is applied.
  const unreadable =
    record.unreadable?.sha === lastApplied({ marks, blocked, rollout }) ? record.unreadable : undefined;
  const next: AgentRecord = {
    ...rest,
    rollout,
    marks,
    refused,
    models,
    ...(deployedApps ? { deployedApps } : {}),
    ...(blocked ? { blocked } : {}),
    ...(unreadable ? { unreadable } : {}),
    ...(drift ? { drift } : {}),
  };
  const kept = (r: AgentRecord) =>
    JSON.stringify([r.rollout, r.marks, r.deployedApps, r.refused, r.blocked, r.unreadable, r.drift]);
  return { next, moved: kept(next) !== kept(record) };
}

/** Whether a recorded list of application names holds exactly these. */
export function sameNames(recorded: readonly string[] | undefined, names: Iterable<string>): boolean {
  const want = new Set(names);
  return recorded !== undefined && recorded.length === want.size && recorded.every((n) => want.has(n));
}
