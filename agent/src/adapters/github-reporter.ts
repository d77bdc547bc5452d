// StatusReporter over the GitHub REST API (also GHES at /api/v3 and Gitea/Forgejo at /api/v1).
import type { Octokit } from "octokit";
import { GitHubError } from "../errors";
import type {
  CreatedComment,
  MergedPull,
  PostedStatus,
  PullRef,
  StatusReporter,
  StatusWriteRequest,
} from "../ports";
import type { CommitState } from "../report/status-plan";

/**
 * How a pull request was edited, which its REST object does not say: `lastEditedAt` ("the moment the editor
 * made the last edit", https://docs.github.com/graphql/reference/objects#pullrequest) is the description's
 * last edit; a title change is a RenamedTitleEvent with previousTitle and currentTitle
 * (https://docs.github.com/graphql/reference/objects#renamedtitleevent, item type RENAMED_TITLE_EVENT of
 * https://docs.github.com/graphql/reference/enums#pullrequesttimelineitemsitemtype). One request; GitHub
 * serves GraphQL at /graphql (GHES at /api/graphql, which octokit derives from /api/v3).
 */
const PULL_EDITS = `query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      mergedAt
      lastEditedAt
      timelineItems(first: 100, itemTypes: [RENAMED_TITLE_EVENT]) {
        totalCount
        nodes { ... on RenamedTitleEvent { previousTitle currentTitle } }
      }
    }
  }
}`;

interface PullEdits {
  repository: {
    pullRequest: {
      mergedAt: string | null;
      lastEditedAt: string | null;
      timelineItems: {
        totalCount: number;
        nodes: ({ previousTitle?: string; currentTitle?: string } | null)[] | null;
      };
    } | null;
  } | null;
}

export class GitHubReporter implements StatusReporter {
  private readonly owner: string;
  private readonly repo: string;

  constructor(
    private readonly octokit: Octokit,
    repository: string,
  ) {
    const [owner = "", repo = ""] = repository.split("/");
    this.owner = owner;
    this.repo = repo;
  }

  async postStatus(sha: string, status: StatusWriteRequest): Promise<void> {
    await this.call("POST statuses", () =>
      this.octokit.rest.repos.createCommitStatus({ owner: this.owner, repo: this.repo, sha, ...status }),
    );
  }

  async combinedStatus(sha: string): Promise<PostedStatus[]> {
    const out: PostedStatus[] = [];
    // Not octokit.paginate: the combined status is an object with a `statuses` page, not a list.
    for (let page = 1; page <= 20; page++) {
      const { data } = await this.call("GET combined status", () =>
        this.octokit.rest.repos.getCombinedStatusForRef({
          owner: this.owner,
          repo: this.repo,
          ref: sha,
          per_page: 100,
          page,
        }),
      );
      for (const s of data.statuses)
        out.push({ context: s.context, state: s.state as CommitState, description: s.description ?? "" });
      if (data.statuses.length < 100 || out.length >= data.total_count) break;
    }
    return out;
  }

  async pullsOf(sha: string): Promise<PullRef[]> {
    const { data } = await this.call("GET commit pulls", () =>
      this.octokit.rest.repos.listPullRequestsAssociatedWithCommit({
        owner: this.owner,
        repo: this.repo,
        commit_sha: sha,
        per_page: 100,
      }),
    );
    return data.map((p) => ({ number: p.number, head_sha: p.head.sha, base_ref: p.base.ref }));
  }

  async mergedAs(sha: string): Promise<MergedPull | undefined> {
    const { data: pulls } = await this.call("GET commit pulls", () =>
      this.octokit.rest.repos.listPullRequestsAssociatedWithCommit({
        owner: this.owner,
        repo: this.repo,
        commit_sha: sha,
        per_page: 100,
      }),
    );
    // After a merge, merge_commit_sha is the merge commit, the squash commit, or the tip of a rebase: the one
    // commit GitHub wrote when someone pressed the button.
    const merged = pulls.find((p) => p.merged_at && p.merge_commit_sha === sha);
    if (!merged) return undefined;
    // The list is GitHub's pull-request-simple, which has no merged_by: only the pull request itself says (and
    // its title and description, which the prune approval reads as well).
    const { data: pull } = await this.call("GET pull", () =>
      this.octokit.rest.pulls.get({ owner: this.owner, repo: this.repo, pull_number: merged.number }),
    );
    const commits = await this.call("GET pull commits", () =>
      this.octokit.paginate(this.octokit.rest.pulls.listCommits, {
        owner: this.owner,
        repo: this.repo,
        pull_number: merged.number,
        per_page: 100,
      }),
    );
    const edits = await this.call("GraphQL pull request edits", () =>
      this.octokit.graphql<PullEdits>(PULL_EDITS, {
        owner: this.owner,
        name: this.repo,
        number: merged.number,
      }),
    );
    const edited = edits.repository?.pullRequest;
    if (!edited)
      throw new GitHubError(`GitHub GraphQL pull request edits failed: no pull request #${merged.number}`, {
        kind: "transient",
      });
    return {
      number: pull.number,
      base_ref: pull.base.ref,
      merged_by: pull.merged_by?.login,
      title: pull.title,
      body: pull.body ?? "",
      messages: commits.map((c) => c.commit.message),
      commits: pull.commits,
      merged_at: edited.mergedAt ?? undefined,
      body_edited_at: edited.lastEditedAt ?? undefined,
      renamed: (edited.timelineItems.nodes ?? []).flatMap((n) =>
        n?.previousTitle !== undefined && n.currentTitle !== undefined
          ? [{ from: n.previousTitle, to: n.currentTitle }]
          : [],
      ),
      renames: edited.timelineItems.totalCount,
    };
  }

  async findComment(pr: number, marker: string, login: string): Promise<number | undefined> {
    const comments = await this.call("GET comments", () =>
      this.octokit.paginate(this.octokit.rest.issues.listComments, {
        owner: this.owner,
        repo: this.repo,
        issue_number: pr,
        per_page: 100,
      }),
    );
    return comments.find((c) => isAgentComment(c, marker, login))?.id;
  }

  async createComment(pr: number, body: string): Promise<CreatedComment> {
    const { data } = await this.call("POST comment", () =>
      this.octokit.rest.issues.createComment({ owner: this.owner, repo: this.repo, issue_number: pr, body }),
    );
    // The author of what the agent just wrote is the agent: how it learns its own login, which an App
    // installation token cannot ask GET /user for.
    return { id: data.id, login: data.user?.login };
  }

  async updateComment(id: number, body: string): Promise<void> {
    await this.call("PATCH comment", () =>
      this.octokit.rest.issues.updateComment({ owner: this.owner, repo: this.repo, comment_id: id, body }),
    );
  }

  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toGitHubError(what, error);
    }
  }
}

/**
 * The agent's own comment: written by the agent's own login (logins are case-insensitive) and starting with
 * the marker. Anyone can write the marker, and "a bot" is not enough: a model owner's workflow posts as
 * github-actions[bot], the same kind of identity as a GitHub App's. Taking such a comment for the agent's would
 * leave her report standing (the agent cannot edit another identity's comment) in place of the agent's.
 */
export const isAgentComment = (
  c: { readonly body?: string | undefined; readonly user: { readonly login?: string } | null },
  marker: string,
  login: string,
): boolean =>
  c.user?.login !== undefined &&
  c.user.login.toLowerCase() === login.toLowerCase() &&
  (c.body ?? "").startsWith(marker);

/** 5xx, 429, rate-limit 403s and network failures are transient; the rest (401, 404, 422, ...) terminal. */
export function toGitHubError(what: string, error: unknown): GitHubError {
  const e = error as {
    status?: number;
    message?: string;
    response?: { headers?: Record<string, string | undefined> };
  };
  // An aborted request (the agent's per-request timeout or its shutdown) had no answer: @octokit/request
  // labels it 500, which it is not.
  if ((error as { name?: unknown }).name === "AbortError")
    return new GitHubError(`GitHub ${what} failed: no answer within the request timeout`, {
      kind: "transient",
      cause: error,
    });
  const status = typeof e.status === "number" ? e.status : undefined;
  const headers = e.response?.headers ?? {};
  const message = (e.message ?? String(error)).split("\n")[0] ?? "";
  const rateLimited =
    status === 429 ||
    (status === 403 && (headers["x-ratelimit-remaining"] === "0" || /rate limit/i.test(message)));
  let retryAt: number | undefined;
  if (rateLimited) {
    const after = Number(headers["retry-after"]);
    const reset = Number(headers["x-ratelimit-reset"]);
    retryAt =
      Number.isFinite(after) && after > 0
        ? Date.now() + after * 1000
        : Number.isFinite(reset) && reset > 0
          ? reset * 1000
          : Date.now() + 60_000;
  }
  const transient = status === undefined || status >= 500 || status === 408 || rateLimited;
  const hint =
    (status === 401 || status === 403) && !rateLimited
      ? "; check the agent's GitHub token (--github-token-file) and its permissions (statuses: write, pull-requests: write)"
      : "";
  return new GitHubError(`GitHub ${what} failed${status ? ` (${status})` : ""}: ${message}${hint}`, {
    kind: transient ? "transient" : "terminal",
    cause: error,
    ...(status !== undefined ? { status } : {}),
    ...(retryAt !== undefined ? { retryAt } : {}),
  });
}
