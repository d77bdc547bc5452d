import type { Octokit } from "octokit";
import { readFailure } from "./api-failure";
import { earliestRun, earliestRunOf, pusherOfRun, type RunPusher, type WorkflowRun } from "./push-runs";

export interface RunTarget {
  readonly owner: string;
  readonly repo: string;
  /** The pull request's number: its reopen events are read. */
  readonly issue: number;
  readonly headSha: string;
  /** GITHUB_RUN_ID: the current run, found in the list to know the workflow and what came before. */
  readonly runId: number;
}

type Client = Octokit;

/** The runs of this repository's `pull_request` workflows for one commit, or why they cannot be read. */
async function listRuns(octokit: Client, target: RunTarget, sha: string) {
  try {
    return await octokit.paginate(octokit.rest.actions.listWorkflowRunsForRepo, {
      owner: target.owner,
      repo: target.repo,
      head_sha: sha,
      event: "pull_request",
      // Never used: GitHub's list is a guess at the PRs (push-runs.ts), and empty for forks.
      exclude_pull_requests: true,
      per_page: 100,
    });
  } catch (failure) {
    return { why: readFailure(failure, "the workflow runs", "actions: read") };
  }
}

/** The pusher `run` names, unless a reopening of the PR may have started it (push-runs.ts pusherOfRun). */
async function pusherUnlessReopened(
  octokit: Client,
  target: RunTarget,
  run: WorkflowRun,
): Promise<RunPusher> {
  let events;
  try {
    events = await octokit.paginate(octokit.rest.issues.listEvents, {
      owner: target.owner,
      repo: target.repo,
      issue_number: target.issue,
      per_page: 100,
    });
  } catch (failure) {
    return { why: readFailure(failure, "the pull request's events", "issues: read") };
  }
  const reopened = events.filter((e) => e.event === "reopened").map((e) => e.created_at);
  return pusherOfRun(run, reopened);
}

/**
 * Who pushed the head, from the runs of this workflow for it (push-runs.ts), and the PR's reopen events
 * that could make its earliest run something other than a push's. Two reads (paginated), no writes; a
 * failure becomes the reason the check fails closed, naming the missing permission (`actions: read` for
 * the runs, `issues: read` for the events). Retries of 5xx and rate limits are the client's (github-client).
 */
export async function readRunPusher(octokit: Octokit, target: RunTarget): Promise<RunPusher> {
  const runs = await listRuns(octokit, target, target.headSha);
  if ("why" in runs) return runs;
  const found = earliestRun(runs, target);
  if ("why" in found) return found;
  return pusherUnlessReopened(octokit, target, found.run);
}

/**
 * For a bot's push of a commit that only re-renders fragments on top of `parent` (the check's own
 * `commit-rendered` push): who pushed `parent`, read as for any head from the earliest run of this workflow
 * for it — the run that pushed the render is one of them. This run (for the render commit) is found among
 * its own head's runs to know the workflow. Three reads, no writes.
 */
export async function readRenderPusher(
  octokit: Octokit,
  target: RunTarget & { readonly parent: string },
): Promise<RunPusher> {
  const own = await listRuns(octokit, target, target.headSha);
  if ("why" in own) return own;
  const self = own.find((r) => r.id === target.runId);
  if (!self)
    return {
      why: `this run (id ${target.runId}) is not among the workflow runs GitHub lists for ${target.headSha.slice(0, 7)}`,
    };
  const runs = await listRuns(octokit, target, target.parent);
  if ("why" in runs) return runs;
  const earliest = earliestRunOf(runs, self.workflow_id, target.parent);
  if (!earliest)
    return {
      why: `no pull_request run of the check is listed for the rendered commit ${target.parent.slice(0, 7)}, so none shows who pushed it`,
    };
  return pusherUnlessReopened(octokit, target, earliest);
}
