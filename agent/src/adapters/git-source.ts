// DesiredStateSource over git: one `ls-remote` per cycle; a fetch into a bare clone in the state directory
// only when the branch moved; snapshots through the core's readCommitSnapshot (one ls-tree + one batched
// cat-file, modes kept). Credentials never enter the URL or the logs: they come through git's own
// configuration in the environment (GIT_CONFIG_COUNT/KEY/VALUE with an http.extraHeader).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createGit, OBJECT_ID, readCommitSnapshot } from "../../../generator/src/io/git";
import type { RepoSnapshot } from "../../../generator/src/index";
import { CommitNotFoundError, GitError } from "../errors";
import { gitSecrets, redactError, secretRedactor } from "../redact-secrets";
import { redactUrl } from "../redact-url";
import type { CommitChanges, DesiredStateSource, TrailerCommit } from "../ports";

/** The agent's bare clone in its state directory (a cache: deleted, it is cloned again). */
export const cloneDirIn = (stateDir: string): string => join(stateDir, "repo.git");

export interface GitSourceOptions {
  /** A URL without credentials, or a local path. */
  readonly url: string;
  readonly branch: string;
  /** The bare clone, e.g. <state-dir>/repo.git */
  readonly cloneDir: string;
  /**
   * Another clone's objects directory, read (never written) through git alternates: --dry-run's temporary
   * clone borrows the state directory's so it fetches only what that one lacks.
   */
  readonly borrowObjects?: string;
  /** GIT_CONFIG_* and friends: passed to every git process. */
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /**
   * The agent's stop: a git call under way (a remote that hangs, up to timeoutMs) is killed so the stop stays
   * within its grace period; the cycle sees a transient GitError and goes on with what it has.
   */
  readonly signal?: AbortSignal;
  /** Called for every git process the source runs (metrics and the bench count them). */
  readonly onCommand?: (command: "ls-remote" | "fetch" | "read" | "log" | "init") => void;
}

export class GitSource implements DesiredStateSource {
  private readonly known = new Set<string>();
  /**
   * Masks the credentials of git's configuration in git's messages: git prints what the remote answered
   * ("remote: ..."), and a proxy's error page can quote the Authorization header it was sent.
   */
  private readonly redact: (text: string) => string;

  constructor(private readonly options: GitSourceOptions) {
    this.redact = secretRedactor(gitSecrets(options.env));
  }

  private git() {
    if (!existsSync(this.options.cloneDir)) mkdirSync(this.options.cloneDir, { recursive: true });
    return createGit(this.options.cloneDir, this.gitOptions());
  }

  private gitOptions() {
    const { env, timeoutMs, signal } = this.options;
    return { env, timeoutMs, ...(signal ? { signal } : {}) };
  }

  async head(): Promise<string> {
    const { url, branch } = this.options;
    this.options.onCommand?.("ls-remote");
    let out: string;
    try {
      out = await this.git().raw(["ls-remote", "--", url, `refs/heads/${branch}`]);
    } catch (error) {
      throw new GitError(`cannot reach ${redactUrl(url)}: ${this.firstLine(error)}`, {
        kind: "transient",
        cause: error,
      });
    }
    // ls-remote's pattern matches the ends of names: refs/heads/a/refs/heads/main is listed too, and anyone
    // allowed to push a branch can make one. Only the exact name is the branch.
    const ref = `refs/heads/${branch}`;
    const sha = out
      .split("\n")
      .map((line) => line.split("\t"))
      .find(([id, name]) => name === ref && OBJECT_ID.test(id ?? ""))?.[0];
    if (!sha)
      throw new GitError(`branch ${branch} does not exist on ${redactUrl(url)}`, { kind: "terminal" });
    return sha;
  }

  async ensure(sha: string): Promise<void> {
    if (await this.has(sha)) return;
    const { url, branch, cloneDir } = this.options;
    try {
      if (!existsSync(`${cloneDir}/HEAD`)) {
        this.options.onCommand?.("init");
        await this.git().raw(["init", "--bare", "--quiet", "."]);
        if (this.options.borrowObjects)
          writeFileSync(`${cloneDir}/objects/info/alternates`, `${this.options.borrowObjects}\n`);
      }
      this.options.onCommand?.("fetch");
      // "+": always follow the remote, also after a force-push.
      await this.git().raw([
        "fetch",
        "--quiet",
        "--no-tags",
        "--force",
        "--",
        url,
        `+refs/heads/${branch}:refs/heads/${branch}`,
      ]);
    } catch (error) {
      throw new GitError(`cannot fetch ${branch} from ${redactUrl(url)}: ${this.firstLine(error)}`, {
        kind: "transient",
        cause: error,
      });
    }
    if (!(await this.has(sha))) {
      throw new CommitNotFoundError(
        `${sha} is not on ${branch} any more and not in the clone (a force-push, or the branch moved while fetching)`,
        { kind: "transient" },
      );
    }
  }

  async snapshot(sha: string): Promise<RepoSnapshot> {
    this.options.onCommand?.("read");
    try {
      return await readCommitSnapshot(this.options.cloneDir, sha, this.gitOptions());
    } catch (error) {
      throw new GitError(`cannot read ${sha}: ${this.firstLine(error)}`, { kind: "transient", cause: error });
    }
  }

  async history(to: string, from: string | undefined, under: string, max: number): Promise<CommitChanges[]> {
    const args = ["log", "--first-parent", `--max-count=${max}`, "--format=%x00%H", "--name-only", to];
    // `^from` stops at the merge base too, so a force-push that dropped `from` is bounded as well.
    if (from && (await this.has(from))) args.push(`^${from}`);
    this.options.onCommand?.("log");
    let out: string;
    try {
      out = await this.git().raw([...args, "--", under]);
    } catch (error) {
      throw new GitError(`cannot read the history of ${to}: ${this.firstLine(error)}`, {
        kind: "transient",
        cause: error,
      });
    }
    return out
      .split("\0")
      .filter((chunk) => chunk.trim() !== "")
      .map((chunk) => {
        const [sha = "", ...paths] = chunk.split("\n").map((l) => l.trim());
        return { sha, paths: paths.filter((p) => p !== "") };
      });
  }

  async trailers(to: string, from: string | undefined, key: string, max: number): Promise<TrailerCommit[]> {
    // A `from` the clone lacks (force-pushed away before this clone was made) bounds nothing: like no `from`,
    // only `to` itself speaks, so an old admin's trailer in the history never counts for this sync.
    const bounded = from !== undefined && (await this.has(from));
    const range = bounded ? [to, `^${from}`] : [to];
    // --first-parent: only the commits that landed on the branch (merge and squash commits, direct pushes)
    // speak for it; a commit inside a merged branch is its author's word, not the merger's.
    const args = [
      "log",
      "--first-parent",
      `--max-count=${bounded ? max : 1}`,
      `--format=%H%x01%P%x01%(trailers:key=${key},valueonly,separator=%x02)%x00`,
      ...range,
    ];
    this.options.onCommand?.("log");
    let out: string;
    try {
      out = await this.git().raw(args);
    } catch (error) {
      throw new GitError(`cannot read the trailers of ${to}: ${this.firstLine(error)}`, {
        kind: "transient",
        cause: error,
      });
    }
    return out.split("\0").flatMap((chunk) => {
      const [sha = "", parents = "", trailers = ""] = chunk.trim().split("\x01");
      const values = trailers
        .split("\x02")
        .map((v) => v.trim())
        .filter((v) => v !== "");
      if (sha === "" || values.length === 0) return [];
      const parent = parents.split(" ")[0];
      return [{ sha, ...(parent ? { parent } : {}), values }];
    });
  }

  /** git's first line, for the agent's own error; the error itself (kept as its cause) is masked too. */
  private firstLine(error: unknown): string {
    redactError(error, this.redact);
    const text = this.redact(error instanceof Error ? error.message : String(error));
    return redactUrl(text.trim().split("\n")[0] ?? "");
  }

  /**
   * Whether the clone has the commit. Only git's quiet "no such commit" is an answer of no: any other failure (a
   * timeout, an unreadable object) is a transient GitError, never taken for a commit a force-push dropped.
   */
  private async has(sha: string): Promise<boolean> {
    if (this.known.has(sha)) return true;
    if (!existsSync(`${this.options.cloneDir}/HEAD`)) return false;
    let out: string;
    try {
      // --verify --quiet prints the commit, or nothing with a non-zero exit that simple-git resolves (it rejects
      // only when git wrote to stderr): an empty answer is "not in the clone".
      out = await this.git().raw(["rev-parse", "--verify", "--quiet", `${sha}^{commit}`]);
    } catch (error) {
      throw new GitError(`cannot look up ${sha} in the clone: ${this.firstLine(error)}`, {
        kind: "transient",
        cause: error,
      });
    }
    if (!/^[0-9a-f]{40,64}$/.test(out.trim())) return false;
    this.known.add(sha);
    return true;
  }
}

export { redactUrl };
