import { describe, expect, it } from "vitest";
import {
  git,
  pullRequestPayload,
  pushToFeature,
  scaleQwen,
  TOKENS,
  useGitHubServer,
  write,
} from "./testing/harness";

const gh = useGitHubServer({
  [TOKENS.workflow]: { login: "github-actions[bot]" },
  // A fork PR's GITHUB_TOKEN: reads work, every write is 403 "Resource not accessible by integration".
  [TOKENS.fork]: { login: "github-actions[bot]", readOnly: true },
  // A machine user's personal access token: its comments are a User's, and GET /user names it.
  [TOKENS.pat]: { login: "serve-gitops-bot" },
});

describe("the sticky plan comment", () => {
  it("is updated in place on the second push, never posted twice", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    // Someone else's comment on the same PR is left alone.
    gh.server.addComment("acme/serving", 11, { login: "bob", body: "LGTM once the plan is green" });
    const first = await gh.pullRequest(fx, { author: "alice", number: 11 });
    expect(first.code).toBe(0);
    pushToFeature(fx, scaleQwen(3));
    const second = await gh.pullRequest(fx, { author: "alice", number: 11 });
    expect(second.code).toBe(0);

    const comments = gh.server.comments(11);
    expect(comments).toHaveLength(2);
    expect(comments[0]!.body).toBe("LGTM once the plan is green");
    expect(comments[1]!.body).toContain(`plan for ${fx.headSha.slice(0, 7)}`);
    expect(comments[1]!.body).toMatch(/num_replicas 1 -\\?> 3/);
    // Before each write the PR's current head is read: a run for a head the PR has left writes nothing.
    expect(gh.calls()).toEqual([
      "GET /repos/acme/serving/issues/11/comments 200",
      "GET /repos/acme/serving/pulls/11 200",
      "POST /repos/acme/serving/issues/11/comments 201",
      "GET /repos/acme/serving/issues/11/comments 200",
      "GET /repos/acme/serving/pulls/11 200",
      `PATCH /repos/acme/serving/issues/comments/${comments[1]!.id} 200`,
    ]);
    // A third run with nothing new writes nothing: each write notifies and costs rate limit.
    await gh.pullRequest(fx, { author: "alice", number: 11 });
    expect(gh.calls().at(-1)).toBe("GET /repos/acme/serving/issues/11/comments 200");
  });

  it("degrades to the job summary on a fork PR's read-only token and still passes on the merits", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    const run = await gh.pullRequest(fx, { author: "alice", number: 12, fork: true }, { token: TOKENS.fork });
    expect(run.code).toBe(0);
    expect(run.outputs.ok).toBe("true");
    expect(gh.calls()).toEqual([
      "GET /repos/acme/serving/issues/12/comments 200",
      "GET /repos/acme/serving/pulls/12 200",
      "POST /repos/acme/serving/issues/12/comments 403",
    ]);
    expect(run.annotations.filter((a) => a.level === "warning").map((a) => a.message)).toEqual([
      "could not post the plan comment: the token cannot write to this pull request (a fork's read-only token, or no pull-requests: write permission); the plan is in the job summary",
    ]);
    expect(run.summary).toContain("The plan comment could not be posted");
    expect(run.summary).toMatch(/num_replicas 1 -\\?> 2/);
  });

  it("skips the comment, without failing, when a fork PR's github-token secret arrives empty", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    const run = await gh.pullRequest(fx, { author: "alice", number: 17, fork: true }, { token: "" });
    expect(run.code).toBe(0);
    expect(gh.server.requests).toEqual([]);
    expect(run.summary).toContain("github-token is empty (a fork's pull request gets no secrets)");
    expect(run.summary).toMatch(/num_replicas 1 -\\?> 2/);
  });

  it("still fails a fork PR on the merits", async () => {
    const fx = gh.fixture({
      head: (dir) =>
        write(dir, "models/alice/qwen-0.5b.yaml", "model_id: qwen-0.5b\nmodel_source: /etc/passwd\n"),
    });
    const run = await gh.pullRequest(fx, { author: "alice", number: 13, fork: true }, { token: TOKENS.fork });
    expect(run.code).toBe(1);
    expect(run.annotations.some((a) => a.properties.title === "E403 model-source-outside-roots")).toBe(true);
  });

  it("retries a rate-limited comment through octokit's throttling plugin", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    gh.server.rateLimitNext({
      kind: "secondary",
      method: "POST",
      route: /\/issues\/14\/comments$/,
      retryAfterSeconds: 1,
    });
    gh.server.rateLimitNext({
      kind: "429",
      method: "GET",
      route: /\/issues\/14\/comments$/,
      retryAfterSeconds: 1,
    });
    const run = await gh.pullRequest(fx, { author: "alice", number: 14 });
    expect(run.code).toBe(0);
    expect(gh.calls()).toEqual([
      "GET /repos/acme/serving/issues/14/comments 429",
      "GET /repos/acme/serving/issues/14/comments 200",
      "GET /repos/acme/serving/pulls/14 200",
      "POST /repos/acme/serving/issues/14/comments 403",
      "POST /repos/acme/serving/issues/14/comments 201",
    ]);
    expect(gh.server.comments(14)).toHaveLength(1);
    // Both limits are waited out by plugin-throttling, as long as retry-after says (plugin-retry is told to
    // leave 429s alone: it would retry after a fixed delay), and reported through onSecondaryRateLimit.
    const warnings = run.annotations.filter((a) => a.level === "warning").map((a) => a.message);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^GitHub secondary rate limit on GET \S+\/issues\/14\/comments\S*: retrying in 1 s$/,
    );
    expect(warnings[1]).toBe(
      "GitHub secondary rate limit on POST /repos/{owner}/{repo}/issues/{issue_number}/comments: retrying in 1 s",
    );
  });

  it("never takes a person's comment that quotes the marker for its own", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    const quoted = "<!-- serve-gitops:plan -->\nThe bot finds its comment by the marker above.";
    gh.server.addComment("acme/serving", 18, { login: "mallory", body: quoted });
    const run = await gh.pullRequest(fx, { author: "alice", number: 18 });
    expect(run.code).toBe(0);
    const comments = gh.server.comments(18);
    expect(comments.map((c) => c.user.login)).toEqual(["mallory", "github-actions[bot]"]);
    expect(comments[0]!.body).toBe(quoted);
    expect(comments[1]!.body).toMatch(/num_replicas 1 -\\?> 2/);
    // The workflow token has no user (GET /user is its 403), so only a bot's comment can be its own: that
    // 403 is expected, not worth a warning.
    expect(run.annotations.filter((a) => a.level === "warning")).toEqual([]);
  });

  it("finds its comment on a later page of a long conversation and edits it there", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    for (let i = 0; i < 100; i++)
      gh.server.addComment("acme/serving", 25, { login: "bob", body: `review note ${i}` });
    await gh.pullRequest(fx, { author: "alice", number: 25 });
    pushToFeature(fx, scaleQwen(3));
    gh.server.requests.length = 0;
    const second = await gh.pullRequest(fx, { author: "alice", number: 25 });
    expect(second.code).toBe(0);
    const comments = gh.server.comments(25);
    expect(comments).toHaveLength(101);
    expect(comments[100]!.body).toMatch(/num_replicas 1 -\\?> 3/);
    expect(gh.server.requests.map((r) => `${r.method} ${r.query.page ?? ""}`)).toEqual([
      "GET ",
      "GET 2",
      "GET ",
      "PATCH ",
    ]);
  });

  it("posts the plan again when a person deleted it between runs", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    await gh.pullRequest(fx, { author: "alice", number: 26 });
    expect(gh.server.deleteComment(gh.server.comments(26)[0]!.id)).toBe(true);
    pushToFeature(fx, scaleQwen(3));
    const second = await gh.pullRequest(fx, { author: "alice", number: 26 });
    expect(second.code).toBe(0);
    const comments = gh.server.comments(26);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toMatch(/num_replicas 1 -\\?> 3/);
  });

  it("posts the plan anew when a person deletes the comment after the check listed it", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    await gh.pullRequest(fx, { author: "alice", number: 27 });
    const id = gh.server.comments(27)[0]!.id;
    pushToFeature(fx, scaleQwen(3));
    gh.server.requests.length = 0;
    // Between the check's list of comments and its PATCH (it reads the PR in between).
    gh.server.beforeNext({ method: "GET", route: /\/pulls\/27$/ }, () => gh.server.deleteComment(id));
    const second = await gh.pullRequest(fx, { author: "alice", number: 27 });
    expect(second.code).toBe(0);
    expect(gh.calls()).toEqual([
      "GET /repos/acme/serving/issues/27/comments 200",
      "GET /repos/acme/serving/pulls/27 200",
      `PATCH /repos/acme/serving/issues/comments/${id} 404`,
      "POST /repos/acme/serving/issues/27/comments 201",
    ]);
    const comments = gh.server.comments(27);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toMatch(/num_replicas 1 -\\?> 3/);
    expect(second.annotations.filter((a) => a.level === "warning")).toEqual([]);
  });

  describe("with a machine user's personal access token as github-token", () => {
    it("edits its own comment in place on the next push, asking GET /user only when a user's marker comment is there", async () => {
      const fx = gh.fixture({ head: scaleQwen(2) });
      const token = TOKENS.pat;
      const first = await gh.pullRequest(fx, { author: "alice", number: 22 }, { token });
      expect(first.code).toBe(0);
      pushToFeature(fx, scaleQwen(3));
      const second = await gh.pullRequest(fx, { author: "alice", number: 22 }, { token });
      expect(second.code).toBe(0);

      const comments = gh.server.comments(22);
      expect(comments.map((c) => c.user.login)).toEqual(["serve-gitops-bot"]);
      expect(comments[0]!.body).toMatch(/num_replicas 1 -\\?> 3/);
      const id = comments[0]!.id;
      expect(gh.calls()).toEqual([
        // No comment starts with the marker: nothing to tell apart, so no GET /user.
        "GET /repos/acme/serving/issues/22/comments 200",
        "GET /repos/acme/serving/pulls/22 200",
        "POST /repos/acme/serving/issues/22/comments 201",
        // A User's comment starts with the marker: it is the plan comment only if it is the token's own.
        "GET /repos/acme/serving/issues/22/comments 200",
        "GET /user 200",
        "GET /repos/acme/serving/pulls/22 200",
        `PATCH /repos/acme/serving/issues/comments/${id} 200`,
      ]);
      // Nothing new: nothing written.
      await gh.pullRequest(fx, { author: "alice", number: 22 }, { token });
      expect(gh.calls().slice(-2)).toEqual([
        "GET /repos/acme/serving/issues/22/comments 200",
        "GET /user 200",
      ]);
      expect(gh.server.comments(22)).toHaveLength(1);
    });

    it("still never takes a person's comment that quotes the marker for its own", async () => {
      const fx = gh.fixture({ head: scaleQwen(2) });
      const quoted = "<!-- serve-gitops:plan -->\nThe bot finds its comment by the marker above.";
      gh.server.addComment("acme/serving", 23, { login: "mallory", body: quoted });
      const token = TOKENS.pat;
      await gh.pullRequest(fx, { author: "alice", number: 23 }, { token });
      pushToFeature(fx, scaleQwen(3));
      const second = await gh.pullRequest(fx, { author: "alice", number: 23 }, { token });
      expect(second.code).toBe(0);
      const comments = gh.server.comments(23);
      expect(comments.map((c) => c.user.login)).toEqual(["mallory", "serve-gitops-bot"]);
      expect(comments[0]!.body).toBe(quoted);
      expect(comments[1]!.body).toMatch(/num_replicas 1 -\\?> 3/);
    });

    it("posts no second comment, and still passes, when GET /user fails", async () => {
      const fx = gh.fixture({ head: scaleQwen(2) });
      const token = TOKENS.pat;
      await gh.pullRequest(fx, { author: "alice", number: 24 }, { token });
      pushToFeature(fx, scaleQwen(3));
      // plugin-retry's three retries of a 5xx, all failing too.
      gh.server.failNext({ status: 502, method: "GET", route: /^\/user$/, count: 4 });
      const second = await gh.pullRequest(fx, { author: "alice", number: 24 }, { token });
      expect(second.code).toBe(0);
      expect(second.outputs.ok).toBe("true");
      expect(gh.server.comments(24)).toHaveLength(1);
      expect(gh.calls().filter((c) => /^(POST|PATCH) /.test(c))).toHaveLength(1);
      expect(second.annotations.filter((a) => a.level === "warning").map((a) => a.message)).toEqual([
        "could not post the plan comment: GET /user failed (HTTP 502), so the comments of github-token's user cannot be told from a person's; the plan is in the job summary",
      ]);
      expect(second.summary).toMatch(/num_replicas 1 -\\?> 3/);
    });
  });

  it("leaves the comment alone when a re-run reports on a head the PR has left", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    const older = pullRequestPayload(fx, { author: "alice", number: 19 });
    const olderMerge = fx.mergeSha;
    await gh.run(fx, { event: "pull_request", payload: older });
    pushToFeature(fx, scaleQwen(3));
    await gh.pullRequest(fx, { author: "alice", number: 19 });
    const newer = gh.server.comments(19)[0]!.body;
    expect(newer).toMatch(/num_replicas 1 -\\?> 3/);
    // "Re-run jobs" on the first workflow run: its payload and checkout, while the PR is at the newer head.
    git(fx, fx.workspace, ["checkout", "-q", "--detach", olderMerge]);
    gh.server.requests.length = 0;
    const rerun = await gh.run(fx, {
      event: "pull_request",
      payload: older,
      sha: olderMerge,
      registerPull: false,
    });
    expect(rerun.code).toBe(0);
    expect(gh.server.comments(19)[0]!.body).toBe(newer);
    expect(gh.calls()).toEqual([
      "GET /repos/acme/serving/issues/19/comments 200",
      "GET /repos/acme/serving/pulls/19 200",
    ]);
    expect(rerun.summary).toContain(`the pull request's head is now ${fx.headSha.slice(0, 7)}`);
  });

  it("does not let octokit repeat a comment POST that failed with a 5xx: it looks first, then posts once more", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    gh.server.failNext({ status: 502, method: "POST", route: /\/issues\/20\/comments$/ });
    const run = await gh.pullRequest(fx, { author: "alice", number: 20 });
    expect(run.code).toBe(0);
    expect(gh.calls()).toEqual([
      "GET /repos/acme/serving/issues/20/comments 200",
      "GET /repos/acme/serving/pulls/20 200",
      "POST /repos/acme/serving/issues/20/comments 502",
      "GET /repos/acme/serving/issues/20/comments 200",
      "POST /repos/acme/serving/issues/20/comments 201",
    ]);
    expect(gh.server.comments(20)).toHaveLength(1);
  });

  it("says a used-up rate limit is one, not a missing permission", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    gh.server.rateLimitNext({ kind: "primary", count: 10, retryAfterSeconds: 3000 });
    const run = await gh.pullRequest(fx, { author: "alice", number: 21 });
    expect(run.code).toBe(0);
    const warning = run.annotations.filter((a) => a.level === "warning").at(-1)!;
    expect(warning.message).toMatch(
      /^could not post the plan comment: the token's GitHub API rate limit is used up until \d{4}-\d\d-\d\dT[\d:.]+Z \(HTTP 403\); the plan is in the job summary$/,
    );
  });

  it("makes no API call with comment: false", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    const run = await gh.pullRequest(fx, { author: "alice", number: 16 }, { inputs: { comment: "false" } });
    expect(run.code).toBe(0);
    expect(gh.server.requests).toEqual([]);
    expect(run.summary).toMatch(/num_replicas 1 -\\?> 2/);
  });

  it("keeps a token the API refuses out of every log, summary and output", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    // runAction asserts no token anywhere but ::add-mask::; here the API answers 401 Bad credentials too.
    const run = await gh.pullRequest(fx, { author: "alice", number: 15 }, { token: TOKENS.unknown });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`::add-mask::${TOKENS.unknown}`);
    expect(run.annotations.find((a) => a.level === "warning")!.message).toContain(
      "HTTP 401: Bad credentials",
    );
  });
});
