// The ordered, crash-safe outbox of GitHub writes. Every write is persisted before it is made and removed after;
// a status already posted with the same state and description is never posted again (the agent's record,
// and after a restart one read of the combined status per commit), and no (sha, context) is written more than
// CONTEXT_WRITE_CAP times — far below GitHub's 1,000.
import { createHash } from "node:crypto";
import { GitHubError, isGitHubAuthFailure, isTransient, safeError } from "../errors";
import type { Logger } from "../log";
import { backoffMs } from "../runtime/backoff";
import type { PullRef, StatusReporter } from "../ports";
import type { GitHubRecord, PostedEntry, StateStore } from "../state/state-store";
import { commentMarker } from "./comment";
import type { CommentWrite, GitHubWrite, StatusWrite } from "./status-plan";

export const CONTEXT_WRITE_CAP = 50;
const KEEP_SHAS = 200;
/**
 * A commit GitHub lists under no pull request is asked about again, once per drain, this many times in all and
 * within this long of the first answer; then "none" is kept (a push straight to the branch has no pull request).
 */
const PULLS_ASKS = 10;
const PULLS_WINDOW_MS = 10 * 60_000;
/** The outbox's own backoff after a failed write: GitHub's outages never slow the apply path (the loop's). */
export const OUTBOX_RETRY_BASE_MS = 1000;
export const OUTBOX_RETRY_MAX_MS = 5 * 60_000;

export interface DrainResult {
  readonly written: number;
  readonly skipped: number;
  readonly dropped: number;
  /**
   * A failure stopped the drain (or the outbox waits to retry after one): GitHub down or rate limited, or the
   * token refused. The rest waits, in order, for a later drain.
   */
  readonly error?: Error;
}

export interface OutboxOptions {
  readonly cluster: string;
  readonly branch: string;
  readonly store: StateStore;
  /** Absent in --dry-run: writes are logged, not made. */
  readonly reporter: StatusReporter | undefined;
  readonly log: Logger;
  readonly now: () => number;
  readonly random?: () => number;
}

export class Outbox {
  private verified = new Set<string>();
  /** Entries that were waiting when the agent started: GitHub may already have them. */
  private readonly suspect: Set<number>;
  /** Commits whose statuses an agent before this one (without a record) may have posted: read before writing. */
  private readonly unknownShas = new Set<string>();
  /** No request before this time: a rate limit's reset, or the backoff after a failure. */
  private notBefore = 0;
  /** Whether notBefore is GitHub's own rate limit (which even a shutdown flush must respect). */
  private rateLimited = false;
  private failures = 0;
  private lastError: Error | undefined;
  /** Record changes run one at a time on the latest record: a drain may run while a cycle enqueues. */
  private changes: Promise<unknown> = Promise.resolve();
  /** Commits GitHub listed under no pull request yet: asked again on a later drain (pulls()). */
  private readonly unlisted = new Map<string, { first: number; asks: number; drain: number }>();
  private drains = 0;

  private constructor(
    private record: GitHubRecord,
    private readonly options: OutboxOptions,
  ) {
    this.suspect = new Set(record.outbox.map((e) => e.id));
  }

  static async load(options: OutboxOptions): Promise<Outbox> {
    return new Outbox(await options.store.loadGitHub(), options);
  }

  get size(): number {
    return this.record.outbox.length;
  }

  /** The posted state of a context (tests and /status). */
  posted(sha: string, context: string): PostedEntry | undefined {
    return this.record.posted[sha]?.[context];
  }

  /** Persist new writes at the end of the queue. Throws (StateStoreError) when the disk refuses. */
  async enqueue(writes: readonly GitHubWrite[]): Promise<void> {
    if (writes.length === 0) return;
    await this.change((record) => {
      let id = record.nextId;
      const outbox = [...record.outbox, ...writes.map((write) => ({ id: id++, write }))];
      return { ...record, nextId: id, outbox };
    });
  }

  /**
   * Write what is owed, in order, until done or a failure. A transient failure (5xx, rate limit, no answer) and a
   * refused token (401, or a 403 that is not a rate limit) keep the write and everything after it: the outbox
   * retries after its own backoff (or the rate limit's reset), and a token fixed by the operator gets every
   * write. A write GitHub refuses for itself (422, 404, ...) is dropped and logged.
   * @param force retry now, without waiting out the backoff (but never before a rate limit's reset): shutdown.
   */
  async drain(options: { force?: boolean } = {}): Promise<DrainResult> {
    this.drains++;
    let written = 0;
    let skipped = 0;
    let dropped = 0;
    const now = this.options.now();
    if (now < this.notBefore && (this.rateLimited || !options.force)) {
      const error = this.rateLimited
        ? new GitHubError(
            `waiting for GitHub's rate limit to reset at ${new Date(this.notBefore).toISOString()}`,
            { kind: "transient", retryAt: this.notBefore },
          )
        : this.lastError;
      return { written, skipped, dropped, ...(error ? { error } : {}) };
    }
    while (this.record.outbox.length > 0) {
      const entry = this.record.outbox[0]!;
      try {
        const result =
          entry.write.kind === "status"
            ? await this.status(entry.write, this.suspect.has(entry.id))
            : await this.comment(entry.write);
        written += result.written;
        skipped += result.skipped;
      } catch (error) {
        if (isTransient(error) || isGitHubAuthFailure(error)) {
          this.failed(error as Error);
          return { written, skipped, dropped, error: error as Error };
        }
        dropped++;
        this.options.log.error(
          { err: safeError(error), write: describeWrite(entry.write) },
          "GitHub refused a write; dropping it",
        );
      }
      this.suspect.delete(entry.id);
      await this.change((record) => ({ ...record, outbox: record.outbox.filter((e) => e.id !== entry.id) }));
    }
    this.failures = 0;
    this.lastError = undefined;
    this.notBefore = 0;
    this.rateLimited = false;
    return { written, skipped, dropped };
  }

  private failed(error: Error): void {
    this.failures++;
    this.lastError = error;
    const retryAt = (error as { retryAt?: number }).retryAt;
    this.rateLimited = retryAt !== undefined;
    this.notBefore =
      retryAt ??
      this.options.now() +
        backoffMs(this.failures, OUTBOX_RETRY_BASE_MS, OUTBOX_RETRY_MAX_MS, this.options.random);
    if (isGitHubAuthFailure(error))
      this.options.log.error(
        { err: safeError(error), waiting: this.record.outbox.length },
        "GitHub refuses the agent's token: writes wait in the outbox until it is fixed",
      );
  }

  private async status(write: StatusWrite, suspect: boolean): Promise<{ written: number; skipped: number }> {
    const targets = [write.sha];
    if (write.mirror) {
      for (const pr of await this.pulls(write.sha))
        if (pr.head_sha !== write.sha && !targets.includes(pr.head_sha)) targets.push(pr.head_sha);
    }
    let written = 0;
    let skipped = 0;
    for (const sha of targets) {
      // A write that only resolves what GitHub shows reads GitHub first, on a mirrored PR head too.
      if ((suspect || write.onlyIfShown || this.unknownShas.has(sha)) && !this.verified.has(sha))
        await this.verify(sha);
      const before = this.record.posted[sha]?.[write.context];
      // Only resolving what GitHub shows: a context it does not show for this commit is not created.
      if (write.onlyIfShown && !before) {
        skipped++;
        continue;
      }
      if (before && before.state === write.state && before.description === write.description) {
        skipped++;
        continue;
      }
      if (before && before.writes >= CONTEXT_WRITE_CAP) {
        this.options.log.warn(
          { sha, context: write.context, writes: before.writes },
          "context write cap reached; not writing it again for this commit",
        );
        skipped++;
        continue;
      }
      const { reporter, log } = this.options;
      const request = {
        state: write.state,
        context: write.context,
        description: write.description,
        ...(write.target_url ? { target_url: write.target_url } : {}),
      };
      if (reporter) await reporter.postStatus(sha, request);
      else log.info({ sha, ...request }, "dry run: would post a commit status");
      written++;
      await this.change((record) =>
        withPosted(record, sha, write.context, {
          state: write.state,
          description: write.description,
          writes: (before?.writes ?? 0) + 1,
        }),
      );
    }
    return { written, skipped };
  }

  /**
   * An agent without a record re-reports a commit whose statuses an agent before it may have posted: what GitHub
   * shows for it is read once before the first write, so only what differs is posted.
   */
  readFirst(sha: string): void {
    this.unknownShas.add(sha);
  }

  /** After a restart: what GitHub already shows for the commit, so nothing is posted twice. */
  private async verify(sha: string): Promise<void> {
    if (this.options.reporter) {
      // A failed read leaves the sha unverified: it is read again before anything is posted to it.
      const shown = await this.options.reporter.combinedStatus(sha);
      await this.change((record) => {
        let next = record;
        for (const s of shown) {
          const before = next.posted[sha]?.[s.context];
          next = withPosted(next, sha, s.context, {
            state: s.state,
            description: s.description,
            writes: Math.max(before?.writes ?? 1, 1),
          });
        }
        return next;
      });
    }
    this.verified.add(sha);
  }

  private async pulls(sha: string): Promise<readonly PullRef[]> {
    const cached = this.record.pulls[sha];
    if (cached) return cached;
    // GitHub lists a merge under its pull request some time after the push the agent may already write for:
    // "none" is asked again on later drains (once each) for a while before it is kept for good.
    const unlisted = this.unlisted.get(sha);
    if (unlisted && unlisted.drain === this.drains) return [];
    const { reporter, branch } = this.options;
    const pulls = reporter ? (await reporter.pullsOf(sha)).filter((p) => p.base_ref === branch) : [];
    const first = unlisted?.first ?? this.options.now();
    const asks = (unlisted?.asks ?? 0) + 1;
    if (pulls.length === 0 && reporter && asks < PULLS_ASKS && this.options.now() - first < PULLS_WINDOW_MS) {
      this.unlisted.set(sha, { first, asks, drain: this.drains });
      return pulls;
    }
    this.unlisted.delete(sha);
    await this.change((record) => {
      const keys = Object.keys(record.pulls);
      const kept =
        keys.length >= KEEP_SHAS
          ? Object.fromEntries(keys.slice(-KEEP_SHAS + 1).map((k) => [k, record.pulls[k]!]))
          : record.pulls;
      return { ...record, pulls: { ...kept, [sha]: pulls } };
    });
    return pulls;
  }

  private async comment(write: CommentWrite): Promise<{ written: number; skipped: number }> {
    const { reporter, log, cluster } = this.options;
    let written = 0;
    let skipped = 0;
    const digest = createHash("sha256").update(write.body).digest("hex");
    for (const pr of await this.pulls(write.sha)) {
      const known = this.record.comments[String(pr.number)];
      if (known?.digest === digest) {
        skipped++;
        continue;
      }
      if (!reporter) {
        log.info({ pr: pr.number }, "dry run: would write the PR comment");
        continue;
      }
      // A comment on the PR is the agent's only when its own login wrote it: until the agent has created a
      // comment and so learnt that login, it adopts none (a look-alike marker comment is anyone's to write).
      const login = this.record.login;
      let id =
        known?.id ??
        (login !== undefined
          ? await reporter.findComment(pr.number, commentMarker(cluster), login)
          : undefined);
      let learnt: string | undefined;
      if (id === undefined) ({ id, login: learnt } = await reporter.createComment(pr.number, write.body));
      else await reporter.updateComment(id, write.body);
      written++;
      const commentId = id;
      await this.change((record) => ({
        ...record,
        comments: { ...record.comments, [String(pr.number)]: { id: commentId, digest } },
        // The token's identity as of this write: a replaced token's comments are the new login's.
        ...(learnt !== undefined ? { login: learnt } : {}),
      }));
    }
    return { written, skipped };
  }

  /** Apply a change to the record as the previous change left it, and persist it before it counts. */
  private change(update: (record: GitHubRecord) => GitHubRecord): Promise<void> {
    const run = this.changes.then(async () => {
      const next = update(this.record);
      await this.options.store.saveGitHub(next);
      this.record = next;
    });
    this.changes = run.catch(() => undefined);
    return run;
  }
}

function withPosted(record: GitHubRecord, sha: string, context: string, entry: PostedEntry): GitHubRecord {
  let posted = record.posted;
  if (!(sha in posted)) {
    const keys = Object.keys(posted);
    if (keys.length >= KEEP_SHAS)
      posted = Object.fromEntries(keys.slice(-KEEP_SHAS + 1).map((k) => [k, posted[k]!]));
  }
  return { ...record, posted: { ...posted, [sha]: { ...posted[sha], [context]: entry } } };
}

const describeWrite = (w: GitHubWrite) =>
  w.kind === "status"
    ? { sha: w.sha, context: w.context, state: w.state, description: w.description }
    : { sha: w.sha, comment: true };
