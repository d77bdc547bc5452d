/**
 * Who pushed a pull request's head, read from GitHub's workflow runs on a run whose event does not name the
 * pusher (pusher.ts). GitHub records the runs and no one can write them: deleting the push's run leaves the
 * current run as the earliest, which fails closed. Pure: workflow-runs.ts fetches.
 *
 * Facts this relies on (GitHub's OpenAPI description, @octokit/openapi-types `workflow-run`; pinned in
 * push-runs.test.ts): a run's `actor` is who triggered the run's first attempt and stays so on a re-run,
 * whose person is `triggering_actor`; `run_number` counts up per workflow; `pull_requests` lists open PRs
 * whose head matches the run "not necessarily" the one that triggered it, and is empty for fork PRs.
 */

/** The fields of a run (GET /repos/{o}/{r}/actions/runs) the pusher is read from. */
export interface WorkflowRun {
  readonly id: number;
  readonly run_number: number;
  readonly workflow_id: number;
  readonly event: string;
  readonly head_sha: string;
  readonly created_at: string;
  readonly actor?: { readonly login: string } | null | undefined;
}

export type RunPusher =
  | { readonly pusher: string; readonly from: string }
  /** Why the runs do not tell: the check then fails closed. */
  | { readonly why: string };

/**
 * The run of the push: the earliest run of this very workflow (the current run's `workflow_id`, so a
 * second workflow a PR adds cannot stand in) for this head, started by a `pull_request` event. The head
 * first gets a run when it is pushed (`synchronize`) or the PR is opened on it; every later run for it
 * (`edited`, `reopened`, a re-run) comes after. Runs of other PRs with the same commit count too: GitHub
 * does not say which PR a run is for (`pull_requests` is a guess, and empty for forks), and the earliest
 * run is whoever first brought that exact commit to a PR here. The current run must be listed and not be
 * that earliest run: otherwise there is no earlier run to learn from.
 */
export function earliestRun(
  runs: readonly WorkflowRun[],
  current: { readonly runId: number; readonly headSha: string },
): { readonly run: WorkflowRun } | { readonly why: string } {
  const head = current.headSha.slice(0, 7);
  const self = runs.find((r) => r.id === current.runId);
  if (!self)
    return {
      why: `this run (id ${current.runId}) is not among the workflow runs GitHub lists for ${head}, so the earlier ones cannot be told apart from later ones`,
    };
  const earliest = earliestRunOf(runs, self.workflow_id, current.headSha);
  if (!earliest)
    return {
      why: `no pull_request run of the check is listed for ${head}, so none shows who pushed it`,
    };
  if (earliest.id === self.id)
    return {
      why: `this is the first run of the check for ${head}, so no earlier run shows who pushed it`,
    };
  return { run: earliest };
}

/** The earliest `pull_request` run of workflow `workflowId` for `headSha`, if any. */
export function earliestRunOf(
  runs: readonly WorkflowRun[],
  workflowId: number,
  headSha: string,
): WorkflowRun | undefined {
  return runs
    .filter(
      (r) =>
        r.workflow_id === workflowId &&
        r.event === "pull_request" &&
        r.head_sha.toLowerCase() === headSha.toLowerCase(),
    )
    .sort((a, b) => a.run_number - b.run_number || a.id - b.id)[0];
}

/**
 * The pusher the earliest run names, unless the PR was reopened before that run started: a commit pushed
 * while the PR was closed gets no `synchronize` run, so its first run is the reopening's, whose actor is
 * whoever reopened. GitHub stamps the reopen event before the run it starts, so a reopen at or before the
 * run's creation may be its cause. A run without an actor names no one.
 */
export function pusherOfRun(run: WorkflowRun, reopenedAt: readonly string[]): RunPusher {
  const label = `run #${run.run_number} (id ${run.id})`;
  const login = run.actor?.login;
  if (!login) return { why: `the earliest run of the check for the head, ${label}, names no actor` };
  const started = Date.parse(run.created_at);
  const reopen = reopenedAt.find((at) => !(Date.parse(at) > started));
  if (Number.isNaN(started) || reopen !== undefined)
    return {
      why: `the pull request was reopened (${reopen ?? "at an unknown time"}) before the earliest run of the check for the head, ${label} by @${login}, started: that run may be the reopening's, which names who reopened, not who pushed`,
    };
  return { pusher: login, from: `the workflow run of the push, ${label}, started by @${login}` };
}
