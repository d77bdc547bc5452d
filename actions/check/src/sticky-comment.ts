import type { Octokit } from "octokit";
import { PLAN_MARKER } from "../../../generator/src";
import { rateLimitFailure } from "./api-failure";

export interface StickyCommentTarget {
  readonly owner: string;
  readonly repo: string;
  readonly issue: number;
  readonly body: string;
  /** False: only update an existing comment (a PR that changes no model gets no new comment). */
  readonly create: boolean;
  /** The PR head the body describes: nothing is written once the PR has moved on to another head. */
  readonly headSha: string;
  /** The render this run pushed on top of `headSha`: the PR may already have moved on to it. */
  readonly pushedHead?: string;
}

export type StickyResult =
  | { readonly action: "created" | "updated" | "unchanged"; readonly id: number; readonly url: string }
  | { readonly action: "skipped" }
  | { readonly action: "superseded"; readonly head: string };

interface ListedComment {
  readonly id: number;
  readonly html_url: string;
  readonly body?: string | undefined;
  readonly user: { readonly id?: number; readonly type?: string } | null;
}

/** GitHub did not say whose token github-token is, so its own comments cannot be told from a person's. */
export class TokenUserUnknownError extends Error {
  override readonly name = "TokenUserUnknownError";
  constructor(status: unknown, options: { cause: unknown }) {
    super(
      `GET /user failed (HTTP ${String(status)}), so the comments of github-token's user cannot be told from a person's`,
      options,
    );
  }
}

const hasMarker = (c: ListedComment): boolean => (c.body ?? "").startsWith(PLAN_MARKER);

/**
 * The id of github-token's user, asked once per run and only when needed. A personal access token (a machine
 * user's) comments as that user; GET /user names it. An installation token — the workflow's GITHUB_TOKEN, a
 * GitHub App's — comments as a Bot and has no user: GitHub answers 403 "Resource not accessible by
 * integration" (as quoted in actions/create-github-app-token#258), which means "no user", not a failure.
 * Any other failure is thrown: taking a PAT's own comment for a person's would post a second one.
 */
function tokenUser(octokit: Octokit): () => Promise<number | undefined> {
  let asked: Promise<number | undefined> | undefined;
  return () =>
    (asked ??= octokit.rest.users.getAuthenticated().then(
      ({ data }) => data.id,
      (failure: unknown) => {
        // A used-up rate limit is reported as one (run.ts commentFailure), not as an unknown user.
        if (rateLimitFailure(failure)) throw failure;
        const status = (failure as { status?: unknown }).status;
        if (status === 403) return undefined;
        throw new TokenUserUnknownError(status, { cause: failure });
      },
    ));
}

/**
 * The plan comment: starting with the marker and written by a bot (the workflow token's github-actions[bot]
 * or a GitHub App) or by github-token's own user (a personal access token, a machine user's). A person's
 * comment that quotes the marker is never taken for it, so never overwritten. GET /user is asked only when no
 * bot wrote one and a User's comment starts with the marker (a PAT's own comment, or a quote).
 */
async function findPlanComment(
  octokit: Octokit,
  target: Pick<StickyCommentTarget, "owner" | "repo" | "issue">,
  self: () => Promise<number | undefined>,
): Promise<ListedComment | undefined> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issue,
    per_page: 100,
  });
  const marked = comments.filter(hasMarker);
  const byBot = marked.find((c) => c.user?.type === "Bot");
  if (byBot || marked.length === 0) return byBot;
  const id = await self();
  return id === undefined ? undefined : marked.find((c) => c.user?.id === id);
}

/**
 * One plan comment per PR, found again by its marker and author (findPlanComment) and edited in place on
 * every push, so the PR never collects a comment per push. An unchanged body is not written again (each write notifies and
 * costs rate limit), and a run for a head the PR has left (a re-run of an older workflow run) writes
 * nothing. Errors propagate: the caller decides that a comment is never worth failing the check.
 */
export async function upsertStickyComment(
  octokit: Octokit,
  target: StickyCommentTarget,
): Promise<StickyResult> {
  const { owner, repo, issue } = target;
  const self = tokenUser(octokit);
  const existing = await findPlanComment(octokit, target, self);
  if (existing?.body === target.body) return { action: "unchanged", id: existing.id, url: existing.html_url };
  if (!existing && !target.create) return { action: "skipped" };

  const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: issue });
  if (pull.head.sha !== target.headSha && pull.head.sha !== target.pushedHead)
    return { action: "superseded", head: pull.head.sha };

  if (existing) {
    try {
      return await update(octokit, target, existing.id);
    } catch (failure) {
      // A person deleted it after it was listed: post it anew, as the next run would.
      if ((failure as { status?: unknown }).status !== 404) throw failure;
      if (!target.create) return { action: "skipped" };
    }
  }
  try {
    return await create(octokit, target);
  } catch (failure) {
    // A 5xx may come after GitHub created the comment: look before posting again, so it is never doubled.
    if (!isServerError(failure)) throw failure;
    const created = await findPlanComment(octokit, target, self);
    if (created?.body === target.body) return { action: "created", id: created.id, url: created.html_url };
    if (created) return update(octokit, target, created.id);
    return create(octokit, target);
  }
}

async function update(octokit: Octokit, target: StickyCommentTarget, id: number): Promise<StickyResult> {
  const { owner, repo } = target;
  const { data } = await octokit.rest.issues.updateComment({
    owner,
    repo,
    comment_id: id,
    body: target.body,
  });
  return { action: "updated", id: data.id, url: data.html_url };
}

async function create(octokit: Octokit, target: StickyCommentTarget): Promise<StickyResult> {
  const { data } = await octokit.rest.issues.createComment({
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issue,
    body: target.body,
    // plugin-retry would repeat a POST that failed with a 5xx, which GitHub may have carried out already.
    request: { retries: 0 },
  });
  return { action: "created", id: data.id, url: data.html_url };
}

const isServerError = (failure: unknown): boolean => {
  const status = (failure as { status?: unknown }).status;
  return typeof status === "number" && status >= 500;
};
