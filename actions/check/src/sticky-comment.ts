import type { Octokit } from "octokit";
import { PLAN_MARKER } from "../../../generator/src";

export interface StickyCommentTarget {
  readonly owner: string;
  readonly repo: string;
  readonly issue: number;
  readonly body: string;
  /** False: only update an existing comment (a PR that changes no model gets no new comment). */
  readonly create: boolean;
}

export type StickyResult =
  | { readonly action: "created" | "updated" | "unchanged"; readonly id: number; readonly url: string }
  | { readonly action: "skipped" };

/**
 * One plan comment per PR, found again by its hidden marker and edited in place on every push, so the PR
 * never collects a comment per push. An unchanged body is not written again (each write notifies and
 * costs rate limit). Errors propagate: the caller decides that a comment is never worth failing the check.
 */
export async function upsertStickyComment(
  octokit: Octokit,
  target: StickyCommentTarget,
): Promise<StickyResult> {
  const { owner, repo, issue } = target;
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner,
    repo,
    issue_number: issue,
    per_page: 100,
  });
  const existing = comments.find((c) => c.body?.includes(PLAN_MARKER));
  if (existing) {
    if (existing.body === target.body)
      return { action: "unchanged", id: existing.id, url: existing.html_url };
    const { data } = await octokit.rest.issues.updateComment({
      owner,
      repo,
      comment_id: existing.id,
      body: target.body,
    });
    return { action: "updated", id: data.id, url: data.html_url };
  }
  if (!target.create) return { action: "skipped" };
  const { data } = await octokit.rest.issues.createComment({
    owner,
    repo,
    issue_number: issue,
    body: target.body,
  });
  return { action: "created", id: data.id, url: data.html_url };
}
