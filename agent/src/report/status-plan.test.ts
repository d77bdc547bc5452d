import { describe, expect, it } from "vitest";
import { desiredOf, firstRollout, observedOf, spec } from "../../testkit/snapshot";
import { compare } from "../model/compare";
import { markApplied, progressRollout, startRollout } from "../model/rollout";
import type { DesiredState, RolloutState } from "../model/types";
import { dueWrites, type GitHubWrite } from "./status-plan";

const HEAD = "f".repeat(40);
const counts = { running: 0, deploying: 0, undeploying: 0, failed: 0 };
const statuses = (writes: GitHubWrite[]) =>
  writes.flatMap((w) => (w.kind === "status" ? [`${w.context} ${w.state} ${w.description}`] : []));

function rollout(k: number, max = 50) {
  const specs = Object.fromEntries(Array.from({ length: k }, (_, i) => [`alice/m${i}`, spec(`m${i}`)]));
  const desired = desiredOf(specs, { sha: HEAD, cluster: { sync: { max_model_statuses: max } } });
  return { desired, started: firstRollout(desired, 1) };
}

/** The writes due once Ray serves every one of the `running` models of `desired`. */
function whenServing(state: RolloutState, desired: DesiredState, running: number) {
  const settled = progressRollout({
    state,
    observed: observedOf(desired, { deployedAt: 2000 }),
    desired,
    now: 5,
    clusterDeploying: 0,
  });
  return dueWrites({
    state: settled,
    cluster: "h1",
    counts: { running, deploying: 0, undeploying: 0, failed: 0 },
    models: {},
  });
}

describe("dueWrites", () => {
  it("a commit changing k models costs at most 2(k+1) status writes: pending and final, each once", () => {
    const { desired, started } = rollout(3);
    const first = dueWrites({ state: started, cluster: "h1", counts, models: {} });
    expect(statuses(first.writes)).toEqual([
      "serve/h1 pending 0 running, 0 deploying, 0 failed",
      "serve/h1/alice/m0 pending deploying 1x1 GPU",
      "serve/h1/alice/m1 pending deploying 1x1 GPU",
      "serve/h1/alice/m2 pending deploying 1x1 GPU",
    ]);
    expect(dueWrites({ state: first.state, cluster: "h1", counts, models: {} }).writes).toEqual([]);
    const final = whenServing(first.state, desired, 3);
    expect(statuses(final.writes)).toEqual([
      "serve/h1/alice/m0 success RUNNING alice-202601061235-m0",
      "serve/h1/alice/m1 success RUNNING alice-202601061235-m1",
      "serve/h1/alice/m2 success RUNNING alice-202601061235-m2",
      "serve/h1 success 3 running, 0 deploying, 0 failed",
    ]);
    expect(statuses([...first.writes, ...final.writes]).length).toBeLessThanOrEqual(2 * (3 + 1));
    expect(final.state).toEqual<RolloutState>({ heads: [], tracked: [] });
  });

  it("above max_model_statuses: the cluster status and one summary", () => {
    const { desired, started } = rollout(4, 3);
    const first = dueWrites({ state: started, cluster: "h1", counts, models: {} });
    const final = whenServing(first.state, desired, 4);
    expect(statuses([...first.writes, ...final.writes])).toEqual([
      "serve/h1 pending 0 running, 0 deploying, 0 failed",
      "serve/h1/models pending deploying 4 models",
      "serve/h1/models success 4 running, 0 undeployed, 0 failed of 4 models",
      "serve/h1 success 4 running, 0 deploying, 0 failed",
    ]);
  });

  it("names models being removed apart from those coming up, and links an undeployed model to no endpoint", () => {
    const all = desiredOf({ "alice/m0": spec("m0"), "alice/m1": spec("m1"), "alice/m2": spec("m2") });
    const kept = desiredOf({ "alice/m0": spec("m0") }, { sha: HEAD });
    const before = observedOf(all, { deployedAt: 2000 });
    const started = markApplied(
      startRollout({
        state: { heads: [], tracked: [] },
        head: HEAD,
        changes: compare(kept, before).changes,
        desired: kept,
        observed: before,
        attribution: new Map(),
        now: 0,
        // The endpoints the models served at (from the record): going, then gone.
        endpoints: new Map(["m1", "m2"].map((m) => [`alice/${m}`, `https://llm.example.com/${m}/v1`])),
      }),
      HEAD,
      1,
    );
    const during = { running: 1, deploying: 0, undeploying: 2, failed: 0 };
    for (const statusUrl of [undefined, "https://agent.example.com/status"]) {
      const first = dueWrites({
        state: started,
        cluster: "h1",
        counts: during,
        models: {},
        ...(statusUrl ? { statusUrl } : {}),
      });
      const settled = progressRollout({
        state: first.state,
        observed: observedOf(kept, { deployedAt: 2000 }),
        desired: kept,
        now: 5,
        clusterDeploying: 0,
      });
      const final = dueWrites({
        state: settled,
        cluster: "h1",
        counts: { running: 1, deploying: 0, undeploying: 0, failed: 0 },
        models: {},
        ...(statusUrl ? { statusUrl } : {}),
      });
      expect(
        [...first.writes, ...final.writes].flatMap((w) =>
          w.kind === "status"
            ? [`${w.context} ${w.state} ${w.description} -> ${w.target_url ?? "nothing"}`]
            : [],
        ),
      ).toEqual(
        [
          "serve/h1 pending 1 running, 0 deploying, 2 undeploying, 0 failed",
          "serve/h1/alice/m1 pending undeploying",
          "serve/h1/alice/m2 pending undeploying",
          "serve/h1/alice/m1 success undeployed",
          "serve/h1/alice/m2 success undeployed",
          "serve/h1 success 1 running, 0 deploying, 0 failed",
        ].map((line) => `${line} -> ${statusUrl ?? "nothing"}`),
      );
    }
  });

  it("mirrors model statuses (not the cluster's) to pull requests, and links running models to their endpoint", () => {
    const { started } = rollout(1);
    const writes = dueWrites({
      state: started,
      cluster: "h1",
      counts,
      models: {},
      statusUrl: "https://agent.example.com/status",
    }).writes;
    expect(
      writes.map((w) =>
        w.kind === "status" ? `${w.context} mirror=${w.mirror} ${w.target_url}` : "comment",
      ),
    ).toEqual([
      "serve/h1 mirror=false https://agent.example.com/status",
      "serve/h1/alice/m0 mirror=true https://agent.example.com/status",
      "comment",
    ]);
  });

  it("says nothing on a commit until Ray accepted its PUT", () => {
    const desired = desiredOf({ "alice/m0": spec("m0") }, { sha: HEAD });
    const empty = observedOf(undefined);
    const notApplied = startRollout({
      state: { heads: [], tracked: [] },
      head: HEAD,
      changes: compare(desired, empty).changes,
      desired,
      observed: empty,
      attribution: new Map(),
      now: 0,
    });
    expect(dueWrites({ state: notApplied, cluster: "h1", counts, models: {} }).writes).toEqual([]);
  });

  it("gives an older commit that changed the model only its final superseded status, and no comment", () => {
    const OLD = "e".repeat(40);
    const desired = desiredOf({ "alice/m0": spec("m0") }, { sha: HEAD });
    const empty = observedOf(undefined);
    const started = markApplied(
      startRollout({
        state: { heads: [], tracked: [] },
        head: HEAD,
        changes: compare(desired, empty).changes,
        desired,
        observed: empty,
        attribution: new Map([["alice/m0", [HEAD, OLD]]]),
        now: 0,
      }),
      HEAD,
      1,
    );
    const { writes } = dueWrites({ state: started, cluster: "h1", counts, models: {} });
    expect(
      writes.map((w) =>
        w.kind === "status"
          ? `${w.sha.slice(0, 1)} ${w.context} ${w.state} ${w.description}`
          : `${w.sha.slice(0, 1)} comment`,
      ),
    ).toEqual([
      "f serve/h1 pending 0 running, 0 deploying, 0 failed",
      "f serve/h1/alice/m0 pending deploying 1x1 GPU",
      "f comment",
      "e serve/h1/alice/m0 success superseded by fffffff",
    ]);
  });

  it("above max_model_statuses: an older commit whose models the head changes again gets one summary too", () => {
    const OLD = "e".repeat(40);
    const specs = Object.fromEntries([0, 1, 2].map((i) => [`alice/m${i}`, spec(`m${i}`)]));
    const desired = desiredOf(specs, { sha: HEAD, cluster: { sync: { max_model_statuses: 2 } } });
    const empty = observedOf(undefined);
    const changes = compare(desired, empty).changes;
    const started = markApplied(
      startRollout({
        state: { heads: [], tracked: [] },
        head: HEAD,
        changes,
        desired,
        observed: empty,
        attribution: new Map(changes.map((c) => [c.key, [HEAD, OLD]])),
        now: 0,
      }),
      HEAD,
      1,
    );
    const { writes } = dueWrites({ state: started, cluster: "h1", counts, models: {} });
    expect(
      writes.flatMap((w) =>
        w.kind === "status" ? [`${w.sha.slice(0, 1)} ${w.context} ${w.state} ${w.description}`] : [],
      ),
    ).toEqual([
      "f serve/h1 pending 0 running, 0 deploying, 0 failed",
      "f serve/h1/models pending deploying 3 models",
      "e serve/h1/models success 0 running, 0 undeployed, 0 failed, 3 superseded of 3 models",
    ]);
  });

  it("above max_model_statuses: the summary fails when a model failed, with the first error", () => {
    const { desired, started } = rollout(4, 3);
    const first = dueWrites({ state: started, cluster: "h1", counts, models: {} });
    const settled = progressRollout({
      state: first.state,
      observed: observedOf(desired, {
        deployedAt: 2000,
        status: { "LLMServer:alice-202601061235-m2": "DEPLOY_FAILED" },
      }),
      desired,
      now: 5,
      clusterDeploying: 0,
    });
    const final = dueWrites({
      state: settled,
      cluster: "h1",
      counts: { running: 3, deploying: 0, undeploying: 0, failed: 1 },
      models: {},
    });
    expect(statuses(final.writes)).toEqual([
      "serve/h1/models failure 3 running, 0 undeployed, 1 failed of 4 models; DEPLOY_FAILED",
      "serve/h1 failure 3 running, 0 deploying, 1 failed",
    ]);
  });
});
