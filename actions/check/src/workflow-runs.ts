import type { Octokit } from "octokit";
import { readFailure } from "./api-failure";
import { earliestRun, pusherOfRun, type RunPusher } from "./push-runs";

export interface RunTarget {
  readonly owner: string;
  readonly repo: string;
  /** The pull request's number: its reopen events are read. */
  readonly issue: number;
  readonly headSha: string;
  /** GITHUB_RUN_ID: the current run, found in the list to know the workflow and what came before. */
  readonly runId: number;
}

/**
 * Who pushed the head, from the runs of this workflow for it (push-runs.ts), and the PR's reopen events
 * that could make its earliest run something other than a push's. Two reads (paginated), no writes; a
 * failure becomes the reason the check fails closed, naming the missing permission (`actions: read` for
 * the runs, `issues: read` for the events). Retries of 5xx and rate limits are the client's (github-client).
 */
export async function readRunPusher(octokit: Octokit, target: RunTarget): Promise<RunPusher> {
  const { owner, repo } = target;
  let runs;
  try {
    runs = await octokit.paginate(octokit.rest.actions.listWorkflowRunsForRepo, {
      owner,
      repo,
      head_sha: target.headSha,
      event: "pull_request",
      // Never used: GitHub's list is a guess at the PRs (push-runs.ts), and empty for forks.
      exclude_pull_requests: true,
      per_page: 100,
    });
  } catch (failure) {
    return { why: readFailure(failure, "the workflow runs", "actions: read") };
  }
  const found = earliestRun(runs, target);
  if ("why" in found) return found;
  let events;
  try {
    events = await octokit.paginate(octokit.rest.issues.listEvents, {
      owner,
      repo,
      issue_number: target.issue,
      per_page: 100,
    });
  } catch (failure) {
    return { why: readFailure(failure, "the pull request's events", "issues: read") };
  }
  const reopened = events.filter((e) => e.event === "reopened").map((e) => e.created_at);
  return pusherOfRun(found.run, reopened);
}
