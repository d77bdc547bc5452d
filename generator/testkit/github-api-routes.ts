/**
 * Routes and in-memory data of the GitHub REST API test server: commit statuses, combined status,
 * pull requests of a commit, issue comments, one pull request and its commits, and the token's own user
 * (GET /user). Everything else is an unknown route.
 */
import {
  COMMENT_BODY_MAX_BYTES,
  COMMENT_BODY_MAX_CHARS,
  DOCS,
  HTML_BASE,
  MESSAGES,
  STATUS_DESCRIPTION_MAX,
  STATUSES_PER_SHA_AND_CONTEXT,
  codePointLength,
  errorBody,
  hasFourByteCharacter,
  isoSeconds,
  nodeId,
  privateUserObject,
  repositoryObject,
  userIdFor,
  userObject,
  validationFailed,
} from "./github-api-shapes";
import type {
  CombinedStatus,
  CommitState,
  CommitStatus,
  IssueComment,
  PullCommitInput,
  PullRequestInput,
  UnexpectedKind,
} from "./github-api-types";
import type { StoredActivity, StoredIssueEvent, StoredRun } from "./github-api-actions";
import type { PullEdits } from "./github-api-graphql";
import { COMMENT_BODY, CREATE_STATUS_BODY, paginate, type BodySpec } from "./github-api-validate";

export interface Identity {
  login: string;
  id: number;
  readOnly: boolean;
  permissions: { actions: "read" | "none"; issues: "read" | "none"; contents: "read" | "none" };
  kind: "user" | "installation";
}

export interface RepoRef {
  owner: string;
  name: string;
  /** "owner/name" lower-cased. */
  key: string;
}

export interface RouteContext {
  params: string[];
  query: Record<string, string>;
  body: Record<string, unknown>;
  identity: Identity;
  repo: RepoRef;
  /** The server's URL (API base). */
  apiBase: string;
  path: string;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Recorded in server.unexpected as well. */
  unexpected?: { kind: UnexpectedKind; message: string };
}

export interface Route {
  method: "GET" | "POST" | "PATCH";
  /** Matched against the path after /repos/{owner}/{repo}; groups are URL-decoded params. */
  pattern: RegExp;
  docs: string;
  query: readonly string[];
  body?: BodySpec;
  handle(ctx: RouteContext, store: Store): Reply;
}

interface StoredStatus {
  repo: string;
  sha: string;
  contextKey: string;
  status: CommitStatus;
}

interface StoredComment {
  repo: string;
  issue: number;
  comment: IssueComment;
}

const SHA = /^[0-9a-f]{40}$/i;

export class Store {
  readonly statusList: StoredStatus[] = [];
  readonly commentList: StoredComment[] = [];
  /** repo key or "*" -> number -> pull */
  readonly pulls = new Map<string, Map<number, PullRequestInput>>();
  /** `${repo key or "*"}@${sha}` -> pull numbers */
  readonly commitPulls = new Map<string, number[]>();
  /** `${repo key or "*"}#${number}` -> the pull request's commits, oldest first */
  readonly pullCommits = new Map<string, PullCommitInput[]>();
  /** repo key or "*" -> ref -> sha */
  readonly refs = new Map<string, Map<string, string>>();
  readonly workflowRuns: StoredRun[] = [];
  readonly issueEvents: StoredIssueEvent[] = [];
  readonly activities: StoredActivity[] = [];
  /** `${repo key or "*"}#${number}` -> what editPull() changed (GraphQL lastEditedAt, title changes) */
  readonly pullEdits = new Map<string, PullEdits>();
  private nextStatusId = 1000;
  private nextCommentId = 1_000_000;

  constructor(
    readonly now: () => number,
    readonly commentBodyLimit: "documented" | "enforced",
  ) {}

  resolveRef(repo: string, ref: string): string | undefined {
    if (SHA.test(ref)) return ref.toLowerCase();
    return this.refs.get(repo)?.get(ref) ?? this.refs.get("*")?.get(ref);
  }

  pull(repo: string, n: number): PullRequestInput | undefined {
    return this.pulls.get(repo)?.get(n) ?? this.pulls.get("*")?.get(n);
  }

  addStatus(repo: RepoRef, sha: string, identity: Identity, body: Record<string, unknown>, apiBase: string) {
    const context = typeof body.context === "string" ? body.context : "default";
    const at = isoSeconds(this.now());
    const id = this.nextStatusId++;
    const status: CommitStatus = {
      url: `${apiBase}/repos/${repo.owner}/${repo.name}/statuses/${sha}`,
      avatar_url: `https://avatars.githubusercontent.com/u/${identity.id}?v=4`,
      id,
      node_id: nodeId("StatusContext", id),
      state: body.state as CommitState,
      description: (body.description as string | null | undefined) ?? null,
      target_url: (body.target_url as string | null | undefined) ?? null,
      context,
      created_at: at,
      updated_at: at,
      creator: userObject(apiBase, identity.login, identity.id),
    };
    this.statusList.push({ repo: repo.key, sha, contextKey: context.toLowerCase(), status });
    return status;
  }

  addComment(repo: RepoRef, issue: number, login: string, userId: number, body: string, apiBase: string) {
    const id = this.nextCommentId++;
    const at = isoSeconds(this.now());
    const kind = this.pull(repo.key, issue) ? "pull" : "issues";
    const comment: IssueComment = {
      url: `${apiBase}/repos/${repo.owner}/${repo.name}/issues/comments/${id}`,
      html_url: `${HTML_BASE}/${repo.owner}/${repo.name}/${kind}/${issue}#issuecomment-${id}`,
      issue_url: `${apiBase}/repos/${repo.owner}/${repo.name}/issues/${issue}`,
      id,
      node_id: nodeId("IssueComment", id),
      user: userObject(apiBase, login, userId),
      created_at: at,
      updated_at: at,
      author_association: "NONE",
      body,
    };
    this.commentList.push({ repo: repo.key, issue, comment });
    return comment;
  }

  commentTooLong(body: string): boolean {
    return this.commentBodyLimit === "enforced"
      ? Buffer.byteLength(body, "utf8") > COMMENT_BODY_MAX_BYTES
      : codePointLength(body) > COMMENT_BODY_MAX_CHARS;
  }
}

function noCommit(ref: string, docs: string): Reply {
  return {
    status: 422,
    body: errorBody(422, `No commit found for SHA: ${ref}`, docs),
    unexpected: {
      kind: "unknown-ref",
      message: `"${ref}" is neither a 40-hex SHA nor a ref set with setRef()`,
    },
  };
}

function pageUrlFor(ctx: RouteContext) {
  return (page: number, perPage: number) => {
    const params = new URLSearchParams({ ...ctx.query, per_page: String(perPage), page: String(page) });
    return `${ctx.apiBase}${ctx.path}?${params.toString()}`;
  };
}

function listReply<T>(items: readonly T[], ctx: RouteContext): Reply {
  const page = paginate(items, ctx.query, pageUrlFor(ctx));
  return { status: 200, body: page.items, headers: page.link ? { link: page.link } : {} };
}

/**
 * A pull request as GET .../pulls/{n} shows it, or (`simple`) as lists show it: GitHub's pull-request-simple
 * schema has no `merged_by` or `merged` (only the single pull request carries who merged it), so a client
 * that reads them from a list gets nothing here either.
 */
function pullObject(
  pull: PullRequestInput,
  repo: RepoRef,
  apiBase: string,
  simple = false,
): Record<string, unknown> {
  const id = 500_000_000 + pull.number;
  const login = pull.user?.login ?? "octocat";
  const mergedBy = pull.merged_by as { login: string } | null | undefined;
  const { merged_by: _mergedBy, merged: _merged, ...rest } = pull;
  const single = simple
    ? {}
    : {
        merged: pull.merged ?? (typeof pull.merged_at === "string" && pull.merged_at !== ""),
        merged_by: mergedBy ? userObject(apiBase, mergedBy.login, userIdFor(mergedBy.login)) : null,
      };
  const headRepo =
    pull.head.repo === undefined ? { full_name: `${repo.owner}/${repo.name}` } : pull.head.repo;
  return {
    url: `${apiBase}/repos/${repo.owner}/${repo.name}/pulls/${pull.number}`,
    id,
    node_id: nodeId("PullRequest", id),
    html_url: `${HTML_BASE}/${repo.owner}/${repo.name}/pull/${pull.number}`,
    state: "open",
    title: `PR #${pull.number}`,
    // GitHub sends the description as null when there is none.
    body: null,
    draft: false,
    merged_at: null,
    ...rest,
    ...single,
    user: userObject(apiBase, login, 20_000_000 + pull.number),
    head: {
      label: `${headRepo?.full_name.split("/")[0] ?? "unknown"}:${pull.head.ref}`,
      ...pull.head,
      repo: headRepo,
    },
    base: {
      label: `${repo.owner}:${pull.base.ref}`,
      repo: { full_name: `${repo.owner}/${repo.name}` },
      ...pull.base,
    },
  };
}

function latestPerContext(statuses: readonly StoredStatus[]): StoredStatus[] {
  const latest = new Map<string, StoredStatus>();
  for (const s of statuses) latest.set(s.contextKey, s); // statuses are in creation order
  return [...latest.values()].sort((a, b) => a.status.id - b.status.id);
}

function combinedState(latest: readonly StoredStatus[]): CombinedStatus["state"] {
  const states = latest.map((s) => s.status.state);
  if (states.some((s) => s === "error" || s === "failure")) return "failure";
  if (states.length === 0 || states.includes("pending")) return "pending";
  return "success";
}

export const ROUTES: readonly Route[] = [
  {
    method: "POST",
    pattern: /^\/statuses\/([^/]+)$/,
    docs: DOCS.createStatus,
    query: [],
    body: CREATE_STATUS_BODY,
    handle(ctx, store) {
      const ref = ctx.params[0] ?? "";
      if (!SHA.test(ref)) return noCommit(ref, DOCS.createStatus);
      const sha = ref.toLowerCase();
      const errors: Record<string, string>[] = [];
      const description = ctx.body.description;
      if (typeof description === "string") {
        if (codePointLength(description) > STATUS_DESCRIPTION_MAX) {
          errors.push({
            resource: "Status",
            code: "custom",
            field: "description",
            message: MESSAGES.descriptionTooLong,
          });
        }
        if (hasFourByteCharacter(description)) {
          errors.push({
            resource: "Status",
            code: "custom",
            field: "description",
            message: MESSAGES.descriptionFourByte,
          });
        }
      }
      const contextKey = (typeof ctx.body.context === "string" ? ctx.body.context : "default").toLowerCase();
      const sameContext = store.statusList.filter(
        (s) => s.repo === ctx.repo.key && s.sha === sha && s.contextKey === contextKey,
      ).length;
      if (sameContext >= STATUSES_PER_SHA_AND_CONTEXT) {
        errors.push({ resource: "Status", code: "custom", message: MESSAGES.tooManyStatuses });
      }
      if (errors.length > 0) return { status: 422, body: validationFailed(errors, DOCS.createStatus) };
      const status = store.addStatus(ctx.repo, sha, ctx.identity, ctx.body, ctx.apiBase);
      return { status: 201, body: status, headers: { location: status.url } };
    },
  },
  {
    method: "GET",
    pattern: /^\/commits\/([^/]+)\/status$/,
    docs: DOCS.combinedStatus,
    query: ["per_page", "page"],
    handle(ctx, store) {
      const ref = ctx.params[0] ?? "";
      const sha = store.resolveRef(ctx.repo.key, ref);
      if (!sha) return noCommit(ref, DOCS.combinedStatus);
      const latest = latestPerContext(
        store.statusList.filter((s) => s.repo === ctx.repo.key && s.sha === sha),
      );
      const page = paginate(latest, ctx.query, pageUrlFor(ctx));
      const commitUrl = `${ctx.apiBase}/repos/${ctx.repo.owner}/${ctx.repo.name}/commits/${sha}`;
      const body: CombinedStatus = {
        state: combinedState(latest),
        statuses: page.items.map(({ status }) => {
          const { creator: _creator, ...simple } = status;
          return simple;
        }),
        sha,
        total_count: latest.length,
        repository: repositoryObject(ctx.apiBase, ctx.repo.owner, ctx.repo.name),
        commit_url: commitUrl,
        url: `${commitUrl}/status`,
      };
      return { status: 200, body, headers: page.link ? { link: page.link } : {} };
    },
  },
  {
    method: "GET",
    pattern: /^\/commits\/([^/]+)\/statuses$/,
    docs: DOCS.listStatuses,
    query: ["per_page", "page"],
    handle(ctx, store) {
      const ref = ctx.params[0] ?? "";
      const sha = store.resolveRef(ctx.repo.key, ref);
      if (!sha) return noCommit(ref, DOCS.listStatuses);
      const newestFirst = store.statusList
        .filter((s) => s.repo === ctx.repo.key && s.sha === sha)
        .map((s) => s.status)
        .reverse();
      return listReply(newestFirst, ctx);
    },
  },
  {
    method: "GET",
    pattern: /^\/commits\/([^/]+)\/pulls$/,
    docs: DOCS.commitPulls,
    query: ["per_page", "page"],
    handle(ctx, store) {
      const ref = ctx.params[0] ?? "";
      const sha = store.resolveRef(ctx.repo.key, ref);
      if (!sha) return noCommit(ref, DOCS.commitPulls);
      const numbers =
        store.commitPulls.get(`${ctx.repo.key}@${sha}`) ?? store.commitPulls.get(`*@${sha}`) ?? [];
      const pulls = numbers.flatMap((n) => {
        const pull = store.pull(ctx.repo.key, n);
        return pull ? [pullObject(pull, ctx.repo, ctx.apiBase, true)] : [];
      });
      return listReply(pulls, ctx);
    },
  },
  {
    method: "GET",
    pattern: /^\/issues\/(\d+)\/comments$/,
    docs: DOCS.listComments,
    query: ["per_page", "page", "since"],
    handle(ctx, store) {
      const issue = Number(ctx.params[0]);
      const since = ctx.query.since ? Date.parse(ctx.query.since) : Number.NaN;
      const comments = store.commentList
        .filter((c) => c.repo === ctx.repo.key && c.issue === issue)
        .map((c) => c.comment)
        .filter((c) => Number.isNaN(since) || Date.parse(c.updated_at) >= since);
      return listReply(comments, ctx);
    },
  },
  {
    method: "POST",
    pattern: /^\/issues\/(\d+)\/comments$/,
    docs: DOCS.createComment,
    query: [],
    body: COMMENT_BODY,
    handle(ctx, store) {
      const body = ctx.body.body as string;
      const problem = commentBodyProblem(body, store);
      if (problem) return { status: 422, body: validationFailed([problem], DOCS.createComment) };
      const { login, id } = ctx.identity;
      const comment = store.addComment(ctx.repo, Number(ctx.params[0]), login, id, body, ctx.apiBase);
      return { status: 201, body: comment, headers: { location: comment.url } };
    },
  },
  {
    method: "PATCH",
    pattern: /^\/issues\/comments\/(\d+)$/,
    docs: DOCS.updateComment,
    query: [],
    body: COMMENT_BODY,
    handle(ctx, store) {
      const id = Number(ctx.params[0]);
      const stored = store.commentList.find((c) => c.repo === ctx.repo.key && c.comment.id === id);
      if (!stored) return { status: 404, body: errorBody(404, MESSAGES.notFound, DOCS.updateComment) };
      const body = ctx.body.body as string;
      const problem = commentBodyProblem(body, store);
      if (problem) return { status: 422, body: validationFailed([problem], DOCS.updateComment) };
      stored.comment.body = body;
      stored.comment.updated_at = isoSeconds(store.now());
      return { status: 200, body: stored.comment };
    },
  },
  {
    method: "GET",
    pattern: /^\/pulls\/(\d+)$/,
    docs: DOCS.getPull,
    query: [],
    handle(ctx, store) {
      const pull = store.pull(ctx.repo.key, Number(ctx.params[0]));
      if (!pull) return { status: 404, body: errorBody(404, MESSAGES.notFound, DOCS.getPull) };
      return { status: 200, body: pullObject(pull, ctx.repo, ctx.apiBase) };
    },
  },
  {
    method: "GET",
    pattern: /^\/pulls\/(\d+)\/commits$/,
    docs: DOCS.listPullCommits,
    query: ["per_page", "page"],
    handle(ctx, store) {
      const n = Number(ctx.params[0]);
      if (!store.pull(ctx.repo.key, n))
        return { status: 404, body: errorBody(404, MESSAGES.notFound, DOCS.listPullCommits) };
      const commits = store.pullCommits.get(`${ctx.repo.key}#${n}`) ?? store.pullCommits.get(`*#${n}`) ?? [];
      // GitHub lists at most 250 commits of a pull request, whatever the pages ask for.
      return listReply(
        commits.slice(0, 250).map((c) => commitObject(c, ctx)),
        ctx,
      );
    },
  },
];

/** A route outside /repos/{owner}/{repo}: matched against the whole path, answered from the token alone. */
export interface UserRoute {
  method: "GET";
  pattern: RegExp;
  docs: string;
  query: readonly string[];
  handle(identity: Identity, apiBase: string): Reply;
}

export const USER_ROUTES: readonly UserRoute[] = [
  {
    method: "GET",
    pattern: /^\/user$/,
    docs: DOCS.getAuthenticatedUser,
    query: [],
    handle(identity, apiBase) {
      // An installation token (GITHUB_TOKEN, a GitHub App's) has no user: github.com answers it 403 with
      // this message and this documentation_url (a GET /user with an app token in
      // actions/create-github-app-token#258). A personal access token gets its user, the private-user
      // shape; a fine-grained one needs no permission for it.
      if (identity.kind === "installation")
        return { status: 403, body: errorBody(403, MESSAGES.notAccessible, DOCS.getAuthenticatedUser) };
      return { status: 200, body: privateUserObject(apiBase, identity.login, identity.id) };
    },
  },
];

function commitObject(c: PullCommitInput, ctx: RouteContext): Record<string, unknown> {
  const login = c.author ?? "octocat";
  const person = { name: login, email: `${login}@users.noreply.github.com`, date: isoSeconds(Date.now()) };
  const api = `${ctx.apiBase}/repos/${ctx.repo.owner}/${ctx.repo.name}`;
  return {
    sha: c.sha,
    node_id: nodeId("Commit", parseInt(c.sha.slice(0, 8), 16)),
    commit: {
      author: person,
      committer: person,
      message: c.message,
      tree: { sha: "0".repeat(40), url: `${api}/git/trees/${"0".repeat(40)}` },
      url: `${api}/git/commits/${c.sha}`,
      comment_count: 0,
    },
    url: `${api}/commits/${c.sha}`,
    html_url: `${HTML_BASE}/${ctx.repo.owner}/${ctx.repo.name}/commit/${c.sha}`,
    comments_url: `${api}/commits/${c.sha}/comments`,
    author: userObject(ctx.apiBase, login, userIdFor(login)),
    committer: userObject(ctx.apiBase, login, userIdFor(login)),
    parents: [],
  };
}

function commentBodyProblem(body: string, store: Store): Record<string, string> | undefined {
  const error = (message: string) => ({
    resource: "IssueComment",
    code: "unprocessable",
    field: "data",
    message,
  });
  if (body.trim() === "") return error(MESSAGES.commentBlank);
  if (store.commentTooLong(body)) return error(MESSAGES.commentTooLong);
  return undefined;
}
