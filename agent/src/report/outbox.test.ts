import { describe, expect, it } from "vitest";
import { GitHubError } from "../errors";
import { silentLogger } from "../log";
import type { FilePort, PostedStatus, PullRef, StatusReporter, StatusWriteRequest } from "../ports";
import { StateStore } from "../state/state-store";
import { CONTEXT_WRITE_CAP, Outbox } from "./outbox";
import type { CommentWrite, StatusWrite } from "./status-plan";

const SHA = "a".repeat(40);
const PR_HEAD = "b".repeat(40);

function memoryFiles(): FilePort & { data: Map<string, string>; full: boolean } {
  const data = new Map<string, string>();
  const files = {
    data,
    full: false,
    read: async (p: string) => data.get(p),
    write: async (p: string, d: string) => {
      if (files.full) throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
      data.set(p, d);
    },
  };
  return files;
}

interface FakeComment {
  readonly id: number;
  readonly pr: number;
  readonly login: string;
  body: string;
}

class FakeGitHub implements StatusReporter {
  posted: string[] = [];
  combined: PostedStatus[] = [];
  reads = 0;
  pulls: PullRef[] = [];
  failures: Error[] = [];
  /** The token's identity: the author of every comment the agent creates. */
  login = "serve-gitops[bot]";
  comments: FakeComment[] = [];
  commentCalls: string[] = [];
  afterCreate: () => void = () => undefined;
  async postStatus(sha: string, s: StatusWriteRequest) {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.posted.push(`${sha.slice(0, 1)} ${s.context} ${s.state} ${s.description}`);
  }
  async combinedStatus() {
    this.reads++;
    return this.combined;
  }
  pullsAsked = 0;
  async pullsOf() {
    this.pullsAsked++;
    return this.pulls;
  }
  async mergedAs() {
    return undefined;
  }
  // As GitHubReporter does (pinned in github-reporter.test.ts): only `login`'s comment starting with the marker.
  async findComment(pr: number, marker: string, login: string) {
    this.commentCalls.push(`find #${pr}`);
    return this.comments.find((c) => c.pr === pr && c.login === login && c.body.startsWith(marker))?.id;
  }
  async createComment(pr: number, body: string) {
    const id = 100 + this.comments.length;
    this.comments.push({ id, pr, login: this.login, body });
    this.commentCalls.push(`create #${pr}`);
    this.afterCreate();
    return { id, login: this.login };
  }
  async updateComment(id: number, body: string) {
    this.commentCalls.push(`update ${id}`);
    const comment = this.comments.find((c) => c.id === id);
    if (comment?.login !== this.login)
      throw new GitHubError("GitHub PATCH comment failed (403): Forbidden", {
        kind: "terminal",
        status: 403,
      });
    comment.body = body;
  }
  on(pr: number) {
    return this.comments.filter((c) => c.pr === pr).map((c) => `${c.login}: ${c.body.split("\n").at(-1)}`);
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

describe("the pull requests of a commit", () => {
  it("asks again on later drains while GitHub lists none, at most 10 times and for 10 minutes, then keeps none", async () => {
    const github = new FakeGitHub();
    let clock = 0;
    const box = await outbox(memoryFiles(), github, () => clock);
    const mirrored = (n: number) => status(`serve/h1/a/x${n}`, "pending", "deploying", true);
    // Two writes in one drain: one question.
    await box.enqueue([mirrored(0), mirrored(1)]);
    await box.drain();
    expect(github.pullsAsked).toBe(1);
    for (let i = 2; i < 20; i++) {
      await box.enqueue([mirrored(i)]);
      await box.drain();
    }
    expect(github.pullsAsked).toBe(10);
    // Found on a later drain within the window: the PR head gets the writes from then on.
    const late = new FakeGitHub();
    const again = await outbox(memoryFiles(), late, () => clock);
    await again.enqueue([mirrored(0)]);
    await again.drain();
    late.pulls = [{ number: 7, head_sha: PR_HEAD, base_ref: "main" }];
    clock += 60_000;
    await again.enqueue([status("serve/h1/a/x0", "success", "RUNNING", true)]);
    await again.drain();
    expect(late.posted).toEqual([
      "a serve/h1/a/x0 pending deploying",
      "a serve/h1/a/x0 success RUNNING",
      "b serve/h1/a/x0 success RUNNING",
    ]);
    // Past the window, none is kept after one more question.
    const slow = new FakeGitHub();
    const third = await outbox(memoryFiles(), slow, () => clock);
    await third.enqueue([mirrored(0)]);
    await third.drain();
    clock += 10 * 60_000;
    for (let i = 1; i < 4; i++) {
      await third.enqueue([mirrored(i)]);
      await third.drain();
    }
    expect(slow.pullsAsked).toBe(2);
  });
});

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

  it("skips a write only when both its state and its description are what the context already shows", async () => {
    const github = new FakeGitHub();
    const box = await outbox(memoryFiles(), github);
    await box.enqueue([
      status("serve/h1", "pending", "0 running, 1 deploying"),
      status("serve/h1", "pending", "1 running, 0 deploying"),
      status("serve/h1", "success", "1 running, 0 deploying"),
      status("serve/h1", "success", "1 running, 0 deploying"),
    ]);
    expect(await box.drain()).toMatchObject({ written: 3, skipped: 1 });
    expect(github.posted).toEqual([
      "a serve/h1 pending 0 running, 1 deploying",
      "a serve/h1 pending 1 running, 0 deploying",
      "a serve/h1 success 1 running, 0 deploying",
    ]);
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

  it("waits for a rate limit's reset even on a shutdown flush", async () => {
    const github = new FakeGitHub();
    const box = await outbox(memoryFiles(), github);
    await box.enqueue([status("c1", "pending", "one")]);
    github.failures = [
      new GitHubError("rate limit", { kind: "transient", status: 403, retryAt: Date.now() + 60_000 }),
    ];
    await box.drain();
    expect((await box.drain({ force: true })).error?.message).toMatch(/waiting for GitHub's rate limit/);
    expect(github.posted).toEqual([]);
    expect(box.size).toBe(1);
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
    expect(github.on(7)).toEqual(["serve-gitops[bot]: hi"]);
  });
});

describe("the agent's PR comment", () => {
  const MARKER = "<!-- serve-gitops:agent cluster=h1 -->";
  const comment = (text: string, sha = SHA): CommentWrite => ({
    kind: "comment",
    sha,
    body: `${MARKER}\n${text}`,
  });
  const pr = (number: number): PullRef => ({ number, head_sha: PR_HEAD, base_ref: "main" });
  const savedLogin = (files: { data: Map<string, string> }) =>
    (JSON.parse(files.data.get("/state/github.json") ?? "{}") as { login?: string }).login;

  it("is never another bot's look-alike: the agent creates its own and learns its login from it", async () => {
    // A model owner's workflow posts as github-actions[bot], a bot like the agent's App, with the marker.
    const files = memoryFiles();
    const github = new FakeGitHub();
    github.pulls = [pr(7)];
    github.comments.push({
      id: 1,
      pr: 7,
      login: "github-actions[bot]",
      body: `${MARKER}\nall RUNNING (fake)`,
    });
    const box = await outbox(files, github);
    await box.enqueue([comment("deployed")]);
    expect(await box.drain()).toMatchObject({ written: 1, dropped: 0 });
    expect(github.commentCalls).toEqual(["create #7"]);
    expect(github.on(7)).toEqual(["github-actions[bot]: all RUNNING (fake)", "serve-gitops[bot]: deployed"]);
    expect(savedLogin(files)).toBe("serve-gitops[bot]");
  });

  it("finds its own comment again after a restart with its state, by the login it learnt", async () => {
    const files = memoryFiles();
    const github = new FakeGitHub();
    github.pulls = [pr(7)];
    const first = await outbox(files, github);
    await first.enqueue([comment("seven")]);
    await first.drain();
    // The comment on #8 is posted, then the disk refuses to record its id: the write stays owed.
    github.pulls = [pr(8)];
    github.comments.push({ id: 2, pr: 8, login: "github-actions[bot]", body: `${MARKER}\nfake` });
    await first.enqueue([comment("eight", "c".repeat(40))]);
    github.afterCreate = () => (files.full = true);
    expect((await first.drain()).error?.message).toMatch(/ENOSPC/);
    files.full = false;
    github.afterCreate = () => undefined;

    const second = await outbox(files, github);
    expect(await second.drain()).toMatchObject({ written: 1, dropped: 0 });
    expect(github.commentCalls).toEqual(["create #7", "find #8", "create #8", "find #8", "update 102"]);
    expect(github.on(8)).toEqual(["github-actions[bot]: fake", "serve-gitops[bot]: eight"]);
  });

  it("edits its comment only when the body changed", async () => {
    const github = new FakeGitHub();
    github.pulls = [pr(7)];
    const box = await outbox(memoryFiles(), github);
    await box.enqueue([comment("deploying"), comment("deploying"), comment("running")]);
    expect(await box.drain()).toMatchObject({ written: 2, skipped: 1 });
    expect(github.commentCalls).toEqual(["create #7", "update 100"]);
    expect(github.on(7)).toEqual(["serve-gitops[bot]: running"]);
  });

  it("after losing its state creates a new comment rather than adopt one (its old one or a look-alike)", async () => {
    const github = new FakeGitHub();
    github.pulls = [pr(7)];
    github.comments.push(
      { id: 1, pr: 7, login: "github-actions[bot]", body: `${MARKER}\nfake` },
      { id: 2, pr: 7, login: "serve-gitops[bot]", body: `${MARKER}\nold` },
    );
    const box = await outbox(memoryFiles(), github);
    await box.enqueue([comment("new")]);
    await box.drain();
    expect(github.commentCalls).toEqual(["create #7"]);
    expect(github.on(7)).toEqual([
      "github-actions[bot]: fake",
      "serve-gitops[bot]: old",
      "serve-gitops[bot]: new",
    ]);
  });
});

describe("a write that only resolves what GitHub shows (onlyIfShown)", () => {
  it("resolves the mirrored status an agent before left pending on the PR head too", async () => {
    // The agent before mirrored serve/h1/a/x "pending" to the PR head, as to the commit (mirror: true). A
    // record-less successor reads the commit first (readFirst) and resolves it there; the PR head, never read
    // (not in unknownShas, not verified), is skipped: its status stays pending forever.
    const github = new FakeGitHub();
    github.pulls = [{ number: 7, head_sha: PR_HEAD, base_ref: "main" }];
    github.combined = [{ context: "serve/h1/a/x", state: "pending", description: "deploying 1x1 GPU" }];
    const box = await outbox(memoryFiles(), github);
    box.readFirst(SHA);
    await box.enqueue([{ ...status("serve/h1/a/x", "success", "RUNNING", true), onlyIfShown: true }]);
    await box.drain();
    expect(github.posted).toEqual(["a serve/h1/a/x success RUNNING", "b serve/h1/a/x success RUNNING"]);
  });
});
