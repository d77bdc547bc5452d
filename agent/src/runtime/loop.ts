// When cycles run: every --interval; every --watch-interval while something deploys or waits to be written;
// at once on POST /sync; with backoff and jitter after transient faults. --once runs one full cycle (the watch
// until the changed models settle or time out, then the drift check) and returns an exit code.
import type { SafeError } from "../errors";
import type { Logger } from "../log";
import type { Agent, CycleReport } from "./agent";
import { backoffMs } from "./backoff";

export interface LoopOptions {
  readonly intervalMs: number;
  readonly watchIntervalMs: number;
  readonly once: boolean;
  readonly log: Logger;
  readonly now?: () => number;
  /** --once gives up after this many cycles in a row with faults (default 5). */
  readonly maxFaultyCycles?: number;
  /**
   * How long a stop (SIGTERM) may take in all, from the signal: the cycle under way and the statuses still
   * owed (default 18 s, so the whole stop fits 20 s, inside the 30 s the Kubernetes manifest and the systemd unit give before SIGKILL).
   */
  readonly graceMs?: number;
  /**
   * Called on stop: abort the outside world's calls the cycle under way may wait on for long (git: up to its
   * timeout), so the cycle ends within the grace period.
   */
  readonly onStop?: () => void;
  /** Called when the grace period ends with writes in flight: abort them, so the process can exit. */
  readonly onGiveUp?: () => void;
}

/**
 * From the stop signal to giving up on the statuses still owed: 2 s short of the 20 s agent/README.md promises
 * for the whole stop, which also closes the agent and exits (agent-command.ts forces the exit 1 s after).
 */
export const SHUTDOWN_GRACE_MS = 18_000;

export const MAX_BACKOFF_MS = 5 * 60_000;

export class AgentLoop {
  private stopped = false;
  private syncRequested = false;
  private wake: (() => void) | undefined;
  /** Cycles in a row with any fault (--once gives up after maxFaultyCycles of them). */
  private faultyCycles = 0;
  /** Cycles in a row with a fault of Ray, git or the disk: they, not GitHub's, back off reconciliation. */
  private applyFaultyCycles = 0;
  private stoppedAt: number | undefined;
  private cycles = 0;
  private last: { report: CycleReport; at: number } | undefined;
  private running = false;

  constructor(
    private readonly agent: Agent,
    private readonly options: LoopOptions,
  ) {}

  get lastCycle(): { report: CycleReport; at: number } | undefined {
    return this.last;
  }

  get cycleCount(): number {
    return this.cycles;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** POST /sync: run a cycle (with a ref query) now. */
  requestSync(): void {
    this.syncRequested = true;
    this.wake?.();
  }

  /** SIGTERM: finish the current cycle (and its status writes), then return. */
  stop(): void {
    this.stopped = true;
    this.stoppedAt ??= this.now();
    this.agent.hurry();
    this.options.onStop?.();
    this.wake?.();
  }

  async run(): Promise<number> {
    this.running = true;
    try {
      return this.options.once ? await this.runOnce() : await this.runForever();
    } finally {
      this.running = false;
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private async cycle(checkHead: boolean): Promise<CycleReport> {
    const report = await this.agent.cycle({ checkHead });
    this.cycles++;
    this.last = { report, at: this.now() };
    this.faultyCycles = report.faults.length > 0 ? this.faultyCycles + 1 : 0;
    this.applyFaultyCycles = applyFaults(report) > 0 ? this.applyFaultyCycles + 1 : 0;
    return report;
  }

  private async runOnce(): Promise<number> {
    const max = this.options.maxFaultyCycles ?? 5;
    let report = await this.cycle(true);
    // --once syncs to the branch head: until the head was read (and a new commit fetched and read), the cycle
    // did not run, whatever Ray shows. The watch cycles retry that step; a cron job sees exit 1 if it never works.
    let headRead = report.head !== undefined;
    if (unknownCluster(report)) return this.fail(report.faults, 2);
    // A terminal git fault (the branch does not exist) will not mend itself within a --once run.
    if (fatal(report) || (!headRead && report.terminal)) return this.fail(report.faults);
    // Ray refusing the agent (its token, a proxy's 405) is terminal and not retried: the watch still writes the
    // statuses that say so on the commit, but the run failed.
    const refused = report.terminal ? report.faults : [];
    // The watch: until the changed models settle (or time out) and the statuses are written.
    while ((report.busy || report.faults.length > 0 || !headRead) && !this.stopped) {
      if (this.faultyCycles >= max) return this.fail(report.faults);
      await this.sleep(
        report.faults.length > 0
          ? backoffMs(this.faultyCycles, this.options.watchIntervalMs, MAX_BACKOFF_MS)
          : this.options.watchIntervalMs,
      );
      report = await this.cycle(!headRead);
      headRead ||= report.head !== undefined;
      if (unknownCluster(report)) return this.fail(report.faults, 2);
      if (fatal(report) || report.terminal) return this.fail(report.faults);
    }
    if (this.stopped) return headRead && refused.length === 0 ? 0 : this.fail([...refused, ...report.faults]);
    // The drift check, after the watch: Serve may have been changed by hand meanwhile.
    report = await this.cycle(false);
    while (report.busy && !this.stopped && this.faultyCycles < max) {
      await this.sleep(this.options.watchIntervalMs);
      report = await this.cycle(false);
    }
    if (report.faults.length > 0) return this.fail(report.faults);
    return refused.length > 0 ? this.fail(refused) : 0;
  }

  private async runForever(): Promise<number> {
    const { intervalMs, watchIntervalMs } = this.options;
    let nextHead = 0;
    // Whether the coming wake-up is the interval's: timers may fire a millisecond before Date.now() says so.
    let headDue = true;
    while (!this.stopped) {
      const checkHead = this.syncRequested || headDue || this.now() >= nextHead;
      this.syncRequested = false;
      const report = await this.cycle(checkHead);
      if (fatal(report)) return this.fail(report.faults);
      if (checkHead) nextHead = this.now() + intervalMs;
      if (this.stopped) break;
      let delay: number;
      // GitHub's faults are retried on the outbox's own backoff: they never slow applying commits.
      if (applyFaults(report) > 0) {
        delay = backoffMs(
          this.applyFaultyCycles,
          Math.min(intervalMs, 1000),
          Math.max(MAX_BACKOFF_MS, intervalMs),
        );
        headDue = true;
      } else {
        const untilHead = Math.max(0, nextHead - this.now());
        headDue = !(report.busy && watchIntervalMs < untilHead);
        delay = headDue ? untilHead : watchIntervalMs;
      }
      await this.sleep(delay);
    }
    await this.flush();
    return 0;
  }

  /** On shutdown: give statuses still waiting one more chance, within what is left of the grace period. */
  private async flush(): Promise<void> {
    const grace = this.options.graceMs ?? SHUTDOWN_GRACE_MS;
    const left = Math.max(0, (this.stoppedAt ?? this.now()) + grace - this.now());
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), left);
    });
    const done = await Promise.race([
      this.agent.flush().then(
        () => true,
        () => true,
      ),
      expired,
    ]);
    clearTimeout(timer);
    if (!done) {
      this.options.log.warn("grace period over: statuses still owed stay in the outbox for the next start");
      this.options.onGiveUp?.();
    }
  }

  /** 1: an agent fault; 2: the agent's own configuration is wrong (a usage error). */
  private fail(faults: readonly SafeError[], code: 1 | 2 = 1): number {
    this.options.log.error({ faults }, "the agent stops: see the fault above");
    return code;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped || this.syncRequested || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}

const applyFaults = (report: CycleReport): number =>
  report.faults.filter((f) => f.name !== "GitHubError").length;

const unknownCluster = (report: CycleReport): boolean =>
  report.faults.some((f) => f.name === "UnknownClusterError");

const fatal = (report: CycleReport): boolean =>
  report.faults.some((f) => f.name === "UnsupportedRayError" || f.name === "LockError");
