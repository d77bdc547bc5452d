// The PUT path: a commit's rollout is started (each model attributed to the commit that changed it) and its
// attempted mark saved before the Serve config goes to Ray; then Ray's answer: accepted, a transient failure
// (retried every cycle, said on the commit after a few), or a terminal one (the head fails and stays blocked
// until a new commit). A dry run only says what it would PUT.
import { RayError, safeError } from "../errors";
import type { Logger } from "../log";
import { appliedEvents, driftCorrectedEvents, requestedEvents } from "../model/events";
import type { NewEvent } from "../model/models";
import type { Action } from "../model/reconcile";
import { isSuccessor, lastApplied, sameNames } from "../model/record";
import { failHead, markApplied, markSaid, startRollout } from "../model/rollout";
import { errorSummary } from "../model/state-table";
import type { AgentRecord, DesiredState, Observed } from "../model/types";
import type { DesiredStateSource, ServeTarget } from "../ports";
import type { Outbox } from "../report/outbox";
import { clusterWrite } from "../report/status-plan";
import type { AgentMetrics } from "../server/metrics";
import { attribute, ownChanges } from "./attribution";

export const PUT_FAILURES_BEFORE_STATUS = 3;

/**
 * PUTs of one commit the Serve controller may fail (a 400 that is its own RayTaskError, ray-target.ts) before the
 * commit fails with Ray's reason: such a failure is mostly the GCS being briefly out of reach, and a retry lands;
 * rarely the config, which Ray then refuses every time (a new commit retries).
 */
export const CONTROLLER_PUT_ATTEMPTS = 3;

export interface ApplyDeps {
  readonly cluster: string;
  readonly source: DesiredStateSource;
  readonly target: ServeTarget;
  readonly outbox: Outbox;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  readonly now: () => number;
  readonly dryRun: boolean;
  readonly statusUrl?: string;
}

/** The agent's record as the PUT path reads and writes it, and where a fault of the agent's own goes. */
export interface RecordKeeper {
  /** The record as last saved. */
  record(): AgentRecord;
  /** Saves the record (and makes it the agent's); throws when the disk refuses. */
  save(record: AgentRecord): Promise<void>;
  /** A fault reported with the cycle's, without ending the cycle. */
  fault(error: unknown): void;
}

export type ApplyAction = Extract<Action, { kind: "apply" }>;

export class Applier {
  /** The last dry-run PUT logged (sha and changes): a cycle's drift check would otherwise say it twice. */
  private lastDryRun = "";
  /** PUTs Ray failed in a row for one commit, and whether the commit's status says so yet. */
  private putFailures: { sha: string; count: number; said: boolean } | undefined;
  /** PUTs the Serve controller failed in a row, for one commit. */
  private controllerFailures: { sha: string; count: number } | undefined;

  constructor(
    private readonly deps: ApplyDeps,
    private readonly keeper: RecordKeeper,
  ) {}

  /** PUT the commit's Serve config; `events` gets the models' events. Throws what the cycle must report. */
  async apply(
    action: ApplyAction,
    desired: DesiredState,
    observed: Observed,
    events: NewEvent[],
  ): Promise<Pick<AgentRecord, "rollout" | "marks" | "deployedApps">> {
    const { log, metrics, now, source, cluster } = this.deps;
    const { keeper } = this;
    let { rollout, marks, deployedApps } = keeper.record();
    if (this.deps.dryRun) {
      const changes = action.changes.map((c) => `${c.kind} ${c.key}`);
      const said = JSON.stringify([desired.sha, changes]);
      if (said !== this.lastDryRun)
        log.info({ sha: desired.sha, cause: action.cause, changes }, "dry run: would PUT the Serve config");
      this.lastDryRun = said;
      return { rollout, marks, deployedApps };
    }
    // The applications about to be PUT are the agent's from now on, the previous ones until Ray took the PUT.
    const putting = [...desired.apps.keys()];
    if (!sameNames(deployedApps, putting)) {
      deployedApps = [...new Set([...(deployedApps ?? []), ...putting])];
      if (action.cause !== "commit") await keeper.save({ ...keeper.record(), deployedApps });
    }
    if (action.cause === "commit") {
      const attribution = await attribute(
        source,
        cluster,
        desired.sha,
        lastApplied(keeper.record()),
        action.changes,
      ).catch((error: unknown) => {
        log.warn({ err: safeError(error) }, "cannot read the history; statuses go to the head commit");
        return new Map<string, string[]>();
      });
      const endpoints = new Map(Object.values(keeper.record().models).map((m) => [m.key, m.endpoint]));
      // A successor (record.ts isSuccessor): the agent before may have left the head's statuses pending, so its
      // other models are watched too (the outbox posts only what GitHub does not show already).
      const changed = new Set(action.changes.map((c) => c.key));
      const successor = isSuccessor(marks, desired, observed);
      const unchanged = successor
        ? [...desired.models.values()]
            .filter((m) => !changed.has(m.key))
            .map((m) => ({
              key: m.key,
              served_name: m.served_name,
              kind: "update" as const,
              detail: "unchanged: watched by an agent without a record",
              app: m.app,
              deployment: m.deployment,
            }))
        : [];
      // The PR comment shows what the commit itself changed, as the agent before wrote it (attribution.ts).
      const own = successor
        ? await ownChanges(
            source,
            cluster,
            desired.sha,
            [...new Set([...changed, ...desired.models.keys()])],
            log,
          )
        : undefined;
      rollout = startRollout({
        state: rollout,
        head: desired.sha,
        changes: [...action.changes, ...unchanged],
        ...(successor ? { successor: true } : {}),
        ...(own ? { ownChanges: own } : {}),
        desired,
        observed,
        attribution,
        now: now(),
        endpoints,
      });
      marks = { ...marks, attempted: { sha: desired.sha, at: new Date(now()).toISOString() } };
      // The attempted mark is on disk before the PUT goes out; if it cannot be written, nothing is applied.
      await keeper.save({ ...keeper.record(), rollout, marks, deployedApps, blocked: undefined });
      events.push(...requestedEvents(action.changes, desired.sha));
    }
    try {
      await this.deps.target.apply(desired.config);
    } catch (caught) {
      // A drift correction re-applies a commit Ray took already: its controller's failures stay transient (retried
      // with backoff), never a block of that commit, which would stop self-heal until a new commit.
      const error = action.cause === "drift" ? caught : this.controllerFailed(desired.sha, caught);
      // A drift correction's commit was applied and reported already: its status is not the place to say that the
      // correction keeps failing (nothing would resolve that pending status). The fault shows in /readyz and the log.
      if (error instanceof RayError && error.kind === "transient" && action.cause !== "drift")
        await this.putFailed(desired.sha, error);
      if (!(error instanceof RayError) || error.kind !== "terminal") throw error;
      const reason =
        error.status === 400 && !error.controllerTask
          ? `Ray rejected the config: ${errorSummary(error.body) ?? error.message}`
          : error.message;
      log.error({ sha: desired.sha, err: safeError(error) }, "Ray refused the PUT; waiting for a new commit");
      rollout = failHead(rollout, desired.sha, reason, now());
      // A config Ray rejects is the commit's fault and is reported on it; a token or proxy problem, or a Serve
      // controller that keeps failing, is the agent's (or Ray's): /readyz says so too.
      const agentFault = error.status !== 400 || error.controllerTask;
      const blocked = { sha: desired.sha, reason, ...(agentFault ? { agentFault: true } : {}) };
      await keeper.save({ ...keeper.record(), rollout, marks, blocked });
      if (agentFault) keeper.fault(error);
      return { rollout, marks, deployedApps };
    }
    this.putFailures = undefined;
    this.controllerFailures = undefined;
    // Ray took the PUT: it deleted every declarative application the config does not list.
    deployedApps = putting;
    marks = { ...marks, accepted: { sha: desired.sha, at: new Date(now()).toISOString() } };
    log.info(
      {
        sha: desired.sha,
        cause: action.cause,
        applications: desired.config.applications.length,
        changes: action.changes.length,
      },
      "PUT /api/serve/applications/ accepted",
    );
    if (action.cause === "drift") {
      metrics.driftEvents.inc({ action: "corrected" });
      log.warn(
        { sha: desired.sha, changes: action.changes.map((c) => `${c.kind} ${c.key}`) },
        "drift corrected: re-applied the commit",
      );
      events.push(...driftCorrectedEvents(action.changes, desired.sha));
    } else {
      rollout = markApplied(rollout, desired.sha, now());
      events.push(...appliedEvents(action.changes, desired.sha));
    }
    return { rollout, marks, deployedApps };
  }

  /**
   * A PUT the Serve controller failed (transient) is retried on the next cycles, with the loop's backoff; the
   * CONTROLLER_PUT_ATTEMPTS-th failure in a row for one commit is terminal: the commit fails with Ray's reason.
   */
  private controllerFailed(sha: string, error: unknown): unknown {
    if (!(error instanceof RayError) || !error.controllerTask || error.kind !== "transient") {
      this.controllerFailures = undefined; // "in a row": another failure between breaks the run
      return error;
    }
    const count = this.controllerFailures?.sha === sha ? this.controllerFailures.count + 1 : 1;
    this.controllerFailures = { sha, count };
    if (count < CONTROLLER_PUT_ATTEMPTS) return error;
    return new RayError(
      `Ray's Serve controller failed the PUT ${count} times (a new commit retries): ${errorSummary(error.body) ?? error.message}`,
      { kind: "terminal", status: error.status, body: error.body, controllerTask: true, cause: error },
    );
  }

  /**
   * A PUT Ray keeps failing (5xx, timeouts) is retried every cycle; after PUT_FAILURES_BEFORE_STATUS in a row the
   * commit says so (pending: it is still retried), so its author does not wait on a silent commit.
   */
  private async putFailed(sha: string, error: RayError): Promise<void> {
    const same = this.putFailures?.sha === sha ? this.putFailures : undefined;
    const count = (same?.count ?? 0) + 1;
    this.putFailures = { sha, count, said: same?.said ?? false };
    // Said once; a status the disk refused (the outbox) is said by the next failure, with its count.
    if (count < PUT_FAILURES_BEFORE_STATUS || this.putFailures.said) return;
    // A newer commit supersedes this one before its PUT goes through: the pending status must be resolved then.
    const record = this.keeper.record();
    await this.keeper.save({ ...record, rollout: markSaid(record.rollout, sha) });
    const said =
      error.status === undefined ? "no answer" : `${error.status}: ${errorSummary(error.body) ?? ""}`;
    await this.deps.outbox.enqueue([
      clusterWrite(
        sha,
        this.deps.cluster,
        "pending",
        `retrying: Ray failed the PUT ${count} times (${said.replace(/: $/, "")})`,
        this.deps.statusUrl,
      ),
    ]);
    this.putFailures = { sha, count, said: true };
  }
}
