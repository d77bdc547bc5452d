import type { components } from "@octokit/openapi-types";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import {
  startGitHubApiServer,
  testOctokitOptions,
  type GitHubApiServer,
} from "../../../generator/testkit/github-api-server";
import { isGitHubAuthFailure, isTransient } from "../errors";
import { silentLogger } from "../log";
import { commentMarker } from "../report/comment";
import { createOctokit } from "./octokit";
import { GitHubReporter, toGitHubError } from "./github-reporter";

const TOKEN = "ghs_installation_token";
const SHA = "a".repeat(40);
let github: GitHubApiServer | undefined;
afterEach(async () => {
  if (!github) return;
  expect(github.unexpected).toEqual([]);
  await github.close();
  github = undefined;
});

async function reporter(login = "serve-gitops[bot]") {
  const server = await startGitHubApiServer({ tokens: { [TOKEN]: { login } } });
  github = server;
  const octokit = createOctokit({
    baseUrl: server.url,
    token: TOKEN,
    log: silentLogger(),
    tuning: testOctokitOptions({ msPerSecond: 2 }),
  });
  return { r: new GitHubReporter(octokit, "acme/models"), github: server };
}

describe("the GitHub reporter", () => {
  it("pins GitHub's schemas: a commit's pull requests do not say who merged them, the pull request does", () => {
    // GET .../commits/{sha}/pulls answers pull-request-simple[]; GET .../pulls/{n} a pull-request.
    expectTypeOf<components["schemas"]["pull-request-simple"]>().not.toHaveProperty("merged_by");
    expectTypeOf<components["schemas"]["pull-request-simple"]>().toHaveProperty("merge_commit_sha");
    expectTypeOf<components["schemas"]["pull-request"]>().toHaveProperty("merged_by");
    expectTypeOf<components["schemas"]["pull-request"]>().toHaveProperty("commits");
  });

  it("finds the pull request merged as a commit, who merged it (GET pull) and its own commits' messages", async () => {
    const { r, github } = await reporter();
    const merged = {
      state: "closed" as const,
      merged_at: "2026-01-06T12:40:00Z",
      head: { sha: "b".repeat(40), ref: "alice/x" },
      base: { ref: "main" },
      merged_by: { login: "platform-admin" },
      commits: 2,
      title: "alice: tweak",
    };
    github.setCommitPulls(SHA, [
      // A pull request that only contains the commit (e.g. an open one built on it) is not its merge.
      { number: 3, head: { sha: SHA, ref: "other" }, base: { ref: "main" } },
      { number: 8, merge_commit_sha: SHA, ...merged },
    ]);
    github.setPullCommits(8, [
      { sha: "c".repeat(40), message: "alice: x" },
      { sha: "b".repeat(40), message: "alice: y\n\nServe-Gitops-Allow-Prune: 9" },
    ]);
    // Edited after the merge: the title and description GitHub shows now are not those the merge dialog showed.
    github.editPull(8, {
      title: "alice: tweak x",
      body: "Tidy.",
      actor: "alice",
      at: "2026-01-06T12:41:00Z",
    });
    expect(await r.mergedAs(SHA)).toEqual({
      number: 8,
      base_ref: "main",
      merged_by: "platform-admin",
      title: "alice: tweak x",
      body: "Tidy.",
      messages: ["alice: x", "alice: y\n\nServe-Gitops-Allow-Prune: 9"],
      commits: 2,
      merged_at: "2026-01-06T12:40:00Z",
      body_edited_at: "2026-01-06T12:41:00Z",
      renamed: [{ from: "alice: tweak", to: "alice: tweak x" }],
      renames: 1,
    });
    expect(github.requests.map((q) => q.path)).toEqual([
      `/repos/acme/models/commits/${SHA}/pulls`,
      "/repos/acme/models/pulls/8",
      "/repos/acme/models/pulls/8/commits",
      "/graphql",
    ]);
    expect(await r.mergedAs("d".repeat(40))).toBeUndefined();
  });

  it("fails, for the caller to retry, when GitHub's GraphQL API cannot say how the pull request was edited", async () => {
    const { r, github } = await reporter();
    github.setCommitPulls(SHA, [
      {
        number: 8,
        state: "closed",
        merged_at: "2026-01-06T12:40:00Z",
        merge_commit_sha: SHA,
        head: { sha: "b".repeat(40), ref: "alice/x" },
        base: { ref: "main" },
        merged_by: { login: "platform-admin" },
      },
    ]);
    github.failNext({ status: 502, route: /^\/graphql$/, count: 4 });
    const error = await r.mergedAs(SHA).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "GitHubError", kind: "transient" });
    expect((error as Error).message).toMatch(/^GitHub GraphQL pull request edits failed \(502\)/);
  });

  it("takes a commit for a pull request's merge only when GitHub says the pull request was merged as that commit", async () => {
    const { r, github } = await reporter();
    github.setCommitPulls(SHA, [
      // Merged, but as another commit: SHA is one of its own commits (a fast-forward or rebase brought it in).
      {
        number: 9,
        state: "closed",
        merged_at: "2026-01-06T12:40:00Z",
        merge_commit_sha: "e".repeat(40),
        head: { sha: SHA, ref: "alice/y" },
        base: { ref: "main" },
        merged_by: { login: "platform-admin" },
      },
      // Closed without a merge: its merge_commit_sha was only GitHub's test merge.
      {
        number: 10,
        state: "closed",
        merged_at: null,
        merge_commit_sha: SHA,
        head: { sha: "f".repeat(40), ref: "alice/z" },
        base: { ref: "main" },
      },
    ]);
    expect(await r.mergedAs(SHA)).toBeUndefined();
    expect(github.requests.map((q) => q.path)).toEqual([`/repos/acme/models/commits/${SHA}/pulls`]);
  });

  it("takes only its own login's comment that starts with the marker for its own, never another bot's or a person's", async () => {
    const { r, github } = await reporter();
    const marker = commentMarker("h1");
    github.setPull({ number: 5, head: { sha: SHA, ref: "x" }, base: { ref: "main" } });
    github.addComment("acme/models", 5, { login: "mallory", body: `${marker}\nclick [here](https://evil)` });
    // A model owner's workflow on her branch posts as github-actions[bot]: a bot, but not the agent.
    github.addComment("acme/models", 5, { login: "github-actions[bot]", body: `${marker}\nall RUNNING` });
    github.addComment("acme/models", 5, { login: "serve-gitops[bot]", body: `see ${marker}` });
    expect(await r.findComment(5, marker, "serve-gitops[bot]")).toBeUndefined();
    // The POST's answer names the author: the token's own login (an App installation token cannot GET /user).
    const own = await r.createComment(5, `${marker}\n### serve-gitops`);
    expect(own.login).toBe("serve-gitops[bot]");
    expect(await r.findComment(5, marker, "Serve-Gitops[bot]")).toBe(own.id);
    expect(await r.findComment(5, marker, "github-actions[bot]")).not.toBe(own.id);
  });
});

describe("GitHub's failures", () => {
  const failure = (status: number | undefined, message = "x", headers: Record<string, string> = {}) =>
    toGitHubError("POST statuses", Object.assign(new Error(message), { status, response: { headers } }));

  it("are transient when retrying can help: 5xx, 408, rate limits, no answer", () => {
    for (const status of [500, 502, 503, 408, 429, undefined])
      expect(isTransient(failure(status)), String(status)).toBe(true);
    const limited = failure(403, "API rate limit exceeded", { "x-ratelimit-remaining": "0" });
    expect(limited).toMatchObject({ kind: "transient", status: 403 });
    expect(limited.retryAt).toBeGreaterThan(0);
    // A rate-limited 403 is not the token's fault.
    expect(isGitHubAuthFailure(limited)).toBe(false);
    const aborted = toGitHubError(
      "POST statuses",
      Object.assign(new Error("aborted"), { name: "AbortError", status: 500 }),
    );
    expect(aborted).toMatchObject({ kind: "transient", status: undefined });
  });

  it("are terminal otherwise, and a refused token says so", () => {
    for (const status of [400, 404, 422]) {
      expect(isTransient(failure(status)), String(status)).toBe(false);
      expect(isGitHubAuthFailure(failure(status))).toBe(false);
    }
    for (const status of [401, 403]) {
      const refused = failure(status, "Bad credentials");
      expect(refused.kind).toBe("terminal");
      expect(isGitHubAuthFailure(refused)).toBe(true);
      expect(refused.message).toContain("check the agent's GitHub token");
    }
    // Anything that is not the agent's own classified error is not taken for a passing fault.
    expect(isTransient(new Error("unexpected"))).toBe(false);
  });
});
