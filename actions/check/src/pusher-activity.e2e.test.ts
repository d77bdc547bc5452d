// Who pushed the head on a run that is not a push of a same-repository PR: first the repository's activity
// log of the branch (push-activity.ts), which no one with write access can delete, then the workflow runs.
// Read by the committed bundle through the real octokit client from the strict API test server.
import { describe, expect, it } from "vitest";
import {
  edit,
  pullRequestPayload,
  read,
  renderInto,
  TOKENS,
  useGitHubServer,
  type ActionRun,
  type Fixture,
  write,
} from "./testing/harness";

const gh = useGitHubServer({
  [TOKENS.workflow]: { login: "github-actions[bot]" },
  // A token the activity log refuses (403 "Resource not accessible by integration").
  [TOKENS.app]: { login: "github-actions[bot]", permissions: { contents: "none" } },
});

const errors = (run: ActionRun) =>
  run.annotations.filter((a) => a.level === "error" && a.properties.file !== undefined);
const activityRequests = () => gh.server.requests.filter((r) => r.path === "/repos/acme/serving/activity");
const runsRequests = () => gh.server.requests.filter((r) => r.path === "/repos/acme/serving/actions/runs");

const editBob = (dir: string) => {
  edit(dir, "models/bob/qwen-7b.yaml", (text) => text.replace("max_num_seqs: 128", "max_num_seqs: 1"));
  renderInto(dir);
};

// bob's PR; each test its own number: fixtures are alike to the SHA.
let number = 80;
const event = (f: Fixture, action: string, sender: string, fork = false) => {
  const payload = pullRequestPayload(f, { author: "bob", sender, number, fork }) as { action: string };
  payload.action = action;
  return payload;
};
const pushed = (f: Fixture, actor: string, extra: { activity_type?: "push" | "force_push" } = {}) =>
  gh.server.addActivity({ ref: "feature", after: f.headSha, before: f.baseSha, actor, ...extra });

describe("on a run that is not a push, who pushed the head is read from the repository's activity log", () => {
  it("judges alice, who pushed into bob's PR, even after she deleted her push's workflow run", async () => {
    const fx = gh.fixture({ head: editBob });
    // alice pushes into bob's PR: her synchronize run fails on her; she then deletes it (never registered).
    pushed(fx, "alice");
    const own = await gh.run(fx, {
      event: "pull_request",
      payload: event(fx, "synchronize", "alice"),
      run: false,
    });
    expect(own.code).toBe(1);
    // bob edits the title: its run is now the earliest of the head, naming bob.
    const edited = await gh.run(fx, { event: "pull_request", payload: event(fx, "edited", "bob") });
    expect(edited.code).toBe(1);
    const again = await gh.run(fx, { event: "pull_request", payload: event(fx, "edited", "bob") });
    expect(again.code).toBe(1);
    expect(errors(again)[0]!.message).toContain("@alice (who pushed) may change only models/alice/");
    const line = `Who pushed ${fx.headSha.slice(0, 7)}: @alice, from the repository's activity log (push by @alice at `;
    expect(again.stdout).toContain(line);
    expect(again.summary).toContain(line);
    // The activity log told: the workflow runs, which would name bob, are not read.
    expect(runsRequests()).toEqual([]);
    expect(activityRequests().map((r) => r.query)).toEqual([
      { ref: "refs/heads/feature", per_page: "100" },
      { ref: "refs/heads/feature", per_page: "100" },
    ]);
  });

  it("passes when everyone the log names is entitled, and says the pusher came from the activity log", async () => {
    number++;
    const fx = gh.fixture({ head: editBob });
    pushed(fx, "bob");
    pushed(fx, "bob-bot", { activity_type: "force_push" });
    const run = await gh.run(fx, { event: "pull_request", payload: event(fx, "edited", "bob") });
    expect(errors(run)).toEqual([]);
    expect(run.code).toBe(0);
    const line = `Who pushed ${fx.headSha.slice(0, 7)}: @bob-bot and @bob, from the repository's activity log (force_push by @bob-bot at `;
    expect(run.stdout).toContain(line);
    expect(run.summary).toContain(line);
    expect(runsRequests()).toEqual([]);
  });

  it("reads who pushed with the workflow's own token when github-token is empty (comment: false)", async () => {
    number++;
    const fx = gh.fixture({ head: editBob });
    pushed(fx, "alice");
    const run = await gh.run(fx, {
      event: "pull_request",
      payload: event(fx, "edited", "bob"),
      token: "",
      inputs: { comment: "false" },
    });
    expect(run.code).toBe(1);
    expect(errors(run)[0]!.message).toContain("@alice (who pushed) may change only models/alice/");
    expect(activityRequests().length).toBeGreaterThan(0);
  });

  it("judges every pusher of the head: one who is not entitled fails the run", async () => {
    number++;
    const fx = gh.fixture({ head: editBob });
    pushed(fx, "bob");
    // alice pushed something else, then force-pushed back to bob's head: she put the head there too.
    gh.server.addActivity({ ref: "feature", after: "f".repeat(40), before: fx.headSha, actor: "alice" });
    pushed(fx, "alice", { activity_type: "force_push" });
    const run = await gh.run(fx, { event: "pull_request", payload: event(fx, "edited", "bob") });
    expect(run.code).toBe(1);
    expect(errors(run)[0]!.message).toContain("@alice (who pushed) may change only models/alice/");
  });

  it("fails closed when a push of the head names no actor, whatever the workflow runs would say", async () => {
    number++;
    const fx = gh.fixture({ head: editBob });
    // A deleted account pushed the head; bob's own push run would name bob.
    gh.server.addActivity({ ref: "feature", after: fx.headSha, before: fx.baseSha, actor: null });
    await gh.run(fx, { event: "pull_request", payload: event(fx, "synchronize", "bob") });
    const run = await gh.run(fx, { event: "pull_request", payload: event(fx, "edited", "bob") });
    expect(run.code).toBe(1);
    expect(errors(run)[0]!.message).toContain(`cannot tell who pushed ${fx.headSha.slice(0, 7)}`);
    expect(errors(run)[0]!.message).toContain("names no actor (a deleted account?)");
    expect(runsRequests()).toEqual([]);
  });

  it("reads every page of the branch's activity, cursor by cursor", async () => {
    number++;
    const fx = gh.fixture({ head: editBob });
    pushed(fx, "alice");
    for (let i = 0; i < 150; i++)
      gh.server.addActivity({ ref: "feature", after: i.toString(16).padStart(40, "0"), actor: "bob" });
    const run = await gh.run(fx, { event: "pull_request", payload: event(fx, "edited", "bob") });
    expect(run.code).toBe(1);
    expect(errors(run)[0]!.message).toContain("@alice (who pushed) may change only models/alice/");
    expect(activityRequests().map((r) => Object.keys(r.query).sort())).toEqual([
      ["per_page", "ref"],
      ["after", "per_page", "ref"],
    ]);
  });

  it("reads at most 10 pages of 100, then falls back to the workflow runs", async () => {
    number++;
    const fx = gh.fixture({ head: editBob });
    // alice's push is the oldest entry, beyond the pages read.
    pushed(fx, "alice");
    for (let i = 0; i < 1000; i++)
      gh.server.addActivity({ ref: "feature", after: i.toString(16).padStart(40, "0"), actor: "bob" });
    expect(
      (await gh.run(fx, { event: "pull_request", payload: event(fx, "synchronize", "alice") })).code,
    ).toBe(1);
    const run = await gh.run(fx, { event: "pull_request", payload: event(fx, "edited", "bob") });
    const head = fx.headSha.slice(0, 7);
    expect(run.stdout).toContain(
      `Who pushed ${head}: the repository's activity log of feature is longer than 10 pages of 100, too long to read to the end; reading the workflow runs instead.`,
    );
    expect(activityRequests()).toHaveLength(11);
    expect(runsRequests()).toHaveLength(1);
    expect(run.code).toBe(1);
    expect(errors(run)[0]!.message).toContain("@alice (who pushed) may change only models/alice/");
  });

  it("still judges a pusher it found in the pages it read when the log is too long to read to the end", async () => {
    number++;
    const fx = gh.fixture({ head: editBob });
    // bob pushed the head long ago (beyond the pages read); his synchronize run is the head's earliest run.
    pushed(fx, "bob");
    expect((await gh.run(fx, { event: "pull_request", payload: event(fx, "synchronize", "bob") })).code).toBe(
      0,
    );
    for (let i = 0; i < 1000; i++)
      gh.server.addActivity({ ref: "feature", after: i.toString(16).padStart(40, "0"), actor: "bob" });
    // Lately alice pushed something else and force-pushed the branch back to bob's head: she put it there.
    gh.server.addActivity({ ref: "feature", after: "f".repeat(40), before: fx.headSha, actor: "alice" });
    pushed(fx, "alice", { activity_type: "force_push" });
    // bob edits the title: the first page names alice, but the log has more than 10 pages.
    const run = await gh.run(fx, { event: "pull_request", payload: event(fx, "edited", "bob") });
    expect(activityRequests()).toHaveLength(11);
    expect(run.code).toBe(1);
    expect(errors(run)[0]!.message).toContain("@alice (who pushed) may change only models/alice/");
  });

  it("falls back to the workflow runs when the log lists no push of the head", async () => {
    number++;
    const fx = gh.fixture({ head: editBob });
    gh.server.addActivity({ ref: "other", after: fx.headSha, actor: "mallory" });
    expect((await gh.run(fx, { event: "pull_request", payload: event(fx, "synchronize", "bob") })).code).toBe(
      0,
    );
    const run = await gh.run(fx, { event: "pull_request", payload: event(fx, "edited", "bob") });
    expect(run.code).toBe(0);
    const head = fx.headSha.slice(0, 7);
    expect(run.stdout).toContain(
      `Who pushed ${head}: the repository's activity log lists no push of ${head} to feature; reading the workflow runs instead.`,
    );
    expect(run.stdout).toContain(`Who pushed ${head}: @bob, from the workflow run of the push, run #`);
    expect(activityRequests()).toHaveLength(1);
    expect(runsRequests()).toHaveLength(1);
  });

  it("falls back to the workflow runs when the activity log answers 403", async () => {
    number++;
    const fx = gh.fixture({ head: editBob });
    pushed(fx, "bob");
    await gh.run(fx, { event: "pull_request", payload: event(fx, "synchronize", "alice") });
    const run = await gh.run(fx, {
      event: "pull_request",
      payload: event(fx, "edited", "bob"),
      token: TOKENS.app,
    });
    expect(activityRequests().map((r) => r.status)).toEqual([403]);
    const head = fx.headSha.slice(0, 7);
    expect(run.stdout).toContain(
      `Who pushed ${head}: the repository's activity log could not be read (HTTP 403): the token lacks the \`contents: read\` permission`,
    );
    expect(run.stdout).toMatch(
      /the repository's activity log could not be read .*; reading the workflow runs instead\./,
    );
    // The runs name alice, who pushed: judged as before this log was read.
    expect(run.code).toBe(1);
    expect(errors(run)[0]!.message).toContain("@alice (who pushed) may change only models/alice/");
  });

  it("is not asked for a fork's PR: the fork's pushes are not in this repository's log", async () => {
    number++;
    const fx = gh.fixture({ head: editBob });
    pushed(fx, "bob");
    // A fork PR gets no secret: github-token arrives empty; the runs are read with the workflow's token.
    const run = await gh.run(fx, {
      event: "pull_request",
      payload: event(fx, "edited", "bob", true),
      token: "",
    });
    expect(activityRequests()).toEqual([]);
    expect(run.stdout).not.toContain("activity log");
    expect(runsRequests().length).toBeGreaterThan(0);
    expect(run.stdout).not.toContain("nothing could be read");
  });

  it("is not asked on a person's push", async () => {
    number++;
    const fx = gh.fixture({ head: editBob });
    pushed(fx, "alice");
    const run = await gh.run(fx, { event: "pull_request", payload: event(fx, "synchronize", "bob") });
    expect(run.code).toBe(0);
    expect(activityRequests()).toEqual([]);
  });

  it("leaves room within GitHub's 10 warning annotations for a rate limit met reading the activity log", async () => {
    number++;
    // 12 warnings of the head's own (unknown names in a deny list), besides the Action's rate-limit warning.
    const fx = gh.fixture({
      head: (dir) =>
        write(
          dir,
          "clusters/h1/cluster.yaml",
          `${read(dir, "clusters/h1/cluster.yaml")}engine_kwargs:\n  deny: [${Array.from({ length: 12 }, (_, i) => `no_such_arg_${i}`).join(", ")}]\n`,
        ),
    });
    gh.server.addActivity({ ref: "feature", after: fx.headSha, before: fx.baseSha, actor: "platform-admin" });
    gh.server.rateLimitNext({
      kind: "secondary",
      method: "GET",
      route: /\/activity$/,
      retryAfterSeconds: 1,
    });
    const payload = pullRequestPayload(fx, { author: "platform-admin", number }) as { action: string };
    payload.action = "edited";
    const run = await gh.run(fx, { event: "pull_request", payload, inputs: { comment: "false" } });
    expect(run.code).toBe(0);
    const warnings = run.annotations.filter((a) => a.level === "warning");
    expect(warnings.filter((a) => /^GitHub secondary rate limit on GET /.test(a.message))).toHaveLength(1);
    // GitHub shows the first 10 warnings of a step and silently drops the rest: an 11th is lost, in neither
    // an annotation nor the log's list of the diagnostics beyond the annotations.
    expect(warnings.length).toBeLessThanOrEqual(10);
  });
});
