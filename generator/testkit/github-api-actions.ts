/**
 * Workflow runs (GET /repos/{o}/{r}/actions/runs) and a pull request's issue events (GET .../issues/{n}/events)
 * for the GitHub REST API test server. Object shapes follow @octokit/openapi-types (`workflow-run`,
 * `state-change-issue-event`); the list of runs is wrapped as GitHub wraps it ({ total_count, workflow_runs }),
 * newest first. A token whose identity denies `actions` or `issues` gets GitHub's 403 "Resource not accessible
 * by integration", as a GITHUB_TOKEN without `actions: read` / `issues: read` does.
 */
import {
  DOCS,
  HTML_BASE,
  MESSAGES,
  errorBody,
  isoSeconds,
  nodeId,
  repositoryObject,
  userIdFor,
  userObject,
} from "./github-api-shapes";
import type { IssueEventInput, WorkflowRunInput } from "./github-api-types";
import { paginate } from "./github-api-validate";
import type { Reply, Route, RouteContext } from "./github-api-routes";

/** The workflow id a run gets unless the test names one: "serving-specs.yml" in these tests. */
export const DEFAULT_WORKFLOW_ID = 161_335;

export interface StoredRun {
  repo: string;
  run: WorkflowRunInput;
}

export interface StoredIssueEvent {
  repo: string;
  issue: number;
  id: number;
  event: IssueEventInput;
}

const denied = (docs: string): Reply => ({ status: 403, body: errorBody(403, MESSAGES.notAccessible, docs) });

function pageUrl(ctx: RouteContext) {
  return (page: number, perPage: number) => {
    const params = new URLSearchParams({ ...ctx.query, per_page: String(perPage), page: String(page) });
    return `${ctx.apiBase}${ctx.path}?${params.toString()}`;
  };
}

function runObject(
  stored: WorkflowRunInput,
  ctx: RouteContext,
  now: number,
  withPulls: boolean,
): Record<string, unknown> {
  const { owner, name } = ctx.repo;
  const api = `${ctx.apiBase}/repos/${owner}/${name}`;
  const url = `${api}/actions/runs/${stored.id}`;
  const created = stored.created_at ?? isoSeconds(now);
  const user = (login: string) => userObject(ctx.apiBase, login, userIdFor(login));
  const workflowId = stored.workflow_id ?? DEFAULT_WORKFLOW_ID;
  const attempt = stored.run_attempt ?? 1;
  return {
    id: stored.id,
    name: "serving-specs",
    node_id: nodeId("WorkflowRun", stored.id),
    check_suite_id: 90_000_000 + stored.id,
    check_suite_node_id: nodeId("CheckSuite", 90_000_000 + stored.id),
    head_branch: stored.head_branch ?? "feature",
    head_sha: stored.head_sha,
    path: stored.path ?? ".github/workflows/serving-specs.yml",
    display_title: `PR run ${stored.run_number}`,
    run_number: stored.run_number,
    run_attempt: attempt,
    referenced_workflows: [],
    event: stored.event ?? "pull_request",
    status: stored.status ?? "completed",
    conclusion: stored.conclusion === undefined ? "success" : stored.conclusion,
    workflow_id: workflowId,
    url,
    html_url: `${HTML_BASE}/${owner}/${name}/actions/runs/${stored.id}`,
    pull_requests: withPulls
      ? (stored.pull_requests ?? []).map((n) => ({
          id: 500_000_000 + n,
          number: n,
          url: `${api}/pulls/${n}`,
          head: {
            ref: stored.head_branch ?? "feature",
            sha: stored.head_sha,
            repo: { id: 1, url: api, name },
          },
          base: { ref: "main", sha: "0".repeat(40), repo: { id: 1, url: api, name } },
        }))
      : [],
    created_at: created,
    updated_at: created,
    actor: user(stored.actor),
    triggering_actor: user(stored.triggering_actor ?? stored.actor),
    run_started_at: created,
    jobs_url: `${url}/jobs`,
    logs_url: `${url}/logs`,
    check_suite_url: `${api}/check-suites/${90_000_000 + stored.id}`,
    artifacts_url: `${url}/artifacts`,
    cancel_url: `${url}/cancel`,
    rerun_url: `${url}/rerun`,
    previous_attempt_url: attempt > 1 ? `${url}/attempts/${attempt - 1}` : null,
    workflow_url: `${api}/actions/workflows/${workflowId}`,
    head_commit: null,
    repository: repositoryObject(ctx.apiBase, owner, name),
    head_repository: repositoryObject(ctx.apiBase, owner, name),
  };
}

/** The query filters GitHub documents for the list; those a test never needs are refused as unexpected. */
const RUN_FILTERS = ["head_sha", "event", "actor", "exclude_pull_requests"] as const;

export const ACTIONS_ROUTES: readonly Route[] = [
  {
    method: "GET",
    pattern: /^\/actions\/runs$/,
    docs: DOCS.listWorkflowRuns,
    query: [...RUN_FILTERS, "per_page", "page"],
    handle(ctx, store) {
      if (ctx.identity.permissions.actions === "none") return denied(DOCS.listWorkflowRuns);
      const q = ctx.query;
      const runs = store.workflowRuns
        .filter((r) => r.repo === ctx.repo.key || r.repo === "*")
        .map((r) => r.run)
        .filter((r) => q.head_sha === undefined || r.head_sha === q.head_sha.toLowerCase())
        .filter((r) => q.event === undefined || (r.event ?? "pull_request") === q.event)
        .filter((r) => q.actor === undefined || r.actor === q.actor)
        // Newest first, as GitHub lists them.
        .sort((a, b) => b.id - a.id);
      const page = paginate(runs, q, pageUrl(ctx));
      const withPulls = q.exclude_pull_requests !== "true";
      return {
        status: 200,
        body: {
          total_count: runs.length,
          workflow_runs: page.items.map((r) => runObject(r, ctx, store.now(), withPulls)),
        },
        headers: page.link ? { link: page.link } : {},
      };
    },
  },
  {
    method: "GET",
    pattern: /^\/issues\/(\d+)\/events$/,
    docs: DOCS.listIssueEvents,
    query: ["per_page", "page"],
    handle(ctx, store) {
      if (ctx.identity.permissions.issues === "none") return denied(DOCS.listIssueEvents);
      const issue = Number(ctx.params[0]);
      const api = `${ctx.apiBase}/repos/${ctx.repo.owner}/${ctx.repo.name}`;
      const events = store.issueEvents
        .filter((e) => (e.repo === ctx.repo.key || e.repo === "*") && e.issue === issue)
        .map(({ id, event }) => ({
          id,
          node_id: nodeId("ReopenedEvent", id),
          url: `${api}/issues/events/${id}`,
          actor: userObject(ctx.apiBase, event.actor, userIdFor(event.actor)),
          event: event.event,
          commit_id: null,
          commit_url: null,
          created_at: event.created_at,
          performed_via_github_app: null,
        }));
      const page = paginate(events, ctx.query, pageUrl(ctx));
      return { status: 200, body: page.items, headers: page.link ? { link: page.link } : {} };
    },
  },
];
