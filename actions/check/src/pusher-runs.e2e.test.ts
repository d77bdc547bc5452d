// Who pushed the head on a run that is not a push: the workflow runs of the head (push-runs.ts), never a comment,
// read by the committed bundle through the real octokit client from the strict API test server.
import { describe, expect, it } from "vitest";
import {
  pullRequestPayload,
  read,
  renderInto,
  TOKENS,
  useGitHubServer,
  write,
  type ActionRun,
  type Fixture,
} from "./testing/harness";

const gh = useGitHubServer({
  [TOKENS.workflow]: { login: "github-actions[bot]" },
  // A job whose `permissions:` lack `actions: read`, and one that lacks `issues: read`.
  [TOKENS.app]: { login: "github-actions[bot]", permissions: { actions: "none" } },
  [TOKENS.fork]: { login: "github-actions[bot]", permissions: { issues: "none" } },
});

const errors = (run: ActionRun) =>
  run.annotations.filter((a) => a.level === "error" && a.properties.file !== undefined);
const runsRequests = () => gh.server.requests.filter((r) => r.path === "/repos/acme/serving/actions/runs");

const editAlice = (dir: string) => {
  write(
    dir,
    "models/alice/qwen-0.5b.yaml",
    read(dir, "models/alice/qwen-0.5b.yaml").replace(/num_replicas: \d+/, "num_replicas: 2"),
  );
  renderInto(dir);
};

// Each test its own PR: fixtures are alike to the SHA.
let number = 60;
const event = (f: Fixture, action: string, sender: string) => {
  const payload = pullRequestPayload(f, { author: "alice", sender, number }) as { action: string };
  payload.action = action;
  return payload;
};
describe("on a run that is not a push, who pushed the head is read from the workflow runs", () => {
  it("passes the author's edit after the author's own push, and says where the pusher came from", async () => {
    const fx = gh.fixture({ head: editAlice });
    const payload = event(fx, "synchronize", "alice");
    expect((await gh.run(fx, { event: "pull_request", payload })).code).toBe(0);
    const run = await gh.run(fx, {
      event: "pull_request",
      payload: event(fx, "edited", "alice"),
    });
    expect(errors(run)).toEqual([]);
    expect(run.code).toBe(0);
    const line = `Who pushed ${fx.headSha.slice(0, 7)}: @alice, from the workflow run of the push, run #`;
    expect(run.stdout).toContain(line);
    expect(run.summary).toContain(line);
    expect(runsRequests().map((r) => r.query)).toEqual([
      { head_sha: fx.headSha, event: "pull_request", exclude_pull_requests: "true", per_page: "100" },
    ]);
  });

  it("judges the push's actor, not who re-ran that run nor who edited the PR", async () => {
    number++;
    const fx = gh.fixture({ head: editAlice });
    await gh.run(fx, {
      event: "pull_request",
      payload: event(fx, "synchronize", "mallory"),
      // alice re-ran mallory's run: GitHub keeps actor (mallory) and names alice as triggering_actor.
      run: { triggering_actor: "alice", run_attempt: 2 },
    });
    const run = await gh.run(fx, {
      event: "pull_request",
      payload: event(fx, "edited", "alice"),
    });
    expect(run.code).toBe(1);
    expect(errors(run)[0]!.message).toContain("@mallory (who pushed) is not listed in models/users.yaml");
  });

  it("fails closed when the earliest run may be a reopening's: a commit pushed while the PR was closed", async () => {
    number++;
    const fx = gh.fixture({ head: editAlice });
    // mallory pushed while the PR was closed (no synchronize run); alice reopened it, then edited the title.
    gh.server.addIssueEvent(number, {
      event: "reopened",
      actor: "alice",
      created_at: "2026-03-01T00:00:00Z",
    });
    const reopened = await gh.run(fx, {
      event: "pull_request",
      payload: event(fx, "reopened", "alice"),
    });
    expect(reopened.code).toBe(1);
    const run = await gh.run(fx, {
      event: "pull_request",
      payload: event(fx, "edited", "alice"),
    });
    expect(run.code).toBe(1);
    expect(errors(run)[0]!.message).toMatch(
      /the workflow runs of the head do not tell either: the pull request was reopened \(2026-03-01T00:00:00Z\) before the earliest run of the check for the head, run #\d+ \(id \d+\) by @alice, started/,
    );
  });

  it("fails closed, naming `actions: read`, when the token may not list the runs", async () => {
    number++;
    const fx = gh.fixture({ head: editAlice });
    const run = await gh.run(fx, {
      event: "pull_request",
      payload: event(fx, "edited", "alice"),
      token: TOKENS.app,
    });
    expect(run.code).toBe(1);
    expect(runsRequests().map((r) => r.status)).toEqual([403]);
    expect(errors(run)[0]!.message).toContain(
      "the workflow runs could not be read (HTTP 403): the token lacks the `actions: read` permission — add `actions: read` to the job's `permissions:`",
    );
  });

  it("fails closed, naming `issues: read`, when the token may not list the PR's events", async () => {
    number++;
    const fx = gh.fixture({ head: editAlice });
    const payload = event(fx, "synchronize", "alice");
    await gh.run(fx, { event: "pull_request", payload });
    const run = await gh.run(fx, {
      event: "pull_request",
      payload: event(fx, "edited", "alice"),
      token: TOKENS.fork,
    });
    expect(run.code).toBe(1);
    expect(errors(run)[0]!.message).toContain(
      "the pull request's events could not be read (HTTP 403): the token lacks the `issues: read` permission",
    );
  });

  it("rides out a 5xx on the runs list with the client's retries", async () => {
    number++;
    const fx = gh.fixture({ head: editAlice });
    const payload = event(fx, "synchronize", "alice");
    await gh.run(fx, { event: "pull_request", payload });
    gh.server.failNext({ status: 502, route: /\/actions\/runs$/ });
    const run = await gh.run(fx, {
      event: "pull_request",
      payload: event(fx, "edited", "alice"),
    });
    expect(run.code).toBe(0);
    expect(runsRequests().map((r) => r.status)).toEqual([502, 200]);
  });

  it("is read even when the check's own plan comment is there, and is not asked on a person's push", async () => {
    number++;
    const fx = gh.fixture({ head: editAlice });
    const pushed = await gh.run(fx, { event: "pull_request", payload: event(fx, "synchronize", "alice") });
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain(
      `Who pushed ${fx.headSha.slice(0, 7)}: @alice, the sender of this \`synchronize\` event.`,
    );
    expect(runsRequests()).toEqual([]);
    expect(gh.server.comments(number)).toHaveLength(1);
    const run = await gh.run(fx, { event: "pull_request", payload: event(fx, "edited", "alice") });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `Who pushed ${fx.headSha.slice(0, 7)}: @alice, from the workflow run of the push, run #`,
    );
    expect(runsRequests()).toHaveLength(1);
    expect(gh.server.requests.some((r) => r.path.endsWith(`/issues/${number}/events`))).toBe(true);
  });
});
