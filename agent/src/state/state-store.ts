// The agent's record (state.json) and its GitHub outbox (github.json) in the state directory, written through
// a FilePort so a full disk can be injected in tests.
import { join } from "node:path";
import { StateStoreError } from "../errors";
import { emptyRecord, type AgentRecord } from "../model/types";
import type { FilePort, PullRef } from "../ports";
import type { CommitState, GitHubWrite } from "../report/status-plan";

export interface OutboxEntry {
  readonly id: number;
  readonly write: GitHubWrite;
}

export interface PostedEntry {
  readonly state: CommitState;
  readonly description: string;
  /** How many times the agent wrote this (sha, context): capped well below GitHub's 1,000. */
  readonly writes: number;
}

export interface GitHubRecord {
  readonly version: 1;
  readonly nextId: number;
  /** Writes waiting to be made, in order. Survives a crash. */
  readonly outbox: readonly OutboxEntry[];
  /** sha -> context -> the last state the agent posted (dedupe). Bounded to the newest commits. */
  readonly posted: Readonly<Record<string, Readonly<Record<string, PostedEntry>>>>;
  /** sha -> the pull requests it belongs to (looked up once). */
  readonly pulls: Readonly<Record<string, readonly PullRef[]>>;
  /** PR number -> the agent's comment there and a digest of its body. */
  readonly comments: Readonly<Record<string, { readonly id: number; readonly digest: string }>>;
  /**
   * The agent's own GitHub login, learnt from the author of a comment it created. Only a comment this login
   * wrote is ever taken for the agent's; without it the agent adopts none. Absent in a file written before.
   */
  readonly login?: string;
}

export const emptyGitHubRecord = (): GitHubRecord => ({
  version: 1,
  nextId: 1,
  outbox: [],
  posted: {},
  pulls: {},
  comments: {},
});

const TRANSIENT_CODES = new Set(["ENOSPC", "EDQUOT", "EIO", "EAGAIN", "EBUSY", "EMFILE", "ENFILE"]);

export class StateStore {
  readonly recordPath: string;
  readonly githubPath: string;

  constructor(
    readonly dir: string,
    private readonly files: FilePort,
  ) {
    this.recordPath = join(dir, "state.json");
    this.githubPath = join(dir, "github.json");
  }

  async loadRecord(cluster: string): Promise<AgentRecord> {
    const record = await this.load<AgentRecord>(this.recordPath);
    if (!record) return emptyRecord(cluster);
    if (record.cluster !== cluster) {
      throw new StateStoreError(
        `${this.recordPath} belongs to cluster ${record.cluster}, not ${cluster}: use one state directory per cluster`,
        {
          kind: "terminal",
        },
      );
    }
    return record;
  }

  async loadGitHub(): Promise<GitHubRecord> {
    return (await this.load<GitHubRecord>(this.githubPath)) ?? emptyGitHubRecord();
  }

  saveRecord(record: AgentRecord): Promise<void> {
    return this.save(this.recordPath, record);
  }

  saveGitHub(record: GitHubRecord): Promise<void> {
    return this.save(this.githubPath, record);
  }

  private async load<T extends { version: number }>(path: string): Promise<T | undefined> {
    let text: string | undefined;
    try {
      text = await this.files.read(path);
    } catch (error) {
      throw wrap(error, `cannot read ${path}`);
    }
    if (text === undefined) return undefined;
    let value: T;
    try {
      value = JSON.parse(text) as T;
    } catch (error) {
      throw new StateStoreError(
        `${path} is not valid JSON; move it away to start from Ray's and GitHub's own state`,
        { kind: "terminal", cause: error },
      );
    }
    if (value.version !== 1)
      throw new StateStoreError(`${path} has version ${String(value.version)}; this agent reads version 1`, {
        kind: "terminal",
      });
    return value;
  }

  private async save(path: string, value: unknown): Promise<void> {
    try {
      await this.files.write(path, JSON.stringify(value));
    } catch (error) {
      throw wrap(error, `cannot write ${path}`);
    }
  }
}

function wrap(error: unknown, message: string): StateStoreError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return new StateStoreError(
    `${message}: ${code ?? (error instanceof Error ? error.message : String(error))}`,
    {
      kind: code !== undefined && TRANSIENT_CODES.has(code) ? "transient" : "terminal",
      cause: error,
      ...(code !== undefined ? { code } : {}),
    },
  );
}
