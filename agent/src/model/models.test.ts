import { describe, expect, it } from "vitest";
import { desiredOf, firstRollout, observedOf, spec } from "../../testkit/snapshot";
import { updateModels } from "./models";
import { progressRollout } from "./rollout";
import type { Observed, RolloutState } from "./types";

const C1 = "1".repeat(40);
const DEP = "LLMServer:alice-202601061235-x";

describe("model states for /status", () => {
  const desired = desiredOf({ "alice/x": spec("x") }, { sha: C1 });
  // Applied at 10 ms; Ray is still updating the model.
  const applied = firstRollout(desired, 10);
  const slow = observedOf(desired, { status: { [DEP]: "UPDATING" } });
  /** The rollout as the agent sees it at `now` while Ray is slow. */
  const watchedAt = (now: number) =>
    progressRollout({ state: applied, observed: slow, desired, now, clusterDeploying: 1 });
  const update = (rollout: RolloutState, observed: Observed = slow) =>
    updateModels({ records: {}, desired, observed, rollout, queued: new Set(), events: [], now: new Date(0) })
      .records["alice/x"]!;

  it("is DEPLOYING while Ray updates the model within the deploy timeout", () => {
    expect(update(watchedAt(50)).state).toBe("DEPLOYING");
  });

  it("is FAILED with the timeout as its error once the deploy timeout passed, as the commit status says", () => {
    expect(update(watchedAt(10 + 60_001))).toMatchObject({
      state: "FAILED",
      error_summary: "not serving after 60 s (UPDATING)",
    });
  });

  it("stays FAILED with its timeout once the watch forgot it, until Ray serves it or a new commit changes it", () => {
    const timedOut = update(watchedAt(10 + 60_001));
    // The final status is written: the rollout forgets the model; Ray still shows it UPDATING.
    const forgotten: RolloutState = { heads: [], tracked: [] };
    const next = (observed: Observed, rollout: RolloutState = forgotten) =>
      updateModels({
        records: { "alice/x": timedOut },
        desired,
        observed,
        rollout,
        queued: new Set(),
        events: [],
        now: new Date(1),
      }).records["alice/x"]!;
    expect(next(slow)).toMatchObject({ state: "FAILED", error_summary: "not serving after 60 s (UPDATING)" });
    expect(next(observedOf(desired, { status: { [DEP]: "UPSCALING" } })).state).toBe("FAILED");
    expect(next(observedOf(desired, { status: { [DEP]: "HEALTHY" } })).state).toBe("RUNNING");
    // A new commit changing the model: watched again, DEPLOYING.
    expect(next(slow, firstRollout(desired, 100)).state).toBe("DEPLOYING");
  });

  it("is RUNNING when Ray serves it after all", () => {
    const late = watchedAt(10 + 60_001);
    expect(update(late, observedOf(desired, { status: { [DEP]: "HEALTHY" } })).state).toBe("RUNNING");
  });
});
