import { describe, expect, it } from "vitest";
import { parseContext, type CheckContext } from "./context";

const BASE = "a".repeat(40);
const HEAD = "b".repeat(40);
const ENV = {
  GITHUB_EVENT_NAME: "pull_request",
  GITHUB_REPOSITORY: "acme/serving",
  GITHUB_WORKSPACE: "/w",
  GITHUB_RUN_ID: "99",
  "INPUT_GITHUB-TOKEN": "t0ken-value",
  "INPUT_WORKFLOW-TOKEN": "t0ken-value",
};
const pr = (head: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    repository: { full_name: "acme/serving", default_branch: "main" },
    sender: { login: "alice", type: "User" },
    ...extra,
    pull_request: {
      number: 5,
      user: { login: "alice" },
      base: { sha: BASE, ref: "main", repo: { full_name: "acme/serving" } },
      head: { sha: HEAD, ref: "feature", repo: { full_name: "acme/serving" }, ...head },
    },
  });
const context = (env: Record<string, string>, payload?: string): CheckContext => {
  const result = parseContext(env, payload);
  if ("problems" in result) throw new Error(result.problems.join("; "));
  return result.context;
};

describe("parseContext", () => {
  it("reads a pull request: author, SHAs, branch and the run page", () => {
    const ctx = context(ENV, pr());
    expect(ctx).toMatchObject({
      mode: "pull_request",
      owner: "acme",
      repo: "serving",
      comment: true,
      commitRendered: false,
    });
    expect(ctx.pull).toEqual({
      number: 5,
      author: "alice",
      action: undefined,
      sender: { login: "alice", bot: false },
      baseSha: BASE,
      headSha: HEAD,
      baseRef: "main",
      defaultBranch: "main",
      headRef: "feature",
      fork: false,
    });
    expect(ctx.runUrl).toBe("https://github.com/acme/serving/actions/runs/99");
    // The run is found by this id among the head's workflow runs (push-runs.ts).
    expect(ctx.runId).toBe(99);
    expect(ctx.apiUrl).toBe("https://api.github.com");
  });

  it("tells a fork, and a deleted fork, from a branch of the repository", () => {
    expect(context(ENV, pr({ repo: { full_name: "mallory/serving" } })).pull!.fork).toBe(true);
    expect(context(ENV, pr({ repo: null })).pull!.fork).toBe(true);
  });

  it("defaults to push mode outside pull_request events and reads the base of a push or merge queue", () => {
    expect(context({ ...ENV, GITHUB_EVENT_NAME: "push" }, JSON.stringify({ before: BASE })).before).toBe(
      BASE,
    );
    expect(
      context({ ...ENV, GITHUB_EVENT_NAME: "push" }, JSON.stringify({ before: "0".repeat(40) })).before,
    ).toBeUndefined();
    const queue = context(
      { ...ENV, GITHUB_EVENT_NAME: "merge_group" },
      JSON.stringify({ merge_group: { base_sha: BASE, head_sha: HEAD } }),
    );
    expect(queue).toMatchObject({ mode: "push", before: BASE, pull: undefined });
  });

  it("refuses pull_request_target", () => {
    expect(parseContext({ ...ENV, GITHUB_EVENT_NAME: "pull_request_target" }, pr())).toEqual({
      problems: ["the check must not run on pull_request_target: trigger it with pull_request"],
    });
  });

  it("refuses another event carrying a pull request (a review) unless a mode is set", () => {
    const review = { ...ENV, GITHUB_EVENT_NAME: "pull_request_review" };
    expect(parseContext(review, pr())).toMatchObject({
      problems: [expect.stringMatching(/^on pull_request_review the check would judge no one's rights/)],
    });
    expect(parseContext({ ...review, INPUT_MODE: "push" }, pr())).toMatchObject({
      context: { mode: "push" },
    });
  });

  it("reports every bad input at once instead of guessing", () => {
    const result = parseContext(
      { ...ENV, "INPUT_GITHUB-TOKEN": "", INPUT_MODE: "pr", "INPUT_COMMIT-RENDERED": "yes" },
      pr(),
    );
    expect(result).toEqual({
      problems: [
        'input mode must be pull_request or push (got "pr")',
        'input commit-rendered must be true or false (got "yes")',
        "input github-token is empty: pass ${{ github.token }} or a GitHub App token (the plan comment needs it; comment: false does without)",
      ],
    });
  });

  it("needs a token only where the check calls GitHub", () => {
    const empty = { ...ENV, "INPUT_GITHUB-TOKEN": "" };
    // Push mode never calls the API; comment: false neither; a fork PR gets no secrets and degrades.
    expect(context({ ...empty, GITHUB_EVENT_NAME: "push" }, JSON.stringify({ before: BASE })).token).toBe("");
    expect(context({ ...empty, INPUT_COMMENT: "false" }, pr()).token).toBe("");
    expect(context(empty, pr({ repo: { full_name: "mallory/serving" } })).token).toBe("");
    expect(parseContext({ ...empty, "INPUT_COMMIT-RENDERED": "true", INPUT_COMMENT: "false" }, pr())).toEqual(
      {
        problems: [
          "input github-token is empty: pass ${{ github.token }} or a GitHub App token (commit-rendered pushes with it)",
        ],
      },
    );
  });

  it("reads the event's action and its sender, and tells a bot", () => {
    const ctx = context(ENV, pr({}, { action: "edited", sender: { login: "app[bot]", type: "Bot" } }));
    expect(ctx.pull).toMatchObject({ action: "edited", sender: { login: "app[bot]", bot: true } });
    expect(context(ENV, pr({}, { sender: undefined })).pull!.sender).toBeUndefined();
  });

  it("needs the repository's default branch: rights are read from it", () => {
    const result = parseContext(ENV, pr({}, { repository: { full_name: "acme/serving" } }));
    expect("problems" in result && result.problems[0]).toMatch(/repository\.default_branch/);
  });

  it("asks for a pull_request payload in pull_request mode", () => {
    const result = parseContext(
      { ...ENV, GITHUB_EVENT_NAME: "push", INPUT_MODE: "pull_request" },
      JSON.stringify({ before: BASE }),
    );
    expect("problems" in result && result.problems[0]).toMatch(
      /^mode pull_request needs a pull_request event payload/,
    );
  });
});
