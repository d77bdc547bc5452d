/**
 * Workflow runs (GET /repos/{o}/{r}/actions/runs), a pull request's issue events (GET .../issues/{n}/events)
 * and the repository's activity log (GET .../activity, `activity`: newest first by default, paged by opaque
 * `before`/`after` cursors in the Link header, no `page`) for the GitHub REST API test server. Object shapes follow @octokit/openapi-types (`workflow-run`,
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
  validationFailed,
} from "./github-api-shapes";
import type { ActivityInput, IssueEventInput, WorkflowRunInput } from "./github-api-types";
import { pageParams, paginate } from "./github-api-validate";
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

export interface StoredActivity {
  repo: string;
  id: number;
  activity: ActivityInput & { timestamp: string };
}

const ACTIVITY_TYPES = [
  "push",
  "force_push",
  "branch_deletion",
  "branch_creation",
  "pr_merge",
  "merge_queue_merge",
];
const TIME_PERIODS = ["day", "week", "month", "quarter", "year"];

/** GitHub's cursors are opaque; these encode the id of the item the page ends or starts at. */
const cursorOf = (id: number) => Buffer.from(`cursor:${id}`).toString("base64url");
const idOfCursor = (cursor: string): number | undefined => {
  const m = /^cursor:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  return m ? Number(m[1]) : undefined;
};

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
          node_id: nodeId(event.rename ? "RenamedTitleEvent" : "ReopenedEvent", id),
          url: `${api}/issues/events/${id}`,
          actor: userObject(ctx.apiBase, event.actor, userIdFor(event.actor)),
          event: event.event,
          commit_id: null,
          commit_url: null,
          created_at: event.created_at,
          performed_via_github_app: null,
          ...(event.rename ? { rename: event.rename } : {}),
        }));
      const page = paginate(events, ctx.query, pageUrl(ctx));
      return { status: 200, body: page.items, headers: page.link ? { link: page.link } : {} };
    },
  },
  {
    method: "GET",
    pattern: /^\/activity$/,
    docs: DOCS.listActivities,
    query: ["direction", "per_page", "before", "after", "ref", "actor", "time_period", "activity_type"],
    handle(ctx, store) {
      if (ctx.identity.permissions.contents === "none") return denied(DOCS.listActivities);
      const q = ctx.query;
      const invalid = (field: string, value: string): Reply => ({
        status: 422,
        body: validationFailed(
          [{ resource: "Activity", field, code: "invalid", value }],
          DOCS.listActivities,
        ),
      });
      if (q.activity_type !== undefined && !ACTIVITY_TYPES.includes(q.activity_type))
        return invalid("activity_type", q.activity_type);
      if (q.time_period !== undefined && !TIME_PERIODS.includes(q.time_period))
        return invalid("time_period", q.time_period);
      if (q.direction !== undefined && q.direction !== "asc" && q.direction !== "desc")
        return invalid("direction", q.direction);
      if (q.before !== undefined && q.after !== undefined) return invalid("before", q.before);
      // `refs/heads/<branch>` or `<branch>`, as GitHub's description allows.
      const ref = q.ref === undefined ? undefined : q.ref.startsWith("refs/") ? q.ref : `refs/heads/${q.ref}`;
      const asc = q.direction === "asc";
      const all = store.activities
        .filter((a) => a.repo === ctx.repo.key || a.repo === "*")
        .filter((a) => ref === undefined || `refs/heads/${a.activity.ref}` === ref)
        .filter((a) => q.actor === undefined || a.activity.actor === q.actor)
        .filter(
          (a) => q.activity_type === undefined || (a.activity.activity_type ?? "push") === q.activity_type,
        )
        .sort((a, b) => (asc ? a.id - b.id : b.id - a.id));
      const { perPage } = pageParams(q);
      let start = 0;
      let end = all.length;
      const cursor = q.after ?? q.before;
      if (cursor !== undefined) {
        const id = idOfCursor(cursor);
        const at = all.findIndex((a) => a.id === id);
        if (id === undefined || at < 0) return invalid(q.after !== undefined ? "after" : "before", cursor);
        if (q.after !== undefined) start = at + 1;
        else end = at;
      }
      const items =
        q.before !== undefined
          ? all.slice(Math.max(0, end - perPage), end)
          : all.slice(start, start + perPage);
      const first = all.indexOf(items[0]!);
      const last = first + items.length - 1;
      const rels: string[] = [];
      const link = (key: "before" | "after", id: number) => {
        const params = new URLSearchParams({ ...q, per_page: String(perPage) });
        params.delete("before");
        params.delete("after");
        params.set(key, cursorOf(id));
        return `<${ctx.apiBase}${ctx.path}?${params.toString()}>`;
      };
      if (items.length > 0 && last < all.length - 1)
        rels.push(`${link("after", items.at(-1)!.id)}; rel="next"`);
      if (items.length > 0 && first > 0) rels.push(`${link("before", items[0]!.id)}; rel="prev"`);
      const body = items.map(({ id, activity }) => ({
        id,
        node_id: nodeId("RepositoryActivity", id),
        before: (activity.before ?? "0".repeat(40)).toLowerCase(),
        after: activity.after,
        ref: `refs/heads/${activity.ref}`,
        timestamp: activity.timestamp,
        activity_type: activity.activity_type ?? "push",
        actor:
          activity.actor === null ? null : userObject(ctx.apiBase, activity.actor, userIdFor(activity.actor)),
      }));
      return { status: 200, body, headers: rels.length > 0 ? { link: rels.join(", ") } : {} };
    },
  },
];
