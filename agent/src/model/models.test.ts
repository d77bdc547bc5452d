import { describe, expect, it } from "vitest";
import { desiredOf, observedOf, spec } from "../../testkit/snapshot";
import { compare } from "./compare";
import { updateModels } from "./models";
import { markApplied, progressRollout, startRollout } from "./rollout";
import type { RolloutState } from "./types";

const C1 = "1".repeat(40);
const DEP = "LLMServer:alice-202601061235-x";

describe("model states for /status", () => {
  const desired = desiredOf({ "alice/x": spec("x") }, { sha: C1 });
  const empty: RolloutState = { heads: [], tracked: [] };
  const applied = markApplied(
    startRollout({
      state: empty,
      head: C1,
      changes: compare(desired, observedOf(undefined)).changes,
      desired,
      observed: observedOf(undefined),
      attribution: new Map(),
      now: 0,
    }),
    C1,
    10,
  );
  const slow = observedOf(desired, { status: { [DEP]: "UPDATING" } });
  const update = (rollout: RolloutState, observed = slow) =>
    updateModels({ records: {}, desired, observed, rollout, queued: new Set(), events: [], now: new Date(0) })
      .records["alice/x"]!;

  it("is DEPLOYING while Ray updates the model within the deploy timeout", () => {
    const watching = progressRollout({
      state: applied,
      observed: slow,
      desired,
      now: 50,
      clusterDeploying: 1,
    });
    expect(update(watching).state).toBe("DEPLOYING");
  });

  it("is FAILED with the timeout as its error once the deploy timeout passed, as the commit status says", () => {
    const late = progressRollout({
      state: applied,
      observed: slow,
      desired,
      now: 10 + 60_001,
      clusterDeploying: 1,
    });
    expect(update(late)).toMatchObject({
      state: "FAILED",
      error_summary: "not serving after 60 s (UPDATING)",
    });
  });

  it("is RUNNING when Ray serves it after all", () => {
    const late = progressRollout({
      state: applied,
      observed: slow,
      desired,
      now: 10 + 60_001,
      clusterDeploying: 1,
    });
    expect(update(late, observedOf(desired, { status: { [DEP]: "HEALTHY" } })).state).toBe("RUNNING");
  });
});
