/**
 * A strict GitHub REST API test server on node:http (127.0.0.1, ephemeral port) for tests of the GitHub
 * Action and the sync agent. Point the real client at it: `new Octokit({ baseUrl: server.url, auth,
 * ...testOctokitOptions() })`.
 *
 * Strict: a route it does not implement answers 404, a malformed body 400, an unknown/missing/mistyped
 * field 422 — and each of these is recorded in `server.unexpected`, which tests should assert is empty.
 * GitHub's own limits answer like github.com: 401 "Bad credentials", 403 "Resource not accessible by
 * integration" (read-only token writing), 422 for a status description over 140 characters or with
 * 4-byte Unicode, the 1001st status per (sha, context), a blank or too long comment body. GET /user
 * answers a user's token (a PAT) with its user and an installation token (a `[bot]` login) 403.
 *
 * Every response carries x-ratelimit-limit/-remaining/-used/-reset/-resource ("core"); each
 * authenticated request costs one unit of the primary budget; once it is spent, requests get GitHub's
 * primary-limit 403 until the window resets. rateLimitNext() and failNext() inject limits and 5xx;
 * beforeNext() changes the data between two requests of a client.
 *
 * POST /graphql answers the small part of GitHub's GraphQL schema described in github-api-graphql.ts (its
 * answers carry x-ratelimit-resource "graphql"; it shares the one budget here).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { ACTIONS_ROUTES } from "./github-api-actions";
import { GRAPHQL_DOCS, graphqlReply } from "./github-api-graphql";
import {
  ROUTES,
  Store,
  USER_ROUTES,
  type Identity,
  type Reply,
  type RepoRef,
  type Route,
} from "./github-api-routes";
import {
  DOCS,
  MESSAGES,
  errorBody,
  isoSeconds,
  primaryRateLimitMessage,
  secondaryRateLimitMessage,
  userIdFor,
} from "./github-api-shapes";
import type {
  FaultInjection,
  GitHubApiServer,
  GitHubApiServerOptions,
  IssueComment,
  PullCommitInput,
  PullEditInput,
  PullRequestInput,
  RateLimitInjection,
  RateLimitSnapshot,
  RecordedRequest,
  TokenIdentity,
  UnexpectedCall,
} from "./github-api-types";
import { checkBody, invalidRequestMessage } from "./github-api-validate";

export type * from "./github-api-types";
export {
  testOctokitOptions,
  type LimitHandler,
  type TestOctokitOptions,
  type TestOctokitOptionsInput,
  type TestRetryOptions,
  type TestThrottleOptions,
  type ThrottleGroup,
} from "./octokit-test-options";

const REPO_PATH = /^\/repos\/([^/]+)\/([^/]+)(\/.*)$/;
const GRAPHQL_PATH = "/graphql";

type Injection =
  | ({ type: "rate-limit"; left: number } & RateLimitInjection)
  | ({ type: "fault"; left: number } & FaultInjection);

interface PendingReply extends Reply {
  /** Overrides of the rate-limit headers. */
  rateHeaders?: Partial<Record<"remaining" | "used" | "reset", number>>;
}

function repoRef(owner: string, name: string): RepoRef {
  return { owner, name, key: `${owner}/${name}`.toLowerCase() };
}

function repoKeyOf(repo: string | undefined): string {
  return repo === undefined ? "*" : repo.toLowerCase();
}

function redactHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(", ") : value;
    headers[name] = name === "authorization" ? text.replace(/^(\S+)\s+.*$/, "$1 ***") : text;
  }
  return headers;
}

function tokenOf(header: string | undefined): string | undefined {
  const match = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

function matches(inj: { route?: RegExp; method?: string }, method: string, path: string): boolean {
  if (inj.method && inj.method.toUpperCase() !== method) return false;
  if (inj.route) {
    inj.route.lastIndex = 0;
    if (!inj.route.test(path)) return false;
  }
  return true;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startGitHubApiServer(opts: GitHubApiServerOptions = {}): Promise<GitHubApiServer> {
  const tokens = new Map<string, Identity>();
  const addToken = (token: string, identity: TokenIdentity) => {
    tokens.set(token, {
      login: identity.login,
      id: identity.id ?? userIdFor(identity.login),
      readOnly: identity.readOnly ?? false,
      permissions: {
        actions: identity.permissions?.actions ?? "read",
        issues: identity.permissions?.issues ?? "read",
        contents: identity.permissions?.contents ?? "read",
      },
      kind: identity.kind ?? (identity.login.endsWith("[bot]") ? "installation" : "user"),
    });
  };
  for (const [token, identity] of Object.entries(opts.tokens ?? {})) addToken(token, identity);

  const repositories = opts.repositories ? new Set(opts.repositories.map((r) => r.toLowerCase())) : undefined;
  const store = new Store(opts.now ?? Date.now, opts.commentBodyLimit ?? "documented");
  const requests: RecordedRequest[] = [];
  const unexpected: UnexpectedCall[] = [];
  const injections: Injection[] = [];
  const hooks: Array<{ match: { method?: string; route?: RegExp }; action: () => void }> = [];
  const limit = opts.primaryLimit ?? 5000;
  const windowMs = (opts.primaryWindowSeconds ?? 3600) * 1000;
  const budget = { used: 0, windowStart: Date.now() };
  let requestCounter = 0;
  let apiBase = "";

  const setPull = (pull: PullRequestInput, repo?: string) => {
    const key = repoKeyOf(repo);
    const pulls = store.pulls.get(key) ?? new Map<number, PullRequestInput>();
    pulls.set(pull.number, structuredClone(pull));
    store.pulls.set(key, pulls);
  };

  const rateLimit = (): RateLimitSnapshot => {
    const now = Date.now();
    if (now >= budget.windowStart + windowMs) {
      budget.windowStart = now;
      budget.used = 0;
    }
    return {
      limit,
      used: budget.used,
      remaining: Math.max(0, limit - budget.used),
      reset: Math.ceil((budget.windowStart + windowMs) / 1000),
    };
  };

  const requestId = () => {
    requestCounter++;
    const hex = requestCounter.toString(16).toUpperCase().padStart(8, "0");
    return `0000:${hex.slice(0, 4)}:${hex}:${hex}:${hex.slice(4)}`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const raw = await readBody(req);
    const id = requestId();
    const record: RecordedRequest = {
      method,
      path,
      query,
      headers: redactHeaders(req),
      body: undefined,
      status: 0,
    };
    let parsedJson = true;
    if (raw !== "") {
      try {
        record.body = JSON.parse(raw) as unknown;
      } catch {
        record.body = raw;
        parsedJson = false;
      }
    }
    requests.push(record);
    const hook = hooks.findIndex((h) => matches(h.match, method, path));
    if (hook >= 0) hooks.splice(hook, 1)[0]!.action();
    const flag = (kind: UnexpectedCall["kind"], message: string) =>
      unexpected.push({ kind, method, path, message });

    const reply = ((): PendingReply => {
      const repoMatch = REPO_PATH.exec(path);
      const rest = repoMatch?.[3] ?? "";
      let route: Route | undefined;
      let params: string[] = [];
      for (const candidate of [...ROUTES, ...ACTIONS_ROUTES]) {
        const m = repoMatch ? candidate.pattern.exec(rest) : null;
        if (m && candidate.method === method) {
          route = candidate;
          params = m.slice(1).map((p) => decodeURIComponent(p));
          break;
        }
      }
      const graphql = path === GRAPHQL_PATH && method === "POST";
      const userRoute = repoMatch
        ? undefined
        : USER_ROUTES.find((r) => r.method === method && r.pattern.test(path));
      if (!graphql && (!route || !repoMatch) && !userRoute) {
        flag("unknown-route", `${method} ${path} is not a route this server implements`);
        return { status: 404, body: errorBody(404, MESSAGES.notFound, DOCS.root) };
      }

      const identity = tokens.get(tokenOf(req.headers.authorization) ?? "");
      if (!identity)
        return {
          status: 401,
          body: errorBody(401, MESSAGES.badCredentials, graphql ? GRAPHQL_DOCS : DOCS.root),
        };
      record.login = identity.login;

      const snapshot = rateLimit();
      if (snapshot.remaining === 0) {
        const message = primaryRateLimitMessage(identity.id, id, new Date());
        return { status: 403, body: errorBody(403, message, DOCS.primaryRateLimit) };
      }
      budget.used++;

      const injected = injections.find((inj) => inj.left > 0 && matches(inj, method, path));
      if (injected) {
        injected.left--;
        if (injected.type === "fault") {
          return { status: injected.status, body: { message: "Server Error" } };
        }
        const after = injected.retryAfterSeconds === undefined ? 1 : injected.retryAfterSeconds;
        if (injected.kind === "primary") {
          const message = primaryRateLimitMessage(identity.id, id, new Date());
          return {
            status: 403,
            body: errorBody(403, message, DOCS.primaryRateLimit),
            rateHeaders: { remaining: 0, used: limit, reset: Math.ceil(Date.now() / 1000) + (after ?? 1) },
          };
        }
        const status = injected.kind === "429" ? 429 : 403;
        return {
          status,
          body: errorBody(status, secondaryRateLimitMessage(id), DOCS.secondaryRateLimit),
          headers: after === null ? {} : { "retry-after": String(after) },
        };
      }

      if (graphql) {
        if (!parsedJson) {
          flag("malformed-json", `body is not JSON: ${raw.slice(0, 200)}`);
          return { status: 400, body: errorBody(400, MESSAGES.problemsParsingJson, GRAPHQL_DOCS) };
        }
        const known = (owner: string, name: string) =>
          !repositories || repositories.has(`${owner}/${name}`.toLowerCase());
        const result = graphqlReply(record.body, store, known);
        if (result.unexpected) flag(result.unexpected.kind, result.unexpected.message);
        return { ...result, headers: { "x-ratelimit-resource": "graphql" } };
      }
      if (!route || !repoMatch) {
        // Only a route outside /repos/ gets here (the others were answered 404 above).
        for (const key of Object.keys(query)) {
          if (!userRoute?.query.includes(key))
            flag("unknown-query-parameter", `query parameter "${key}" is not supported`);
        }
        return (
          userRoute?.handle(identity, apiBase) ?? {
            status: 404,
            body: errorBody(404, MESSAGES.notFound, DOCS.root),
          }
        );
      }

      const repo = repoRef(decodeURIComponent(repoMatch[1] ?? ""), decodeURIComponent(repoMatch[2] ?? ""));
      if (repositories && !repositories.has(repo.key)) {
        flag("unknown-repository", `${repo.owner}/${repo.name} is not one of the configured repositories`);
        return { status: 404, body: errorBody(404, MESSAGES.notFound, route.docs) };
      }
      if (route.method !== "GET" && identity.readOnly) {
        return { status: 403, body: errorBody(403, MESSAGES.notAccessible, route.docs) };
      }

      let body: Record<string, unknown> = {};
      if (route.body) {
        const parsed = raw === "" ? {} : record.body;
        if (!parsedJson) {
          flag("malformed-json", `body is not JSON: ${raw.slice(0, 200)}`);
          return { status: 400, body: errorBody(400, MESSAGES.problemsParsingJson, route.docs) };
        }
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
          flag("malformed-json", "body is not a JSON object");
          return { status: 400, body: errorBody(400, MESSAGES.bodyNotObject, route.docs) };
        }
        body = parsed as Record<string, unknown>;
        const problems = checkBody(body, route.body);
        if (problems.length > 0) {
          flag("invalid-body", problems.join(" "));
          return { status: 422, body: errorBody(422, invalidRequestMessage(problems), route.docs) };
        }
      }
      for (const key of Object.keys(query)) {
        if (!route.query.includes(key))
          flag("unknown-query-parameter", `query parameter "${key}" is not supported`);
      }

      const result = route.handle({ params, query, body, identity, repo, apiBase, path }, store);
      if (result.unexpected) flag(result.unexpected.kind, result.unexpected.message);
      return result;
    })();

    const snapshot = rateLimit();
    const rate = { ...snapshot, ...reply.rateHeaders };
    const text = JSON.stringify(reply.body);
    record.status = reply.status;
    res.writeHead(reply.status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": String(Buffer.byteLength(text)),
      "x-github-media-type": "github.v3; format=json",
      "x-github-request-id": id,
      "x-ratelimit-limit": String(rate.limit),
      "x-ratelimit-remaining": String(rate.remaining),
      "x-ratelimit-used": String(rate.used),
      "x-ratelimit-reset": String(rate.reset),
      "x-ratelimit-resource": "core",
      ...reply.headers,
    });
    res.end(text);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      unexpected.push({
        kind: "server-error",
        method: req.method ?? "",
        path: req.url ?? "",
        message: `server error: ${String(error)}`,
      });
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify({ message: "Server Error" }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: apiBase,
    requests,
    unexpected,
    addToken,
    setRef(ref: string, sha: string, repo?: string) {
      const key = repoKeyOf(repo);
      const refs = store.refs.get(key) ?? new Map<string, string>();
      refs.set(ref, sha.toLowerCase());
      store.refs.set(key, refs);
    },
    setPull,
    setPullCommits(pull: number, commits: PullCommitInput[], repo?: string) {
      store.pullCommits.set(`${repoKeyOf(repo)}#${pull}`, structuredClone(commits));
    },
    setCommitPulls(sha: string, pulls: PullRequestInput[], repo?: string) {
      for (const pull of pulls) setPull(pull, repo);
      store.commitPulls.set(
        `${repoKeyOf(repo)}@${sha.toLowerCase()}`,
        pulls.map((p) => p.number),
      );
    },
    addWorkflowRun(run, repo = "*") {
      store.workflowRuns.push({
        repo: repo.toLowerCase(),
        run: { ...run, head_sha: run.head_sha.toLowerCase() },
      });
    },
    clearWorkflowRuns() {
      store.workflowRuns.length = 0;
    },
    addActivity(activity, repo = "*") {
      store.activities.push({
        repo: repo.toLowerCase(),
        id: 8_000_000 + store.activities.length,
        activity: {
          ...activity,
          after: activity.after.toLowerCase(),
          timestamp: activity.timestamp ?? isoSeconds(store.now()),
        },
      });
    },
    clearActivities() {
      store.activities.length = 0;
    },
    addIssueEvent(issue, event, repo = "*") {
      store.issueEvents.push({
        repo: repo.toLowerCase(),
        issue,
        id: 7_000_000 + store.issueEvents.length,
        event,
      });
    },
    editPull(number: number, edit: PullEditInput, repo?: string) {
      const key = repoKeyOf(repo);
      const pull = store.pulls.get(key)?.get(number);
      if (!pull) throw new Error(`editPull: pull request #${number} was not set (setPull / setCommitPulls)`);
      const at = edit.at ?? isoSeconds(store.now());
      const actor = edit.actor ?? "octocat";
      const editsKey = `${key}#${number}`;
      const edits = store.pullEdits.get(editsKey) ?? { lastEditedAt: undefined, renames: [] };
      store.pullEdits.set(editsKey, edits);
      if (edit.title !== undefined && edit.title !== (pull.title ?? `PR #${number}`)) {
        const rename = { from: pull.title ?? `PR #${number}`, to: edit.title };
        edits.renames.push({ ...rename, actor, createdAt: at });
        store.issueEvents.push({
          repo: key,
          issue: number,
          id: 7_000_000 + store.issueEvents.length,
          event: { event: "renamed", actor, created_at: at, rename },
        });
        pull.title = edit.title;
      }
      if (edit.body !== undefined) {
        edits.lastEditedAt = at;
        pull.body = edit.body;
      }
    },
    addComment(repo: string, issue: number, comment: { body: string; login: string }): IssueComment {
      const [owner = "", name = ""] = repo.split("/");
      return store.addComment(
        repoRef(owner, name),
        issue,
        comment.login,
        userIdFor(comment.login),
        comment.body,
        apiBase,
      );
    },
    deleteComment(id: number) {
      const at = store.commentList.findIndex((c) => c.comment.id === id);
      if (at >= 0) store.commentList.splice(at, 1);
      return at >= 0;
    },
    rateLimitNext(injection: RateLimitInjection) {
      injections.push({ type: "rate-limit", left: injection.count ?? 1, ...injection });
    },
    beforeNext(match, action) {
      hooks.push({ match, action });
    },
    failNext(injection: FaultInjection) {
      injections.push({ type: "fault", left: injection.count ?? 1, ...injection });
    },
    statuses(sha: string, repo?: string) {
      const key = repo?.toLowerCase();
      return store.statusList
        .filter((s) => s.sha === sha.toLowerCase() && (key === undefined || s.repo === key))
        .map((s) => s.status);
    },
    comments(issue: number, repo?: string) {
      const key = repo?.toLowerCase();
      return store.commentList
        .filter((c) => c.issue === issue && (key === undefined || c.repo === key))
        .map((c) => c.comment);
    },
    rateLimit,
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
