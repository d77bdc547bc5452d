// Review findings: multi-commit scenarios a platform team meets; each test failed before its fix.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { httpRequest } from "../emulator/ray-test-utils";
import { RayServeTarget } from "../src/adapters/ray-target";
import { RayError } from "../src/errors";
import type { ServeTarget } from "../src/ports";
import type { RunningAgent } from "../src/runtime/run-agent";
import { clusterYaml, specYaml } from "../testkit/git-fixture";
import {
  adminMergedPrune,
  appsOf,
  createHarness,
  failingPuts,
  TEST_REPO,
  type Harness,
} from "../testkit/harness";
import { wipeStateDir } from "../testkit/restart";

let h: Harness;
afterEach(async () => {
  expect(h.github.unexpected).toEqual([]);
  await h.close();
});

const sha7 = (sha: string) => sha.slice(0, 7);

/** The harness's Ray, rejecting (400) every PUT whose config contains `marker`. */
function rejecting(marker: string): ServeTarget {
  const real = new RayServeTarget({ address: () => h.ray.url, timeoutMs: 2000 });
  return {
    version: () => real.version(),
    observe: () => real.observe(),
    apply: (config) =>
      JSON.stringify(config).includes(marker)
        ? Promise.reject(
            new RayError("Ray rejected the config (400): bad", {
              kind: "terminal",
              status: 400,
              body: "ValueError: injected rejection",
            }),
          )
        : real.apply(config),
  };
}

describe("a commit held back while the previous commit's models still load", () => {
  it("does not turn the loading model's outcome into a timeout: it came up RUNNING as its commit asked", async () => {
    h = await createHarness({
      emulator: { deployDelayMs: 400 },
      cluster: { sync: { deploy_timeout_s: 10 } },
    });
    h.repo.write("models/alice/x.yaml", specYaml("x"));
    const c1 = h.repo.ship("alice: add x");
    let offset = 0;
    const agent = await h.start({}, { now: () => Date.now() + offset });
    await agent.agent.cycle();
    expect(h.latest(c1).get("serve/h1/alice/x")?.state).toBe("pending");
    // While x loads, an admin pauses sync (incident) and alice's follow-up tweak of x is merged: it is held.
    h.repo.write("clusters/h1/cluster.yaml", clusterYaml({ sync: { suspend: true, deploy_timeout_s: 10 } }));
    h.repo.write("models/alice/x.yaml", specYaml("x", { maxModelLen: 4096 }));
    const c2 = h.repo.ship("suspend sync; alice: x shorter context");
    // x comes up (RUNNING in Ray, as c1 asked) well within the timeout...
    for (let i = 0; i < 10; i++) {
      await agent.agent.cycle();
      await new Promise((r) => setTimeout(r, 100));
    }
    const ray = (await (await fetch(`${h.ray.url}/api/serve/applications/`)).json()) as {
      applications: Record<string, { status: string }>;
    };
    expect(ray.applications["alice-202601061235-x"]?.status).toBe("RUNNING");
    // ...and the watch goes on past the deploy timeout.
    offset = 11_000;
    for (let i = 0; i < 5; i++) await agent.agent.cycle();
    await agent.outbox.drain();
    expect(h.latest(c2).get("serve/h1")?.description).toBe(
      "suspended: sync is paused by clusters/h1/cluster.yaml",
    );
    // c1's model serves: its commit must say so, not "not serving after 10 s (RUNNING)" (the watch compared
    // Ray's config with the HELD commit's x instead of c1's); and the cluster status must not be a success
    // that contradicts a failed model on the same commit.
    expect(h.latest(c1).get("serve/h1/alice/x")).toEqual({
      state: "success",
      description: "RUNNING alice-202601061235-x",
    });
    expect(h.latest(c1).get("serve/h1")?.description).not.toContain("1 deploying");
  });
});

describe("a guard's refusal standing when Serve loses its applications", () => {
  // Serve emptied: a Ray head restart without GCS fault tolerance, or an operator's `serve shutdown`
  // (DELETE /api/serve/applications/). The last applied commit is what the agent must restore.
  const shutDownServe = async () => {
    const answer = await httpRequest("DELETE", `${h.ray.url}/api/serve/applications/`);
    expect(answer.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
  };

  it("a prune refused over prune_limit is not applied after all: the six models come back, not only the two", async () => {
    const files: Record<string, string> = { "models/alice/a.yaml": specYaml("a") };
    for (const n of [1, 2, 3, 4, 5, 6, 7]) files[`models/bob/m${n}.yaml`] = specYaml(`m${n}`);
    h = await createHarness({ files });
    const { agent, sha: applied } = await h.startSettled("eight models");
    for (const n of [1, 2, 3, 4, 5, 6]) h.repo.remove(`models/bob/m${n}.yaml`);
    const refused = h.repo.ship("bob: remove six");
    await h.settle(agent);
    expect(h.latest(refused).get("serve/h1")?.description).toMatch(/^refused: would undeploy 6 models/);
    expect(await appsOf(h.ray.url)).toHaveLength(8);

    await shutDownServe();
    await h.settle(agent);
    await new Promise((r) => setTimeout(r, 200));
    await h.settle(agent);
    // No admin confirmed the prune, yet the refused commit was applied (its undeploys count 0 against an empty
    // Ray), reported "success", and the six models are gone for good.
    expect(h.latest(refused).get("serve/h1")?.state).toBe("failure");
    expect(agent.status().marks.applied?.sha).toBe(applied);
    expect(await appsOf(h.ray.url)).toHaveLength(8);
  });

  it("a prune refused before the agent restarts is judged against the last applied commit re-read from git", async () => {
    const files: Record<string, string> = { "models/alice/a.yaml": specYaml("a") };
    for (const n of [1, 2, 3, 4, 5, 6, 7]) files[`models/bob/m${n}.yaml`] = specYaml(`m${n}`);
    h = await createHarness({ files });
    const { agent: first, sha: applied } = await h.startSettled("eight models");
    for (const n of [1, 2, 3, 4, 5, 6]) h.repo.remove(`models/bob/m${n}.yaml`);
    const refused = h.repo.ship("bob: remove six");
    await h.settle(first);
    expect(h.latest(refused).get("serve/h1")?.description).toMatch(/^refused: would undeploy 6 models/);
    await first.close();
    // The agent restarts on the refused commit (its record's current one): the last applied commit is no longer
    // in memory and is re-derived from git. Meanwhile Serve lost its applications.
    await shutDownServe();
    const agent = await h.start();
    await h.settle(agent);
    await new Promise((r) => setTimeout(r, 200));
    await h.settle(agent);
    expect(h.latest(refused).get("serve/h1")?.state).toBe("failure");
    expect(agent.status().marks.applied?.sha).toBe(applied);
    expect(await appsOf(h.ray.url)).toHaveLength(8);
  });

  it("a commit refused for leaving the cluster empty is not applied after all: the model comes back", async () => {
    h = await createHarness({ files: { "models/alice/only.yaml": specYaml("only") } });
    const { agent } = await h.startSettled("one model");
    h.repo.remove("models/alice/only.yaml");
    const refused = h.repo.ship("remove the last model");
    await h.settle(agent);
    await shutDownServe();
    await h.settle(agent);
    await new Promise((r) => setTimeout(r, 200));
    await h.settle(agent);
    // Before the fix: "serve/h1 success no models" on the refused commit, and the cluster stays empty.
    expect(h.statuses(refused)).toEqual([
      "serve/h1 failure refused: the commit leaves cluster h1 with no models (set sync.allow_empty to allow)",
    ]);
    expect(await appsOf(h.ray.url)).toEqual(["alice-202601061235-only"]);
  });
});

describe("drift while a guard's refusal stands", () => {
  it("a hand edit of Serve is still corrected (self_heal) or at least reported", async () => {
    h = await createHarness({ files: { "models/alice/only.yaml": specYaml("only") } });
    const { agent } = await h.startSettled("one model");
    h.repo.remove("models/alice/only.yaml");
    h.repo.ship("remove the last model");
    await h.settle(agent);
    const puts = h.ray.acceptedPutCount();
    h.ray.tamper("alice-202601061235-only", (app: { deployments: Array<{ num_replicas: number }> }) => {
      app.deployments[0]!.num_replicas = 4;
    });
    await h.settle(agent);
    await h.settle(agent);
    // self_heal is on: the last applied commit should be re-applied (DRIFT_CORRECTED). Before the fix, nothing happens:
    // no PUT, no DRIFT_DETECTED event, no drift metric; the refused commit hides every drift until an admin acts.
    const events = agent.status().models[0]!.events.map((e) => e.type);
    expect(events).toContain("DRIFT_CORRECTED");
    expect(h.ray.acceptedPutCount()).toBe(puts + 1);
  });
});

describe("max_model_statuses across several commits", () => {
  it("an older commit whose models a newer one changes again gets one summary, not one status per model", async () => {
    h = await createHarness({
      cluster: { sync: { max_model_statuses: 2 } },
      files: { "models/alice/base.yaml": specYaml("base") },
    });
    const { agent } = await h.startSettled();
    // A platform-wide change of three models, and its follow-up, merged before the agent's next cycle.
    for (const n of ["a", "b", "c"]) h.repo.write(`models/bob/${n}.yaml`, specYaml(n));
    const c1 = h.repo.ship("bob: three models");
    for (const n of ["a", "b", "c"]) h.repo.write(`models/bob/${n}.yaml`, specYaml(n, { maxModelLen: 4096 }));
    const c2 = h.repo.ship("bob: three models, shorter context");
    await h.settle(agent);
    expect(h.statuses(c2)).toContain("serve/h1/models success 3 running, 0 undeployed, 0 failed of 3 models");
    // c1 changed more models than max_model_statuses: it must not get one status per model (GitHub's ~80
    // writes a minute; the README promises one summary instead). It gets 3 individual "superseded" statuses.
    expect(h.statuses(c1).filter((s) => s.startsWith("serve/h1/bob/"))).toEqual([]);
  });
});

describe("a commit Ray rejected, then a commit fixing part of it", () => {
  it("a model only the rejected commit changed is reported on that commit, not on the fix (nor the fix's PR)", async () => {
    h = await createHarness({ files: { "models/alice/base.yaml": specYaml("base") } });
    h.repo.ship("initial");
    const agent = await h.start({}, { target: rejecting("4096") });
    await h.settle(agent);
    // bob adds y, alice adds x in one merge train; alice's x makes Ray reject the whole config.
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const bobs = h.repo.ship("bob: add y");
    h.repo.write("models/alice/x.yaml", specYaml("x", { maxModelLen: 4096 }));
    const alices = h.repo.ship("alice: add x");
    await h.settle(agent);
    expect(h.latest(bobs).get("serve/h1/bob/y")?.state).toBe("failure");
    expect(h.latest(alices).get("serve/h1/alice/x")?.state).toBe("failure");

    // alice fixes x through pull request #12; bob's y is untouched by it.
    const prHead = h.repo.commitOnBranch("alice/fix", "alice: fix x", () =>
      h.repo.write("models/alice/x.yaml", specYaml("x")),
    );
    const fix = h.repo.mergeBranch("alice/fix", "Merge pull request #12 from alice/fix");
    h.github.setCommitPulls(
      fix,
      [{ number: 12, head: { sha: prHead, ref: "alice/fix" }, base: { ref: "main" } }],
      TEST_REPO,
    );
    await h.settle(agent);
    expect(h.latest(fix).get("serve/h1/alice/x")?.state).toBe("success");
    // y now runs. bob's commit asked for it and still shows "failure: Ray rejected the config"; its success
    // lands on alice's fix and alice's pull request instead, and /status says alice's merge last changed y.
    expect(h.latest(fix).has("serve/h1/bob/y")).toBe(false);
    expect(h.latest(prHead).has("serve/h1/bob/y")).toBe(false);
    expect(h.latest(bobs).get("serve/h1/bob/y")).toEqual({
      state: "success",
      description: "RUNNING bob-202601061235-y",
    });
    expect(agent.status().models.find((m) => m.key === "bob/y")?.sha).toBe(bobs);
  });
});

describe("a commit whose PUT kept failing, then a newer commit", () => {
  it("the model only the failed commit changed is reported on that commit, not superseded by one that never touched it", async () => {
    h = await createHarness({ files: { "models/alice/base.yaml": specYaml("base") } });
    h.repo.ship("initial");
    const { target, setFailing } = failingPuts(h);
    const agent = await h.start({}, { target });
    await h.settle(agent);
    setFailing(true);
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const bobs = h.repo.ship("bob: add y");
    for (let i = 0; i < 4; i++) await agent.agent.cycle();
    expect(h.latest(bobs).get("serve/h1")?.description).toMatch(/^retrying: Ray failed the PUT 3 times/);
    setFailing(false);
    h.repo.write("models/alice/z.yaml", specYaml("z"));
    const alices = h.repo.ship("alice: add z");
    await h.settle(agent);
    // alice's commit did not change y: bob's commit is the one that asked for it. Before the fix, bob's commit gets
    // "bob/y success superseded by <alice's>", and y's deploying/RUNNING statuses land on alice's commit.
    expect(h.latest(alices).has("serve/h1/bob/y")).toBe(false);
    expect(h.latest(bobs).get("serve/h1/bob/y")).toEqual({
      state: "success",
      description: "RUNNING bob-202601061235-y",
    });
    expect(agent.status().models.find((m) => m.key === "bob/y")?.sha).toBe(bobs);
  });
});

describe("links of superseded statuses", () => {
  it("a deploy superseded by a revert that removes the model does not link the removed endpoint", async () => {
    h = await createHarness({
      emulator: { deployDelayMs: 400 },
      files: { "models/alice/base.yaml": specYaml("base") },
    });
    const { agent } = await h.startSettled();
    h.repo.write("models/alice/x.yaml", specYaml("x"));
    const added = h.repo.ship("alice: add x");
    await agent.agent.cycle();
    h.repo.git("revert", "--no-edit", added);
    const revert = h.repo.head();
    h.repo.push();
    await h.settle(agent);
    const apps = (await (await fetch(`${h.ray.url}/api/serve/applications/`)).json()) as {
      applications: Record<string, unknown>;
    };
    expect(Object.keys(apps.applications)).toEqual(["alice-202601061235-base"]);
    const superseded = h.github
      .statuses(added)
      .find((s) => s.context === "serve/h1/alice/x" && s.state === "success");
    expect(superseded?.description).toBe(`superseded by ${sha7(revert)}`);
    // The endpoint is gone (the revert undeployed x): like "undeployed", the status must not link it (a 404).
    expect(superseded?.target_url ?? null).toBeNull();
  });
});

describe("the state directory deleted mid-rollout", () => {
  it("leaves no status pending forever: the commit Ray is loading is resolved once its models serve", async () => {
    h = await createHarness({
      emulator: { deployDelayMs: 600 },
      files: { "models/alice/base.yaml": specYaml("base") },
    });
    const { agent: first } = await h.startSettled();
    h.repo.write("models/alice/x.yaml", specYaml("x"));
    const added = h.repo.ship("alice: add x");
    await first.agent.cycle();
    await first.outbox.drain();
    expect(h.latest(added).get("serve/h1/alice/x")?.state).toBe("pending");
    await first.close();
    // The README: "The directory can be deleted to start over" (a lost PVC does the same).
    wipeStateDir(h);
    const agent = await h.start();
    await h.settle(agent);
    await new Promise((r) => setTimeout(r, 800));
    await h.settle(agent);
    expect(agent.status().models.find((m) => m.key === "alice/x")?.state).toBe("RUNNING");
    // Before the fix, both stay "pending" forever: the new agent finds Ray in sync with the commit and says nothing.
    expect([...h.latest(added).values()].filter((s) => s.state === "pending")).toEqual([]);
  });
});

/**
 * Eight models applied; an admin merges bob's removal of six with the trailer Serve-Gitops-Allow-Prune: 6, and Ray
 * fails its PUT (500) twice. Ray answers again when this returns.
 */
async function approvedPruneFailing(): Promise<{
  agent: RunningAgent;
  target: ServeTarget;
  allowed: string;
}> {
  const files: Record<string, string> = { "models/alice/a.yaml": specYaml("a") };
  for (const n of [1, 2, 3, 4, 5, 6, 7]) files[`models/bob/m${n}.yaml`] = specYaml(`m${n}`);
  h = await createHarness({ files });
  h.repo.ship("eight models");
  const { target, setFailing } = failingPuts(h);
  const agent = await h.start({}, { target });
  await h.settle(agent);
  // An admin merges bob's removal of six models with the trailer written in the merge dialog.
  const allowed = adminMergedPrune(h, {
    number: 10,
    branch: "bob/remove",
    message: "bob: remove six",
    author: "bob",
    paths: [1, 2, 3, 4, 5, 6].map((n) => `models/bob/m${n}.yaml`),
  });
  // The trailer is honoured (no refusal on the merge), but Ray fails the PUT (500) twice.
  setFailing(true);
  for (let i = 0; i < 2; i++) await agent.agent.cycle();
  expect(h.latest(allowed).get("serve/h1")?.state).not.toBe("failure");
  setFailing(false);
  return { agent, target, allowed };
}

describe("an admin-approved prune whose PUT failed, then a newer commit", () => {
  it("the admin's trailer still counts (nothing was applied since) and the failed commit is not watched forever", async () => {
    const { agent, allowed } = await approvedPruneFailing();
    // Ray is back; alice's unrelated commit lands before the next retry.
    h.repo.write("models/alice/b.yaml", specYaml("b"));
    const later = h.repo.ship("alice: b");
    const report = await h.settle(agent, { max: 50 });
    // README: a trailer counts on "the branch's first-parent history since the last APPLIED commit"; the agent
    // reads it since the last ATTEMPTED one, so the approved prune is refused again ("needs an admin's merge")...
    expect(h.latest(later).get("serve/h1")?.state).toBe("success");
    const bobs = (await appsOf(h.ray.url)).filter((a) => a.startsWith("bob-"));
    expect(bobs).toEqual(["bob-202601061235-m7"]);
    // ...and the merge whose PUT failed is never resolved: no status at all, and the watch stays busy forever
    // (--once never exits) until some later commit is applied.
    expect(report.busy).toBe(false);
    // Its models are resolved on it (their removal is its change); its cluster status was never posted (two
    // failed PUTs stay below the "retrying" status), and none is owed for a commit Ray never took.
    for (const n of [1, 2, 3, 4, 5, 6])
      expect(h.latest(allowed).get(`serve/h1/bob/m${n}`)).toMatchObject({ state: "success" });
    expect(h.latest(allowed).get("serve/h1")?.state).toBeUndefined();
  });
});

describe("an admin-approved prune whose PUT failed, then the agent restarts", () => {
  it("the admin's trailer still counts after the restart (nothing was applied since): the prune is applied", async () => {
    const { agent: first, target, allowed } = await approvedPruneFailing();
    await first.close();
    // The restarted agent reads the trailers from its record (runtime/agent.ts load) since the last applied commit.
    const agent = await h.start({}, { target });
    await h.settle(agent, { max: 50 });
    expect(h.latest(allowed).get("serve/h1")?.state).not.toBe("failure");
    expect((await appsOf(h.ray.url)).filter((a) => a.startsWith("bob-"))).toEqual(["bob-202601061235-m7"]);
  });
});

describe("a commit whose PUT failed, then a newer commit a guard refuses", () => {
  it("the failed commit is resolved, not watched forever (--once would never exit)", async () => {
    h = await createHarness({ files: { "models/alice/a.yaml": specYaml("a") } });
    h.repo.ship("initial");
    const { target, setFailing } = failingPuts(h);
    const agent = await h.start({}, { target });
    await h.settle(agent);
    setFailing(true);
    h.repo.write("models/alice/b.yaml", specYaml("b"));
    const failed = h.repo.ship("alice: b");
    await agent.agent.cycle();
    setFailing(false);
    // Before the retry, a commit removing every model lands: the allow_empty guard refuses it.
    h.repo.remove("models/alice/a.yaml");
    h.repo.remove("models/alice/b.yaml");
    const refused = h.repo.ship("remove everything");
    const report = await h.settle(agent, { max: 50 });
    expect(h.latest(refused).get("serve/h1")?.description).toMatch(/^refused: the commit leaves cluster h1/);
    // Before the fix, the failed commit's head stays unsettled for good: every cycle reports busy (the agent polls Ray at
    // --watch-interval forever) until some later commit is applied...
    expect(report.busy).toBe(false);
    expect(agent.agent.state.rollout.heads.filter((x) => !x.settled).map((x) => x.sha)).not.toContain(failed);
    // ...and a cron job's `--once` on that state directory never exits.
    await agent.close();
    const once = await h.start({ once: true, watchIntervalMs: 5 });
    const exit = await Promise.race([
      once.loop.run(),
      new Promise((r) => setTimeout(() => r("still running after 5 s"), 5000)),
    ]);
    once.loop.stop();
    expect(exit).toBe(0);
  });
});

describe("a refused commit removed from the branch by a force-push", () => {
  it("is no longer shown as refused once the branch head is the last valid commit again", async () => {
    h = await createHarness({ files: { "models/alice/a.yaml": specYaml("a") } });
    const { agent, sha: good } = await h.startSettled();
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const bad = h.repo.ship("bob: forgot to render", { render: false });
    await h.settle(agent);
    expect(agent.status().refused.map((r) => r.sha)).toEqual([bad]);
    // The owner force-pushes the branch back to the good commit: the refused commit is gone from history.
    h.repo.git("reset", "--quiet", "--hard", good);
    h.repo.push();
    await h.settle(agent);
    expect(agent.agent.lastHead).toBe(good);
    // README: refused lines show "invalid or unrendered commits since the last valid commit" while they are
    // the latest word on the cluster. The head is the valid commit again, yet /status (and `serve-gitops
    // status`) keeps listing a commit that is not on the branch.
    expect(agent.status().refused).toEqual([]);
  });
});

describe("a commit changing only the Serve config's top-level settings (the cluster's template)", () => {
  it("is PUT: a new global logging_config reaches Ray instead of the commit being marked applied unsent", async () => {
    // README (serve.template): a template "may add settings around" the applications, logging_config included.
    // Ray's apply_config copies the top-level logging_config into every application that sets none.
    const custom = readFileSync(
      new URL("../../generator/test-fixtures/templates/custom.hbs", import.meta.url),
      "utf8",
    );
    const template = (level: string) =>
      custom.replace("encoding: JSON", `encoding: JSON\n  log_level: ${level}`);
    h = await createHarness({
      files: {
        "clusters/h1/cluster.yaml": clusterYaml().replace(
          "  route_prefix: /\n",
          "  route_prefix: /\n  template: serve.hbs\n",
        ),
        "clusters/h1/serve.hbs": template("INFO"),
        "models/alice/a.yaml": specYaml("a"),
      },
    });
    const { agent } = await h.startSettled();
    const logging = async () =>
      (
        (await (await fetch(`${h.ray.url}/api/serve/applications/`)).json()) as {
          applications: Record<string, { deployed_app_config: { logging_config?: unknown } }>;
        }
      ).applications["alice-202601061235-a"]?.deployed_app_config.logging_config;
    expect(await logging()).toEqual({ encoding: "JSON", log_level: "INFO" });
    const puts = h.ray.acceptedPutCount();

    // The platform team turns on debug logs for an incident.
    h.repo.write("clusters/h1/serve.hbs", template("DEBUG"));
    const debug = h.repo.ship("h1: debug logs");
    await h.settle(agent);
    // Before the fix: the applications compare equal, so nothing is PUT, the commit gets no status, and it is recorded as
    // applied while Ray keeps INFO.
    expect(agent.status().marks.applied?.sha).toBe(debug);
    expect(h.ray.acceptedPutCount()).toBe(puts + 1);
    expect(await logging()).toEqual({ encoding: "JSON", log_level: "DEBUG" });
  });
});

describe("a commit that removes a setting from a spec", () => {
  it("is applied: Ray stops running with the removed engine argument, and the commit gets the model's statuses", async () => {
    h = await createHarness({ files: { "models/alice/a.yaml": `${specYaml("a")}  enforce_eager: true\n` } });
    const { agent } = await h.startSettled();
    const engineKwargs = async () =>
      (
        (await (await fetch(`${h.ray.url}/api/serve/applications/`)).json()) as {
          applications: Record<
            string,
            {
              deployed_app_config: {
                args: { llm_configs: Array<{ engine_kwargs: Record<string, unknown> }> };
              };
            }
          >;
        }
      ).applications["alice-202601061235-a"]?.deployed_app_config.args.llm_configs[0]?.engine_kwargs;
    expect(await engineKwargs()).toMatchObject({ enforce_eager: true });
    const puts = h.ray.acceptedPutCount();

    // alice drops enforce_eager (CUDA graphs back on: the speed she wants).
    h.repo.write("models/alice/a.yaml", specYaml("a"));
    const dropped = h.repo.ship("alice: drop enforce_eager");
    await h.settle(agent);
    // Before the fix, the comparison only asks whether what the commit sets is in Ray (a subset), so a removed key is
    // never seen: no PUT, no status, the commit recorded as applied, and Ray keeps enforce_eager: true until some
    // later commit happens to change the same application.
    expect(agent.status().marks.applied?.sha).toBe(dropped);
    expect(h.ray.acceptedPutCount()).toBe(puts + 1);
    expect(await engineKwargs()).not.toHaveProperty("enforce_eager");
    expect(h.latest(dropped).get("serve/h1/alice/a")).toEqual({
      state: "success",
      description: "RUNNING alice-202601061235-a",
    });
  });
});

describe("the PR comment of a merge whose models a newer commit supersedes", () => {
  it("is updated: it does not say DEPLOYING ('updated when Ray reports each model') forever", async () => {
    h = await createHarness({
      emulator: { deployDelayMs: 400 },
      files: { "models/alice/base.yaml": specYaml("base") },
    });
    const { agent } = await h.startSettled();
    const prHead = h.repo.commitOnBranch("bob/x", "bob: add x", () =>
      h.repo.write("models/bob/x.yaml", specYaml("x")),
    );
    const merge = h.repo.mergeBranch("bob/x", "Merge pull request #7 from bob/x");
    h.github.setCommitPulls(
      merge,
      [{ number: 7, head: { sha: prHead, ref: "bob/x" }, base: { ref: "main" } }],
      TEST_REPO,
    );
    await agent.agent.cycle();
    await agent.outbox.drain();
    expect(h.github.comments(7, TEST_REPO)[0]?.body).toContain(
      "| bob/x | `bob-202601061235-x` | DEPLOYING |",
    );
    // bob follows up right away (a direct push) while x still loads: x is superseded on the merge.
    h.repo.write("models/bob/x.yaml", specYaml("x", { maxModelLen: 4096 }));
    h.repo.ship("bob: x shorter context");
    await h.settle(agent);
    expect(h.latest(merge).get("serve/h1/bob/x")?.description).toMatch(/^superseded by /);
    const comments = h.github.comments(7, TEST_REPO);
    expect(comments).toHaveLength(1);
    // Before the fix, the comment is never written again (no model of the merge is left but superseded ones, and those are
    // left out of the body), so the PR keeps "DEPLOYING" and "Deploying: this comment is updated..." for good.
    expect(comments[0]!.body).not.toContain("DEPLOYING");
  });
});
