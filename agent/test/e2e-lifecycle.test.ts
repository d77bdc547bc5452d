// End to end with real git (a bare remote and a clone), the Ray Serve emulator and the strict GitHub test server.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { deploymentName } from "../../generator/src/index";
import { statusTable } from "../src/cli/status-table";
import { createLogger } from "../src/log";
import { commentMarker } from "../src/report/comment";
import { fitDescription } from "../src/report/describe";
import { specYaml } from "../testkit/git-fixture";
import { createHarness, TEST_REPO, type Harness } from "../testkit/harness";

let h: Harness;
afterEach(async () => {
  expect(h.github.unexpected).toEqual([]);
  await h.close();
});

const served = (user: string, suffix: string) => `${user}-202601061235-${suffix}`;
const dep = (user: string, suffix: string) => deploymentName(served(user, suffix));
const sha7 = (sha: string) => sha.slice(0, 7);

describe("a merged pull request", () => {
  it("gets pending then success on the merge commit and the PR head, and one comment with snippets", async () => {
    h = await createHarness({ files: { "models/alice/qwen-0.5b.yaml": specYaml("qwen-0.5b") } });
    const { agent } = await h.startSettled("initial models");

    const prHead = h.repo.commitOnBranch("feature", "bob: add qwen-7b", () =>
      h.repo.write("models/bob/qwen-7b.yaml", specYaml("qwen-7b", { replicas: 2 })),
    );
    const merge = h.repo.mergeBranch("feature", "Merge pull request #7 from bob/feature");
    h.github.setCommitPulls(
      merge,
      [{ number: 7, head: { sha: prHead, ref: "feature" }, base: { ref: "main" } }],
      TEST_REPO,
    );

    await h.settle(agent);
    expect(h.statuses(merge)).toEqual([
      "serve/h1 pending 1 running, 1 deploying, 0 failed",
      "serve/h1/bob/qwen-7b pending deploying 2x1 GPU",
      "serve/h1/bob/qwen-7b success RUNNING bob-202601061235-qwen-7b",
      "serve/h1 success 2 running, 0 deploying, 0 failed",
    ]);
    expect(h.statuses(prHead)).toEqual([
      "serve/h1/bob/qwen-7b pending deploying 2x1 GPU",
      "serve/h1/bob/qwen-7b success RUNNING bob-202601061235-qwen-7b",
    ]);
    const success = h.github
      .statuses(merge)
      .find((s) => s.state === "success" && s.context === "serve/h1/bob/qwen-7b");
    expect(success?.target_url).toBe("https://llm.example.com/access/models/h1/bob-202601061235-qwen-7b/v1");
    const comments = h.github.comments(7, TEST_REPO);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain(
      "curl -s https://llm.example.com/access/models/h1/bob-202601061235-qwen-7b/v1/chat/completions",
    );
    expect(comments[0]!.body).toContain(
      'OpenAI(base_url="https://llm.example.com/access/models/h1/bob-202601061235-qwen-7b/v1"',
    );
    expect(comments[0]!.body).toContain("| bob/qwen-7b | `bob-202601061235-qwen-7b` | RUNNING |");
  });

  it("a merge GitHub lists under its pull request only after the first status write still reaches the PR head and gets the comment", async () => {
    h = await createHarness({ files: { "models/alice/qwen-0.5b.yaml": specYaml("qwen-0.5b") } });
    const { agent } = await h.startSettled("initial models");
    const prHead = h.repo.commitOnBranch("feature", "bob: add qwen-7b", () =>
      h.repo.write("models/bob/qwen-7b.yaml", specYaml("qwen-7b")),
    );
    const merge = h.repo.mergeBranch("feature", "Merge pull request #7 from bob/feature");
    // POST /sync from the push webhook: the agent PUTs and writes its pending statuses seconds after the merge,
    // before GitHub lists the merge commit under its pull request (the prune approval asks again for that reason).
    await agent.agent.cycle();
    await agent.outbox.drain();
    expect(h.statuses(merge)).toContain("serve/h1/bob/qwen-7b pending deploying 1x1 GPU");
    h.github.setCommitPulls(
      merge,
      [{ number: 7, head: { sha: prHead, ref: "feature" }, base: { ref: "main" } }],
      TEST_REPO,
    );
    await h.settle(agent);
    expect(h.latest(merge).get("serve/h1/bob/qwen-7b")?.state).toBe("success");
    // The owner's dashboard is the PR: the model's outcome and the comment reach it once GitHub lists the merge.
    expect(h.latest(prHead).get("serve/h1/bob/qwen-7b")).toEqual({
      state: "success",
      description: "RUNNING bob-202601061235-qwen-7b",
    });
    expect(h.github.comments(7, TEST_REPO)).toHaveLength(1);
  });

  it("never takes another bot's marker comment for its own: it writes its own and keeps its login", async () => {
    h = await createHarness({ files: { "models/alice/qwen-0.5b.yaml": specYaml("qwen-0.5b") } });
    const { agent } = await h.startSettled("initial models");
    const prHead = h.repo.commitOnBranch("feature", "bob: add qwen-7b", () =>
      h.repo.write("models/bob/qwen-7b.yaml", specYaml("qwen-7b")),
    );
    const merge = h.repo.mergeBranch("feature", "Merge pull request #7 from bob/feature");
    h.github.setCommitPulls(
      merge,
      [{ number: 7, head: { sha: prHead, ref: "feature" }, base: { ref: "main" } }],
      TEST_REPO,
    );
    // bob's workflow on his branch posts a fake report as github-actions[bot], starting with the marker.
    const fake = `${commentMarker("h1")}\n| bob/qwen-7b | RUNNING | https://evil.example/v1 |`;
    h.github.addComment(TEST_REPO, 7, { login: "github-actions[bot]", body: fake });

    await h.settle(agent);
    const comments = h.github.comments(7, TEST_REPO);
    expect(comments.map((c) => c.user.login)).toEqual(["github-actions[bot]", "serve-gitops[bot]"]);
    expect(comments[0]!.body).toBe(fake);
    expect(comments[1]!.body).toContain("| bob/qwen-7b | `bob-202601061235-qwen-7b` | RUNNING |");
    // The agent learnt its login from its own comment and keeps it next to the comment ids.
    const record = JSON.parse(readFileSync(join(h.stateDir, "github.json"), "utf8")) as { login?: string };
    expect(record.login).toBe("serve-gitops[bot]");
  });

  it("a scale-only change restarts no model, not even the scaled one", async () => {
    h = await createHarness({
      files: {
        "models/alice/qwen-0.5b.yaml": specYaml("qwen-0.5b"),
        "models/bob/qwen-7b.yaml": specYaml("qwen-7b"),
      },
    });
    const { agent } = await h.startSettled("initial models");
    const startsBefore = h.ray.starts(dep("alice", "qwen-0.5b"));

    h.repo.write("models/bob/qwen-7b.yaml", specYaml("qwen-7b", { replicas: 3 }));
    const sha = h.repo.ship("bob: scale qwen-7b to 3");
    await h.settle(agent);

    expect(h.statuses(sha)).toContain("serve/h1/bob/qwen-7b success RUNNING bob-202601061235-qwen-7b");
    expect(h.statuses(sha).filter((s) => s.includes("alice"))).toEqual([]);
    expect(h.ray.restarts(dep("alice", "qwen-0.5b"))).toBe(0);
    expect(h.ray.restarts(dep("bob", "qwen-7b"))).toBe(0);
    expect(h.ray.starts(dep("alice", "qwen-0.5b"))).toBe(startsBefore);
  });
});

describe("a scale-up Ray cannot place", () => {
  it("stays pending while UPSCALING and fails after deploy_timeout_s; the model keeps serving, nothing restarts", async () => {
    h = await createHarness({
      files: { "models/alice/x.yaml": specYaml("x") },
      cluster: { sync: { deploy_timeout_s: 10 } },
      emulator: { totalGpus: 2 },
    });
    h.repo.ship("initial");
    let offset = 0;
    const agent = await h.start({}, { now: () => Date.now() + offset });
    await h.settle(agent);
    h.repo.write("models/alice/x.yaml", specYaml("x", { replicas: 4 }));
    const sha = h.repo.ship("scale x to 4");
    for (let i = 0; i < 6; i++) {
      await agent.agent.cycle();
      await new Promise((r) => setTimeout(r, 50));
    }
    const ray = (await (await fetch(`${h.ray.url}/api/serve/applications/`)).json()) as {
      applications: Record<string, { deployments: Record<string, { status: string }> }>;
    };
    expect(ray.applications[served("alice", "x")]?.deployments[dep("alice", "x")]?.status).toBe("UPSCALING");
    expect(h.latest(sha).get("serve/h1/alice/x")?.state).toBe("pending");
    expect(h.latest(sha).get("serve/h1")?.state).toBe("pending");

    offset = 11_000;
    await h.settle(agent);
    expect(h.latest(sha).get("serve/h1/alice/x")).toEqual({
      state: "failure",
      description: "target replicas not running after 10 s (UPSCALING); the running ones still serve",
    });
    expect(h.latest(sha).get("serve/h1")?.state).toBe("failure");
    expect(h.ray.restarts(dep("alice", "x"))).toBe(0);
    const model = agent.status().models.find((m) => m.key === "alice/x");
    expect(model?.events.map((e) => e.type)).toContain("TIMED_OUT");
  });
});

describe("a model Ray shows UNHEALTHY after the PUT", () => {
  // deployment_state.py check_and_update_replicas: a replica failing its health check is stopped and replaced,
  // the deployment UNHEALTHY "until the replica recovers or a new deploy happens" (then HEALTHY again, common.py).
  const RAY_SAYS =
    "A replica's health check failed. This deployment will be UNHEALTHY until the replica recovers or a new deploy happens.";
  const unhealthyAfterScale = async () => {
    h = await createHarness({
      files: { "models/alice/x.yaml": specYaml("x") },
      cluster: { sync: { deploy_timeout_s: 10 } },
    });
    h.repo.ship("initial");
    const clock = { offset: 0 };
    const agent = await h.start({}, { now: () => Date.now() + clock.offset });
    await h.settle(agent);
    h.repo.write("models/alice/x.yaml", specYaml("x", { replicas: 2 }));
    const sha = h.repo.ship("scale x to 2");
    await agent.agent.cycle();
    // A replica fails its health check while Ray scales: UPSCALING -> UNHEALTHY.
    h.ray.makeUnhealthy(dep("alice", "x"));
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 30));
      await agent.agent.cycle();
    }
    const ray = (await (await fetch(`${h.ray.url}/api/serve/applications/`)).json()) as {
      applications: Record<string, { deployments: Record<string, { status: string }> }>;
    };
    expect(ray.applications[served("alice", "x")]?.deployments[dep("alice", "x")]?.status).toBe("UNHEALTHY");
    return { agent, sha, clock };
  };

  it("stays pending while Ray replaces the replica, and succeeds once Ray shows it HEALTHY again", async () => {
    const { agent, sha } = await unhealthyAfterScale();
    expect(h.latest(sha).get("serve/h1/alice/x")?.state).toBe("pending");
    expect(h.latest(sha).get("serve/h1")?.state).toBe("pending");
    h.ray.recover(dep("alice", "x"));
    await h.settle(agent);
    expect(h.statuses(sha)).toEqual([
      "serve/h1 pending 0 running, 1 deploying, 0 failed",
      "serve/h1/alice/x pending deploying 2x1 GPU",
      "serve/h1/alice/x success RUNNING alice-202601061235-x",
      "serve/h1 success 1 running, 0 deploying, 0 failed",
    ]);
  });

  it("fails with Ray's reason once still UNHEALTHY at deploy_timeout_s", async () => {
    const { agent, sha, clock } = await unhealthyAfterScale();
    clock.offset = 11_000;
    await h.settle(agent);
    expect(h.latest(sha).get("serve/h1/alice/x")).toEqual({
      state: "failure",
      description: fitDescription(`UNHEALTHY after 10 s: ${RAY_SAYS}`),
    });
    expect(h.latest(sha).get("serve/h1")?.state).toBe("failure");
    const model = agent.status().models.find((m) => m.key === "alice/x");
    // /status tells what Ray says now: the model FAILED with Ray's reason while Ray shows it UNHEALTHY.
    expect(model).toMatchObject({ state: "FAILED", error_summary: RAY_SAYS });
    expect(model?.events.map((e) => e.type)).toContain("TIMED_OUT");
  });
});

describe("failures and removals", () => {
  it("a model_source Ray cannot load fails with the last line of Ray's traceback", async () => {
    h = await createHarness({ files: { "models/alice/qwen-0.5b.yaml": specYaml("qwen-0.5b") } });
    const { agent } = await h.startSettled();
    h.repo.write(
      "models/alice/broken.yaml",
      specYaml("broken", { source: "$HOME/checkpoints/missing-model" }),
    );
    const sha = h.repo.ship("alice: add broken");
    await h.settle(agent);

    const final = h.latest(sha).get("serve/h1/alice/broken");
    expect(final).toEqual({
      state: "failure",
      description: "OSError: /private/users/alice/checkpoints/missing-model does not exist",
    });
    expect(h.latest(sha).get("serve/h1")).toEqual({
      state: "failure",
      description: "1 running, 0 deploying, 1 failed",
    });
    const model = agent.status().models.find((m) => m.key === "alice/broken");
    expect(model?.state).toBe("FAILED");
    expect(model?.error_summary).toBe(
      "OSError: /private/users/alice/checkpoints/missing-model does not exist",
    );
    expect(model?.events.map((e) => e.type)).toEqual(["DEPLOY_REQUESTED", "APPLIED", "FAILED"]);
    // The failure is reported, not retried: the next cycles write nothing more.
    const puts = h.ray.acceptedPutCount();
    await h.settle(agent);
    expect(h.ray.acceptedPutCount()).toBe(puts);
  });

  it("a model Ray cannot place fails after deploy_timeout_s with Ray's state, and --once exits", async () => {
    h = await createHarness({
      files: { "models/bob/big.yaml": specYaml("big", { gpus: 8 }) },
      cluster: { sync: { deploy_timeout_s: 10 } },
      emulator: { totalGpus: 4 },
    });
    const sha = h.repo.ship("initial");
    // The agent's clock jumps past the timeout once the watch has run a few cycles on the real clock.
    let offset = 0;
    const agent = await h.start({ once: true, watchIntervalMs: 10 }, { now: () => Date.now() + offset });
    const run = agent.loop.run();
    while (agent.loop.cycleCount < 5) await new Promise((r) => setTimeout(r, 10));
    expect(h.latest(sha).get("serve/h1/bob/big")?.state).toBe("pending");
    offset = 11_000;
    const exit = await Promise.race([run, new Promise((r) => setTimeout(() => r("still watching"), 10_000))]);
    expect(exit).toBe(0);
    expect(h.latest(sha).get("serve/h1/bob/big")).toEqual({
      state: "failure",
      description: "not serving after 10 s (UPDATING)",
    });
    expect(h.latest(sha).get("serve/h1")?.state).toBe("failure");
    const model = agent.status().models.find((m) => m.key === "bob/big");
    expect(model?.events.map((e) => e.type)).toContain("TIMED_OUT");
  });

  it("a failed and a timed-out model are logged as warnings (level 40), so an alert on level >= 40 sees them", async () => {
    h = await createHarness({
      files: { "models/bob/big.yaml": specYaml("big", { gpus: 8 }) },
      cluster: { sync: { deploy_timeout_s: 15 } },
      emulator: { totalGpus: 4 },
    });
    h.repo.ship("initial");
    const lines: string[] = [];
    const log = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
    let offset = 0;
    const agent = await h.start({}, { now: () => Date.now() + offset, log });
    for (let i = 0; i < 3; i++) await agent.agent.cycle();
    offset = 16_000;
    await h.settle(agent);
    h.repo.write(
      "models/alice/broken.yaml",
      specYaml("broken", { source: "$HOME/checkpoints/missing-model" }),
    );
    h.repo.ship("alice: add broken");
    await h.settle(agent);
    const settled = lines
      .map((l) => JSON.parse(l) as { level: number; msg: string; model?: string; result?: string })
      .filter((l) => l.msg === "model settled")
      .map((l) => `${l.model} ${l.result} ${l.level}`);
    expect(settled).toEqual(["bob/big timeout 40", "alice/broken failed 40"]);
  });

  it("a timed-out model stays FAILED with its error in /status and the metrics while Ray keeps trying", async () => {
    h = await createHarness({
      files: { "models/bob/big.yaml": specYaml("big", { gpus: 8 }) },
      cluster: { sync: { deploy_timeout_s: 15 } },
      emulator: { totalGpus: 4 },
    });
    const sha = h.repo.ship("initial");
    let offset = 0;
    const agent = await h.start({}, { now: () => Date.now() + offset });
    for (let i = 0; i < 4; i++) await agent.agent.cycle();
    offset = 16_000;
    await h.settle(agent);
    expect(h.latest(sha).get("serve/h1/bob/big")).toEqual({
      state: "failure",
      description: "not serving after 15 s (UPDATING)",
    });
    // Later cycles, once the final status is written and the watch has forgotten the model.
    for (let i = 0; i < 5; i++) {
      offset += 2_000;
      await agent.agent.cycle();
    }
    const model = agent.status().models.find((m) => m.key === "bob/big");
    expect(model).toMatchObject({ state: "FAILED", error_summary: "not serving after 15 s (UPDATING)" });
    const metrics = await agent.metrics.registry.metrics();
    expect(metrics).toContain('serve_gitops_models{state="FAILED"} 1');
    expect(metrics).toContain('serve_gitops_models{state="DEPLOYING"} 0');
  });

  it("serve_gitops_last_applied_commit_timestamp_seconds is the applied mark's time after a restart, not 0", async () => {
    h = await createHarness({ files: { "models/alice/qwen-0.5b.yaml": specYaml("qwen-0.5b") } });
    const { agent, sha } = await h.startSettled();
    const applied = agent.status().marks.applied;
    expect(applied?.sha).toBe(sha);
    const gauge = async (a: typeof agent) => (await a.metrics.lastAppliedTime.get()).values[0]?.value ?? 0;
    expect(await gauge(agent)).toBeGreaterThan(0);
    await agent.close();
    // The same state directory: the commit is applied, nothing changes, and the metric must still say when
    // (an alert on time() - this gauge would otherwise fire after every restart of a healthy agent).
    const restarted = await h.start();
    await h.settle(restarted);
    expect(restarted.status().marks.applied).toEqual(applied);
    expect(await gauge(restarted)).toBe(Date.parse(applied!.at) / 1000);
  });

  it("a model's sha and updated time are the commit that last changed it, not later commits changing others", async () => {
    h = await createHarness({ files: { "models/alice/qwen-0.5b.yaml": specYaml("qwen-0.5b") } });
    const { agent, sha: first } = await h.startSettled();
    const before = agent.status().models.find((m) => m.key === "alice/qwen-0.5b")!;
    expect(before.sha).toBe(first);
    h.repo.write("models/bob/broken.yaml", specYaml("broken", { source: "$HOME/checkpoints/missing" }));
    const broken = h.repo.ship("bob: add broken");
    await h.settle(agent);
    h.repo.write("README.md", "unrelated\n");
    h.repo.ship("docs");
    await h.settle(agent);
    const models = agent.status().models;
    expect(models.find((m) => m.key === "alice/qwen-0.5b")).toMatchObject({
      sha: first,
      updated: before.updated,
    });
    expect(models.find((m) => m.key === "bob/broken")?.sha).toBe(broken);
    h.repo.write("models/alice/qwen-0.5b.yaml", specYaml("qwen-0.5b", { maxModelLen: 4096 }));
    const changed = h.repo.ship("alice: shorter context");
    await h.settle(agent);
    expect(agent.status().models.find((m) => m.key === "alice/qwen-0.5b")?.sha).toBe(changed);
  });

  it("git revert of the adding commit undeploys the model and says so", async () => {
    h = await createHarness({ files: { "models/alice/qwen-0.5b.yaml": specYaml("qwen-0.5b") } });
    const { agent } = await h.startSettled();
    h.repo.write("models/bob/qwen-7b.yaml", specYaml("qwen-7b"));
    const added = h.repo.ship("bob: add qwen-7b");
    await h.settle(agent);
    expect(agent.status().models.map((m) => `${m.key} ${m.state}`)).toEqual([
      "alice/qwen-0.5b RUNNING",
      "bob/qwen-7b RUNNING",
    ]);

    h.repo.git("revert", "--no-edit", added);
    const revert = h.repo.head();
    h.repo.push();
    await h.settle(agent);
    expect(h.statuses(revert)).toEqual([
      "serve/h1 pending 1 running, 0 deploying, 1 undeploying, 0 failed",
      "serve/h1/bob/qwen-7b pending undeploying",
      "serve/h1/bob/qwen-7b success undeployed",
      "serve/h1 success 1 running, 0 deploying, 0 failed",
    ]);
    // The model's endpoint is going, then gone: its statuses link nothing (no --status-url here).
    const links = h.github.statuses(added).concat(h.github.statuses(revert));
    expect(links.map((s) => `${s.context} ${s.description} ${s.target_url}`)).toEqual([
      expect.stringMatching(/^serve\/h1 .* null$/),
      "serve/h1/bob/qwen-7b deploying 1x1 GPU https://llm.example.com/access/models/h1/bob-202601061235-qwen-7b/v1",
      "serve/h1/bob/qwen-7b RUNNING bob-202601061235-qwen-7b https://llm.example.com/access/models/h1/bob-202601061235-qwen-7b/v1",
      expect.stringMatching(/^serve\/h1 .* null$/),
      expect.stringMatching(/^serve\/h1 .* null$/),
      "serve/h1/bob/qwen-7b undeploying null",
      "serve/h1/bob/qwen-7b undeployed null",
      expect.stringMatching(/^serve\/h1 .* null$/),
    ]);
    const apps = (await (await fetch(`${h.ray.url}/api/serve/applications/`)).json()) as {
      applications: Record<string, unknown>;
    };
    expect(Object.keys(apps.applications)).toEqual([served("alice", "qwen-0.5b")]);
    expect(agent.status().models.map((m) => m.key)).toEqual(["alice/qwen-0.5b"]);
  });

  it("follows a force-push: undeploys what the rewritten history dropped", async () => {
    h = await createHarness({ files: { "models/alice/qwen-0.5b.yaml": specYaml("qwen-0.5b") } });
    const { agent, sha: base } = await h.startSettled();
    h.repo.write("models/bob/qwen-7b.yaml", specYaml("qwen-7b"));
    h.repo.ship("bob: add qwen-7b");
    await h.settle(agent);

    h.repo.git("reset", "--quiet", "--hard", base);
    h.repo.write("models/bob/llama.yaml", specYaml("llama"));
    h.repo.render();
    const rewritten = h.repo.commit("bob: add llama instead");
    h.repo.push();
    await h.settle(agent);

    expect(agent.status().marks.applied?.sha).toBe(rewritten);
    expect(h.latest(rewritten).get("serve/h1/bob/llama")?.description).toBe("RUNNING bob-202601061235-llama");
    expect(h.latest(rewritten).get("serve/h1/bob/qwen-7b")).toEqual({
      state: "success",
      description: "undeployed",
    });
    expect(agent.status().models.map((m) => m.key)).toEqual(["alice/qwen-0.5b", "bob/llama"]);
  });

  it("refuses an unrendered or invalid commit and keeps serving the last good one", async () => {
    h = await createHarness({ files: { "models/alice/qwen-0.5b.yaml": specYaml("qwen-0.5b") } });
    const { agent, sha: good } = await h.startSettled();
    const puts = h.ray.acceptedPutCount();

    h.repo.write("models/bob/qwen-7b.yaml", specYaml("qwen-7b"));
    const unrendered = h.repo.ship("bob: forgot to render", { render: false });
    await h.settle(agent);
    expect(h.statuses(unrendered)).toEqual([
      "serve/h1 failure not rendered: 1 fragment is out of date; run serve-gitops render",
    ]);
    // A refused head is read and validated once, not again on every cycle that finds it still the head.
    const reads = async () =>
      (await agent.metrics.gitCommands.get()).values.find((v) => v.labels.command === "read")?.value;
    const readsAfterRefusal = await reads();
    for (let i = 0; i < 3; i++) await h.settle(agent);
    expect(await reads()).toBe(readsAfterRefusal);

    h.repo.write("models/bob/qwen-7b.yaml", `${specYaml("qwen-7b")}accelerator_type: H100\n`);
    const invalid = h.repo.ship("bob: invalid spec", { render: false });
    await h.settle(agent);
    const [status] = h.statuses(invalid);
    expect(status).toMatch(/^serve\/h1 failure invalid: 1 error; models\/bob\/qwen-7b\.yaml:\d+ E400 /);
    expect([...status!].length).toBeLessThanOrEqual("serve/h1 failure ".length + 140);

    expect(h.ray.acceptedPutCount()).toBe(puts);
    expect(agent.status().marks.applied?.sha).toBe(good);
    expect(agent.status().models.map((m) => `${m.key} ${m.state}`)).toEqual(["alice/qwen-0.5b RUNNING"]);
    expect(agent.status().refused.map((r) => r.sha)).toEqual([unrendered, invalid]);

    h.repo.write("models/bob/qwen-7b.yaml", specYaml("qwen-7b"));
    const fixed = h.repo.ship("bob: fix");
    await h.settle(agent);
    expect(h.latest(fixed).get("serve/h1/bob/qwen-7b")?.state).toBe("success");
    expect(sha7(agent.status().marks.reported!.sha)).toBe(sha7(fixed));
    // The later commit is the latest word on the cluster: the refusals are no longer shown.
    expect(agent.status().refused).toEqual([]);
    expect(statusTable(agent.status())).not.toContain("refused:");
    // The marks, the accepted one (what Serve is held at) included.
    expect(statusTable(agent.status())).toContain(
      `attempted ${sha7(fixed)}  accepted ${sha7(fixed)}  applied ${sha7(fixed)}  reported ${sha7(fixed)}`,
    );
  });
});
