// What the agent refuses to apply, whatever the commit says. Pure.
import type { Comparison } from "./compare";
import type { DesiredState } from "./types";

export const ALLOW_PRUNE_TRAILER = "Serve-Gitops-Allow-Prune";

export interface GuardRefusal {
  readonly guard: "first-sync" | "empty" | "prune" | "unmanaged";
  /** For the commit status: what was refused and how to go ahead. */
  readonly reason: string;
  /** The prune guard: the models the sync would undeploy (what an admin's trailer must allow). */
  readonly undeploys?: number;
}

/** Said wherever the agent meets applications it did not deploy: the usual cause is the wrong Ray. */
export const WRONG_RAY_HINT = "wrong Ray (--ray-address, dashboard_address)?";

const listed = (names: readonly string[]): string =>
  names.slice(0, 3).join(", ") + (names.length > 3 ? ", ..." : "");

/**
 * @param allowPrune the largest `Serve-Gitops-Allow-Prune: N` trailer an admin's merge among the commits being
 *   applied carries (0 if none; runtime/prune-approval.ts decides which count)
 * @param firstSync the agent has no record yet (no state.json: it never attempted a commit nor PUT a config)
 * @param before the models of the last applied commit, when the commit judged is another (or, when git no longer
 *   has that commit, the models the agent's record held): what the commit drops from them counts as undeployed
 *   too, so a Ray that lost the agent's applications (a head restart, `serve shutdown`) lets no prune or empty
 *   commit through that the same Ray a minute earlier would have refused
 */
export function checkGuards(
  desired: DesiredState,
  comparison: Comparison,
  allowPrune: number,
  firstSync = false,
  before?: readonly string[],
): GuardRefusal | undefined {
  const sync = desired.cluster.sync;
  const dropped = (before ?? []).filter((key) => !desired.models.has(key));
  // With no record, every application Ray holds is one this agent did not deploy: on its first sync it undeploys
  // none of them (an agent pointed at another cluster's Ray would delete that cluster's models) unless the
  // repository says to replace what is there (sync.adopt_unmanaged, in plain sight in cluster.yaml).
  const leaving = [
    ...comparison.changes.filter((c) => c.kind === "undeploy").map((c) => c.key),
    ...(comparison.changes.some((c) => c.kind === "undeploy")
      ? []
      : comparison.managed.filter((name) => !desired.apps.has(name))),
  ];
  if (firstSync && leaving.length > 0 && !sync.adopt_unmanaged) {
    return {
      guard: "first-sync",
      reason: `refused: first sync (no state) would undeploy ${leaving.length} model(s) (${listed(leaving)}): ${WRONG_RAY_HINT} or sync.adopt_unmanaged`,
    };
  }
  // The guard stops an accidental undeploy-all: an empty config while Ray holds none of the agent's
  // applications (day 0) undeploys nothing and is harmless.
  const undeploysSomething = comparison.undeploys > 0 || comparison.managed.length > 0 || dropped.length > 0;
  if (desired.config.applications.length === 0 && !sync.allow_empty && undeploysSomething) {
    return {
      guard: "empty",
      reason: `refused: the commit leaves cluster ${desired.cluster.name} with no models (set sync.allow_empty to allow)`,
    };
  }
  const undeployed = comparison.changes.filter((c) => c.kind === "undeploy").map((c) => c.key);
  const prune = Math.max(comparison.undeploys, new Set([...undeployed, ...dropped]).size);
  if (prune > sync.prune_limit && prune > allowPrune) {
    return {
      guard: "prune",
      reason: `refused: would undeploy ${prune} models (prune limit ${sync.prune_limit}); needs an admin's merge with trailer ${ALLOW_PRUNE_TRAILER}: ${prune}`,
      undeploys: prune,
    };
  }
  if (comparison.unmanaged.length > 0 && !sync.adopt_unmanaged) {
    return {
      guard: "unmanaged",
      reason: `refused: a PUT would delete ${comparison.unmanaged.length} app(s) serve-gitops does not manage (${listed(comparison.unmanaged)}); ${WRONG_RAY_HINT}`,
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
