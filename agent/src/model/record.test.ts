import { describe, expect, it } from "vitest";
import { desiredOf, firstRollout, observedOf, spec } from "../../testkit/snapshot";
import { adoptInSync, guardRefusal, lastApplied, MAX_REFUSED, nextRecord, withRefusal } from "./record";
import { emptyRecord, type RolloutState } from "./types";

const C1 = "1".repeat(40);
const C2 = "2".repeat(40);
const empty: RolloutState = { heads: [], tracked: [] };
const observed = { apps: new Map() };

describe("the refused commits", () => {
  it("keep the newest last and at most MAX_REFUSED", () => {
    let refused = {};
    for (let i = 0; i < MAX_REFUSED + 5; i++) refused = withRefusal(refused, `sha${i}`, `reason ${i}`);
    const shas = Object.keys(refused);
    expect(shas).toHaveLength(MAX_REFUSED);
    expect(shas[0]).toBe("sha5");
    expect(shas.at(-1)).toBe(`sha${MAX_REFUSED + 4}`);
  });

  it("a guard's new reason for a commit moves it last; the same reason leaves the list as it was", () => {
    const refused = { [C1]: "prune", [C2]: "invalid" };
    expect(guardRefusal(refused, C1, "prune")).toBe(refused);
    expect(Object.entries(guardRefusal(refused, C1, "budget"))).toEqual([
      [C2, "invalid"],
      [C1, "budget"],
    ]);
  });

  it("a commit the guards let through is cleared; the other refusals stay", () => {
    const refused = { [C1]: "prune", [C2]: "invalid" };
    expect(guardRefusal(refused, C1, undefined)).toEqual({ [C2]: "invalid" });
    expect(guardRefusal({ [C2]: "invalid" }, C1, undefined)).toEqual({ [C2]: "invalid" });
  });
});

describe("a Ray that already runs the commit", () => {
  const v1 = desiredOf({ "alice/x": spec("x") }, { sha: C1 });

  it("makes the commit's applications the agent's and marks it attempted and applied, once", () => {
    const adopted = adoptInSync({
      desired: v1,
      observed,
      rollout: empty,
      marks: {},
      deployedApps: undefined,
      now: 0,
    });
    expect(adopted.deployedApps).toEqual([...v1.apps.keys()]);
    const mark = { sha: C1, at: new Date(0).toISOString() };
    expect(adopted.marks).toEqual({ attempted: mark, accepted: mark, applied: mark });
    expect(adopted.appliedWithoutModels).toBe(false);
    const again = adoptInSync({ ...adopted, desired: v1, observed, now: 5 });
    expect(again.marks).toBe(adopted.marks);
    expect(again.deployedApps).toBe(adopted.deployedApps);
  });

  it("without any record, watches the commit's models as its rollout (statuses left pending resolve)", () => {
    // A new state directory (a lost volume) while Ray loads x: the agent before left x's status pending.
    const v2 = desiredOf({ "alice/x": spec("x"), "alice/y": spec("y") }, { sha: C2 });
    const loading = observedOf(v2, { status: { [v2.models.get("alice/x")!.deployment]: "UPDATING" } });
    const adopted = adoptInSync({
      desired: v2,
      observed: loading,
      rollout: empty,
      marks: {},
      deployedApps: undefined,
      now: 7,
    });
    expect(adopted.rollout.heads.map((h) => [h.sha, h.applied, h.settled])).toEqual([[C2, true, false]]);
    // x loads, y already runs (it may have come up while no agent ran): both get their outcome on the commit.
    expect(adopted.rollout.tracked.map((t) => [t.key, t.sha, t.appDeployedBefore])).toEqual([
      ["alice/x", C2, null],
      ["alice/y", C2, null],
    ]);
    // Attempted (and accepted: Ray runs it) at once, so the next cycle does not adopt it again; applied once
    // its models settle.
    const mark = { sha: C2, at: new Date(7).toISOString() };
    expect(adopted.marks).toEqual({ attempted: mark, accepted: mark });
    // With a record (the agent knows what it attempted), nothing is re-watched.
    const known = { attempted: { sha: C1, at: new Date(0).toISOString() } };
    const again = adoptInSync({
      ...adopted,
      rollout: empty,
      marks: known,
      desired: v2,
      observed: loading,
      now: 8,
    });
    expect(again.rollout.tracked).toEqual([]);
  });

  it("leaves attempted and applied alone while the commit's own rollout is still watched", () => {
    const watched = firstRollout(v1, 10);
    const adopted = adoptInSync({
      desired: v1,
      observed,
      rollout: watched,
      marks: {},
      deployedApps: [],
      now: 20,
    });
    // Only the accepted mark: Ray runs the commit's config; attempted and applied stay as the watch leaves them.
    expect(adopted.marks).toEqual({ accepted: { sha: C1, at: new Date(20).toISOString() } });
    expect(adopted.rollout).toBe(watched);
  });

  it("supersedes an older commit still waiting (its PUT kept failing) and a held one, and is applied", () => {
    const v2 = desiredOf({ "alice/x": spec("x"), "bob/y": spec("y") }, { sha: C2 });
    const waiting = {
      ...firstRollout(v2, 10),
      heads: firstRollout(v2, 10).heads.map((h) => ({ ...h, applied: false })),
    };
    const held = "3".repeat(40);
    const adopted = adoptInSync({
      desired: v1,
      observed,
      rollout: { ...waiting, held: [held] },
      marks: {},
      deployedApps: [],
      now: 20,
    });
    const heads = adopted.rollout.heads.map((h) => [h.sha, h.settled, h.supersededBy ?? null, h.applied]);
    expect(heads).toEqual([
      [C2, true, C1, false],
      [held, true, C1, false],
      [C1, false, null, true],
    ]);
    expect(adopted.rollout.held).toBeUndefined();
    expect(adopted.rollout.tracked.every((t) => t.outcome?.result === "superseded")).toBe(true);
  });

  it("a commit without models is applied as is and says so (Day 0)", () => {
    const none = desiredOf({}, { sha: C2 });
    const adopted = adoptInSync({
      desired: none,
      observed,
      rollout: empty,
      marks: {},
      deployedApps: [],
      now: 0,
    });
    expect(adopted.marks.applied?.sha).toBe(C2);
    expect(adopted.appliedWithoutModels).toBe(true);
  });
});

describe("the record after a cycle", () => {
  const record = emptyRecord("h1");

  it("has not moved when rollout, marks, applications and refusals are the same", () => {
    const same = nextRecord(record, {
      rollout: { heads: [], tracked: [] },
      marks: {},
      refused: {},
      models: {},
      deployedApps: undefined,
    });
    expect(same.moved).toBe(false);
    expect(same.next).toEqual(record);
  });

  it("keeps Ray's refusal of the attempted commit; drops it once a later commit is attempted", () => {
    const parts = { rollout: empty, refused: {}, models: {}, deployedApps: undefined };
    const blocked = {
      ...record,
      marks: { attempted: { sha: C1, at: "t" } },
      blocked: { sha: C1, reason: "400" },
    };
    const stays = nextRecord(blocked, { ...parts, marks: blocked.marks });
    expect(stays).toMatchObject({ moved: false, next: { blocked: { sha: C1, reason: "400" } } });
    const later = nextRecord(blocked, { ...parts, marks: { attempted: { sha: C2, at: "t" } } });
    expect(later.moved).toBe(true);
    expect(later.next).not.toHaveProperty("blocked");
  });

  it("moved when the agent's applications changed; none given keeps the record's", () => {
    const parts = { rollout: empty, marks: {}, refused: {}, models: {} };
    const moved = nextRecord(record, { ...parts, deployedApps: ["app"] });
    expect(moved).toMatchObject({ moved: true, next: { deployedApps: ["app"] } });
    const kept = nextRecord({ ...record, deployedApps: ["app"] }, { ...parts, deployedApps: undefined });
    expect(kept).toMatchObject({ moved: false, next: { deployedApps: ["app"] } });
  });
});

describe("the last commit Ray took", () => {
  const C0 = "0".repeat(40);
  const v2 = desiredOf({ "alice/x": spec("x") }, { sha: C2 });
  const mark = (sha: string) => ({ sha, at: "t" });
  const record = { ...emptyRecord("h1"), marks: { attempted: mark(C2), applied: mark(C0) } };

  it("is the attempted commit once Ray accepted its PUT", () => {
    expect(lastApplied({ ...record, rollout: firstRollout(v2, 10) })).toBe(C2);
    expect(lastApplied(record)).toBe(C2);
  });

  it("is not a commit Ray refused or whose PUT never went through: the applied one before it is", () => {
    expect(lastApplied({ ...record, blocked: { sha: C2, reason: "400" } })).toBe(C0);
    const unaccepted = {
      ...firstRollout(v2, 10),
      heads: [{ ...firstRollout(v2, 10).heads[0]!, applied: false }],
    };
    expect(lastApplied({ ...record, rollout: unaccepted })).toBe(C0);
    // A head Ray took but that has not settled yet (no applied mark) is newer than the mark.
    const v1 = desiredOf({ "alice/x": spec("x") }, { sha: C1 });
    const taken = { heads: [firstRollout(v1, 5).heads[0]!, unaccepted.heads[0]!], tracked: [] };
    expect(lastApplied({ ...record, rollout: taken })).toBe(C1);
    expect(lastApplied({ marks: {}, rollout: empty })).toBeUndefined();
  });
});
