// One agent cycle: ask git for the branch head, read and re-validate a new commit, observe Ray, decide (pure),
// apply, advance the watch, queue the statuses it owes, and drain them to GitHub. The IO lives in the ports;
// every decision lives in model/ and report/.
import {
  AgentError,
  RayError,
  StateStoreError,
  UnknownClusterError,
  isTransient,
  safeError,
  type SafeError,
} from "../errors";
import type { Logger } from "../log";
import { RollingSpecMemo, type RepoSnapshot } from "../../../generator/src/index";
import { desiredFromSnapshot, type DesiredResult } from "../model/desired";
import { ALLOW_PRUNE_TRAILER } from "../model/guards";
import { countStates, updateModels, type NewEvent } from "../model/models";
import { reconcile, type Action } from "../model/reconcile";
import { failHead, isRolloutActive, markApplied, progressRollout, startRollout } from "../model/rollout";
import { errorSummary } from "../model/state-table";
import type { AgentRecord, DesiredState, ModelEventType, Observed, OutcomeResult } from "../model/types";
import type { DesiredStateSource, ServeTarget, TrailerCommit } from "../ports";
import type { Outbox } from "../report/outbox";
import { clusterWrite, dueWrites } from "../report/status-plan";
import type { AgentMetrics } from "../server/metrics";
import type { StateStore } from "../state/state-store";
import { attribute } from "./attribution";
import type { PruneApproval } from "./prune-approval";
import { RayGate } from "./ray-gate";

export interface AgentDeps {
  readonly cluster: string;
  readonly source: DesiredStateSource;
  readonly target: ServeTarget;
  readonly ray: RayGate;
  /** Verifies the prune trailers when the guard would refuse; without it no trailer counts. */
  readonly approval?: PruneApproval;
  readonly outbox: Outbox;
  readonly store: StateStore;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  readonly now: () => number;
  readonly suspend: boolean;
  readonly dryRun: boolean;
  readonly statusUrl?: string;
  /**
   * How long a cycle waits for the GitHub writes it started (default 2 s). The drain goes on in the
   * background past it: a slow or hanging GitHub never holds back applying commits or watching Ray.
   */
  readonly githubWaitMs?: number;
}

export interface CycleReport {
  readonly head?: string;
  readonly action: Action["kind"] | "skipped";
  readonly faults: readonly SafeError[];
  /** Something is still deploying or waiting to be written: poll again soon. */
  readonly busy: boolean;
  /** A fault that retrying will not fix (Ray refused the config, a bad token, ...). */
  readonly terminal: boolean;
}

const MAX_REFUSED = 50;
export const PUT_FAILURES_BEFORE_STATUS = 3;

const OUTCOME_EVENT: Readonly<Record<OutcomeResult, ModelEventType | undefined>> = {
  running: undefined,
  failed: undefined,
  timeout: "TIMED_OUT",
  undeployed: "UNDEPLOYED",
  superseded: "SUPERSEDED",
};

export class Agent {
  private desired: DesiredState | undefined;
  private head: string | undefined;
  /** The first-parent commits since the last attempted one that carry the prune trailer. */
  private trailers: readonly TrailerCommit[] = [];
  private lastRefusal = "";
  private lastDrift = "";
  /** The last dry-run PUT logged (sha and changes): a cycle's drift check would otherwise say it twice. */
  private lastDryRun = "";
  /** Transient PUT failures in a row, for one commit. */
  private putFailures: { sha: string; count: number } | undefined;
  /** The commit last told that sync is suspended. */
  private lastHold = "";
  /** A head that does not define this agent's cluster, and why: not read again until the head moves. */
  private unknownCluster: { sha: string; error: UnknownClusterError } | undefined;
  private faults: unknown[] = [];
  private readonly specs = new RollingSpecMemo();
  /** The outbox drain in flight, if any: at most one, shared by the cycles it outlives. */
  private draining: Promise<void> | undefined;
  /** How the last drain ended: a GitHub fault (down, rate limited, token refused) until one succeeds. */
  private githubFault: Error | undefined;
  private hurried = false;
  private stopWaiting: (() => void) | undefined;

  constructor(
    private readonly deps: AgentDeps,
    private record: AgentRecord,
  ) {}

  get state(): AgentRecord {
    return this.record;
  }

  get current(): DesiredState | undefined {
    return this.desired;
  }

  /** The branch head last seen on the remote. */
  get lastHead(): string | undefined {
    return this.head;
  }

  /** One cycle. Never throws for the outside world's failures: they come back as faults. */
  async cycle(options: { checkHead: boolean } = { checkHead: true }): Promise<CycleReport> {
    const end = this.deps.metrics.cycleDuration.startTimer();
    this.faults = [];
    let head: string | undefined;
    let action: CycleReport["action"] = "skipped";
    try {
      if (options.checkHead) head = await this.attempt(() => this.followHead());
      if (!this.desired && this.record.desired) await this.attempt(() => this.load(this.record.desired!));
      const desired = this.desired;
      const observed =
        desired && (await this.attempt(() => this.deps.ray.ready(desired)))
          ? await this.attempt(() => this.deps.target.observe())
          : undefined;
      if (observed) action = (await this.attempt(() => this.reconcileWith(observed))) ?? "skipped";
      await this.report();
      await this.attempt(() => this.markReported());
    } finally {
      end();
    }
    const faults = this.faults.map(safeError);
    return {
      ...(head ? { head } : {}),
      action,
      faults,
      busy: isRolloutActive(this.record.rollout) || this.deps.outbox.size > 0,
      terminal: this.faults.some((f) => !isTransient(f)),
    };
  }

  private async attempt<T>(run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (error) {
      this.faults.push(error);
      const level = isTransient(error) ? "warn" : "error";
      this.deps.log[level](
        { err: safeError(error) },
        error instanceof AgentError ? error.message : "unexpected error in the cycle",
      );
      if (error instanceof RayError)
        this.deps.metrics.rayErrors.inc({
          kind: error.status === undefined ? "unreachable" : String(error.status),
        });
      return undefined;
    }
  }

  /** Step 1: the branch head; a new commit is fetched, read and re-validated once. */
  private async followHead(): Promise<string> {
    const { source, cluster, log } = this.deps;
    const head = await source.head();
    this.head = head;
    if (head === this.record.desired || head in this.record.refused) return head;
    if (this.unknownCluster?.sha === head) throw this.unknownCluster.error;
    await source.ensure(head);
    const snapshot = await source.snapshot(head);
    const result = this.desiredAt(snapshot);
    if (!result.ok && result.unknownCluster) {
      // The commit is not at fault (the cluster may simply be another agent's name): nothing is posted on it.
      const error = new UnknownClusterError(
        `${result.reason} at ${head.slice(0, 7)} on the branch: check --cluster (SERVE_GITOPS_CLUSTER)`,
      );
      this.unknownCluster = { sha: head, error };
      throw error;
    }
    this.unknownCluster = undefined;
    if (!result.ok) {
      log.warn(
        { sha: head, reason: result.reason, errors: result.diagnostics.length },
        "commit refused; the last good config keeps serving",
      );
      this.deps.metrics.refusals.inc({
        reason: result.reason.startsWith("not rendered") ? "unrendered" : "invalid",
      });
      const refused = Object.entries({ ...this.record.refused, [head]: result.reason }).slice(-MAX_REFUSED);
      await this.deps.outbox.enqueue([
        clusterWrite(head, cluster, "failure", result.reason, this.deps.statusUrl),
      ]);
      await this.save({ ...this.record, refused: Object.fromEntries(refused) });
      return head;
    }
    this.trailers = await source.trailers(head, this.record.marks.attempted?.sha, ALLOW_PRUNE_TRAILER, 100);
    this.desired = result.desired;
    log.info({ sha: head, models: result.desired.models.size }, "new commit");
    // Refusals are shown while they are the latest word on the cluster: this later valid commit is it now.
    await this.save({ ...this.record, desired: head, refused: {} });
    return head;
  }

  /** Each commit re-validates only the specs it changed; results of older commits are dropped. */
  private desiredAt(snapshot: RepoSnapshot): DesiredResult {
    const result = desiredFromSnapshot(snapshot, this.deps.cluster, new Date(this.deps.now()), this.specs);
    this.specs.rotate();
    return result;
  }

  private async load(sha: string): Promise<void> {
    await this.deps.source.ensure(sha);
    const result = this.desiredAt(await this.deps.source.snapshot(sha));
    if (!result.ok) return;
    this.trailers = await this.deps.source.trailers(
      sha,
      this.record.marks.attempted?.sha,
      ALLOW_PRUNE_TRAILER,
      100,
    );
    this.desired = result.desired;
  }

  /** Steps 3-6: decide, apply, watch, and queue what GitHub must be told. */
  private async reconcileWith(observed: Observed): Promise<Action["kind"]> {
    const desired = this.desired!;
    const { log, metrics, now } = this.deps;
    const decide = (allowPrune: number) =>
      reconcile({ desired, observed, record: this.record, suspend: this.deps.suspend, allowPrune });
    let decision = decide(0);
    // Only a prune the guard blocks asks who merged the trailers (GitHub): an ordinary sync costs no request.
    if (
      decision.action.kind === "refuse" &&
      decision.action.refusal.guard === "prune" &&
      this.trailers.length > 0 &&
      this.deps.approval
    ) {
      const allowPrune = await this.deps.approval.allowance(
        this.trailers,
        decision.comparison?.undeploys ?? 0,
      );
      if (allowPrune > 0) decision = decide(allowPrune);
    }
    const action = decision.action;
    const events: NewEvent[] = [];
    const queued = new Set<string>();
    let rollout = this.record.rollout;
    let marks = this.record.marks;
    let deployedApps = this.record.deployedApps;
    let justApplied = false;
    // A guard's refusal of the current commit is shown in /status while it stands, and cleared once it does not.
    let refused = this.record.refused;
    if (action.kind === "refuse") {
      if (refused[desired.sha] !== action.refusal.reason) {
        const { [desired.sha]: _, ...rest } = refused;
        refused = Object.fromEntries(
          Object.entries({ ...rest, [desired.sha]: action.refusal.reason }).slice(-MAX_REFUSED),
        );
      }
    } else if (desired.sha in refused) {
      const { [desired.sha]: _, ...rest } = refused;
      refused = rest;
    }

    if (decision.comparison?.inSync) {
      // Ray runs exactly this commit's applications (also after the state directory was deleted): ours.
      if (!sameNames(deployedApps, desired.apps.keys())) deployedApps = [...desired.apps.keys()];
      // The PUT landed before a restart, or the commit did not touch this cluster's Serve config.
      rollout = markApplied(rollout, desired.sha, now());
      if (!isRolloutActive(rollout) && marks.attempted?.sha !== desired.sha) {
        const mark = { sha: desired.sha, at: new Date(now()).toISOString() };
        marks = { ...marks, attempted: mark, applied: mark };
        // Day 0: a commit with no models for a Ray holding none of the agent's applications is applied as is
        // (there is nothing to PUT or undeploy): its commit says so instead of staying without a status.
        if (desired.models.size === 0)
          await this.deps.outbox.enqueue([
            clusterWrite(desired.sha, this.deps.cluster, "success", "no models", this.deps.statusUrl),
          ]);
      }
    }
    if (action.kind === "apply") {
      const applied = await this.apply(action, desired, observed, events);
      rollout = applied.rollout;
      marks = applied.marks;
      deployedApps = applied.deployedApps;
      justApplied = true;
    } else if (action.kind === "refuse") {
      const reason = action.refusal.reason;
      for (const c of decision.comparison?.changes ?? []) queued.add(c.key);
      if (this.lastRefusal !== `${desired.sha} ${reason}`) {
        this.lastRefusal = `${desired.sha} ${reason}`;
        log.warn({ sha: desired.sha, guard: action.refusal.guard, reason }, "apply refused by a guard");
        metrics.refusals.inc({ reason: action.refusal.guard });
        for (const key of queued) events.push({ key, type: "REFUSED", sha: desired.sha, message: reason });
        await this.deps.outbox.enqueue([
          clusterWrite(desired.sha, this.deps.cluster, "failure", reason, this.deps.statusUrl),
        ]);
      }
    } else if (action.kind === "hold") {
      for (const c of action.changes) queued.add(c.key);
      // Once per commit (the outbox also skips a status GitHub already shows): the commit says why it waits.
      if (this.lastHold !== desired.sha) {
        this.lastHold = desired.sha;
        const by = this.deps.suspend ? "--suspend" : `clusters/${this.deps.cluster}/cluster.yaml`;
        log.info({ sha: desired.sha, by }, "sync is suspended: the commit waits");
        // The next applied commit resolves this pending status ("superseded by"): newest last, bounded.
        const held = [...(rollout.held ?? []).filter((s) => s !== desired.sha), desired.sha];
        rollout = { ...rollout, held: held.slice(-MAX_REFUSED) };
        await this.deps.outbox.enqueue([
          clusterWrite(
            desired.sha,
            this.deps.cluster,
            "pending",
            `suspended: sync is paused by ${by}`,
            this.deps.statusUrl,
          ),
        ]);
      }
    } else if (action.kind === "report-drift") {
      const signature = `${desired.sha} ${decision.comparison?.differences.join(",")}`;
      if (this.lastDrift !== signature) {
        this.lastDrift = signature;
        log.warn(
          { sha: desired.sha, why: action.why, differences: decision.comparison?.differences },
          "drift: Serve differs from the applied commit",
        );
        metrics.driftEvents.inc({ action: "reported" });
        for (const c of action.changes)
          events.push({ key: c.key, type: "DRIFT_DETECTED", sha: desired.sha, message: c.detail });
      }
    }
    if (action.kind !== "report-drift") this.lastDrift = "";
    if (action.kind !== "refuse") this.lastRefusal = "";

    // The models as Ray shows them now; a PUT made in this cycle is read back on the next one.
    const deploying = () => {
      const c = countStates(this.record.models);
      return c.DEPLOYING + c.QUEUED + c.DELETING;
    };
    if (!justApplied)
      rollout = progressRollout({
        state: rollout,
        observed,
        desired,
        now: now(),
        clusterDeploying: deploying(),
        ...(deployedApps ? { deployed: deployedApps } : {}),
      });
    const id = (t: { key: string; sha: string; head: string }) => `${t.key} ${t.sha} ${t.head}`;
    const settledBefore = new Set(this.record.rollout.tracked.filter((t) => t.outcome).map(id));
    for (const t of rollout.tracked) {
      if (!t.outcome || settledBefore.has(id(t))) continue;
      // RUNNING and FAILED events come from the model's state itself (models.ts).
      const type = OUTCOME_EVENT[t.outcome.result];
      if (type) events.push({ key: t.key, type, sha: t.sha, message: t.outcome.description });
      // A model that failed or timed out is an operator's concern: warn, so an alert on level >= 40 sees it.
      const level = t.outcome.result === "failed" || t.outcome.result === "timeout" ? "warn" : "info";
      log[level](
        { model: t.key, sha: t.sha, result: t.outcome.result, description: t.outcome.description },
        "model settled",
      );
    }
    const models = updateModels({
      records: this.record.models,
      desired,
      observed,
      rollout,
      queued,
      events,
      now: new Date(now()),
      ...(deployedApps ? { deployed: deployedApps } : {}),
    });
    for (const key of models.gone) log.info({ model: key }, "model undeployed");
    const counts = countStates(models.records);
    metrics.setModels(counts);

    // Newly settled heads: the applied mark.
    for (const h of rollout.heads) {
      if (
        h.settled &&
        !h.supersededBy &&
        !h.failure &&
        !this.record.rollout.heads.find((b) => b.sha === h.sha)?.settled &&
        h.applied
      ) {
        marks = { ...marks, applied: { sha: h.sha, at: new Date(now()).toISOString() } };
        metrics.lastAppliedTime.set(now() / 1000);
        log[counts.FAILED > 0 ? "warn" : "info"](
          { sha: h.sha, ...counts },
          "commit applied: its models settled",
        );
      }
    }
    const due = dueWrites({
      state: rollout,
      cluster: this.deps.cluster,
      counts: {
        running: counts.RUNNING,
        deploying: counts.DEPLOYING + counts.QUEUED,
        undeploying: counts.DELETING,
        failed: counts.FAILED,
      },
      models: models.records,
      ...(this.deps.statusUrl ? { statusUrl: this.deps.statusUrl } : {}),
    });
    // Outbox first: if the disk refuses, the rollout's flags stay as they were and the writes are owed again.
    await this.deps.outbox.enqueue(due.writes);
    const next = {
      ...this.record,
      rollout: due.state,
      marks,
      refused,
      models: models.records,
      ...(deployedApps ? { deployedApps } : {}),
    };
    const moved =
      JSON.stringify([next.rollout, next.marks, next.deployedApps, next.refused]) !==
      JSON.stringify([this.record.rollout, this.record.marks, this.record.deployedApps, this.record.refused]);
    // An idle cycle writes nothing to disk.
    if (moved || models.changed) await this.save(next);
    return action.kind;
  }

  private async apply(
    action: Extract<Action, { kind: "apply" }>,
    desired: DesiredState,
    observed: Observed,
    events: NewEvent[],
  ): Promise<Pick<AgentRecord, "rollout" | "marks" | "deployedApps">> {
    const { log, metrics, now, source, cluster } = this.deps;
    let { rollout, marks, deployedApps } = this.record;
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
      if (action.cause !== "commit") await this.save({ ...this.record, deployedApps });
    }
    if (action.cause === "commit") {
      const attribution = await attribute(
        source,
        cluster,
        desired.sha,
        marks.attempted?.sha,
        action.changes,
      ).catch((error: unknown) => {
        log.warn({ err: safeError(error) }, "cannot read the history; statuses go to the head commit");
        return new Map<string, string[]>();
      });
      const endpoints = new Map(Object.values(this.record.models).map((m) => [m.key, m.endpoint]));
      rollout = startRollout({
        state: rollout,
        head: desired.sha,
        changes: action.changes,
        desired,
        observed,
        attribution,
        now: now(),
        endpoints,
      });
      marks = { ...marks, attempted: { sha: desired.sha, at: new Date(now()).toISOString() } };
      // The attempted mark is on disk before the PUT goes out; if it cannot be written, nothing is applied.
      await this.save({ ...this.record, rollout, marks, deployedApps, blocked: undefined });
      for (const c of action.changes)
        events.push({
          key: c.key,
          type: c.kind === "undeploy" ? "UNDEPLOY_REQUESTED" : "DEPLOY_REQUESTED",
          sha: desired.sha,
          message: c.detail,
        });
    }
    try {
      await this.deps.target.apply(desired.config);
    } catch (error) {
      if (error instanceof RayError && error.kind === "transient") await this.putFailed(desired.sha, error);
      if (!(error instanceof RayError) || error.kind !== "terminal") throw error;
      const reason =
        error.status === 400
          ? `Ray rejected the config: ${errorSummary(error.body) ?? error.message}`
          : error.message;
      log.error({ sha: desired.sha, err: safeError(error) }, "Ray refused the PUT; waiting for a new commit");
      rollout = failHead(rollout, desired.sha, reason, now());
      await this.save({ ...this.record, rollout, marks, blocked: { sha: desired.sha, reason } });
      // A config Ray rejects is the commit's fault and is reported on it; a token or proxy problem is the agent's.
      if (error.status !== 400) this.faults.push(error);
      return { rollout, marks, deployedApps };
    }
    this.putFailures = undefined;
    // Ray took the PUT: it deleted every declarative application the config does not list.
    deployedApps = putting;
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
      for (const c of action.changes)
        events.push({ key: c.key, type: "DRIFT_CORRECTED", sha: desired.sha, message: c.detail });
    } else {
      rollout = markApplied(rollout, desired.sha, now());
      for (const c of action.changes) events.push({ key: c.key, type: "APPLIED", sha: desired.sha });
    }
    return { rollout, marks, deployedApps };
  }

  /**
   * A PUT Ray keeps failing (5xx, timeouts) is retried every cycle; after PUT_FAILURES_BEFORE_STATUS in a row the
   * commit says so (pending: it is still retried), so its author does not wait on a silent commit.
   */
  private async putFailed(sha: string, error: RayError): Promise<void> {
    const count = this.putFailures?.sha === sha ? this.putFailures.count + 1 : 1;
    this.putFailures = { sha, count };
    if (count !== PUT_FAILURES_BEFORE_STATUS) return;
    // A newer commit supersedes this one before its PUT goes through: the pending status must be resolved then.
    const { rollout } = this.record;
    await this.save({
      ...this.record,
      rollout: { ...rollout, heads: rollout.heads.map((h) => (h.sha === sha ? { ...h, said: true } : h)) },
    });
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
  }

  /** Shutdown: stop waiting for GitHub in the cycle under way (flush() writes what is owed, within the grace). */
  hurry(): void {
    this.hurried = true;
    this.stopWaiting?.();
  }

  /** Write what is still owed (on shutdown): the drain in flight, then one more without waiting out a backoff. */
  async flush(): Promise<void> {
    await this.draining;
    await this.startDrain(true);
  }

  /**
   * Step 6: write what is owed, off the apply path. The drain runs on its own; the cycle waits for it only
   * up to githubWaitMs. GitHub's faults are reported with the cycle's (readiness) but retried on the outbox's
   * own backoff.
   */
  private async report(): Promise<void> {
    // A drain still running from an earlier cycle is not waited for again: cycle after cycle would otherwise
    // spend githubWaitMs on it, and a new commit would wait that long to be seen.
    const inFlight = this.draining !== undefined;
    const run = this.startDrain(false);
    if (run && !inFlight && !this.hurried) {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        this.stopWaiting = resolve;
        timer = setTimeout(resolve, this.deps.githubWaitMs ?? 2000);
      });
      await Promise.race([run, waited]);
      clearTimeout(timer);
      this.stopWaiting = undefined;
    }
    if (this.githubFault) this.faults.push(this.githubFault);
  }

  private startDrain(force: boolean): Promise<void> | undefined {
    const { outbox, metrics, log } = this.deps;
    if (this.draining || outbox.size === 0) return this.draining;
    const settle = (error: Error | undefined) => {
      if (error && error.message !== this.githubFault?.message) {
        const level = isTransient(error) ? "warn" : "error";
        log[level]({ err: safeError(error), waiting: outbox.size }, error.message);
      }
      this.githubFault = error;
      this.draining = undefined;
      metrics.outbox.set(outbox.size);
    };
    this.draining = outbox.drain({ force }).then(
      (result) => settle(result.error),
      (error: unknown) => settle(error instanceof Error ? error : new Error(String(error))),
    );
    return this.draining;
  }

  /** The reported mark: every status of the applied commit written. */
  private async markReported(): Promise<void> {
    const { applied, attempted, reported } = this.record.marks;
    if (
      !this.draining &&
      this.deps.outbox.size === 0 &&
      applied &&
      applied.sha === attempted?.sha &&
      reported?.sha !== applied.sha &&
      !isRolloutActive(this.record.rollout)
    ) {
      await this.save({
        ...this.record,
        marks: {
          ...this.record.marks,
          reported: { sha: applied.sha, at: new Date(this.deps.now()).toISOString() },
        },
      });
    }
  }

  private async save(record: AgentRecord): Promise<void> {
    try {
      await this.deps.store.saveRecord(record);
    } catch (error) {
      if (error instanceof StateStoreError)
        this.deps.log.error(
          { err: safeError(error) },
          "cannot write the agent's state; nothing is applied until it can",
        );
      throw error;
    }
    this.record = record;
  }
}

/** Whether a recorded list of application names holds exactly these. */
function sameNames(recorded: readonly string[] | undefined, names: Iterable<string>): boolean {
  const want = new Set(names);
  return recorded !== undefined && recorded.length === want.size && recorded.every((n) => want.has(n));
}
