// Review findings: the exact comparison, the guards' hold at the last applied commit, the
// record-less adoption; each test failed before its fix.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { RayServeTarget } from "../src/adapters/ray-target";
import { GitError, RayError } from "../src/errors";
import type { DesiredStateSource, ServeTarget } from "../src/ports";
import { clusterYaml, specYaml } from "../testkit/git-fixture";
import { failingPuts, createHarness, TEST_REPO, type Harness } from "../testkit/harness";
import { captureLog, wipeStateDir } from "../testkit/restart";

let h: Harness;
afterEach(async () => {
  expect(h.github.unexpected).toEqual([]);
  await h.close();
});

const appsOf = async (url: string) =>
  Object.keys(
    (
      (await (await fetch(`${url}/api/serve/applications/`)).json()) as {
        applications: Record<string, unknown>;
      }
    ).applications,
  ).sort();

const custom = readFileSync(
  new URL("../../generator/test-fixtures/templates/custom.hbs", import.meta.url),
  "utf8",
);
const withTemplate = (sync: Parameters<typeof clusterYaml>[0] = {}) =>
  clusterYaml(sync).replace("  route_prefix: /\n", "  route_prefix: /\n  template: serve.hbs\n");

/**
 * A first agent settles alice/base, then pull request #`number` from `branch` (one commit, `message`, made by
 * `change`) is merged. The first agent settles the merge too, writes what it owes and stops; or, with
 * `{ seen: false }`, stops before the merge, so that Ray still runs alice/base alone. Returns the merge commit.
 */
async function mergeSettled(
  number: number,
  branch: string,
  message: string,
  change: () => void,
  { seen = true } = {},
) {
  h = await createHarness({ files: { "models/alice/base.yaml": specYaml("base") } });
  const { agent: first } = await h.startSettled();
  const stop = async () => {
    await first.outbox.drain();
    await first.close();
  };
  if (!seen) await stop();
  const prHead = h.repo.commitOnBranch(branch, message, change);
  const merge = h.repo.mergeBranch(branch, `Merge pull request #${number} from ${branch}`);
  h.github.setCommitPulls(
    merge,
    [{ number, head: { sha: prHead, ref: branch }, base: { ref: "main" } }],
    TEST_REPO,
  );
  if (seen) {
    await h.settle(first);
    await stop();
  }
  return merge;
}

/**
 * Starts an agent, settled and drained, whose git answers everything but the history (attribution.ts ownChanges
 * reads the head's first-parent diff there), and checks that it asked for it and said so in one warning.
 */
async function startWithoutHistory() {
  const git = h.gitSource();
  let historyAsked = 0;
  const source: DesiredStateSource = {
    head: () => git.head(),
    ensure: (s) => git.ensure(s),
    snapshot: (s) => git.snapshot(s),
    history: () => {
      historyAsked++;
      return Promise.reject(new GitError("cannot read the history: injected", { kind: "transient" }));
    },
    trailers: (...args) => git.trailers(...args),
  };
  const { log, parsed } = captureLog();
  const agent = await h.start({}, { source, log });
  const report = await h.settle(agent);
  await agent.outbox.drain();
  expect(historyAsked).toBeGreaterThan(0);
  // One warning, whichever path asked (agent.ts where Ray runs the head, apply.ts where the agent PUTs it).
  expect(
    parsed()
      .filter((l) => l.level === 40)
      .map((l) => [l.msg, l.err?.message]),
  ).toEqual([
    ["cannot read the history; the PR comment lists no models", "cannot read the history: injected"],
  ]);
  return { agent, report };
}

describe("a template setting that Ray stores normalised (the exact comparison)", () => {
  it.each([
    [
      "log_level as a number (the schema allows 20; Ray's validator stores logging._levelToName[20], 'INFO')",
      (t: string) => t.replace("encoding: JSON", "encoding: JSON\n  log_level: 20"),
    ],
    [
      "additional_log_standard_attrs with a repeat (Ray's validator stores list(set(v)))",
      (t: string) =>
        t.replace("encoding: JSON", "encoding: JSON\n  additional_log_standard_attrs: [name, name]"),
    ],
    [
      // controller.py apply_config: `if app_config.logging_config is None and config.logging_config:` -- a
      // LoggingConfig instance is truthy even with no field set, so every application stores logging_config: {}
      // (compare.ts asDeployed skips an empty one).
      "an empty top-level logging_config ({})",
      (t: string) => t.replace("logging_config:\n  encoding: JSON", "logging_config: {}"),
    ],
  ])("is applied once and settles: %s", async (_, edit) => {
    h = await createHarness({
      files: {
        "clusters/h1/cluster.yaml": withTemplate(),
        "clusters/h1/serve.hbs": edit(custom),
        "models/alice/a.yaml": specYaml("a"),
      },
    });
    const c1 = h.repo.ship("initial");
    const agent = await h.start();
    const report = await h.settle(agent);
    await agent.outbox.drain();
    // Before the fix, Ray's deployed_app_config never equals the commit's (Ray validated and normalised the value): every
    // cycle after the PUT finds the commit "not in sync" and re-PUTs it as a retry, and a cycle that PUT never
    // progresses the watch, so the model RUNNING in Ray keeps "pending deploying" on its commit, the commit is
    // never marked applied, the agent stays busy (--once never exits) and Ray gets a PUT every cycle.
    expect(h.latest(c1).get("serve/h1/alice/a")).toEqual({
      state: "success",
      description: "RUNNING alice-202601061235-a",
    });
    expect(report.busy).toBe(false);
    expect(agent.status().marks.applied?.sha).toBe(c1);
    const puts = h.ray.acceptedPutCount();
    for (let i = 0; i < 5; i++) await agent.agent.cycle();
    expect(h.ray.acceptedPutCount()).toBe(puts);
  });
});

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

describe("the last applied commit after a superseded apply and a rejected PUT (record.ts lastApplied)", () => {
  it("is the superseded commit Ray took: a guard's refusal later does not roll Ray back past it", async () => {
    h = await createHarness({
      emulator: { deployDelayMs: 300 },
      files: { "models/alice/a.yaml": specYaml("a") },
    });
    const c1 = h.repo.ship("alice: add a");
    const agent = await h.start({}, { target: rejecting("4096") });
    await h.settle(agent);
    expect(agent.status().marks.applied?.sha).toBe(c1);
    // bob adds b: Ray takes the PUT, b loads...
    h.repo.write("models/bob/b.yaml", specYaml("b"));
    const c2 = h.repo.ship("bob: add b");
    await agent.agent.cycle();
    expect(await appsOf(h.ray.url)).toContain("bob-202601061235-b");
    // ...and before it serves, alice's change of a is merged, which Ray rejects (400): c2 is superseded.
    h.repo.write("models/alice/a.yaml", specYaml("a", { maxModelLen: 4096 }));
    h.repo.ship("alice: a shorter context");
    await h.settle(agent);
    for (let i = 0; i < 20 && h.latest(c2).get("serve/h1/bob/b")?.state !== "success"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await agent.agent.cycle();
      await agent.outbox.drain();
    }
    // b serves: c2's config is what Ray runs (c3 never reached it).
    expect(h.latest(c2).get("serve/h1/bob/b")?.state).toBe("success");
    // An accidental commit emptying the cluster is refused (allow_empty is false): Serve stays as it is.
    h.repo.remove("models/alice/a.yaml");
    h.repo.remove("models/bob/b.yaml");
    const empty = h.repo.ship("oops: remove every spec");
    await h.settle(agent);
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await agent.agent.cycle();
    }
    await agent.outbox.drain();
    expect(h.latest(empty).get("serve/h1")?.state).toBe("failure");
    // README: "While a guard refuses a commit, the commit never reaches Ray: Serve is held at the last applied
    // commit (the last one whose PUT Ray accepted)" -- c2. Before the fix, lastApplied falls back to the applied mark (c1)
    // once c2's superseded head is forgotten, so the guard's "hold" re-PUTs c1 as a drift correction and deletes
    // bob's b, a model Ray took and serves, with a success status on its commit.
    expect(await appsOf(h.ray.url)).toEqual(["alice-202601061235-a", "bob-202601061235-b"]);
    expect(agent.status().models.find((m) => m.key === "bob/b")?.state).toBe("RUNNING");
  });
});

describe("an agent without a record that finds Ray NOT quite in sync with the head", () => {
  it("still resolves the statuses the agent before left pending on the head (README: 'either way it watches the head's models')", async () => {
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
    // While no agent runs, someone scales base by hand, and the state directory is lost (a new PVC).
    h.ray.tamper("alice-202601061235-base", (app: { deployments: Array<{ num_replicas: number }> }) => {
      app.deployments[0]!.num_replicas = 2;
    });
    wipeStateDir(h);
    const shown = h.latest(added);
    const earlier = h.statuses(added).length;
    const agent = await h.start();
    await h.settle(agent);
    await new Promise((r) => setTimeout(r, 800));
    await h.settle(agent);
    await agent.outbox.drain();
    expect(agent.status().models.find((m) => m.key === "alice/x")?.state).toBe("RUNNING");
    // The head's statuses are read from GitHub before the first write (outbox.readFirst): what GitHub shows
    // already (x's "pending deploying") is not posted again.
    const firstWrites = new Map<string, string>();
    for (const line of h.statuses(added).slice(earlier)) {
      const context = line.split(" ")[0]!;
      if (!firstWrites.has(context)) firstWrites.set(context, line);
    }
    expect(firstWrites.has("serve/h1/alice/x")).toBe(true);
    const repeated = [...firstWrites].filter(([context, line]) => {
      const before = shown.get(context);
      return before !== undefined && line === `${context} ${before.state} ${before.description}`;
    });
    expect(repeated).toEqual([]);
    // README (state directory): "the agent then compares the branch with what Ray runs and PUTs only if they
    // differ; either way it watches the head's models and posts their statuses on the head as Ray shows them
    // ... so a status an agent before left pending resolves." Before the fix, only the models the PUT changes (base) are
    // watched: x's "pending deploying" on the head stays pending forever.
    expect([...h.latest(added).values()].filter((s) => s.state === "pending")).toEqual([]);
  });
});

describe("an agent without a record, on a head with more models than max_model_statuses", () => {
  it("resolves the per-model status the agent before left pending on the head, not only a new summary", async () => {
    h = await createHarness({
      emulator: { deployDelayMs: 600 },
      cluster: { sync: { max_model_statuses: 2 } },
      files: { "models/alice/base.yaml": specYaml("base"), "models/bob/m1.yaml": specYaml("m1") },
    });
    const { agent: first } = await h.startSettled();
    // One model added: one per-model status (below the limit), pending while x loads.
    h.repo.write("models/alice/x.yaml", specYaml("x"));
    const added = h.repo.ship("alice: add x");
    await first.agent.cycle();
    await first.outbox.drain();
    expect(h.latest(added).get("serve/h1/alice/x")?.state).toBe("pending");
    await first.close();
    wipeStateDir(h);
    const agent = await h.start();
    await h.settle(agent);
    await new Promise((r) => setTimeout(r, 800));
    await h.settle(agent);
    await agent.outbox.drain();
    expect(agent.status().models.find((m) => m.key === "alice/x")?.state).toBe("RUNNING");
    // The record-less adoption watches all three of the head's models: above max_model_statuses it posts one
    // summary (serve/h1/models), and the pending serve/h1/alice/x the agent before wrote is never written again.
    expect([...h.latest(added).entries()].filter(([, s]) => s.state === "pending")).toEqual([]);
  });
});

describe("drift while the suspend switch holds a new commit", () => {
  it("is still reported (README: suspend 'stop applying; keep reporting drift')", async () => {
    h = await createHarness({
      files: { "models/alice/a.yaml": specYaml("a"), "models/bob/b.yaml": specYaml("b") },
    });
    const { agent } = await h.startSettled();
    // An incident: the platform team pauses sync in the same merge as alice's tweak of a, which waits.
    h.repo.write("clusters/h1/cluster.yaml", clusterYaml({ sync: { suspend: true } }));
    h.repo.write("models/alice/a.yaml", specYaml("a", { maxModelLen: 4096 }));
    const held = h.repo.ship("suspend sync; alice: a shorter context");
    await h.settle(agent);
    await agent.outbox.drain();
    expect(h.latest(held).get("serve/h1")?.description).toBe(
      "suspended: sync is paused by clusters/h1/cluster.yaml",
    );
    // Someone scales bob's b by hand meanwhile.
    h.ray.tamper("bob-202601061235-b", (app: { deployments: Array<{ num_replicas: number }> }) => {
      app.deployments[0]!.num_replicas = 3;
    });
    await h.settle(agent);
    await h.settle(agent);
    // Nothing may be applied (suspended), but the drift must be reported: log, metric, DRIFT_DETECTED. Before the fix, a
    // held commit's "hold" decision carries no drift check of the applied commit: the hand edit goes unseen.
    const events = agent
      .status()
      .models.find((m) => m.key === "bob/b")
      ?.events.map((e) => e.type);
    expect(events).toContain("DRIFT_DETECTED");
  });
});

describe("a commit whose PUT kept failing, superseded by a commit a guard refuses", () => {
  it("is never PUT afterwards as a 'drift correction': Serve stays at the last commit Ray accepted", async () => {
    h = await createHarness({ files: { "models/alice/a.yaml": specYaml("a") } });
    const { target, setFailing } = failingPuts(h, 503);
    const c1 = h.repo.ship("alice: add a");
    const agent = await h.start({}, { target });
    await h.settle(agent);
    expect(agent.status().marks.applied?.sha).toBe(c1);
    const maxModelLen = async () =>
      (
        (await (await fetch(`${h.ray.url}/api/serve/applications/`)).json()) as {
          applications: Record<
            string,
            {
              deployed_app_config: {
                args: { llm_configs: Array<{ engine_kwargs: { max_model_len: number } }> };
              };
            }
          >;
        }
      ).applications["alice-202601061235-a"]?.deployed_app_config.args.llm_configs[0]?.engine_kwargs
        .max_model_len;
    // Ray's controller is flaky: alice's change of a is not taken (503 on every PUT).
    setFailing(true);
    h.repo.write("models/alice/a.yaml", specYaml("a", { maxModelLen: 4096 }));
    const c2 = h.repo.ship("alice: a shorter context");
    for (let i = 0; i < 3; i++) await agent.agent.cycle();
    // Then an accidental commit removing every spec lands; the guard refuses it (allow_empty is false) and it
    // takes c2's place: c2 is superseded, never retried (agent.ts: supersedeUnapplied).
    h.repo.remove("models/alice/a.yaml");
    const empty = h.repo.ship("oops: remove every spec");
    await agent.agent.cycle();
    setFailing(false);
    await h.settle(agent);
    for (let i = 0; i < 5; i++) await agent.agent.cycle();
    await agent.outbox.drain();
    expect(h.latest(empty).get("serve/h1")?.state).toBe("failure");
    expect(h.latest(c2).get("serve/h1/alice/a")?.state ?? "none").not.toBe("pending");
    // README: while a guard refuses a commit, "Serve is held at the last applied commit (the last one whose PUT Ray
    // accepted)": c1. Today, once c2's superseded head is reported and forgotten, record.ts lastApplied no longer
    // sees that c2's PUT failed and returns the attempted mark (c2): the refusal's "hold" then PUTs c2 as a drift
    // correction, without a status, a commit Ray never took and the agent had stopped retrying.
    expect(await maxModelLen()).toBe(8192);
    expect(
      agent
        .status()
        .models.find((m) => m.key === "alice/a")
        ?.events.map((e) => e.type),
    ).not.toContain("DRIFT_CORRECTED");
  });
});

describe("an agent without a record that finds Ray in sync and every model serving", () => {
  it("adopts the head once: idle cycles afterwards write no statuses", async () => {
    h = await createHarness({ files: { "models/alice/base.yaml": specYaml("base") } });
    const { agent: first, sha } = await h.startSettled();
    await first.outbox.drain();
    await first.close();
    // A lost volume: the state directory is new, Ray still runs the head, all of it serving.
    wipeStateDir(h);
    const agent = await h.start();
    await h.settle(agent);
    await agent.outbox.drain();
    const written = h.statuses(sha).length;
    for (let i = 0; i < 5; i++) await agent.agent.cycle();
    await agent.outbox.drain();
    // Before the fix, the adoption's rollout settles and is forgotten in the same cycle without setting the attempted mark
    // (only newlyApplied's applied mark), so every following cycle finds "no record" again and re-adopts the head:
    // serve/h1 and each model flip pending -> success on the branch head every cycle, forever (4 writes per cycle
    // here; with 50 models, more than GitHub's ~80 content writes a minute).
    expect(h.statuses(sha).slice(written)).toEqual([]);
    expect(agent.status().marks.attempted?.sha).toBe(sha);
  });

  it("does not turn the head's green statuses pending: Ray shows every model serving, as GitHub already does", async () => {
    h = await createHarness({ files: { "models/alice/base.yaml": specYaml("base") } });
    const { agent: first, sha } = await h.startSettled();
    await first.outbox.drain();
    await first.close();
    expect([...h.latest(sha).values()].map((s) => s.state)).toEqual(["success", "success"]);
    wipeStateDir(h);
    const earlier = h.statuses(sha).length;
    const agent = await h.start();
    await h.settle(agent);
    await agent.outbox.drain();
    // README (state directory): the agent "posts their statuses on the head as Ray shows them (GitHub's statuses
    // for the head are read first, so only what differs is written)". Ray shows the model RUNNING and GitHub
    // shows success: the record-less adoption posts "pending deploying" (model and cluster) first, then success
    // again, so a deleted state directory flips every model's status on the branch head to pending.
    expect(
      h
        .statuses(sha)
        .slice(earlier)
        .filter((s) => s.split(" ")[1] === "pending"),
    ).toEqual([]);
  });
});

describe("an agent without a record, on a merge whose pull request got the agent before's comment", () => {
  it("writes the comment the agent before wrote: the models the merge changed, not the ones it only watches", async () => {
    await mergeSettled(7, "bob/x", "bob: add x", () => h.repo.write("models/bob/x.yaml", specYaml("x")));
    const before = h.github.comments(7, TEST_REPO).map((c) => c.body);
    expect(before).toHaveLength(1);
    expect(before[0]).not.toContain("alice/base");
    wipeStateDir(h);
    const agent = await h.start();
    await h.settle(agent);
    await agent.outbox.drain();
    // Before the fix the successor's comment listed alice/base too (RUNNING, with its snippets), as if the merge
    // had deployed it: the comment is the PR's outcome, and base was never the PR's.
    const bodies = h.github.comments(7, TEST_REPO).map((c) => c.body);
    for (const body of bodies) expect(body).not.toContain("alice/base");
    expect(bodies.at(-1)).toContain("| bob/x | `bob-202601061235-x` | RUNNING |");
  });
});

describe("an agent without a record, on a merge that changed no model", () => {
  it("writes no PR comment: the models it only watches are not the merge's outcome", async () => {
    const merge = await mergeSettled(8, "bob/docs", "bob: a README", () =>
      h.repo.write("README.md", "# models\n"),
    );
    expect(h.github.comments(8, TEST_REPO)).toEqual([]);
    // A lost volume: the successor finds Ray running the merge, and watches base to resolve its statuses.
    wipeStateDir(h);
    const agent = await h.start();
    const report = await h.settle(agent);
    await agent.outbox.drain();
    expect(report.faults).toEqual([]);
    expect(agent.status().marks.attempted?.sha).toBe(merge);
    expect(h.latest(merge).get("serve/h1")?.state).toBe("success");
    // README (state directory): the successor's comment shows what the commit changed, and none is written when
    // it changed no model. A comment here would list alice/base as if the README merge had deployed it.
    expect(h.github.comments(8, TEST_REPO)).toEqual([]);
  });
});

describe("an agent without a record that cannot read the head's history", () => {
  it("logs a warning and writes no PR comment, and still adopts the head", async () => {
    const merge = await mergeSettled(7, "bob/x", "bob: add x", () =>
      h.repo.write("models/bob/x.yaml", specYaml("x")),
    );
    const before = h.github.comments(7, TEST_REPO).map((c) => c.body);
    expect(before).toHaveLength(1);
    wipeStateDir(h);
    const { agent, report } = await startWithoutHistory();
    expect(report.faults).toEqual([]);
    expect(agent.status().marks.attempted?.sha).toBe(merge);
    expect(h.latest(merge).get("serve/h1")?.state).toBe("success");
    // Without the history the agent cannot tell what the merge changed: no comment rather than one listing the
    // models it only watches (alice/base) as the merge's.
    expect(h.github.comments(7, TEST_REPO).map((c) => c.body)).toEqual(before);
  });
});

describe("an agent without a record that cannot read the history, on a merge Ray does not run yet", () => {
  it("applies the merge, logs one warning and writes no PR comment rather than one naming models it only watches", async () => {
    // The first agent stops before the merge: Ray keeps running alice/base alone, so the successor has to PUT.
    const merge = await mergeSettled(
      7,
      "bob/x",
      "bob: add x",
      () => h.repo.write("models/bob/x.yaml", specYaml("x")),
      { seen: false },
    );
    wipeStateDir(h);
    // apply.ts asks ownChanges on the path where the successor PUTs (agent.ts asks it where Ray runs the head).
    const { agent, report } = await startWithoutHistory();
    expect(report.faults).toEqual([]);
    expect(await appsOf(h.ray.url)).toEqual(["alice-202601061235-base", "bob-202601061235-x"]);
    expect(agent.status().marks.applied?.sha).toBe(merge);
    expect(h.latest(merge).get("serve/h1")?.state).toBe("success");
    expect(h.latest(merge).get("serve/h1/bob/x")?.state).toBe("success");
    expect(h.github.comments(7, TEST_REPO)).toEqual([]);
  });
});
