// What the agent says when a decision holds a commit back instead of applying it: a guard's refusal, a commit
// the suspend switch holds, drift it may not correct. Each is said once (log, metric, the models' events, the
// commit's status), not on every cycle that decides the same, nor again by an agent restarted on the same record.
import type { Logger } from "../log";
import { driftDetectedEvents, refusedEvents } from "../model/events";
import type { NewEvent } from "../model/models";
import type { Decision } from "../model/reconcile";
import { holdCommit } from "../model/rollout";
import type { AgentRecord, DesiredState, RolloutState } from "../model/types";
import type { Outbox } from "../report/outbox";
import { clusterWrite } from "../report/status-plan";
import type { AgentMetrics } from "../server/metrics";

export interface HeldBackDeps {
  readonly cluster: string;
  readonly suspend: boolean;
  readonly statusUrl?: string;
  readonly outbox: Outbox;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
}

export class HeldBackNotices {
  /** The refusal last said (sha and reason), until a decision is no refusal. */
  private lastRefusal = "";
  /** The drift last said (sha and differences), until a decision is no drift report. */
  private lastDrift = "";
  /** The commit last told that sync is suspended. */
  private lastHold = "";

  constructor(private readonly deps: HeldBackDeps) {}

  /** The cycle failed after saying something: nothing it said was kept (outbox, record), so it is owed again. */
  forget(): void {
    this.lastRefusal = "";
    this.lastDrift = "";
    this.lastHold = "";
  }

  /**
   * Called on every decision: says what it holds back, if not said already. `queued` gets the models whose new
   * config waits. `standing`: what the record holds as said, saved with its events by the cycle that said it — the
   * guard's refusal of `desired` (AgentRecord.refused) and the drift (AgentRecord.drift) — so the same found after
   * a restart is not said again. Returns the rollout (which keeps a held commit, so the next applied one resolves
   * its status) and the drift standing now, for the record.
   */
  async say(
    decision: Decision,
    desired: DesiredState,
    rollout: RolloutState,
    queued: Set<string>,
    events: NewEvent[],
    standing: { readonly refusal?: string; readonly drift?: AgentRecord["drift"] } = {},
  ): Promise<{ rollout: RolloutState; drift?: AgentRecord["drift"] }> {
    const { log, metrics } = this.deps;
    const action = decision.action;
    if (action.kind === "refuse") {
      const reason = action.refusal.reason;
      for (const c of decision.comparison?.changes ?? []) queued.add(c.key);
      const said = `${desired.sha} ${reason}`;
      if (this.lastRefusal !== said) {
        this.lastRefusal = said;
        const { guard } = action.refusal;
        if (standing.refusal === reason) {
          // Its events, status and count went out with the record that holds it (before a restart): no news.
          log.info({ sha: desired.sha, guard, reason }, "a guard still refuses the commit");
        } else {
          log.warn({ sha: desired.sha, guard, reason }, "apply refused by a guard");
          metrics.refusals.inc({ reason: guard });
          events.push(...refusedEvents(queued, desired.sha, reason));
          await this.deps.outbox.enqueue([
            clusterWrite(desired.sha, this.deps.cluster, "failure", reason, this.deps.statusUrl),
          ]);
        }
      }
    } else if (action.kind === "hold") {
      for (const c of action.changes) queued.add(c.key);
      // Once per commit (the outbox also skips a status GitHub already shows): the commit says why it waits.
      if (this.lastHold !== desired.sha) {
        this.lastHold = desired.sha;
        const by = this.deps.suspend ? "--suspend" : `clusters/${this.deps.cluster}/cluster.yaml`;
        const status = clusterWrite(
          desired.sha,
          this.deps.cluster,
          "pending",
          `suspended: sync is paused by ${by}`,
          this.deps.statusUrl,
        );
        // Held before a restart (the record's rollout.held), its status queued then: no news, unless GitHub shows
        // another switch holding it (the agent restarted with or without --suspend).
        const shown = this.deps.outbox.posted(desired.sha, status.context)?.description;
        if (rollout.held?.includes(desired.sha) && (shown ?? status.description) === status.description) {
          log.info({ sha: desired.sha, by }, "sync is still suspended: the commit waits");
        } else {
          log.info({ sha: desired.sha, by }, "sync is suspended: the commit waits");
          // The next applied commit resolves this pending status ("superseded by").
          rollout = holdCommit(rollout, desired.sha);
          await this.deps.outbox.enqueue([status]);
        }
      }
    }
    // Drift of the applied commit, or of the last applied one while a guard refuses the new commit.
    const restore = decision.restore;
    const drift =
      action.kind === "report-drift"
        ? { action, sha: desired.sha, differences: decision.comparison?.differences }
        : restore?.action.kind === "report-drift"
          ? { action: restore.action, sha: restore.desired.sha, differences: restore.comparison.differences }
          : undefined;
    let stands: AgentRecord["drift"];
    if (drift) {
      stands = { sha: drift.sha, differences: drift.differences ?? [] };
      const signature = JSON.stringify(stands);
      if (this.lastDrift !== signature) {
        this.lastDrift = signature;
        const said = { sha: drift.sha, why: drift.action.why, differences: drift.differences };
        if (JSON.stringify(standing.drift) === signature) {
          // Its events and count went out with the record that holds it (before a restart): no news.
          log.info(said, "drift still stands: Serve differs from the applied commit");
        } else {
          log.warn(said, "drift: Serve differs from the applied commit");
          metrics.driftEvents.inc({ action: "reported" });
          events.push(...driftDetectedEvents(drift.action.changes, drift.sha));
        }
      }
    } else this.lastDrift = "";
    if (action.kind !== "refuse") this.lastRefusal = "";
    return { rollout, ...(stands ? { drift: stands } : {}) };
  }
}
