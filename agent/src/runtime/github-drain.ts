// Writing what GitHub is owed, off the apply path: one outbox drain at a time, shared by the cycles it outlives,
// and waited for by a cycle only up to githubWaitMs. GitHub's faults are reported with the cycle's (readiness)
// but retried on the outbox's own backoff.
import { isTransient, safeError } from "../errors";
import type { Logger } from "../log";
import type { Outbox } from "../report/outbox";
import type { AgentMetrics } from "../server/metrics";

export interface GitHubDrainDeps {
  readonly outbox: Outbox;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  /** How long a cycle waits for the GitHub writes it started (default 2 s): AgentDeps says why. */
  readonly githubWaitMs?: number;
}

export class GitHubDrain {
  /** The outbox drain in flight, if any: at most one, shared by the cycles it outlives. */
  private draining: Promise<void> | undefined;
  /** How the last drain ended: a GitHub fault (down, rate limited, token refused) until one succeeds. */
  private githubFault: Error | undefined;
  private hurried = false;
  private stopWaiting: (() => void) | undefined;

  constructor(private readonly deps: GitHubDrainDeps) {}

  /** A drain is in flight. */
  get running(): boolean {
    return this.draining !== undefined;
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
   * Step 6: write what is owed. The drain runs on its own; the cycle waits for it only up to githubWaitMs.
   * Returns the GitHub fault the last drain ended with, if any, for the cycle to report.
   */
  async report(): Promise<Error | undefined> {
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
    return this.githubFault;
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
}
