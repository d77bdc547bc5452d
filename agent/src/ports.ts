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
  /**
   * The first-parent commits from..to (just `to` when `from` is unknown) that carry one trailer, newest first,
   * with its values. Commits inside a merged branch never count: only what landed on the branch does.
   */
  trailers(to: string, from: string | undefined, key: string, max: number): Promise<TrailerCommit[]>;
}

export interface TrailerCommit {
  readonly sha: string;
  /** The first parent (the branch before this commit landed); none for a root commit. */
  readonly parent?: string;
  readonly values: readonly string[];
}

export interface CommitChanges {
  readonly sha: string;
  readonly paths: readonly string[];
}

export interface RayVersion {
  readonly ray_version: string;
  readonly version?: string;
  /** The answer carried the serve-gitops emulator's `x-emulator` header: a simulation, not a Ray cluster. */
  readonly simulated?: boolean;
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

export interface MergedPull {
  readonly number: number;
  readonly base_ref: string;
  /** Who merged it (GET .../pulls/{n}: the lists of pull requests do not say). */
  readonly merged_by: string | undefined;
  /**
   * The pull request's title and description (GET .../pulls/{n}; "" when empty): its author wrote them, and
   * GitHub's default merge and squash messages copy them.
   */
  readonly title: string;
  readonly body: string;
  /** The messages of the pull request's own commits (GitHub lists at most 250). */
  readonly messages: readonly string[];
  /** How many commits the pull request has: more than `messages` when GitHub did not list them all. */
  readonly commits: number;
  /**
   * `title` and `body` are as they are now, and an author can edit them after the merge. What GitHub keeps of
   * that (GraphQL): when it was merged (mergedAt), when the description was last edited (lastEditedAt, if ever)
   * and each change of the title (RenamedTitleEvent), of which GitHub counts `renames`.
   */
  readonly merged_at: string | undefined;
  readonly body_edited_at: string | undefined;
  readonly renamed: readonly { readonly from: string; readonly to: string }[];
  readonly renames: number;
}

export interface CreatedComment {
  readonly id: number;
  readonly login: string | undefined;
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
  /** The pull request GitHub merged as exactly this commit (its merge or squash commit), if any. */
  mergedAs(sha: string): Promise<MergedPull | undefined>;
  /** The id of the agent's comment on a PR: one `login` (the agent's own) wrote, starting with the marker. */
  findComment(pr: number, marker: string, login: string): Promise<number | undefined>;
  /** The new comment's id and its author's login (the agent's own: the token's identity), when GitHub says. */
  createComment(pr: number, body: string): Promise<CreatedComment>;
  updateComment(id: number, body: string): Promise<void>;
}

/** The state directory's disk, so tests can inject ENOSPC. */
export interface FilePort {
  read(path: string): Promise<string | undefined>;
  /** Replace the file atomically and durably (write, fsync, rename). */
  write(path: string, data: string): Promise<void>;
}
