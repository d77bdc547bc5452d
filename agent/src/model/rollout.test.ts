import { describe, expect, it } from "vitest";
import { desiredOf, firstRollout, observedOf, spec } from "../../testkit/snapshot";
import { compare } from "./compare";
import {
  failHead,
  holdCommit,
  markApplied,
  markSaid,
  newlyApplied,
  newlySettled,
  progressRollout,
  startRollout,
  supersedeUnapplied,
  type ProgressInput,
} from "./rollout";
import type { RolloutState } from "./types";

const C1 = "1".repeat(40);
const C2 = "2".repeat(40);
const empty: RolloutState = { heads: [], tracked: [] };
const DEP = "LLMServer:alice-202601061235-x";

describe("a rollout", () => {
  const v1 = desiredOf({ "alice/x": spec("x"), "alice/y": spec("y") }, { sha: C1 });
  const before = observedOf(undefined);

  const started = () => firstRollout(v1, 10);
  /** C1's rollout started on an empty Ray, its PUT not (yet) accepted. */
  const unapplied = () =>
    startRollout({
      state: empty,
      head: C1,
      changes: compare(v1, before).changes,
      desired: v1,
      observed: before,
      attribution: new Map(),
      now: 0,
    });
  const progress = (input: Omit<ProgressInput, "desired">) => progressRollout({ ...input, desired: v1 });

  it("waits until Ray shows the PUT: a status read before it is not trusted", () => {
    const stale = observedOf(v1, { deployedAt: 1000 });
    const s = startRollout({
      state: empty,
      head: C1,
      changes: [
        {
          key: "alice/x",
          served_name: "alice-202601061235-x",
          kind: "update",
          detail: "",
          app: "alice-202601061235-x",
          deployment: DEP,
        },
      ],
      desired: v1,
      observed: stale,
      attribution: new Map(),
      now: 0,
    });
    const applied = markApplied(s, C1, 10);
    const same = progress({ state: applied, observed: stale, now: 20, clusterDeploying: 0 });
    expect(same.tracked[0]!.outcome).toBeUndefined();
    const fresh = progress({
      state: applied,
      observed: observedOf(v1, { deployedAt: 1001 }),
      now: 20,
      clusterDeploying: 0,
    });
    expect(fresh.tracked[0]!.outcome?.result).toBe("running");
  });

  it("settles each model on serving or failed, the head once all did", () => {
    const s = started();
    const observed = observedOf(v1, { status: { [DEP]: "UPDATING" } });
    const mid = progress({ state: s, observed, now: 50, clusterDeploying: 1 });
    expect(mid.tracked.map((t) => t.outcome?.result)).toEqual([undefined, "running"]);
    expect(mid.heads[0]!.settled).toBe(false);
    const failed = observedOf(v1, { status: { [DEP]: "DEPLOY_FAILED" } });
    const end = progress({ state: mid, observed: failed, now: 60, clusterDeploying: 0 });
    expect(end.tracked.map((t) => t.outcome?.result)).toEqual(["failed", "running"]);
    expect(end.heads[0]!.settled).toBe(true);
  });

  it("settles the head only once nothing else on the cluster deploys, or at the deploy timeout", () => {
    const s = started();
    const observed = observedOf(v1);
    const busy = progress({ state: s, observed, now: 50, clusterDeploying: 1 });
    expect(busy.tracked.map((t) => t.outcome?.result)).toEqual(["running", "running"]);
    expect(busy.heads[0]!.settled).toBe(false);
    expect(progress({ state: busy, observed, now: 60, clusterDeploying: 0 }).heads[0]!.settled).toBe(true);
    const late = progress({ state: busy, observed, now: 10 + 60_001, clusterDeploying: 1 });
    expect(late.heads[0]!.settled).toBe(true);
  });

  it("trusts a status only once Ray shows the commit's config for the model, not the one before", () => {
    const stale = observedOf(v1, { deployedAt: 1000 });
    const s = markApplied(
      startRollout({
        state: empty,
        head: C1,
        changes: compare(v1, before).changes,
        desired: v1,
        observed: stale,
        attribution: new Map(),
        now: 0,
      }),
      C1,
      10,
    );
    // Ray took a PUT (a new last_deployed_time_s) but still shows the previous max_model_len, HEALTHY.
    const previous = desiredOf({ "alice/x": spec("x", { maxModelLen: 4096 }), "alice/y": spec("y") });
    const old = progress({
      state: s,
      observed: observedOf(previous, { deployedAt: 1001 }),
      now: 20,
      clusterDeploying: 0,
    });
    expect(old.tracked.map((t) => `${t.key} ${t.outcome?.result ?? "watching"}`)).toEqual([
      "alice/x watching",
      "alice/y running",
    ]);
  });

  it("times out after the cluster's deploy_timeout_s", () => {
    const s = started();
    const slow = observedOf(v1, { status: { [DEP]: "UPDATING" } });
    const late = progress({ state: s, observed: slow, now: 10 + 60_001, clusterDeploying: 1 });
    expect(late.tracked[0]!.outcome).toMatchObject({
      result: "timeout",
      description: "not serving after 60 s (UPDATING)",
    });
  });

  it("an UNHEALTHY model is watched on: it settles running once Ray heals it, and fails only at deploy_timeout_s", () => {
    const s = started();
    const unhealthy = observedOf(v1, { status: { [DEP]: "UNHEALTHY" } });
    const message =
      "A replica's health check failed. This deployment will be UNHEALTHY until the replica recovers or a new deploy happens.";
    const app = unhealthy.apps.get("alice-202601061235-x")!;
    const withMessage = {
      apps: new Map([
        ...unhealthy.apps,
        [app.name, { ...app, deployments: new Map([[DEP, { name: DEP, status: "UNHEALTHY", message }]]) }],
      ]),
    };
    const mid = progress({ state: s, observed: withMessage, now: 50, clusterDeploying: 1 });
    expect(mid.tracked[0]!.outcome).toBeUndefined();
    const healed = progress({ state: mid, observed: observedOf(v1), now: 60, clusterDeploying: 0 });
    expect(healed.tracked[0]!.outcome?.result).toBe("running");
    const late = progress({ state: mid, observed: withMessage, now: 10 + 60_001, clusterDeploying: 1 });
    expect(late.tracked[0]!.outcome).toMatchObject({
      result: "timeout",
      description: `UNHEALTHY after 60 s: ${message}`,
      error_summary: `UNHEALTHY after 60 s: ${message}`,
    });
  });

  it("DEPLOY_FAILED stays final at once: Ray stops retrying the replicas", () => {
    const s = started();
    const failed = progress({
      state: s,
      observed: observedOf(v1, { status: { [DEP]: "DEPLOY_FAILED" } }),
      now: 50,
      clusterDeploying: 0,
    });
    expect(failed.tracked[0]!.outcome?.result).toBe("failed");
  });

  it("an in-sync cycle marking the applied head again does not restart the deploy timeout", () => {
    const s = started();
    const slow = observedOf(v1, { status: { [DEP]: "UPDATING" } });
    // The agent calls markApplied on every in-sync cycle (the PUT may have landed before a restart).
    const again = markApplied(s, C1, 50_000);
    expect(again).toBe(s);
    const late = progress({ state: again, observed: slow, now: 60_011, clusterDeploying: 1 });
    expect(late.tracked[0]!.outcome?.result).toBe("timeout");
  });

  it("a newer head supersedes the models it changes again, and only those", () => {
    const s = started();
    const v2 = desiredOf({ "alice/x": spec("x", { maxModelLen: 4096 }), "alice/y": spec("y") }, { sha: C2 });
    const mid = observedOf(v1, {
      status: { [DEP]: "UPDATING", "LLMServer:alice-202601061235-y": "UPDATING" },
    });
    const next = startRollout({
      state: s,
      head: C2,
      changes: compare(v2, mid).changes,
      desired: v2,
      observed: mid,
      attribution: new Map(),
      now: 100,
    });
    expect(
      next.tracked.map((t) => `${t.sha.slice(0, 1)} ${t.key} ${t.outcome?.description ?? "watching"}`),
    ).toEqual(["1 alice/x superseded by 2222222", "1 alice/y watching", "2 alice/x watching"]);
    expect(
      next.heads.map((h) => `${h.sha.slice(0, 1)} ${h.settled} ${h.supersededBy?.slice(0, 1) ?? ""}`),
    ).toEqual(["1 true 2", "2 false "]);
  });

  it("a newer head supersedes every model of an older head whose PUT never went out", () => {
    // C1's PUT failed (never applied); C2 changes alice/y only: nothing will ever deploy C1's alice/x.
    const s = unapplied();
    const v2 = desiredOf({ "alice/x": spec("x"), "alice/y": spec("y", { maxModelLen: 4096 }) }, { sha: C2 });
    const next = startRollout({
      state: s,
      head: C2,
      changes: compare(v2, observedOf(v1)).changes,
      desired: v2,
      observed: before,
      attribution: new Map(),
      now: 100,
    });
    expect(
      next.tracked.map((t) => `${t.sha.slice(0, 1)} ${t.key} ${t.outcome?.description ?? "watching"}`),
    ).toEqual(["1 alice/x superseded by 2222222", "1 alice/y superseded by 2222222", "2 alice/y watching"]);
  });

  it("a model of an older head whose PUT never went out is watched for its commit under the newer head", () => {
    // C1's PUT failed; C2 changes alice/y again: alice/x is still C1's to report, alice/y is C2's.
    const s = unapplied();
    const v2 = desiredOf({ "alice/x": spec("x"), "alice/y": spec("y", { maxModelLen: 4096 }) }, { sha: C2 });
    const next = startRollout({
      state: s,
      head: C2,
      changes: compare(v2, before).changes,
      desired: v2,
      observed: before,
      attribution: new Map([
        ["alice/x", [C1]],
        ["alice/y", [C2, C1]],
      ]),
      now: 100,
    });
    expect(
      next.tracked.map(
        (t) => `${t.sha.slice(0, 1)} ${t.head.slice(0, 1)} ${t.key} ${t.outcome?.description ?? "watching"}`,
      ),
    ).toEqual(["1 2 alice/x watching", "2 2 alice/y watching", "1 2 alice/y superseded by 2222222"]);
  });

  it("a commit held back supersedes older heads whose PUT never went out, and only those", () => {
    const failed = unapplied();
    const next = supersedeUnapplied(failed, C2, 100);
    expect(next.heads.map((h) => [h.settled, h.supersededBy])).toEqual([[true, C2]]);
    expect(next.tracked.map((t) => t.outcome?.description)).toEqual([
      "superseded by 2222222",
      "superseded by 2222222",
    ]);
    expect(newlyApplied(failed, next)).toEqual([]);
    // A head Ray took keeps being watched; the held commit itself is not superseded by itself.
    const applied = started();
    expect(supersedeUnapplied(applied, C2, 100)).toBe(applied);
    expect(supersedeUnapplied(failed, C1, 100)).toBe(failed);
  });

  it("commits between two cycles: the newest that touched a model gets it; older ones are superseded", () => {
    const v = desiredOf({ "alice/x": spec("x") }, { sha: C2 });
    const s = startRollout({
      state: empty,
      head: C2,
      changes: compare(v, before).changes,
      desired: v,
      observed: before,
      attribution: new Map([["alice/x", [C2, C1]]]),
      now: 0,
    });
    expect(
      s.tracked.map(
        (t) => `${t.sha.slice(0, 1)} ${t.outcome?.description ?? "watching"} ${t.older === true}`,
      ),
    ).toEqual(["2 watching false", "1 superseded by 2222222 true"]);
  });
});

describe("what a cycle's rollout says happened", () => {
  const v1 = desiredOf({ "alice/x": spec("x"), "alice/y": spec("y") }, { sha: C1 });

  it("a model settles once: an outcome already there before is not new", () => {
    const before = firstRollout(v1, 10);
    const done = progressRollout({
      state: before,
      observed: observedOf(v1, { deployedAt: 1001 }),
      desired: v1,
      now: 20,
      clusterDeploying: 0,
    });
    expect(newlySettled(before, done).map((t) => t.outcome.result)).toEqual(["running", "running"]);
    expect(newlySettled(done, done)).toEqual([]);
  });

  it("a head is newly applied when its models settled, not when it was superseded or failed", () => {
    const before = firstRollout(v1, 10);
    const settled = { ...before, heads: before.heads.map((h) => ({ ...h, settled: true })) };
    expect(newlyApplied(before, settled).map((h) => h.sha)).toEqual([C1]);
    expect(newlyApplied(settled, settled)).toEqual([]);
    expect(newlyApplied(before, failHead(before, C1, "bad config", 20))).toEqual([]);
    const superseded = { ...before, heads: settled.heads.map((h) => ({ ...h, supersededBy: C2 })) };
    expect(newlyApplied(before, superseded)).toEqual([]);
  });

  it("a held commit is kept once, newest last", () => {
    const held = holdCommit(holdCommit(holdCommit(empty, C1), C2), C1);
    expect(held.held).toEqual([C2, C1]);
  });

  it("a head said pending before its PUT went through is marked said", () => {
    const s = markSaid(firstRollout(v1, 10), C1);
    expect(s.heads.map((h) => h.said)).toEqual([true]);
  });
});
