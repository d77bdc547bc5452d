// What the agent refuses to apply, whatever the commit says. Pure.
import type { Comparison } from "./compare";
import type { DesiredState } from "./types";

export const ALLOW_PRUNE_TRAILER = "Serve-Gitops-Allow-Prune";

export interface GuardRefusal {
  readonly guard: "empty" | "prune" | "unmanaged";
  /** For the commit status: what was refused and how to go ahead. */
  readonly reason: string;
}

/**
 * @param allowPrune the largest `Serve-Gitops-Allow-Prune: N` trailer an admin's merge among the commits being
 *   applied carries (0 if none; runtime/prune-approval.ts decides which count)
 */
export function checkGuards(
  desired: DesiredState,
  comparison: Comparison,
  allowPrune: number,
): GuardRefusal | undefined {
  const sync = desired.cluster.sync;
  // The guard stops an accidental undeploy-all: an empty config while Ray holds none of the agent's
  // applications (day 0) undeploys nothing and is harmless.
  const undeploysSomething = comparison.undeploys > 0 || comparison.managed.length > 0;
  if (desired.config.applications.length === 0 && !sync.allow_empty && undeploysSomething) {
    return {
      guard: "empty",
      reason: `refused: the commit leaves cluster ${desired.cluster.name} with no models (set sync.allow_empty to allow)`,
    };
  }
  const prune = comparison.undeploys;
  if (prune > sync.prune_limit && prune > allowPrune) {
    return {
      guard: "prune",
      reason: `refused: would undeploy ${prune} models (prune limit ${sync.prune_limit}); needs an admin's merge with trailer ${ALLOW_PRUNE_TRAILER}: ${prune}`,
    };
  }
  if (comparison.unmanaged.length > 0 && !sync.adopt_unmanaged) {
    const names =
      comparison.unmanaged.slice(0, 3).join(", ") + (comparison.unmanaged.length > 3 ? ", ..." : "");
    return {
      guard: "unmanaged",
      reason: `refused: Ray holds ${comparison.unmanaged.length} app(s) serve-gitops does not manage (${names}); a PUT would delete them`,
    };
  }
  return undefined;
}

/** Trailer values -> the allowance they ask for (the largest valid one). */
export function pruneAllowance(values: readonly string[]): number {
  let best = 0;
  for (const value of values) {
    const n = /^\s*(\d{1,6})\s*$/.exec(value)?.[1];
    if (n !== undefined) best = Math.max(best, Number(n));
  }
  return best;
}
