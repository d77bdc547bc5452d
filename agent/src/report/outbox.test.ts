import { describe, expect, it } from "vitest";
import { GitHubError } from "../errors";
import { silentLogger } from "../log";
import type { FilePort, PostedStatus, PullRef, StatusReporter, StatusWriteRequest } from "../ports";
import { StateStore } from "../state/state-store";
import { CONTEXT_WRITE_CAP, Outbox } from "./outbox";
import type { StatusWrite } from "./status-plan";

const SHA = "a".repeat(40);
const PR_HEAD = "b".repeat(40);

function memoryFiles(): FilePort & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, read: async (p) => data.get(p), write: async (p, d) => void data.set(p, d) };
}

class FakeGitHub implements StatusReporter {
  posted: string[] = [];
  combined: PostedStatus[] = [];
  reads = 0;
  pulls: PullRef[] = [];
  failures: Error[] = [];
  comments = new Map<number, string>();
  async postStatus(sha: string, s: StatusWriteRequest) {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.posted.push(`${sha.slice(0, 1)} ${s.context} ${s.state} ${s.description}`);
  }
  async combinedStatus() {
    this.reads++;
    return this.combined;
  }
  async pullsOf() {
    return this.pulls;
  }
  async mergedAs() {
    return undefined;
  }
  async findComment() {
    return undefined;
  }
  async createComment(pr: number, body: string) {
    this.comments.set(pr, body);
    return 99;
  }
  async updateComment(_id: number, body: string) {
    this.comments.set(1, body);
  }
}

const status = (
  context: string,
  state: StatusWrite["state"],
  description: string,
  mirror = false,
): StatusWrite => ({ kind: "status", sha: SHA, context, state, description, mirror });

async function outbox(files: FilePort, github: FakeGitHub, now: () => number = Date.now) {
  return Outbox.load({
    cluster: "h1",
    branch: "main",
    store: new StateStore("/state", files),
    reporter: github,
    log: silentLogger(),
    now,
    random: () => 0.5,
  });
}

describe("the outbox", () => {
  it("writes in order and never the same state twice for a (sha, context)", async () => {
    const files = memoryFiles();
    const github = new FakeGitHub();
    const box = await outbox(files, github);
    await box.enqueue([
      status("serve/h1", "pending", "0 running"),
      status("serve/h1/a/x", "pending", "deploying"),
      status("serve/h1/a/x", "pending", "deploying"),
      status("serve/h1/a/x", "success", "RUNNING"),
    ]);
    expect(await box.drain()).toMatchObject({ written: 3, skipped: 1 });
    expect(github.posted).toEqual([
      "a serve/h1 pending 0 running",
      "a serve/h1/a/x pending deploying",
      "a serve/h1/a/x success RUNNING",
    ]);
    expect(box.size).toBe(0);
  });

  it("survives a crash: after a restart it reads the combined status once and skips what GitHub already has", async () => {
    const files = memoryFiles();
    const before = await outbox(files, new FakeGitHub());
    await before.enqueue([
      status("serve/h1", "pending", "0 running"),
      status("serve/h1", "success", "1 running"),
    ]);
    // The process died after GitHub took the first write but before the outbox recorded it.
    const github = new FakeGitHub();
    github.combined = [{ context: "serve/h1", state: "pending", description: "0 running" }];
    const after = await outbox(files, github);
    expect(after.size).toBe(2);
    await after.drain();
    expect(github.posted).toEqual(["a serve/h1 success 1 running"]);
    expect(github.reads).toBe(1);
  });

  it("stops at a transient failure and keeps the order; drops a terminal one (422) and goes on", async () => {
    const github = new FakeGitHub();
    let clock = 0;
    const box = await outbox(memoryFiles(), github, () => clock);
    await box.enqueue([
      status("c1", "pending", "one"),
      status("c2", "pending", "two"),
      status("c3", "pending", "three"),
    ]);
    github.failures = [
      new GitHubError("GitHub POST statuses failed (502)", { kind: "transient", status: 502 }),
    ];
    const first = await box.drain();
    expect(first.error?.message).toMatch(/502/);
    expect(box.size).toBe(3);
    github.failures = [new GitHubError("Validation Failed", { kind: "terminal", status: 422 })];
    // The outbox's own backoff: no request until it passed.
    expect((await box.drain()).error?.message).toMatch(/502/);
    expect(github.failures).toHaveLength(1);
    clock += 1000;
    expect(await box.drain()).toMatchObject({ written: 2, dropped: 1 });
    expect(github.posted).toEqual(["a c2 pending two", "a c3 pending three"]);
  });

  it("backs off exponentially after GitHub failures; a shutdown flush (force) retries at once", async () => {
    const github = new FakeGitHub();
    let clock = 0;
    const box = await outbox(memoryFiles(), github, () => clock);
    await box.enqueue([status("c1", "pending", "one")]);
    const down = () =>
      new GitHubError("GitHub POST statuses failed (503)", { kind: "transient", status: 503 });
    github.failures = [down(), down(), down()];
    await box.drain();
    clock += 1000;
    await box.drain();
    clock += 1000;
    await box.drain();
    expect(github.failures).toHaveLength(1);
    clock += 1000;
    await box.drain();
    expect(github.failures).toHaveLength(0);
    expect(box.size).toBe(1);
    expect(await box.drain({ force: true })).toMatchObject({ written: 1 });
  });

  it("keeps every write while GitHub refuses the token (401, 403 not a rate limit) and posts them once it works", async () => {
    const github = new FakeGitHub();
    let clock = 0;
    const box = await outbox(memoryFiles(), github, () => clock);
    await box.enqueue([status("c1", "pending", "one"), status("c2", "pending", "two")]);
    github.failures = [
      new GitHubError("GitHub POST statuses failed (401): Bad credentials", {
        kind: "terminal",
        status: 401,
      }),
      new GitHubError("GitHub POST statuses failed (403): Resource not accessible by integration", {
        kind: "terminal",
        status: 403,
      }),
    ];
    expect((await box.drain()).error).toMatchObject({ status: 401, kind: "terminal" });
    expect(box.size).toBe(2);
    // Waiting out the backoff, the outbox still says why.
    expect((await box.drain()).error).toMatchObject({ status: 401 });
    clock += 60_000;
    expect((await box.drain()).error).toMatchObject({ status: 403 });
    clock += 60_000;
    expect(await box.drain()).toMatchObject({ written: 2, dropped: 0 });
    expect(github.posted).toEqual(["a c1 pending one", "a c2 pending two"]);
  });

  it("after a restart, a sha whose combined status could not be read is read again before posting", async () => {
    const files = memoryFiles();
    const before = await outbox(files, new FakeGitHub());
    await before.enqueue([status("serve/h1", "pending", "0 running")]);
    const github = new FakeGitHub();
    github.combined = [{ context: "serve/h1", state: "pending", description: "0 running" }];
    let reads = 0;
    github.combinedStatus = async () => {
      if (reads++ === 0)
        throw new GitHubError("GitHub GET combined status failed (502)", { kind: "transient" });
      return github.combined;
    };
    const after = await outbox(files, github, () => 0);
    expect((await after.drain()).error?.message).toMatch(/502/);
    expect(await after.drain({ force: true })).toMatchObject({ written: 0, skipped: 1 });
    expect(github.posted).toEqual([]);
  });

  it("waits for a rate limit's reset without calling GitHub", async () => {
    const github = new FakeGitHub();
    const box = await outbox(memoryFiles(), github);
    await box.enqueue([status("c1", "pending", "one")]);
    github.failures = [
      new GitHubError("rate limit", { kind: "transient", status: 403, retryAt: Date.now() + 60_000 }),
    ];
    await box.drain();
    const again = await box.drain();
    expect(again.error?.message).toMatch(/waiting for GitHub's rate limit/);
    expect(github.posted).toEqual([]);
  });

  it("caps the writes of one (sha, context) far below GitHub's 1,000", async () => {
    const github = new FakeGitHub();
    const box = await outbox(memoryFiles(), github);
    for (let i = 0; i < CONTEXT_WRITE_CAP + 5; i++)
      await box.enqueue([status("flappy", i % 2 ? "success" : "failure", `n${i}`)]);
    await box.drain();
    expect(github.posted).toHaveLength(CONTEXT_WRITE_CAP);
    expect(CONTEXT_WRITE_CAP).toBeLessThan(1000);
  });

  it("mirrors a model status to the head of the PR the commit belongs to (PRs into the branch only)", async () => {
    const github = new FakeGitHub();
    github.pulls = [
      { number: 7, head_sha: PR_HEAD, base_ref: "main" },
      { number: 8, head_sha: "c".repeat(40), base_ref: "release" },
    ];
    const box = await outbox(memoryFiles(), github);
    await box.enqueue([
      status("serve/h1/a/x", "success", "RUNNING", true),
      { kind: "comment", sha: SHA, body: "<!-- serve-gitops:agent cluster=h1 -->\nhi" },
    ]);
    await box.drain();
    expect(github.posted).toEqual(["a serve/h1/a/x success RUNNING", "b serve/h1/a/x success RUNNING"]);
    expect(github.comments.get(7)).toContain("hi");
  });
});
