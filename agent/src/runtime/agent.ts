// One agent cycle: ask git for the branch head, read and re-validate a new commit, observe Ray, decide (pure),
// apply, advance the watch, queue the statuses it owes, and drain them to GitHub. The IO lives in the ports;
// every decision lives in model/ and report/. The PUT path is apply.ts, what a commit held back says is
// held-back.ts, and the drain to GitHub is github-drain.ts.
import { createHash } from "node:crypto";
import {
  AgentError,
  CommitNotFoundError,
  RayError,
  StateStoreError,
  UnknownClusterError,
  isTransient,
  safeError,
  type SafeError,
} from "../errors";
import type { Logger } from "../log";
import { RollingSpecMemo, type RepoSnapshot } from "../../../generator/src/index";
import { compare } from "../model/compare";
import { desiredFromSnapshot, type DesiredResult } from "../model/desired";
import { outcomeEvent } from "../model/events";
import { ALLOW_PRUNE_TRAILER } from "../model/guards";
import { clusterStates, countStates, updateModels, withEvents, type NewEvent } from "../model/models";
import { reconcile, type Action, type Decision } from "../model/reconcile";
import {
  adoptInSync,
  guardRefusal,
  isSuccessor,
  lastApplied,
  nextRecord,
  withRefusal,
} from "../model/record";
import {
  isRolloutActive,
  newlyApplied,
  newlySettled,
  progressRollout,
  supersedeUnapplied,
} from "../model/rollout";
import { emptyRecord, type AgentRecord, type DesiredState, type Observed } from "../model/types";
import type { DesiredStateSource, ServeTarget, TrailerCommit } from "../ports";
import type { Outbox } from "../report/outbox";
import { clusterWrite, dueWrites } from "../report/status-plan";
import type { AgentMetrics } from "../server/metrics";
import type { StateStore } from "../state/state-store";
import { Applier } from "./apply";
import { ownChanges } from "./attribution";
import { GitHubDrain } from "./github-drain";
import { HeldBackNotices } from "./held-back";
import type { PruneApproval } from "./prune-approval";
import { RayGate } from "./ray-gate";
import { redactUrl } from "../redact-url";

export { PUT_FAILURES_BEFORE_STATUS } from "./apply";

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

/** Desired states of other commits kept in memory: the last applied and the attempted one. */
const STATES_KEPT = 2;
/**
 * How long a commit git no longer has is taken as gone without asking again, while the branch head stays put
 * (a moved head is asked about at once): a restored clone or a commit pushed back under the same head is found
 * within this, for one fetch per commit and interval.
 */
export const MISSING_RECHECK_MS = 10 * 60_000;

export class Agent {
  private desired: DesiredState | undefined;
  /**
   * Desired states of commits other than the current one, by sha: the last applied (what a guard's refusal holds
   * Serve at) and the attempted one (acceptFoundRunning). At most STATES_KEPT, each derived from git once;
   * undefined: that commit no longer validates with this agent, or git no longer has it (`missing`).
   */
  private readonly states = new Map<string, DesiredState | undefined>();
  /**
   * Commits git no longer has (CommitNotFoundError), with when that was found: not fetched for again until the
   * branch head moves (the commit may be on the branch again) or MISSING_RECHECK_MS passes.
   */
  private readonly missing = new Map<string, number>();
  private head: string | undefined;
  /** The first-parent commits since the last applied one (record.ts lastApplied) that carry the prune trailer. */
  private trailers: readonly TrailerCommit[] = [];
  /** A head that does not define this agent's cluster, and why: not read again until the head moves. */
  private unknownCluster: { sha: string; error: UnknownClusterError } | undefined;
  /** The saved commit when it no longer reads as valid, and why: not read again until a new commit is taken. */
  private unloadable: { sha: string; error: AgentError } | undefined;
  private faults: unknown[] = [];
  private readonly specs = new RollingSpecMemo();
  /** The PUT path (apply.ts), reading and saving this agent's record. */
  private readonly applier: Applier;
  /** What a decision that holds a commit back says (held-back.ts). */
  private readonly heldBack: HeldBackNotices;
  /** The outbox drain to GitHub, off the apply path (github-drain.ts). */
  private readonly drain: GitHubDrain;

  constructor(
    private readonly deps: AgentDeps,
    private record: AgentRecord,
  ) {
    this.applier = new Applier(deps, {
      record: () => this.record,
      save: (next) => this.save(next),
      fault: (error) => {
        this.faults.push(error);
      },
    });
    this.heldBack = new HeldBackNotices(deps);
    this.drain = new GitHubDrain(deps);
    this.showApplied(record);
  }

  /** The applied mark's time, as saved: also after a restart on a state directory whose commit is applied. */
  private showApplied(record: AgentRecord): void {
    const at = record.marks.applied?.at;
    if (at !== undefined) this.deps.metrics.lastAppliedTime.set(Date.parse(at) / 1000);
  }

  get state(): AgentRecord {
    return this.record;
  }

  get current(): DesiredState | undefined {
    return this.desired;
  }

  /**
   * The Ray the record describes. A new dashboard address (a commit moved the cluster, a copy-pasted address of
   * another cluster's Ray, another --ray-address) is another Ray: none of its applications are the record's, nor
   * is what the record applied running there. The agent starts there as on a first sync (undeploying nothing it
   * did not deploy there), keeping only what is about the commits (the last valid one, refusals).
   */
  private async followRay(): Promise<true> {
    // Without its credentials: a rotated password is the same Ray, and no secret is digested onto the disk.
    const rayId = createHash("sha256").update(redactUrl(this.deps.ray.address())).digest("hex").slice(0, 16);
    if (this.record.rayId === rayId) return true;
    if (this.record.rayId !== undefined) {
      this.deps.log.warn(
        { models: Object.keys(this.record.models).length },
        "the Ray dashboard address changed: the agent's record describes another Ray; starting on this one as on a first sync, undeploying nothing it did not deploy here",
      );
      const { desired, refused } = this.record;
      await this.save({ ...emptyRecord(this.deps.cluster), ...(desired ? { desired } : {}), refused, rayId });
      return true;
    }
    // A record written before rayId: it describes this Ray.
    await this.save({ ...this.record, rayId });
    return true;
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
        desired &&
        (await this.attempt(() => this.deps.ray.ready(desired))) &&
        (await this.attempt(() => this.followRay()))
          ? await this.attempt(() => this.deps.target.observe())
          : undefined;
      if (observed) {
        const done = await this.attempt(() => this.reconcileWith(observed));
        // A cycle that failed part-way (the disk refused the outbox or the record) kept nothing it said: the next
        // one says it again. What did reach the record (a standing refusal, drift) is not said twice.
        if (done === undefined) this.heldBack.forget();
        action = done ?? "skipped";
      }
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
    if (head !== this.head) this.forgetMissing();
    this.head = head;
    if (head === this.record.desired) {
      // The branch is back at the valid commit (a force-push dropped what came after it): refusals of commits
      // no longer on it are no longer the latest word; a guard's refusal of this commit itself stays.
      const stale = Object.keys(this.record.refused).filter((sha) => sha !== head);
      if (stale.length > 0) {
        const { [head]: own } = this.record.refused;
        await this.save({ ...this.record, refused: own === undefined ? {} : { [head]: own } });
      }
      return head;
    }
    if (head in this.record.refused) return head;
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
      const refused = withRefusal(this.record.refused, head, result.reason);
      await this.deps.outbox.enqueue([
        clusterWrite(head, cluster, "failure", result.reason, this.deps.statusUrl),
      ]);
      await this.save({ ...this.record, refused });
      return head;
    }
    this.trailers = await source.trailers(head, lastApplied(this.record), ALLOW_PRUNE_TRAILER, 100);
    // The commit it replaces is usually the applied (or attempted) one: kept, so judging the new one reads
    // nothing more from git.
    if (this.desired) this.remember(this.desired.sha, this.desired);
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

  /**
   * After a restart: the commit the record says the agent last took. It validated then; an agent upgraded to
   * stricter rules (or started with another --cluster) may refuse it now. Serve keeps running what it runs and
   * nothing is applied: the fault says so on every cycle (/readyz, the log) until a new commit arrives. A commit
   * git no longer has is no fault: said once (unreadable()), and the agent waits for a valid commit on the branch.
   */
  private async load(sha: string): Promise<void> {
    if (this.unloadable?.sha === sha) throw this.unloadable.error;
    if (this.isMissing(sha)) return;
    if (!(await this.fetched(sha))) {
      // Force-pushed away and the clone made anew: nothing to serve until a valid commit lands, which the agent
      // goes on with as when only the last applied commit is gone (unreadable()). No fault on every cycle.
      await this.unreadable(sha);
      return;
    }
    await this.readable(sha);
    const result = this.desiredAt(await this.deps.source.snapshot(sha));
    if (!result.ok) {
      const at = `the commit last taken, ${sha.slice(0, 7)}`;
      const error = result.unknownCluster
        ? new UnknownClusterError(`${result.reason} at ${at}: check --cluster (SERVE_GITOPS_CLUSTER)`)
        : new AgentError(
            `${at}, no longer validates with this agent (${result.reason}); nothing is applied until a new commit`,
            { kind: "terminal" },
          );
      this.unloadable = { sha, error };
      throw error;
    }
    this.trailers = await this.deps.source.trailers(sha, lastApplied(this.record), ALLOW_PRUNE_TRAILER, 100);
    this.desired = result.desired;
  }

  /**
   * The last applied commit's desired state, when the current commit is another one: kept from when it was
   * current, or (after a restart) re-derived from git by the generator's pipeline, once per commit. When git no
   * longer has it, `unreadable`: the models the record held, which the guards count drops against instead.
   */
  private async appliedState(
    desired: DesiredState,
  ): Promise<{ applied?: DesiredState; unreadable?: readonly string[] }> {
    const sha = lastApplied(this.record);
    if (sha === undefined || sha === desired.sha) return {};
    const applied = await this.stateAt(
      sha,
      "the last applied commit no longer validates with this agent: the guards judge new commits against Ray alone",
    );
    if (this.isMissing(sha)) return { unreadable: await this.unreadable(sha) };
    await this.readable(sha);
    return applied ? { applied } : {};
  }

  /**
   * The last applied commit, or the commit last taken (after a restart), is gone from git (force-pushed away, and
   * the clone made anew or its objects pruned): like Argo CD or Flux, the agent goes on with the branch head. Said
   * once (a warning, and an event on each model the record holds), also across restarts: the record keeps the
   * commit and those models, saved with the events, what the guards count a new commit's drops against (Ray may
   * have lost its applications too) until another commit is applied.
   */
  private async unreadable(sha: string): Promise<readonly string[]> {
    const known = this.record.unreadable;
    if (known?.sha === sha) return known.models;
    const models = Object.keys(this.record.models);
    const short = sha.slice(0, 7);
    const gone = "cannot be read from git (no longer on the branch, not in the clone)";
    const against = "against Ray and the models the agent's record held";
    let message = `the last applied commit ${short} ${gone}: the guards count what a new commit drops ${against}`;
    if (sha === this.record.desired) {
      // After a restart, with no later valid commit to go on with.
      message = `the commit last taken, ${short}, ${gone}: Serve keeps what it runs and nothing is applied until a valid commit lands`;
      if (sha === lastApplied(this.record)) message += `; the guards count what that commit drops ${against}`;
    }
    this.deps.log.warn({ sha, models: models.length }, message);
    const events = models.map((key): NewEvent => ({ key, type: "COMMIT_UNREADABLE", sha, message }));
    await this.save({
      ...this.record,
      unreadable: { sha, models },
      models: withEvents(this.record.models, events, new Date(this.deps.now())),
    });
    return models;
  }

  /** The unreadable commit git has again (pushed back, a clone restored): it no longer stands in for anything. */
  private async readable(sha: string): Promise<void> {
    if (this.record.unreadable?.sha !== sha) return;
    this.deps.log.info({ sha }, `the commit ${sha.slice(0, 7)} can be read from git again`);
    const { unreadable: _, ...rest } = this.record;
    await this.save(rest);
  }

  private isMissing(sha: string): boolean {
    const since = this.missing.get(sha);
    if (since === undefined) return false;
    if (this.deps.now() - since < MISSING_RECHECK_MS) return true;
    this.missing.delete(sha);
    this.states.delete(sha);
    return false;
  }

  /** Fetch a commit the clone lacks; false (and `missing` from now) when git no longer has it anywhere. */
  private async fetched(sha: string): Promise<boolean> {
    try {
      await this.deps.source.ensure(sha);
      return true;
    } catch (error) {
      if (!(error instanceof CommitNotFoundError)) throw error;
      this.missing.set(sha, this.deps.now());
      this.remember(sha, undefined);
      return false;
    }
  }

  /** The branch head moved: a commit git did not have may be on the branch again, so it is asked for anew. */
  private forgetMissing(): void {
    for (const sha of this.missing.keys()) this.states.delete(sha);
    this.missing.clear();
  }

  /**
   * A commit's desired state: kept, or re-derived from git by the generator's pipeline (`invalid` logged once);
   * undefined when it no longer validates or git no longer has it (`missing`).
   */
  private async stateAt(sha: string, invalid?: string): Promise<DesiredState | undefined> {
    if (this.isMissing(sha)) return undefined;
    if (!this.states.has(sha)) {
      if (!(await this.fetched(sha))) return undefined;
      const result = desiredFromSnapshot(
        await this.deps.source.snapshot(sha),
        this.deps.cluster,
        new Date(this.deps.now()),
      );
      if (!result.ok && invalid) this.deps.log.warn({ sha, reason: result.reason }, invalid);
      this.remember(sha, result.ok ? result.desired : undefined);
    }
    return this.states.get(sha);
  }

  private remember(sha: string, desired: DesiredState | undefined): void {
    this.states.delete(sha);
    this.states.set(sha, desired);
    for (const old of this.states.keys()) if (this.states.size > STATES_KEPT) this.states.delete(old);
  }

  /**
   * A PUT Ray took whose answer was lost (a timeout, a crash before the record was saved): the attempted commit
   * (written only once the guards let it through) found running exactly is marked accepted, so a guard's hold
   * keeps what Ray took instead of rolling it back to the commit before. Also when it is still the branch head:
   * judged again after a restart, an admin's prune trailer GitHub cannot confirm now would undo the prune.
   */
  private async acceptFoundRunning(desired: DesiredState, observed: Observed): Promise<void> {
    const { attempted, accepted } = this.record.marks;
    if (!attempted || attempted.sha === accepted?.sha) return;
    if (this.record.blocked?.sha === attempted.sha) return;
    const state = await this.stateAt(attempted.sha);
    if (!state || !compare(state, observed, this.record.deployedApps).inSync) return;
    const mark = { sha: attempted.sha, at: new Date(this.deps.now()).toISOString() };
    await this.save({ ...this.record, marks: { ...this.record.marks, accepted: mark } });
    // Prune trailers count from the last applied commit: this one's own no longer allows anything.
    this.trailers = await this.deps.source.trailers(desired.sha, attempted.sha, ALLOW_PRUNE_TRAILER, 100);
  }

  /** Steps 3-6: decide, apply, watch, and queue what GitHub must be told. */
  private async reconcileWith(observed: Observed): Promise<Action["kind"]> {
    const desired = this.desired!;
    const { log, metrics, now } = this.deps;
    // Without a record, on a Ray already running some of the commit's applications, an agent before this one may
    // have posted on the head: GitHub is read before writing to it.
    const successor = isSuccessor(this.record.marks, desired, observed);
    if (successor) this.deps.outbox.readFirst(desired.sha);
    const decision = await this.decide(desired, observed);
    const action = decision.action;
    const events: NewEvent[] = [];
    const queued = new Set<string>();
    // The rollout as the cycle found it: apply() saves the record before its PUT, with the models a new commit
    // supersedes already settled, so "newly settled" is measured against this, not the record at the end.
    const before = this.record.rollout;
    let rollout = before;
    let marks = this.record.marks;
    let deployedApps = this.record.deployedApps;
    let justApplied = false;
    // A guard's refusal of the current commit is shown in /status while it stands, and cleared once it does not.
    const refused = guardRefusal(
      this.record.refused,
      desired.sha,
      action.kind === "refuse" ? action.refusal.reason : undefined,
    );

    // (A commit Ray runs already is refused still when it drops the last applied commit's models: see reconcile.)
    if (decision.comparison?.inSync && action.kind !== "refuse") {
      // A successor's PR comment shows what the commit changed, as the agent before wrote it.
      const own = successor
        ? await ownChanges(this.deps.source, this.deps.cluster, desired.sha, [...desired.models.keys()], log)
        : undefined;
      const adopted = adoptInSync({
        desired,
        observed,
        rollout,
        marks,
        deployedApps,
        now: now(),
        ...(own ? { ownChanges: own } : {}),
      });
      ({ rollout, marks, deployedApps } = adopted);
      // Day 0: a commit with no models is applied as is (record.ts); its commit says so.
      if (adopted.appliedWithoutModels)
        await this.deps.outbox.enqueue([
          clusterWrite(desired.sha, this.deps.cluster, "success", "no models", this.deps.statusUrl),
        ]);
    }
    if (action.kind === "apply") {
      ({ rollout, marks, deployedApps } = await this.applier.apply(action, desired, observed, events));
      justApplied = true;
    }
    // A commit a guard refuses or the suspend switch holds takes the place of older ones whose PUT never went
    // through: nothing retries those now.
    if (action.kind === "refuse" || action.kind === "hold")
      rollout = supersedeUnapplied(rollout, desired.sha, now());
    // A refusal, a held commit or drift the agent may not correct: said once, not on every cycle.
    const said = await this.heldBack.say(decision, desired, rollout, queued, events, {
      refusal: this.record.refused[desired.sha],
      drift: this.record.drift,
    });
    rollout = said.rollout;
    // While a guard refuses the commit, Serve is held at the last applied one: its drift is corrected. A fault of
    // that PUT is the cycle's (retried next cycle); the refusal is said and recorded all the same.
    const restore = decision.restore;
    if (restore?.action.kind === "apply") {
      const { action: correction, desired: applied } = restore;
      const held = await this.attempt(() => this.applier.apply(correction, applied, observed, events));
      if (held) {
        ({ rollout, marks, deployedApps } = held);
        justApplied = true;
      }
    }

    // The models as Ray shows them now; a PUT made in this cycle is read back on the next one. A commit held
    // back is not what Ray runs: its held models are not deploying, nor is Ray compared with its config.
    const heldBack = action.kind === "hold" || action.kind === "refuse";
    const deploying = () => {
      const c = clusterStates(this.record.models, queued, desired, observed);
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
        ...(heldBack ? { heldBack } : {}),
      });
    const outcomes: NewEvent[] = [];
    for (const t of newlySettled(before, rollout)) {
      const event = outcomeEvent(t);
      if (event) outcomes.push(event);
      // A model that failed or timed out is an operator's concern: warn, so an alert on level >= 40 sees it.
      const level = t.outcome.result === "failed" || t.outcome.result === "timeout" ? "warn" : "info";
      log[level](
        { model: t.key, sha: t.sha, result: t.outcome.result, description: t.outcome.description },
        "model settled",
      );
    }
    // An older commit's outcome comes first: a model's history reads "superseded by c2", then c2's deploy.
    events.unshift(...outcomes);
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
    metrics.setModels(countStates(models.records));
    const counts = clusterStates(models.records, queued, desired, observed);

    // Newly settled heads: the applied mark.
    for (const h of newlyApplied(before, rollout)) {
      marks = { ...marks, applied: { sha: h.sha, at: new Date(now()).toISOString() } };
      log[counts.FAILED > 0 ? "warn" : "info"](
        { sha: h.sha, ...counts },
        "commit applied: its models settled",
      );
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
    const { next, moved } = nextRecord(this.record, {
      rollout: due.state,
      marks,
      refused,
      models: models.records,
      deployedApps,
      ...(said.drift ? { drift: said.drift } : {}),
    });
    // An idle cycle writes nothing to disk.
    if (moved || models.changed) await this.save(next);
    return action.kind;
  }

  /** Step 3: the pure decision (model/reconcile.ts), with what the admins' prune trailers allow. */
  private async decide(desired: DesiredState, observed: Observed): Promise<Decision> {
    await this.acceptFoundRunning(desired, observed);
    const last = await this.appliedState(desired);
    const decide = (allowPrune: number) =>
      reconcile({
        desired,
        observed,
        record: this.record,
        suspend: this.deps.suspend,
        allowPrune,
        ...last,
      });
    const decision = decide(0);
    // Only a prune the guard blocks asks who merged the trailers (GitHub): an ordinary sync costs no request.
    if (
      decision.action.kind === "refuse" &&
      decision.action.refusal.guard === "prune" &&
      this.trailers.length > 0 &&
      this.deps.approval
    ) {
      const allowPrune = await this.deps.approval.allowance(
        this.trailers,
        decision.action.refusal.undeploys ?? decision.comparison?.undeploys ?? 0,
      );
      if (allowPrune > 0) return decide(allowPrune);
    }
    return decision;
  }

  /** Shutdown: stop waiting for GitHub in the cycle under way (flush() writes what is owed, within the grace). */
  hurry(): void {
    this.drain.hurry();
  }

  /** Write what is still owed (on shutdown): the drain in flight, then one more without waiting out a backoff. */
  flush(): Promise<void> {
    return this.drain.flush();
  }

  /** Step 6: write what is owed, off the apply path (github-drain.ts); GitHub's faults count with the cycle's. */
  private async report(): Promise<void> {
    const fault = await this.drain.report();
    if (fault) this.faults.push(fault);
  }

  /** The reported mark: every status of the applied commit written. */
  private async markReported(): Promise<void> {
    const { applied, attempted, reported } = this.record.marks;
    if (
      !this.drain.running &&
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
    this.showApplied(record);
  }
}
