// The reconcile decision: desired state, observed state and the agent's record in; one action out. Pure: no
// clock, no IO. (Flux's kustomize-controller keeps the same marks: attempted before the apply, applied after.)
import { compare, type Comparison, type ModelChange } from "./compare";
import { checkGuards, type GuardRefusal } from "./guards";
import { lastApplied } from "./record";
import type { AgentRecord, DesiredState, Observed } from "./types";

export interface ReconcileInput {
  /** The last valid commit, or nothing yet. */
  readonly desired: DesiredState | undefined;
  /**
   * The last applied commit (lastApplied in record.ts), when it is not `desired`: the guards judge `desired`
   * against it too, and while they refuse `desired`, Serve is held at it.
   */
  readonly applied?: DesiredState;
  /**
   * When git no longer has the last applied commit (a force-push dropped it, the clone was made anew): the models
   * the agent's record held then (AgentRecord.unreadable). The guards count what `desired` drops from them, as
   * from `applied`; nothing restores them (their config is gone with the commit).
   */
  readonly unreadable?: readonly string[];
  readonly observed: Observed;
  readonly record: Pick<AgentRecord, "marks" | "blocked" | "rollout" | "deployedApps">;
  /** The --suspend flag; the cluster's own sync.suspend is read from the desired state. */
  readonly suspend: boolean;
  /** From the Serve-Gitops-Allow-Prune trailers of admins' merges (runtime/prune-approval.ts). */
  readonly allowPrune: number;
}

export type Action =
  | { readonly kind: "none"; readonly why: "no-desired" | "in-sync" | "blocked" }
  /** A commit (or a retry of it, or a drift correction) to PUT. */
  | {
      readonly kind: "apply";
      readonly cause: "commit" | "retry" | "drift";
      readonly changes: readonly ModelChange[];
    }
  | { readonly kind: "refuse"; readonly refusal: GuardRefusal }
  /** A new commit held back by the suspend switch: its models stay QUEUED. */
  | { readonly kind: "hold"; readonly changes: readonly ModelChange[] }
  /** Serve differs from the applied commit and the agent may not correct it. */
  | {
      readonly kind: "report-drift";
      readonly why: "self-heal off" | "suspended" | "refused";
      readonly changes: readonly ModelChange[];
    };

/** What holds Serve at the last applied commit while a guard refuses the new one: a drift correction or report. */
export type Restore = Extract<Action, { kind: "apply" } | { kind: "report-drift" }>;

export interface Decision {
  readonly action: Action;
  readonly comparison: Comparison | undefined;
  /** With a refusal: Serve differs from the last applied commit (`desired`), which the refused commit never replaces. */
  readonly restore?: {
    readonly desired: DesiredState;
    readonly action: Restore;
    readonly comparison: Comparison;
  };
}

export function reconcile(input: ReconcileInput): Decision {
  const { desired, observed, record } = input;
  if (!desired) return { action: { kind: "none", why: "no-desired" }, comparison: undefined };
  const comparison = compare(desired, observed, record.deployedApps);
  const base = input.applied?.sha !== desired.sha ? input.applied : undefined;
  const before = base ? [...base.models.keys()] : input.unreadable;
  if (comparison.inSync) {
    // Ray already runs the commit, but it may be a Ray that lost the last applied commit's models: the commit
    // still drops them (an empty or pruning commit is not applied by emptying Ray first).
    const refusal = before && checkGuards(desired, comparison, input.allowPrune, false, before);
    if (refusal?.guard === "empty" || refusal?.guard === "prune")
      return holdAt({ action: { kind: "refuse", refusal }, comparison }, base, input);
    return { action: { kind: "none", why: "in-sync" }, comparison };
  }
  const changes = comparison.changes;
  const isNew = desired.sha !== record.marks.attempted?.sha;
  if (input.suspend || desired.cluster.sync.suspend) {
    // A commit attempted but never taken by Ray (its PUT kept failing) is held like a new one: it is not what
    // Serve runs, so Ray's difference from it is no drift.
    const holding = isNew || lastApplied(record) !== desired.sha;
    const decision: Decision = {
      action: holding ? { kind: "hold", changes } : { kind: "report-drift", why: "suspended", changes },
      comparison,
    };
    // A held commit never reaches Ray: drift from the last applied commit is still reported ("keep reporting
    // drift"), as while a guard refuses a commit.
    return holding ? holdAt(decision, base, input) : decision;
  }
  // A terminal failure (Ray refused the config) waits for a new commit instead of looping.
  if (!isNew && record.blocked?.sha === desired.sha)
    return { action: { kind: "none", why: "blocked" }, comparison };
  // No record yet (no state.json): the agent never attempted a commit nor PUT a config.
  const firstSync = !record.marks.attempted && (record.deployedApps ?? []).length === 0;
  const refusal = checkGuards(desired, comparison, input.allowPrune, firstSync, before);
  if (refusal) return holdAt({ action: { kind: "refuse", refusal }, comparison }, base, input);
  if (isNew) return { action: { kind: "apply", cause: "commit", changes }, comparison };
  const unsettled = record.rollout.heads.some((h) => h.sha === desired.sha && !h.settled);
  if (unsettled) return { action: { kind: "apply", cause: "retry", changes }, comparison };
  if (desired.cluster.sync.self_heal)
    return { action: { kind: "apply", cause: "drift", changes }, comparison };
  return { action: { kind: "report-drift", why: "self-heal off", changes }, comparison };
}

/**
 * A refused or held commit never reaches Ray: meanwhile Serve is held at the last applied commit, its drift
 * corrected (self_heal) or reported as for any applied commit (a Ray emptied by a head restart gets it back).
 */
function holdAt(decision: Decision, base: DesiredState | undefined, input: ReconcileInput): Decision {
  if (!base) return decision;
  const { record } = input;
  const held = compare(base, input.observed, record.deployedApps);
  if (held.inSync || record.blocked?.sha === base.sha) return decision;
  const changes = held.changes;
  const sync = base.cluster.sync;
  // The correction is a PUT like any other: never while suspended, nor one that deletes applications the agent
  // did not deploy.
  const why =
    input.suspend || sync.suspend || input.desired?.cluster.sync.suspend
      ? "suspended"
      : !sync.self_heal
        ? "self-heal off"
        : checkGuards(base, held, 0)
          ? "refused"
          : undefined;
  const action: Restore = why
    ? { kind: "report-drift", why, changes }
    : { kind: "apply", cause: "drift", changes };
  return { ...decision, restore: { desired: base, action, comparison: held } };
}
