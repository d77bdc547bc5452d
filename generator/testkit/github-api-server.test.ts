import { createRequire } from "node:module";

import { Octokit, RequestError } from "octokit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import {
  startGitHubApiServer,
  testOctokitOptions,
  type GitHubApiServer,
  type TestOctokitOptionsInput,
} from "./github-api-server";

const require = createRequire(import.meta.url);
const TOKEN = "ghs_writer";
const READ_ONLY = "ghs_fork_pr";
const OWNER = "acme";
const REPO = "serving";
const SHA = "0123456789abcdef0123456789abcdef01234567";
const OTHER_SHA = "f".repeat(40);

let server: GitHubApiServer;

beforeEach(async () => {
  server = await startGitHubApiServer({
    tokens: {
      [TOKEN]: { login: "github-actions[bot]" },
      [READ_ONLY]: { login: "github-actions[bot]", readOnly: true },
    },
  });
});

afterEach(async () => {
  await server.close();
});

function client(input: TestOctokitOptionsInput = {}): Octokit {
  return new Octokit(testOctokitOptions({ baseUrl: server.url, auth: TOKEN, ...input }));
}

async function rejection(promise: Promise<unknown>): Promise<RequestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RequestError) return error;
    throw error;
  }
  throw new Error("expected the request to fail");
}

function createStatus(
  octokit: Octokit,
  params: {
    state: "error" | "failure" | "pending" | "success";
    context?: string;
    description?: string;
    sha?: string;
  },
) {
  const { sha = SHA, ...rest } = params;
  return octokit.rest.repos.createCommitStatus({ owner: OWNER, repo: REPO, sha, ...rest });
}

async function rawRequest(method: string, path: string, body?: string, token = TOKEN) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `token ${token}`, "content-type": "application/json; charset=utf-8" },
    ...(body !== undefined && { body }),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

/** The type skeleton of a JSON value: same keys, same types (arrays by their first element). */
function shape(value: unknown): unknown {
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? [] : [shape(value[0])];
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shape((value as Record<string, unknown>)[k])]),
    );
  }
  return typeof value;
}

interface RecordedExchange {
  method: string;
  path: string;
  body: unknown;
  status: number;
  response: unknown;
}

describe("recorded github.com exchanges (@octokit/fixtures, used as data)", () => {
  it("replays create-status: same status codes and response shapes", async () => {
    const exchanges =
      require("@octokit/fixtures/scenarios/api.github.com/create-status/normalized-fixture.json") as RecordedExchange[];
    const fixtureToken = "0000000000000000000000000000000000000001";
    server.addToken(fixtureToken, { login: "octokit-fixture-user-a" });
    expect(exchanges.map((e) => `${e.method} ${e.path.replace(/^.*\/create-status/, "")}`)).toEqual([
      `post /statuses/${"0".repeat(39)}1`,
      `post /statuses/${"0".repeat(39)}1`,
      `get /commits/${"0".repeat(39)}1/statuses`,
      `get /commits/${"0".repeat(39)}1/status`,
    ]);
    for (const exchange of exchanges) {
      const label = `${exchange.method} ${exchange.path}`;
      const body = exchange.body === "" ? undefined : JSON.stringify(exchange.body);
      const ours = await rawRequest(exchange.method.toUpperCase(), exchange.path, body, fixtureToken);
      expect(ours.status, label).toBe(exchange.status);
      expect(shape(ours.json), label).toEqual(shape(exchange.response));
      // Same content and order, ids aside: newest first for the list, latest per context for the combined status.
      const pick = (v: unknown) =>
        (Array.isArray(v) ? v : ((v as { statuses?: unknown[] }).statuses ?? [v])).map((s) => {
          const { state, context, description, target_url } = s as Record<string, unknown>;
          return { state, context, description, target_url };
        });
      expect(pick(ours.json), label).toEqual(pick(exchange.response));
      if (exchange.path.endsWith("/status")) {
        const { state, sha, total_count } = exchange.response as Record<string, unknown>;
        expect(ours.json, label).toMatchObject({ state, sha, total_count });
      }
    }
    expect(server.unexpected).toEqual([]);
  });

  it("answers an issue comment with the key set of a real comment (@octokit/webhooks-examples)", async () => {
    const definitions = require("@octokit/webhooks-examples") as {
      name: string;
      examples: { comment: unknown }[];
    }[];
    const recorded = definitions.find((d) => d.name === "issue_comment")?.examples[0]?.comment;
    const { data } = await client().rest.issues.createComment({
      owner: OWNER,
      repo: REPO,
      issue_number: 7,
      body: "hi",
    });
    expect(shape(data)).toEqual(shape(recorded));
  });
});

describe("commit statuses through the real octokit client", () => {
  it("creates a status: 201 with the status object, recorded per sha", async () => {
    const { status, data, headers } = await createStatus(client(), {
      state: "pending",
      context: "serve-gitops/deploy",
      description: "Deploying",
    });
    expect(status).toBe(201);
    expect(data).toMatchObject({
      state: "pending",
      context: "serve-gitops/deploy",
      description: "Deploying",
      target_url: null,
    });
    expect(data.creator?.login).toBe("github-actions[bot]");
    expect(headers.location).toBe(data.url);
    expect(server.statuses(SHA)).toEqual([data]);
    const defaulted = await createStatus(client(), { state: "success" });
    expect(defaulted.data.context).toBe("default");
    expect(server.unexpected).toEqual([]);
  });

  it("rejects a description over 140 characters (code points) and 4-byte Unicode with 422", async () => {
    const octokit = client();
    await expect(
      createStatus(octokit, { state: "success", description: "ä".repeat(140) }),
    ).resolves.toMatchObject({ status: 201 });
    const tooLong = await rejection(
      createStatus(octokit, { state: "success", description: "x".repeat(141) }),
    );
    expect(tooLong.status).toBe(422);
    expect(tooLong.response?.data).toEqual({
      message: "Validation Failed",
      errors: [
        {
          resource: "Status",
          code: "custom",
          field: "description",
          message: "description is too long (maximum is 140 characters)",
        },
      ],
      documentation_url: "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
      status: "422",
    });
    const emoji = await rejection(createStatus(octokit, { state: "success", description: "deployed 🚀" }));
    expect(emoji.status).toBe(422);
    expect(emoji.message).toContain("description doesn't accept 4-byte Unicode");
    expect(server.requests.filter((r) => r.status === 422)).toHaveLength(2); // plugin-retry never retries 422
    expect(server.unexpected).toEqual([]);
  });

  it("caps statuses at 1000 per (sha, context), context compared case-insensitively", async () => {
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, () =>
          rawRequest(
            "POST",
            `/repos/${OWNER}/${REPO}/statuses/${SHA}`,
            JSON.stringify({ state: "pending", context: "ci" }),
          ),
        ),
      );
    }
    expect(server.statuses(SHA)).toHaveLength(1000);
    const capped = await rejection(createStatus(client(), { state: "success", context: "CI" }));
    expect(capped.status).toBe(422);
    expect(capped.response?.data).toMatchObject({
      message: "Validation Failed",
      errors: [
        {
          resource: "Status",
          code: "custom",
          message: "This SHA and context has reached the maximum number of statuses.",
        },
      ],
    });
    await expect(createStatus(client(), { state: "success", context: "lint" })).resolves.toMatchObject({
      status: 201,
    });
    await expect(
      createStatus(client(), { state: "success", context: "ci", sha: OTHER_SHA }),
    ).resolves.toMatchObject({ status: 201 });
  });

  it("combines the latest status per context: failure > pending > success, paginated", async () => {
    const octokit = client();
    const combined = async (query: { per_page?: number; page?: number } = {}) =>
      (await octokit.rest.repos.getCombinedStatusForRef({ owner: OWNER, repo: REPO, ref: SHA, ...query }))
        .data;
    expect(await combined()).toMatchObject({ state: "pending", total_count: 0, statuses: [], sha: SHA });
    await createStatus(octokit, { state: "pending", context: "ci" });
    await createStatus(octokit, { state: "failure", context: "lint" });
    await createStatus(octokit, { state: "success", context: "CI" });
    expect(await combined()).toMatchObject({ state: "failure", total_count: 2 });
    await createStatus(octokit, { state: "success", context: "lint" });
    const all = await combined();
    expect(all.state).toBe("success");
    expect(all.statuses.map((s) => [s.context, s.state])).toEqual([
      ["CI", "success"],
      ["lint", "success"],
    ]);
    await createStatus(octokit, { state: "pending", context: "deploy" });
    expect((await combined()).state).toBe("pending");
    await createStatus(octokit, { state: "error", context: "deploy" });
    expect((await combined()).state).toBe("failure");
    const page2 = await octokit.rest.repos.getCombinedStatusForRef({
      owner: OWNER,
      repo: REPO,
      ref: SHA,
      per_page: 2,
      page: 2,
    });
    expect(page2.data.statuses.map((s) => s.context)).toEqual(["deploy"]);
    expect(page2.data.total_count).toBe(3);
    expect(page2.headers.link).toContain('rel="first"');
    server.setRef("main", SHA);
    expect(
      (await octokit.rest.repos.getCombinedStatusForRef({ owner: OWNER, repo: REPO, ref: "main" })).data.sha,
    ).toBe(SHA);
    expect(server.unexpected).toEqual([]);
  });

  it("lists statuses newest first and paginates them with Link headers", async () => {
    const octokit = client();
    for (const state of ["pending", "failure", "success"] as const)
      await createStatus(octokit, { state, context: "ci" });
    const { data } = await octokit.rest.repos.listCommitStatusesForRef({
      owner: OWNER,
      repo: REPO,
      ref: SHA,
    });
    expect(data.map((s) => s.state)).toEqual(["success", "failure", "pending"]);
    const paged = await octokit.paginate(octokit.rest.repos.listCommitStatusesForRef, {
      owner: OWNER,
      repo: REPO,
      ref: SHA,
      per_page: 2,
    });
    expect(paged.map((s) => s.id)).toEqual(data.map((s) => s.id));
    expect(server.requests.filter((r) => r.path.endsWith("/statuses") && r.method === "GET")).toHaveLength(3);
  });

  it("does not space writes 1 s apart with testOctokitOptions()", async () => {
    const octokit = client();
    const started = Date.now();
    for (let i = 0; i < 10; i++) await createStatus(octokit, { state: "pending", context: `c${i}` });
    for (let i = 0; i < 5; i++)
      await octokit.rest.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 1, body: `n${i}` });
    // Spaced 1 s apart, the 15 writes would take 14 s or more; 5 s leaves room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe("auth", () => {
  it("answers 401 Bad credentials to an unknown or missing token, without retrying", async () => {
    const bad = await rejection(
      client({ auth: "ghp_nope" }).rest.repos.getCombinedStatusForRef({ owner: OWNER, repo: REPO, ref: SHA }),
    );
    expect(bad.status).toBe(401);
    expect(bad.response?.data).toMatchObject({ message: "Bad credentials" });
    const none = await fetch(`${server.url}/repos/${OWNER}/${REPO}/commits/${SHA}/status`);
    expect(none.status).toBe(401);
    expect(server.requests).toHaveLength(2);
  });

  it("lets a read-only (fork PR) token read but answers 403 to its writes", async () => {
    const octokit = client({ auth: READ_ONLY });
    await expect(
      octokit.rest.repos.getCombinedStatusForRef({ owner: OWNER, repo: REPO, ref: SHA }),
    ).resolves.toMatchObject({ status: 200 });
    for (const write of [
      createStatus(octokit, { state: "success" }),
      octokit.rest.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 3, body: "x" }),
    ]) {
      const error = await rejection(write);
      expect(error.status).toBe(403);
      expect(error.response?.data).toMatchObject({ message: "Resource not accessible by integration" });
    }
    expect(server.requests).toHaveLength(3); // neither plugin retries this 403
    expect(server.statuses(SHA)).toEqual([]);
  });

  it("accepts Bearer as well as token, and logs headers without the credential", async () => {
    const response = await fetch(`${server.url}/repos/${OWNER}/${REPO}/commits/${SHA}/status`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    await client().rest.repos.getCombinedStatusForRef({ owner: OWNER, repo: REPO, ref: SHA });
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(["Bearer ***", "token ***"]);
    expect(JSON.stringify(server.requests)).not.toContain(TOKEN);
  });
});

describe("rate limits and faults, handled by the octokit plugins", () => {
  it("sends x-ratelimit-* on every response and spends the primary budget", async () => {
    const first = await rawRequest("GET", `/repos/${OWNER}/${REPO}/commits/${SHA}/status`);
    const second = await rawRequest("GET", `/repos/${OWNER}/${REPO}/nope`);
    for (const [response, remaining] of [
      [first, "4999"],
      [second, "4999"],
    ] as const) {
      expect(response.headers.get("x-ratelimit-limit")).toBe("5000");
      expect(response.headers.get("x-ratelimit-remaining")).toBe(remaining);
      expect(response.headers.get("x-ratelimit-resource")).toBe("core");
      expect(Number(response.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
    }
    expect(first.headers.get("x-ratelimit-used")).toBe("1");
    expect(server.rateLimit()).toMatchObject({ limit: 5000, used: 1, remaining: 4999 });
  });

  it("answers the primary-limit 403 once the budget is spent, until the window resets", async () => {
    await server.close();
    server = await startGitHubApiServer({
      tokens: { [TOKEN]: { login: "bot" } },
      primaryLimit: 2,
      primaryWindowSeconds: 0.4,
    });
    const path = `/repos/${OWNER}/${REPO}/commits/${SHA}/status`;
    expect((await rawRequest("GET", path)).status).toBe(200);
    expect((await rawRequest("GET", path)).status).toBe(200);
    const limited = await rawRequest("GET", path);
    expect(limited.status).toBe(403);
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(limited.json.message).toMatch(/^API rate limit exceeded for user ID \d+\./);
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect((await rawRequest("GET", path)).status).toBe(200);
  });

  it("retries an injected primary limit after x-ratelimit-reset (plugin-throttling)", async () => {
    const events: unknown[] = [];
    server.rateLimitNext({ kind: "primary", retryAfterSeconds: 2 });
    const { status } = await createStatus(client({ onLimit: (e) => events.push(e) }), { state: "success" });
    expect(status).toBe(201);
    expect(server.requests.map((r) => r.status)).toEqual([403, 201]);
    expect(events).toEqual([{ kind: "primary", retryAfter: expect.any(Number) as number, retryCount: 0 }]);
    expect((events[0] as { retryAfter: number }).retryAfter).toBeGreaterThanOrEqual(2);
  });

  it("retries a secondary-limit 403 after retry-after, recognised by its message", async () => {
    const events: { kind: string; retryAfter: number }[] = [];
    server.rateLimitNext({ kind: "secondary", retryAfterSeconds: 3, route: /\/statuses\// });
    server.rateLimitNext({ kind: "secondary", retryAfterSeconds: null, route: /\/comments$/ });
    const octokit = client({ onLimit: (e) => events.push(e) });
    await createStatus(octokit, { state: "success" });
    await octokit.rest.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 2, body: "ok" });
    expect(events).toEqual([
      { kind: "secondary", retryAfter: 3, retryCount: 0 },
      { kind: "secondary", retryAfter: 1, retryCount: 0 }, // no retry-after: fallbackSecondaryRateRetryAfter
    ]);
    expect(server.requests.map((r) => r.status)).toEqual([403, 201, 403, 201]);
  });

  it("uses GitHub's exact secondary-limit text, which plugin-throttling's /\\bsecondary rate\\b/i matches", async () => {
    server.rateLimitNext({ kind: "secondary", retryAfterSeconds: 60 });
    const limited = await rawRequest("GET", `/repos/${OWNER}/${REPO}/commits/${SHA}/status`);
    expect(limited.status).toBe(403);
    expect(limited.headers.get("retry-after")).toBe("60");
    const message = limited.json.message as string;
    expect(message).toMatch(
      /^You have exceeded a secondary rate limit\. Please wait a few minutes before you try again\. If you reach out to GitHub Support for help, please include the request ID [0-9A-F:]+\.$/,
    );
    expect(message).toMatch(/\bsecondary rate\b/i);
  });

  it("retries a 429 with retry-after", async () => {
    server.rateLimitNext({ kind: "429", retryAfterSeconds: 1 });
    const { status } = await createStatus(client(), { state: "success" });
    expect(status).toBe(201);
    expect(server.requests.map((r) => r.status)).toEqual([429, 201]);
  });

  it("gives up after the configured rate-limit retries", async () => {
    server.rateLimitNext({ kind: "secondary", count: 5 });
    const error = await rejection(createStatus(client({ rateLimitRetries: 2 }), { state: "success" }));
    expect(error.status).toBe(403);
    expect(server.requests).toHaveLength(3);
  });

  it("retries 5xx with plugin-retry (3 retries), then fails", async () => {
    server.failNext({ status: 502, count: 2 });
    await expect(createStatus(client(), { state: "success" })).resolves.toMatchObject({ status: 201 });
    expect(server.requests.map((r) => r.status)).toEqual([502, 502, 201]);
    server.failNext({ status: 503, count: 10, method: "GET" });
    const error = await rejection(
      client().rest.repos.getCombinedStatusForRef({ owner: OWNER, repo: REPO, ref: SHA }),
    );
    expect(error.status).toBe(503);
    expect(server.requests).toHaveLength(3 + 4);
    server.failNext({ status: 500, route: /\/comments$/ });
    await expect(
      client().rest.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 1, body: "x" }),
    ).resolves.toMatchObject({ status: 201 });
  });
});

describe("GET /user: whose token it is", () => {
  it("answers a personal access token with its user, whose comments it then authors", async () => {
    server.addToken("ghp_machine", { login: "serve-gitops-bot" });
    const octokit = client({ auth: "ghp_machine" });
    const { data: me } = await octokit.rest.users.getAuthenticated();
    expect(me).toMatchObject({ login: "serve-gitops-bot", type: "User" });
    expect(me).toHaveProperty("two_factor_authentication");
    const { data: comment } = await octokit.rest.issues.createComment({
      owner: OWNER,
      repo: REPO,
      issue_number: 3,
      body: "hello",
    });
    expect(comment.user).toMatchObject({ id: me.id, login: "serve-gitops-bot", type: "User" });
    expect(server.unexpected).toEqual([]);
  });

  it("answers an installation token (GITHUB_TOKEN, a GitHub App's) 403, as github.com does, unretried", async () => {
    const error = await rejection(client().rest.users.getAuthenticated());
    expect(error.status).toBe(403);
    expect(error.response?.data).toEqual({
      message: "Resource not accessible by integration",
      documentation_url: "https://docs.github.com/rest/users/users#get-the-authenticated-user",
      status: "403",
    });
    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(["GET /user 403"]);
    expect(server.unexpected).toEqual([]);
  });
});

describe("strict mode: what a correct client never sends", () => {
  it("answers 404 to a route it does not implement and records it", async () => {
    const error = await rejection(
      client().request("GET /repos/{owner}/{repo}/branches", { owner: OWNER, repo: REPO }),
    );
    expect(error.status).toBe(404);
    expect(server.unexpected).toEqual([
      {
        kind: "unknown-route",
        method: "GET",
        path: `/repos/${OWNER}/${REPO}/branches`,
        message: expect.any(String) as string,
      },
    ]);
  });

  it("rejects unknown, missing and mistyped fields with 422 and records them", async () => {
    const octokit = client();
    const unknown = await rejection(
      octokit.request("POST /repos/{owner}/{repo}/statuses/{sha}", {
        owner: OWNER,
        repo: REPO,
        sha: SHA,
        state: "success",
        summary: "x",
      }),
    );
    expect(unknown.status).toBe(422);
    expect(unknown.response?.data).toMatchObject({
      message: 'Invalid request.\n\n"summary" is not a permitted key.',
    });
    const missing = await rejection(
      // @ts-expect-error -- the missing body is the point: the server must refuse it as GitHub does
      octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
        owner: OWNER,
        repo: REPO,
        issue_number: 1,
      }),
    );
    expect(missing.response?.data).toMatchObject({ message: 'Invalid request.\n\n"body" wasn\'t supplied.' });
    const badState = await rejection(
      octokit.request("POST /repos/{owner}/{repo}/statuses/{sha}", {
        owner: OWNER,
        repo: REPO,
        sha: SHA,
        // @ts-expect-error -- an invalid state is the point
        state: "ok",
      }),
    );
    expect(badState.response?.data).toMatchObject({
      message: expect.stringContaining(`For 'properties/state', ok is not a member of`) as string,
    });
    expect(server.unexpected.map((u) => u.kind)).toEqual(["invalid-body", "invalid-body", "invalid-body"]);
  });

  it("answers 400 to malformed JSON and records it", async () => {
    const response = await rawRequest("POST", `/repos/${OWNER}/${REPO}/statuses/${SHA}`, "{state:");
    expect(response.status).toBe(400);
    expect(response.json.message).toBe("Problems parsing JSON");
    const array = await rawRequest("POST", `/repos/${OWNER}/${REPO}/issues/1/comments`, '["body"]');
    expect(array.status).toBe(400);
    expect(array.json.message).toBe("Body should be a JSON object");
    expect(server.unexpected.map((u) => u.kind)).toEqual(["malformed-json", "malformed-json"]);
  });

  it("records a ref it cannot resolve and a repository outside the configured ones", async () => {
    await server.close();
    server = await startGitHubApiServer({
      tokens: { [TOKEN]: { login: "bot" } },
      repositories: [`${OWNER}/${REPO}`],
    });
    expect((await rawRequest("GET", `/repos/${OWNER}/${REPO}/commits/main/status`)).status).toBe(422);
    expect((await rawRequest("GET", `/repos/${OWNER}/other/commits/${SHA}/status`)).status).toBe(404);
    expect(
      (await rawRequest("GET", `/repos/${OWNER.toUpperCase()}/${REPO}/commits/${SHA}/status`)).status,
    ).toBe(200);
    expect(server.unexpected.map((u) => u.kind)).toEqual(["unknown-ref", "unknown-repository"]);
  });
});

describe("issue comments and pull requests", () => {
  it("creates, lists (paginated) and updates comments as the token's user", async () => {
    const octokit = client();
    server.addComment(`${OWNER}/${REPO}`, 5, { login: "alice", body: "please deploy" });
    const created = await octokit.rest.issues.createComment({
      owner: OWNER,
      repo: REPO,
      issue_number: 5,
      body: "Plan: 1 to add",
    });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ body: "Plan: 1 to add", user: { login: "github-actions[bot]" } });
    expect(created.data.html_url).toContain(`/${OWNER}/${REPO}/issues/5#issuecomment-${created.data.id}`);
    const all = await octokit.paginate(octokit.rest.issues.listComments, {
      owner: OWNER,
      repo: REPO,
      issue_number: 5,
      per_page: 1,
    });
    expect(all.map((c) => c.user?.login)).toEqual(["alice", "github-actions[bot]"]);
    const updated = await octokit.rest.issues.updateComment({
      owner: OWNER,
      repo: REPO,
      comment_id: created.data.id,
      body: "Plan: applied",
    });
    expect(updated.data.body).toBe("Plan: applied");
    expect(server.comments(5).map((c) => c.body)).toEqual(["please deploy", "Plan: applied"]);
    const missing = await rejection(
      octokit.rest.issues.updateComment({ owner: OWNER, repo: REPO, comment_id: 42, body: "x" }),
    );
    expect(missing.status).toBe(404);
    expect(server.unexpected).toEqual([]);
  });

  it("rejects a comment body over 65536 characters or blank with 422", async () => {
    const octokit = client();
    await expect(
      octokit.rest.issues.createComment({
        owner: OWNER,
        repo: REPO,
        issue_number: 1,
        body: "a".repeat(65536),
      }),
    ).resolves.toMatchObject({ status: 201 });
    const tooLong = await rejection(
      octokit.rest.issues.createComment({
        owner: OWNER,
        repo: REPO,
        issue_number: 1,
        body: "a".repeat(65537),
      }),
    );
    expect(tooLong.status).toBe(422);
    expect(tooLong.response?.data).toMatchObject({
      message: "Validation Failed",
      errors: [
        {
          resource: "IssueComment",
          code: "unprocessable",
          field: "data",
          message: "Body is too long (maximum is 65536 characters)",
        },
      ],
    });
    const { data } = await octokit.rest.issues.createComment({
      owner: OWNER,
      repo: REPO,
      issue_number: 1,
      body: "short",
    });
    expect(
      (
        await rejection(
          octokit.rest.issues.updateComment({
            owner: OWNER,
            repo: REPO,
            comment_id: data.id,
            body: "b".repeat(65537),
          }),
        )
      ).status,
    ).toBe(422);
    expect(
      (
        await rejection(
          octokit.rest.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 1, body: "" }),
        )
      ).message,
    ).toContain("Body cannot be blank");
    expect(server.unexpected).toEqual([]);
  });

  it("can enforce github.com's measured limit instead: 262144 UTF-8 bytes", async () => {
    await server.close();
    server = await startGitHubApiServer({
      tokens: { [TOKEN]: { login: "bot" } },
      commentBodyLimit: "enforced",
    });
    const octokit = client();
    await expect(
      octokit.rest.issues.createComment({
        owner: OWNER,
        repo: REPO,
        issue_number: 1,
        body: "a".repeat(262144),
      }),
    ).resolves.toMatchObject({ status: 201 });
    await expect(
      octokit.rest.issues.createComment({
        owner: OWNER,
        repo: REPO,
        issue_number: 1,
        body: "🌈".repeat(65536),
      }),
    ).resolves.toMatchObject({ status: 201 });
    expect(
      (
        await rejection(
          octokit.rest.issues.createComment({
            owner: OWNER,
            repo: REPO,
            issue_number: 1,
            body: "—".repeat(87382),
          }),
        )
      ).status,
    ).toBe(422);
  });

  it("lists the pull requests a test associated with a commit, and gets one", async () => {
    const octokit = client();
    server.setCommitPulls(SHA, [
      {
        number: 12,
        head: { sha: OTHER_SHA, ref: "feature/x" },
        base: { ref: "main" },
        user: { login: "alice" },
        state: "closed",
        merged_at: "2026-01-02T03:04:05Z",
      },
    ]);
    const { data } = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      owner: OWNER,
      repo: REPO,
      commit_sha: SHA,
    });
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({
      number: 12,
      state: "closed",
      merged_at: "2026-01-02T03:04:05Z",
      head: { sha: OTHER_SHA, ref: "feature/x" },
      base: { ref: "main" },
      user: { login: "alice" },
    });
    expect(
      (
        await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
          owner: OWNER,
          repo: REPO,
          commit_sha: OTHER_SHA,
        })
      ).data,
    ).toEqual([]);
    const pull = await octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: 12 });
    expect(pull.data).toMatchObject({ number: 12, html_url: `https://github.com/${OWNER}/${REPO}/pull/12` });
    expect(
      (await rejection(octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: 13 }))).status,
    ).toBe(404);
    expect(server.unexpected).toEqual([]);
  });
});

describe("workflow runs and issue events", () => {
  it("lists a head's runs newest first, wrapped as GitHub wraps them, paginated through octokit", async () => {
    const octokit = client();
    for (let n = 1; n <= 3; n++)
      server.addWorkflowRun({
        id: 100 + n,
        run_number: n,
        head_sha: SHA,
        actor: `user${n}`,
        pull_requests: [7],
      });
    server.addWorkflowRun({ id: 200, run_number: 4, head_sha: OTHER_SHA, actor: "other" });
    server.addWorkflowRun({ id: 201, run_number: 5, head_sha: SHA, actor: "pusher", event: "push" });
    const page = await octokit.rest.actions.listWorkflowRunsForRepo({
      owner: OWNER,
      repo: REPO,
      head_sha: SHA,
      event: "pull_request",
    });
    expect(page.data.total_count).toBe(3);
    expect(page.data.workflow_runs.map((r) => [r.id, r.actor?.login, r.triggering_actor?.login])).toEqual([
      [103, "user3", "user3"],
      [102, "user2", "user2"],
      [101, "user1", "user1"],
    ]);
    expect(page.data.workflow_runs[0]!.pull_requests!.map((p) => p.number)).toEqual([7]);
    const all = await octokit.paginate(octokit.rest.actions.listWorkflowRunsForRepo, {
      owner: OWNER,
      repo: REPO,
      head_sha: SHA,
      exclude_pull_requests: true,
      per_page: 2,
    });
    expect(all.map((r) => r.id)).toEqual([201, 103, 102, 101]);
    expect(all.map((r) => r.pull_requests)).toEqual([[], [], [], []]);
    server.clearWorkflowRuns();
    expect(
      (await octokit.rest.actions.listWorkflowRunsForRepo({ owner: OWNER, repo: REPO })).data,
    ).toMatchObject({
      total_count: 0,
      workflow_runs: [],
    });
    expect(server.unexpected).toEqual([]);
  });

  it("lists a PR's events, and answers 403 to a token without actions or issues read", async () => {
    server.addIssueEvent(7, { event: "reopened", actor: "alice", created_at: "2026-03-01T00:00:00Z" });
    const events = await client().rest.issues.listEvents({ owner: OWNER, repo: REPO, issue_number: 7 });
    expect(events.data).toMatchObject([
      { event: "reopened", actor: { login: "alice" }, created_at: "2026-03-01T00:00:00Z" },
    ]);
    server.addToken("ghs_no_actions", {
      login: "github-actions[bot]",
      permissions: { actions: "none", issues: "none" },
    });
    const denied = client({ auth: "ghs_no_actions" });
    const runs = await rejection(denied.rest.actions.listWorkflowRunsForRepo({ owner: OWNER, repo: REPO }));
    expect([runs.status, runs.message]).toEqual([
      403,
      expect.stringContaining("Resource not accessible by integration"),
    ]);
    const issue = await rejection(
      denied.rest.issues.listEvents({ owner: OWNER, repo: REPO, issue_number: 7 }),
    );
    expect(issue.status).toBe(403);
  });

  it("records a runs filter it does not implement", async () => {
    await client().rest.actions.listWorkflowRunsForRepo({ owner: OWNER, repo: REPO, status: "success" });
    expect(server.unexpected.map((u) => u.kind)).toEqual(["unknown-query-parameter"]);
  });
});

describe("GET /repos/{o}/{r}/activity", () => {
  it("lists a branch's activity newest first, paged by cursors in the Link header, as `activity` objects", async () => {
    for (let i = 0; i < 5; i++)
      server.addActivity({
        ref: "feature",
        after: i.toString(16).padStart(40, "0"),
        actor: i === 0 ? null : "bob",
      });
    server.addActivity({ ref: "main", after: SHA, actor: "alice", activity_type: "pr_merge" });
    const octokit = client();
    const params = { owner: OWNER, repo: REPO, ref: "refs/heads/feature", per_page: 2 };
    const first = await octokit.rest.repos.listActivities(params);
    expect(first.data.map((a) => a.after.slice(-1))).toEqual(["4", "3"]);
    expect(first.headers.link).toMatch(/[?&]after=[^&>]+.*rel="next"/);
    expect(first.data[0]).toMatchObject({
      ref: "refs/heads/feature",
      activity_type: "push",
      actor: { login: "bob" },
    });
    expect(Object.keys(first.data[0]!).sort()).toEqual(
      ["activity_type", "actor", "after", "before", "id", "node_id", "ref", "timestamp"].sort(),
    );
    const all = await octokit.paginate(octokit.rest.repos.listActivities, params);
    expect(all.map((a) => a.after.slice(-1))).toEqual(["4", "3", "2", "1", "0"]);
    expect(all.at(-1)!.actor).toBeNull();
    const short = await octokit.rest.repos.listActivities({
      ...params,
      ref: "main",
      activity_type: "pr_merge",
    });
    expect(short.data.map((a) => a.actor?.login)).toEqual(["alice"]);
    expect(server.unexpected).toEqual([]);
  });

  it("flags `page`, which this list does not take, and refuses a token without contents access", async () => {
    await client().request("GET /repos/{owner}/{repo}/activity", { owner: OWNER, repo: REPO, page: 2 });
    expect(server.unexpected.map((u) => u.kind)).toEqual(["unknown-query-parameter"]);
    server.unexpected.length = 0;
    server.addToken("ghs_no_contents", { login: "github-actions[bot]", permissions: { contents: "none" } });
    const denied = await rejection(
      client({ auth: "ghs_no_contents" }).rest.repos.listActivities({ owner: OWNER, repo: REPO }),
    );
    expect(denied.status).toBe(403);
  });
});

describe("POST /graphql (a pull request's edits)", () => {
  const QUERY = `query($owner: String!, $name: String!, $number: Int!) {
    repository(owner: $owner, name: $name) {
      pullRequest(number: $number) {
        title body mergedAt lastEditedAt
        timelineItems(first: 100, itemTypes: [RENAMED_TITLE_EVENT]) {
          totalCount
          nodes { __typename ... on RenamedTitleEvent { previousTitle currentTitle createdAt actor { login } } }
        }
      }
    }
  }`;
  const merged = {
    number: 8,
    state: "closed" as const,
    merged_at: "2026-01-06T12:40:00Z",
    title: "alice: tweak",
    body: "Serve-Gitops-Allow-Prune: 40",
    head: { sha: SHA, ref: "alice/tweak" },
    base: { ref: "main" },
  };

  it("shows the current title and description, when the description was last edited and every title change", async () => {
    server.setPull(merged);
    const octokit = client();
    const ask = (number = 8) => octokit.graphql(QUERY, { owner: OWNER, name: REPO, number });
    expect(await ask()).toEqual({
      repository: {
        pullRequest: {
          title: "alice: tweak",
          body: "Serve-Gitops-Allow-Prune: 40",
          mergedAt: "2026-01-06T12:40:00Z",
          lastEditedAt: null,
          timelineItems: { totalCount: 0, nodes: [] },
        },
      },
    });
    // The author edits the merged pull request: both edits show; only the description's moves lastEditedAt.
    server.editPull(8, { body: "Tidy up.", actor: "alice", at: "2026-01-06T12:41:00Z" });
    server.editPull(8, { title: "alice: tidy", actor: "alice", at: "2026-01-06T12:42:00Z" });
    expect(await ask()).toEqual({
      repository: {
        pullRequest: {
          title: "alice: tidy",
          body: "Tidy up.",
          mergedAt: "2026-01-06T12:40:00Z",
          lastEditedAt: "2026-01-06T12:41:00Z",
          timelineItems: {
            totalCount: 1,
            nodes: [
              {
                __typename: "RenamedTitleEvent",
                previousTitle: "alice: tweak",
                currentTitle: "alice: tidy",
                createdAt: "2026-01-06T12:42:00Z",
                actor: { login: "alice" },
              },
            ],
          },
        },
      },
    });
    const pull = await octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: 8 });
    expect([pull.data.title, pull.data.body]).toEqual(["alice: tidy", "Tidy up."]);
    const events = await octokit.rest.issues.listEvents({ owner: OWNER, repo: REPO, issue_number: 8 });
    expect(events.data).toMatchObject([
      { event: "renamed", actor: { login: "alice" }, rename: { from: "alice: tweak", to: "alice: tidy" } },
    ]);
    expect(server.requests.find((r) => r.path === "/graphql")?.body).toEqual({
      query: QUERY,
      variables: { owner: OWNER, name: REPO, number: 8 },
    });
    expect(server.unexpected).toEqual([]);
  });

  it("answers a missing pull request with null and GitHub's NOT_FOUND error, which octokit throws", async () => {
    const error = (await client()
      .graphql(QUERY, { owner: OWNER, name: REPO, number: 9 })
      .catch((e: unknown) => e)) as { name: string; errors: unknown; data: unknown };
    expect(error.name).toBe("GraphqlResponseError");
    expect(error.data).toEqual({ repository: { pullRequest: null } });
    expect(error.errors).toEqual([
      {
        type: "NOT_FOUND",
        path: ["repository", "pullRequest"],
        locations: [{ line: 3, column: 7 }],
        message: "Could not resolve to a PullRequest with the number of 9.",
      },
    ]);
    expect(server.unexpected).toEqual([]);
  });

  it("refuses, as GitHub does, an unknown field, a connection without first/last or over 100, a missing variable", async () => {
    server.setPull(merged);
    const octokit = client();
    const messages: string[] = [];
    for (const query of [
      'query { repository(owner: "acme", name: "serving") { pullRequest(number: 8) { lastEdited } } }',
      '{ repository(owner: "acme", name: "serving") { pullRequest(number: 8) { timelineItems(itemTypes: [RENAMED_TITLE_EVENT]) { totalCount } } } }',
      '{ repository(owner: "acme", name: "serving") { pullRequest(number: 8) { timelineItems(first: 101, itemTypes: [RENAMED_TITLE_EVENT]) { totalCount } } } }',
      'query($n: Int!) { repository(owner: "acme", name: "serving") { pullRequest(number: $n) { title } } }',
    ]) {
      const error = (await octokit.graphql(query).catch((e: unknown) => e)) as {
        errors: { message: string }[];
      };
      messages.push(error.errors[0]!.message);
    }
    expect(messages).toEqual([
      "Field 'lastEdited' doesn't exist on type 'PullRequest'",
      "You must provide a `first` or `last` value to properly paginate the `timelineItems` connection.",
      "Requesting 101 records on the `timelineItems` connection exceeds the `first` limit of 100 records.",
      "Variable $n of type Int! was provided invalid value",
    ]);
    expect(server.unexpected.map((u) => u.path)).toEqual(Array(4).fill("/graphql"));
    server.unexpected.length = 0;
    const refused = await rejection(
      new Octokit(testOctokitOptions({ baseUrl: server.url, auth: "ghs_nobody" })).graphql(QUERY),
    );
    expect(refused.status).toBe(401);
  });
});
