// The ordered, crash-safe outbox of GitHub writes. Every write is persisted before it is made and removed after;
// a status already posted with the same state and description is never posted again (the agent's record,
// and after a restart one read of the combined status per commit), and no (sha, context) is written more than
// CONTEXT_WRITE_CAP times — far below GitHub's 1,000.
import { createHash } from "node:crypto";
import { GitHubError, isTransient, safeError } from "../errors";
import type { Logger } from "../log";
import type { PullRef, StatusReporter } from "../ports";
import type { GitHubRecord, PostedEntry, StateStore } from "../state/state-store";
import { commentMarker } from "./comment";
import type { CommentWrite, GitHubWrite, StatusWrite } from "./status-plan";

export const CONTEXT_WRITE_CAP = 50;
const KEEP_SHAS = 200;

export interface DrainResult {
  readonly written: number;
  readonly skipped: number;
  readonly dropped: number;
  /** A transient failure stopped the drain; the rest waits (in order) for the next cycle. */
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
}

export class Outbox {
  private verified = new Set<string>();
  /** Entries that were waiting when the agent started: GitHub may already have them. */
  private readonly suspect: Set<number>;
  private notBefore = 0;

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
    let id = this.record.nextId;
    const outbox = [...this.record.outbox, ...writes.map((write) => ({ id: id++, write }))];
    await this.save({ ...this.record, nextId: id, outbox });
  }

  async drain(): Promise<DrainResult> {
    let written = 0;
    let skipped = 0;
    let dropped = 0;
    if (this.options.now() < this.notBefore) {
      const error = new GitHubError(
        `waiting for GitHub's rate limit to reset at ${new Date(this.notBefore).toISOString()}`,
        { kind: "transient", retryAt: this.notBefore },
      );
      return { written, skipped, dropped, error };
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
        if (isTransient(error)) {
          const retryAt = (error as { retryAt?: number }).retryAt;
          if (retryAt !== undefined) this.notBefore = retryAt;
          return { written, skipped, dropped, error: error as Error };
        }
        dropped++;
        this.options.log.error(
          { err: safeError(error), write: describeWrite(entry.write) },
          "GitHub refused a write; dropping it",
        );
      }
      this.suspect.delete(entry.id);
      await this.save({ ...this.record, outbox: this.record.outbox.slice(1) });
    }
    return { written, skipped, dropped };
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
      if (suspect && !this.verified.has(sha)) await this.verify(sha);
      const before = this.record.posted[sha]?.[write.context];
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
      this.record = withPosted(this.record, sha, write.context, {
        state: write.state,
        description: write.description,
        writes: (before?.writes ?? 0) + 1,
      });
      await this.save(this.record);
    }
    return { written, skipped };
  }

  /** After a restart: what GitHub already shows for the commit, so nothing is posted twice. */
  private async verify(sha: string): Promise<void> {
    this.verified.add(sha);
    if (!this.options.reporter) return;
    for (const s of await this.options.reporter.combinedStatus(sha)) {
      const before = this.record.posted[sha]?.[s.context];
      this.record = withPosted(this.record, sha, s.context, {
        state: s.state,
        description: s.description,
        writes: Math.max(before?.writes ?? 1, 1),
      });
    }
  }

  private async pulls(sha: string): Promise<readonly PullRef[]> {
    const cached = this.record.pulls[sha];
    if (cached) return cached;
    const { reporter, branch } = this.options;
    const pulls = reporter ? (await reporter.pullsOf(sha)).filter((p) => p.base_ref === branch) : [];
    const keys = Object.keys(this.record.pulls);
    const kept =
      keys.length >= KEEP_SHAS
        ? Object.fromEntries(keys.slice(-KEEP_SHAS + 1).map((k) => [k, this.record.pulls[k]!]))
        : this.record.pulls;
    this.record = { ...this.record, pulls: { ...kept, [sha]: pulls } };
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
      let id = known?.id ?? (await reporter.findComment(pr.number, commentMarker(cluster)));
      if (id === undefined) id = await reporter.createComment(pr.number, write.body);
      else await reporter.updateComment(id, write.body);
      written++;
      this.record = {
        ...this.record,
        comments: { ...this.record.comments, [String(pr.number)]: { id, digest } },
      };
      await this.save(this.record);
    }
    return { written, skipped };
  }

  private async save(record: GitHubRecord): Promise<void> {
    await this.options.store.saveGitHub(record);
    this.record = record;
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
