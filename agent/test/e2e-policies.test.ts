// End to end: superseding, attribution across several commits, summaries, guards, drift and the suspend switch.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { putApps } from "../emulator/ray-test-utils";
import { createLogger } from "../src/log";
import { clusterYaml, specYaml } from "../testkit/git-fixture";
import { appsOf, createHarness, type Harness } from "../testkit/harness";

let h: Harness;
afterEach(async () => {
  expect(h.github.unexpected).toEqual([]);
  await h.close();
});

const sha7 = (sha: string) => sha.slice(0, 7);

/** GitHub's record of a pull request merged into main as `sha` by `by`, with its own commits. */
function pullMerged(
  number: number,
  sha: string,
  by: string,
  commits: { sha: string; message: string }[],
  text: { title?: string; body?: string } = {},
) {
  h.github.setCommitPulls(sha, [
    {
      number,
      ...text,
      state: "closed",
      merged_at: "2026-01-06T12:40:00Z",
      merge_commit_sha: sha,
      head: { sha: commits.at(-1)?.sha ?? sha, ref: `pr-${number}` },
      base: { ref: "main" },
      user: { login: "alice" },
      merged_by: { login: by },
    },
  ]);
  h.github.setPullCommits(number, commits);
}

/** A commit turning on the cluster's sync.adopt_unmanaged. */
function adoptUnmanaged(message: string): string {
  h.repo.write(
    "clusters/h1/cluster.yaml",
    h.repo
      .git("show", "HEAD:clusters/h1/cluster.yaml")
      .replace("adopt_unmanaged: false", "adopt_unmanaged: true") + "\n",
  );
  return h.repo.ship(message);
}

describe("several commits", () => {
  it("a newer commit mid-deploy supersedes what it changes again; the rest resolves to its outcome", async () => {
    h = await createHarness({ emulator: { deployDelayMs: 400 } });
    h.repo.write("models/alice/x.yaml", specYaml("x"));
    h.repo.write("models/alice/y.yaml", specYaml("y"));
    const c1 = h.repo.ship("add x and y");
    const agent = await h.start();
    await agent.agent.cycle();
    expect(h.statuses(c1)).toContain("serve/h1/alice/x pending deploying 1x1 GPU");

    h.repo.write("models/alice/x.yaml", specYaml("x", { maxModelLen: 4096 }));
    const c2 = h.repo.ship("x: shorter context");
    await h.settle(agent);

    expect(h.latest(c1).get("serve/h1/alice/x")).toEqual({
      state: "success",
      description: `superseded by ${sha7(c2)}`,
    });
    expect(h.latest(c1).get("serve/h1/alice/y")).toEqual({
      state: "success",
      description: "RUNNING alice-202601061235-y",
    });
    expect(h.latest(c1).get("serve/h1")).toEqual({
      state: "success",
      description: `superseded by ${sha7(c2)}`,
    });
    expect(h.latest(c2).get("serve/h1/alice/x")).toEqual({
      state: "success",
      description: "RUNNING alice-202601061235-x",
    });
    expect(h.latest(c2).has("serve/h1/alice/y")).toBe(false);
    for (const sha of [c1, c2])
      expect([...h.latest(sha).values()].every((s) => s.state !== "pending")).toBe(true);
    // The model's history in /status says so too: c1's deploy was superseded, then c2's came up.
    const x = agent.status().models.find((m) => m.key === "alice/x");
    expect(x?.events.map((e) => `${e.type} ${e.sha}`)).toEqual([
      `DEPLOY_REQUESTED ${c1}`,
      `APPLIED ${c1}`,
      `SUPERSEDED ${c1}`,
      `DEPLOY_REQUESTED ${c2}`,
      `APPLIED ${c2}`,
      `RUNNING ${c2}`,
    ]);
    expect(x?.events.find((e) => e.type === "SUPERSEDED")?.message).toBe(`superseded by ${sha7(c2)}`);
  });

  it("gives each commit between two cycles the statuses of the models it changed", async () => {
    h = await createHarness({ files: { "models/alice/base.yaml": specYaml("base") } });
    const { agent } = await h.startSettled();
    h.repo.write("models/alice/x.yaml", specYaml("x"));
    const c1 = h.repo.ship("add x");
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const c2 = h.repo.ship("add y");
    h.repo.write("README.md", "docs only\n");
    const c3 = h.repo.ship("docs");
    await h.settle(agent);

    expect(h.statuses(c1)).toEqual([
      "serve/h1/alice/x pending deploying 1x1 GPU",
      "serve/h1/alice/x success RUNNING alice-202601061235-x",
    ]);
    expect(h.statuses(c2)).toEqual([
      "serve/h1/bob/y pending deploying 1x1 GPU",
      "serve/h1/bob/y success RUNNING bob-202601061235-y",
    ]);
    expect(h.statuses(c3)).toEqual([
      "serve/h1 pending 1 running, 2 deploying, 0 failed",
      "serve/h1 success 3 running, 0 deploying, 0 failed",
    ]);
  });

  it("a commit changing more models than max_model_statuses gets one summary instead", async () => {
    h = await createHarness({
      cluster: { sync: { max_model_statuses: 2 } },
      files: { "models/alice/base.yaml": specYaml("base") },
    });
    const { agent } = await h.startSettled();
    for (const name of ["a", "b", "c"]) h.repo.write(`models/bob/${name}.yaml`, specYaml(name));
    const sha = h.repo.ship("bob: three models");
    await h.settle(agent);
    expect(h.statuses(sha)).toEqual([
      "serve/h1 pending 1 running, 3 deploying, 0 failed",
      "serve/h1/models pending deploying 3 models",
      "serve/h1/models success 3 running, 0 undeployed, 0 failed of 3 models",
      "serve/h1 success 4 running, 0 deploying, 0 failed",
    ]);
  });
});

describe("guards", () => {
  it("refuses a prune over the limit until an admin's merge carries Serve-Gitops-Allow-Prune", async () => {
    const files: Record<string, string> = { "models/alice/a.yaml": specYaml("a") };
    for (const n of [1, 2, 3, 4, 5, 6, 7]) files[`models/bob/m${n}.yaml`] = specYaml(`m${n}`);
    h = await createHarness({ files });
    const { agent } = await h.startSettled("seven models");
    const bobApps = async () => (await appsOf(h.ray.url)).filter((a) => a.startsWith("bob-")).length;
    for (const n of [1, 2, 3, 4, 5, 6]) h.repo.remove(`models/bob/m${n}.yaml`);
    const refused = h.repo.ship("bob: remove six");
    await h.settle(agent);
    expect(h.statuses(refused)).toEqual([
      "serve/h1 failure refused: would undeploy 6 models (prune limit 5); needs an admin's merge with trailer Serve-Gitops-Allow-Prune: 6",
    ]);
    expect(await bobApps()).toBe(7);
    expect(agent.status().models.filter((m) => m.state === "RUNNING")).toHaveLength(8);

    // The probe's repro: alice merges (--no-ff) a branch touching only her model whose inner commit carries the
    // trailer. Only first-parent commits speak for the branch, so nothing even asks GitHub.
    const inner = h.repo.commitOnBranch("alice/b", "alice: b\n\nServe-Gitops-Allow-Prune: 999999", () =>
      h.repo.write("models/alice/b.yaml", specYaml("b")),
    );
    const innerMerge = h.repo.mergeBranch("alice/b", "Merge pull request #7 from alice/b");
    pullMerged(7, innerMerge, "alice", [
      { sha: inner, message: "alice: b\n\nServe-Gitops-Allow-Prune: 999999" },
    ]);
    await h.settle(agent);
    expect(await bobApps()).toBe(7);
    expect(h.github.requests.filter((r) => r.path.includes(inner))).toEqual([]);

    // Whoever merges writes the merge commit's message: alice (not an admin) cannot lift the guard either.
    const c = h.repo.commitOnBranch("alice/c", "alice: c", () =>
      h.repo.write("models/alice/c.yaml", specYaml("c")),
    );
    const aliceMerge = h.repo.mergeBranch(
      "alice/c",
      "Merge pull request #8 from alice/c\n\nServe-Gitops-Allow-Prune: 6",
    );
    pullMerged(8, aliceMerge, "alice", [{ sha: c, message: "alice: c" }]);
    await h.settle(agent);
    expect(await bobApps()).toBe(7);
    expect(h.latest(aliceMerge).get("serve/h1")?.state).toBe("failure");

    // A direct push (no pull request) carries no admin's word either.
    h.repo.write("NOTE.md", "pushed\n");
    h.repo.ship("direct push\n\nServe-Gitops-Allow-Prune: 6");
    await h.settle(agent);
    expect(await bobApps()).toBe(7);

    // An admin squash-merges a branch whose own commit carries the trailer (GitHub's default squash message
    // brings it in): the admin did not write it.
    h.repo.write("models/alice/d.yaml", specYaml("d"));
    const squash = h.repo.ship("alice: d (#9)\n\n* alice: d\n\nServe-Gitops-Allow-Prune: 6");
    pullMerged(9, squash, "platform-admin", [
      { sha: "d".repeat(40), message: "alice: d\n\nServe-Gitops-Allow-Prune: 6" },
    ]);
    await h.settle(agent);
    expect(await bobApps()).toBe(7);

    // The probe's repro: an admin merges alice's pull request with GitHub's default merge message, which copies
    // her title and description: the trailer there is hers (git reads the key in any case), not the admin's.
    const f = h.repo.commitOnBranch("alice/tweak", "alice: tweak", () => h.repo.write("TWEAK.md", "tweak\n"));
    const copied = h.repo.mergeBranch(
      "alice/tweak",
      "Merge pull request #11 from alice/tweak\n\nserve-gitops-allow-prune: 6",
    );
    pullMerged(11, copied, "platform-admin", [{ sha: f, message: "alice: tweak" }], {
      title: "alice: tweak",
      body: "serve-gitops-allow-prune: 6",
    });
    await h.settle(agent);
    expect(await bobApps()).toBe(7);
    expect(h.latest(copied).get("serve/h1")?.state).toBe("failure");

    // The admin merges with the trailer written in the merge dialog: the prune goes ahead.
    const e = h.repo.commitOnBranch("ops/e", "ops: note", () => h.repo.write("OPS.md", "bye\n"));
    const allowed = h.repo.mergeBranch(
      "ops/e",
      "Merge pull request #10 from ops/e\n\nServe-Gitops-Allow-Prune: 6",
    );
    pullMerged(10, allowed, "Platform-Admin", [{ sha: e, message: "ops: note" }]);
    await h.settle(agent);
    expect(await bobApps()).toBe(1);
    expect(h.latest(allowed).get("serve/h1")).toEqual({
      state: "success",
      description: "5 running, 0 deploying, 0 failed",
    });
    // The six undeploys are attributed to the commit that removed them.
    expect(h.latest(refused).get("serve/h1/bob/m1")).toEqual({
      state: "success",
      description: "undeployed",
    });
  });

  it("judges a prune trailer by the pull request's title and description as they stood at the merge", async () => {
    const files: Record<string, string> = { "models/alice/a.yaml": specYaml("a") };
    for (const n of [1, 2, 3, 4, 5, 6, 7]) files[`models/bob/m${n}.yaml`] = specYaml(`m${n}`);
    h = await createHarness({ files });
    const { agent } = await h.startSettled("seven models");
    const bobApps = async () => (await appsOf(h.ray.url)).filter((a) => a.startsWith("bob-")).length;
    for (const n of [1, 2, 3, 4, 5, 6]) h.repo.remove(`models/bob/m${n}.yaml`);
    h.repo.ship("bob: remove six");
    await h.settle(agent);
    expect(await bobApps()).toBe(7);

    // alice writes the trailer into her description; an admin merges with GitHub's default message, which
    // copies it; alice then edits the description (or the title) before the agent asks: now it reads clean.
    const merged = (n: number, text: { title: string; body: string }, message = text.body) => {
      const c = h.repo.commitOnBranch(`alice/${n}`, "alice: tweak", () =>
        h.repo.write(`TWEAK${n}.md`, "tweak\n"),
      );
      const merge = h.repo.mergeBranch(
        `alice/${n}`,
        `Merge pull request #${n} from alice/${n}\n\n${text.title}\n\n${message}`,
      );
      pullMerged(n, merge, "platform-admin", [{ sha: c, message: "alice: tweak" }], text);
      return merge;
    };
    const edited = merged(12, { title: "alice: tweak", body: "Serve-Gitops-Allow-Prune: 6" });
    h.github.editPull(12, { body: "Tidy up.", actor: "alice", at: "2026-01-06T12:41:00Z" });
    await h.settle(agent);
    expect(await bobApps()).toBe(7);
    expect(h.latest(edited).get("serve/h1")?.state).toBe("failure");

    const renamed = merged(13, { title: "Serve-Gitops-Allow-Prune: 6", body: "" }, "");
    h.github.editPull(13, { title: "alice: tweak", actor: "alice", at: "2026-01-06T12:41:00Z" });
    await h.settle(agent);
    expect(await bobApps()).toBe(7);
    expect(h.latest(renamed).get("serve/h1")?.state).toBe("failure");

    // alice removed the trailer before the merge, as the refusal asks: the admin's own trailer counts.
    const fixed = merged(
      14,
      { title: "alice: tweak", body: "Serve-Gitops-Allow-Prune: 6" },
      "Tidy up.\n\nServe-Gitops-Allow-Prune: 6",
    );
    h.github.editPull(14, { body: "Tidy up.", actor: "alice", at: "2026-01-06T12:30:00Z" });
    await h.settle(agent);
    expect(await bobApps()).toBe(1);
    expect(h.latest(fixed).get("serve/h1")?.state).toBe("success");
  });

  it("renaming serve.application_name moves the models to the new app: the old one is its own, not unmanaged", async () => {
    h = await createHarness({
      files: { "models/alice/x.yaml": specYaml("x"), "models/bob/y.yaml": specYaml("y") },
      cluster: { layout: "single" },
    });
    const { agent: first } = await h.startSettled();
    expect(await appsOf(h.ray.url)).toEqual(["argus_llm_app"]);
    // The agent knows its old application from its record (state.json), also after a restart.
    await first.close();
    const agent = await h.start();
    h.repo.write(
      "clusters/h1/cluster.yaml",
      clusterYaml({ layout: "single" }).replace("application_name: argus_llm_app", "application_name: llm2"),
    );
    const renamed = h.repo.ship("rename the application");
    await h.settle(agent);
    expect(h.latest(renamed).get("serve/h1")).toEqual({
      state: "success",
      description: "2 running, 0 deploying, 0 failed",
    });
    expect(await appsOf(h.ray.url)).toEqual(["llm2"]);
  });

  it("refuses to empty the cluster unless allow_empty", async () => {
    h = await createHarness({ files: { "models/alice/only.yaml": specYaml("only") } });
    const { agent } = await h.startSettled("one model");
    h.repo.remove("models/alice/only.yaml");
    const sha = h.repo.ship("remove the last model");
    await h.settle(agent);
    expect(h.statuses(sha)).toEqual([
      "serve/h1 failure refused: the commit leaves cluster h1 with no models (set sync.allow_empty to allow)",
    ]);
    expect(await appsOf(h.ray.url)).toEqual(["alice-202601061235-only"]);
    // /status shows the guard's refusal while it stands, and no longer once a later commit is applied.
    expect(agent.status().refused).toEqual([
      {
        sha,
        reason: "refused: the commit leaves cluster h1 with no models (set sync.allow_empty to allow)",
      },
    ]);
    h.repo.write("models/alice/other.yaml", specYaml("other"));
    const later = h.repo.ship("another model instead");
    await h.settle(agent);
    expect(h.latest(later).get("serve/h1")?.state).toBe("success");
    expect(agent.status().refused).toEqual([]);
  });

  it("day 0: a commit with no models on a Ray holding none of the agent's apps is a success, not refused", async () => {
    h = await createHarness({});
    h.ray.addImperativeApp("notebook", { routePrefix: "/notebook" });
    const sha = h.repo.ship("adopt cluster h1");
    const agent = await h.start();
    await h.settle(agent);
    expect(h.statuses(sha)).toEqual(["serve/h1 success no models"]);
    expect(agent.status().refused).toEqual([]);
    expect(await appsOf(h.ray.url)).toEqual(["notebook"]);
    h.repo.write("models/alice/x.yaml", specYaml("x"));
    const first = h.repo.ship("alice: first model");
    await h.settle(agent);
    expect(h.latest(first).get("serve/h1")?.state).toBe("success");
  });

  it("a first sync (no state.json) undeploys nothing it did not deploy: the Ray may be another cluster's", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    // The cluster's own agent deployed alice/x; another agent (no state) meets it on its first sync.
    await h.startSettled("alice: x");
    h.repo.remove("models/alice/x.yaml");
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const sha = h.repo.ship("bob: y, no x");
    const fresh = mkdtempSync(join(tmpdir(), "serve-gitops-state-"));
    try {
      // A dry run says so too, instead of "would PUT".
      const lines: string[] = [];
      const log = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
      const dry = await h.start({ stateDir: join(fresh, "dry"), dryRun: true }, { log });
      await dry.agent.cycle();
      await dry.close();
      const said = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
      expect(said).toContain("apply refused by a guard");
      expect(said).not.toContain("dry run: would PUT the Serve config");

      const other = await h.start({ stateDir: join(fresh, "state") });
      await h.settle(other);
      const reason =
        "refused: first sync (no state) would undeploy 1 model(s) (alice/x): wrong Ray (--ray-address, dashboard_address)? or sync.adopt_unmanaged";
      expect(h.statuses(sha)).toEqual([`serve/h1 failure ${reason}`]);
      expect(other.status().refused).toEqual([{ sha, reason }]);
      expect(await appsOf(h.ray.url)).toEqual(["alice-202601061235-x"]);

      const adopt = adoptUnmanaged("adopt what Ray holds");
      await h.settle(other);
      expect(h.latest(adopt).get("serve/h1")?.state).toBe("success");
      expect(await appsOf(h.ray.url)).toEqual(["bob-202601061235-y"]);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("refuses while Ray holds declarative apps it does not manage, and replaces them once told to adopt", async () => {
    h = await createHarness({
      emulator: { importPaths: { "legacy.app:main": ["Legacy"] } },
      files: { "models/alice/x.yaml": specYaml("x") },
    });
    await putApps(h.ray.url, {
      applications: [{ name: "legacy", route_prefix: "/legacy", import_path: "legacy.app:main" }],
    });
    h.ray.addImperativeApp("notebook", { routePrefix: "/notebook" });
    const { agent, sha } = await h.startSettled("first models");
    expect(h.statuses(sha)).toEqual([
      "serve/h1 failure refused: a PUT would delete 1 app(s) serve-gitops does not manage (legacy); wrong Ray (--ray-address, dashboard_address)?",
    ]);
    expect(await appsOf(h.ray.url)).toEqual(["legacy", "notebook"]);

    const adopt = adoptUnmanaged("adopt the legacy app");
    await h.settle(agent);
    expect(h.latest(adopt).get("serve/h1/alice/x")?.state).toBe("success");
    expect(await appsOf(h.ray.url)).toEqual(["alice-202601061235-x", "notebook"]);
  });
});

describe("hand-made apps next to the agent's", () => {
  const variants = {
    "Ray Serve LLM's builder with a model named the serve-gitops way": (mine: Record<string, unknown>) => ({
      ...(JSON.parse(
        JSON.stringify(mine).replaceAll("alice-202601061235-x", "bob-202601010000-debug"),
      ) as object),
      name: "scratch",
      route_prefix: "/scratch",
    }),
    "a per-user layout's name on its own import_path": () => ({
      name: "argus_llm_app-legacy",
      route_prefix: "/legacy",
      import_path: "legacy.app:app",
    }),
    "a served name's shape on its own import_path": () => ({
      name: "carol-202501010000-demo",
      route_prefix: "/demo",
      import_path: "legacy.app:app",
    }),
  };
  for (const [variant, handMade] of Object.entries(variants)) {
    it(`keeps ${variant}: refused unless adopt_unmanaged, then replaced`, async () => {
      h = await createHarness({
        files: { "models/alice/x.yaml": specYaml("x") },
        emulator: { importPaths: { "legacy.app:app": ["Legacy"] } },
      });
      const { agent } = await h.startSettled();
      const before = (await (await fetch(`${h.ray.url}/api/serve/applications/`)).json()) as {
        applications: Record<string, { deployed_app_config: Record<string, unknown> }>;
      };
      const mine = before.applications["alice-202601061235-x"]!.deployed_app_config;
      const extra = handMade(mine);
      await putApps(h.ray.url, { applications: [mine, extra] });
      await h.settle(agent);
      // Not drift to correct: the agent's own app is as the commit says.
      expect(await appsOf(h.ray.url)).toEqual(["alice-202601061235-x", extra.name].sort());

      h.repo.write("models/bob/y.yaml", specYaml("y"));
      const added = h.repo.ship("add y");
      await h.settle(agent);
      expect(h.latest(added).get("serve/h1")).toEqual({
        state: "failure",
        description: `refused: a PUT would delete 1 app(s) serve-gitops does not manage (${extra.name}); wrong Ray (--ray-address, dashboard_address)?`,
      });
      expect(await appsOf(h.ray.url)).toEqual(["alice-202601061235-x", extra.name].sort());

      const adopt = adoptUnmanaged("adopt the hand-made app");
      await h.settle(agent);
      expect(h.latest(adopt).get("serve/h1")?.state).toBe("success");
      expect(await appsOf(h.ray.url)).toEqual(["alice-202601061235-x", "bob-202601061235-y"]);
    });
  }
});

describe("drift and suspend", () => {
  it("re-applies a config changed by hand and records a drift event", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    const { agent, sha } = await h.startSettled();
    const writes = h.github.requests.filter((r) => r.method === "POST").length;
    const puts = h.ray.acceptedPutCount();
    h.ray.tamper("alice-202601061235-x", (app: { deployments: Array<{ num_replicas: number }> }) => {
      app.deployments[0]!.num_replicas = 4;
    });
    await h.settle(agent);
    expect(h.ray.acceptedPutCount()).toBe(puts + 1);
    expect(agent.status().models[0]!.events.map((e) => e.type)).toContain("DRIFT_CORRECTED");
    expect(await agent.metrics.registry.getSingleMetricAsString("serve_gitops_drift_events_total")).toContain(
      'action="corrected"} 1',
    );
    expect(h.github.requests.filter((r) => r.method === "POST").length).toBe(writes);
    expect(agent.status().marks.applied?.sha).toBe(sha);
    await h.settle(agent);
    expect(h.ray.acceptedPutCount()).toBe(puts + 1);
  });

  it("with self_heal off reports drift without applying", async () => {
    h = await createHarness({
      cluster: { sync: { self_heal: false } },
      files: { "models/alice/x.yaml": specYaml("x") },
    });
    const { agent } = await h.startSettled();
    const puts = h.ray.acceptedPutCount();
    h.ray.tamper("alice-202601061235-x", (app: { deployments: Array<{ num_replicas: number }> }) => {
      app.deployments[0]!.num_replicas = 4;
    });
    await h.settle(agent);
    await h.settle(agent);
    expect(h.ray.acceptedPutCount()).toBe(puts);
    expect(agent.status().models[0]!.events.filter((e) => e.type === "DRIFT_DETECTED")).toHaveLength(1);
    expect(await agent.metrics.registry.getSingleMetricAsString("serve_gitops_drift_events_total")).toContain(
      'action="reported"} 1',
    );
  });

  it("--suspend applies nothing: new models stay QUEUED, drift is still reported", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    const { agent: first } = await h.startSettled();
    await first.close();
    const agent = await h.start({ suspend: true });
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const sha = h.repo.ship("add y");
    const puts = h.ray.acceptedPutCount();
    await h.settle(agent);
    expect(h.ray.acceptedPutCount()).toBe(puts);
    expect(agent.status().models.map((m) => `${m.key} ${m.state}`)).toEqual([
      "alice/x RUNNING",
      "bob/y QUEUED",
    ]);
    expect(agent.status().suspended).toBe(true);
    expect(h.statuses(sha)).toEqual(["serve/h1 pending suspended: sync is paused by --suspend"]);
  });

  it("sync.suspend in cluster.yaml holds a commit with one pending status saying so", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    const { agent } = await h.startSettled();
    h.repo.write("clusters/h1/cluster.yaml", clusterYaml({ sync: { suspend: true } }));
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const sha = h.repo.ship("suspend, and add y");
    const puts = h.ray.acceptedPutCount();
    await h.settle(agent);
    for (let i = 0; i < 3; i++) await agent.agent.cycle();
    expect(h.ray.acceptedPutCount()).toBe(puts);
    expect(h.statuses(sha)).toEqual([
      "serve/h1 pending suspended: sync is paused by clusters/h1/cluster.yaml",
    ]);
    expect(agent.status().models.map((m) => `${m.key} ${m.state}`)).toEqual([
      "alice/x RUNNING",
      "bob/y QUEUED",
    ]);
  });

  it("commits held while suspended are resolved, not left pending, once a newer commit is applied", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    const { agent } = await h.startSettled();
    h.repo.write("clusters/h1/cluster.yaml", clusterYaml({ sync: { suspend: true } }));
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const first = h.repo.ship("suspend, and add y");
    await h.settle(agent);
    h.repo.write("models/bob/z.yaml", specYaml("z"));
    const second = h.repo.ship("add z while suspended");
    await h.settle(agent);
    h.repo.write("clusters/h1/cluster.yaml", clusterYaml({ sync: { suspend: false } }));
    const resume = h.repo.ship("resume");
    await h.settle(agent);
    for (const held of [first, second]) {
      expect(h.latest(held).get("serve/h1")).toEqual({
        state: "success",
        description: `superseded by ${sha7(resume)}`,
      });
    }
    expect(h.latest(resume).get("serve/h1")).toEqual({
      state: "success",
      description: "3 running, 0 deploying, 0 failed",
    });
    expect(agent.agent.state.rollout.held ?? []).toEqual([]);
  });

  it("a commit held while suspended is resolved, not left pending, when a later commit already matches Ray", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    const { agent } = await h.startSettled();
    h.repo.write("clusters/h1/cluster.yaml", clusterYaml({ sync: { suspend: true } }));
    h.repo.write("models/bob/y.yaml", specYaml("y"));
    const held = h.repo.ship("suspend, and add y");
    await h.settle(agent);
    expect(h.latest(held).get("serve/h1")?.state).toBe("pending");
    // bob changes his mind before anything is applied: the branch asks again for what Ray runs.
    h.repo.remove("models/bob/y.yaml");
    h.repo.ship("drop y (still suspended)");
    await h.settle(agent);
    h.repo.write("clusters/h1/cluster.yaml", clusterYaml({ sync: { suspend: false } }));
    const resume = h.repo.ship("resume");
    await h.settle(agent);
    await h.settle(agent);
    expect(agent.status().marks.applied?.sha).toBe(resume);
    // Superseded by whichever later commit took its place (the one that dropped y, or the resume).
    expect(h.latest(held).get("serve/h1")).toEqual({
      state: "success",
      description: expect.stringMatching(/^superseded by [0-9a-f]{7}$/) as unknown,
    });
    expect(agent.agent.state.rollout.held ?? []).toEqual([]);
  });
});
