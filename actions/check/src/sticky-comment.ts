import type { Octokit } from "octokit";
import { PLAN_MARKER } from "../../../generator/src";

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
  readonly user: { readonly type?: string } | null;
}

/**
 * The plan comment: written by a bot (the workflow token's github-actions[bot] or a GitHub App) and starting
 * with the marker. A person's comment that quotes the marker is never taken for it, so never overwritten.
 */
export const isPlanComment = (c: ListedComment): boolean =>
  c.user?.type === "Bot" && (c.body ?? "").startsWith(PLAN_MARKER);

async function findPlanComment(
  octokit: Octokit,
  target: Pick<StickyCommentTarget, "owner" | "repo" | "issue">,
) {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issue,
    per_page: 100,
  });
  return comments.find(isPlanComment);
}

/**
 * One plan comment per PR, found again by its marker and author and edited in place on every push, so the PR
 * never collects a comment per push. An unchanged body is not written again (each write notifies and
 * costs rate limit), and a run for a head the PR has left (a re-run of an older workflow run) writes
 * nothing. Errors propagate: the caller decides that a comment is never worth failing the check.
 */
export async function upsertStickyComment(
  octokit: Octokit,
  target: StickyCommentTarget,
): Promise<StickyResult> {
  const { owner, repo, issue } = target;
  const existing = await findPlanComment(octokit, target);
  if (existing?.body === target.body) return { action: "unchanged", id: existing.id, url: existing.html_url };
  if (!existing && !target.create) return { action: "skipped" };

  const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: issue });
  if (pull.head.sha !== target.headSha && pull.head.sha !== target.pushedHead)
    return { action: "superseded", head: pull.head.sha };

  if (existing) return update(octokit, target, existing.id);
  try {
    return await create(octokit, target);
  } catch (failure) {
    // A 5xx may come after GitHub created the comment: look before posting again, so it is never doubled.
    if (!isServerError(failure)) throw failure;
    const created = await findPlanComment(octokit, target);
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
