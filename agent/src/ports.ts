// The agent's three outside peers and its disk, as small interfaces. Each has one real implementation in
// adapters/ and test doubles behind the same interface.
import type { RepoSnapshot, ServeConfig } from "../../generator/src/index";
import type { Observed } from "./model/types";
import type { CommitState } from "./report/status-plan";

/** Where desired state comes from: a git branch. */
export interface DesiredStateSource {
  /** The branch head on the remote: one cheap ref query, no fetch. */
  head(): Promise<string>;
  /** Make the commit available locally, fetching only when it is missing. */
  ensure(sha: string): Promise<void>;
  /** models/ and clusters/ at a commit, without a checkout. */
  snapshot(sha: string): Promise<RepoSnapshot>;
  /**
   * First-parent commits from `to` back to (not including) `from` — or to their merge base after a
   * force-push — newest first, at most `max`, each with the paths it changed under `under`.
   */
  history(to: string, from: string | undefined, under: string, max: number): Promise<CommitChanges[]>;
  /** Values of one trailer in the commits from..to (just `to` when `from` is unknown). */
  trailers(to: string, from: string | undefined, key: string, max: number): Promise<string[]>;
}

export interface CommitChanges {
  readonly sha: string;
  readonly paths: readonly string[];
}

export interface RayVersion {
  readonly ray_version: string;
  readonly version?: string;
}

/** Where desired state is applied: the Ray Serve dashboard REST API. */
export interface ServeTarget {
  version(): Promise<RayVersion>;
  /** GET /api/serve/applications/ */
  observe(): Promise<Observed>;
  /** PUT /api/serve/applications/ (declarative: apps missing from the body are deleted). */
  apply(config: ServeConfig): Promise<void>;
}

export interface PostedStatus {
  readonly context: string;
  readonly state: CommitState;
  readonly description: string;
}

export interface PullRef {
  readonly number: number;
  readonly head_sha: string;
  readonly base_ref: string;
}

export interface StatusWriteRequest {
  readonly state: CommitState;
  readonly context: string;
  readonly description: string;
  readonly target_url?: string;
}

/** Where results are reported: GitHub (or GHES, Gitea, Forgejo) commit statuses and PR comments. */
export interface StatusReporter {
  postStatus(sha: string, status: StatusWriteRequest): Promise<void>;
  /** The latest status per context (the combined status, every page). */
  combinedStatus(sha: string): Promise<PostedStatus[]>;
  pullsOf(sha: string): Promise<PullRef[]>;
  /** The id of the agent's comment on a PR (found by its marker), if any. */
  findComment(pr: number, marker: string): Promise<number | undefined>;
  createComment(pr: number, body: string): Promise<number>;
  updateComment(id: number, body: string): Promise<void>;
}

/** The state directory's disk, so tests can inject ENOSPC. */
export interface FilePort {
  read(path: string): Promise<string | undefined>;
  /** Replace the file atomically and durably (write, fsync, rename). */
  write(path: string, data: string): Promise<void>;
}
