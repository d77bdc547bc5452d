import { describe, expect, it } from "vitest";
import { outcomeEvent } from "./events";
import type { SettledModel } from "./rollout";
import type { OutcomeResult } from "./types";

const settled = (result: OutcomeResult): SettledModel => ({
  key: "alice/x",
  served_name: "alice-x",
  kind: "deploy",
  sha: "1".repeat(40),
  head: "1".repeat(40),
  app: "alice-x",
  deployment: "LLMServer:alice-x",
  endpoint: "",
  replicas: "1x1 GPU",
  startedAt: 0,
  appDeployedBefore: null,
  outcome: { result, description: `${result} at 7`, at: 1 },
});

describe("a rollout outcome in the model's history", () => {
  it("timeout, undeployed and superseded add their event with the status description", () => {
    expect(outcomeEvent(settled("timeout"))).toEqual({
      key: "alice/x",
      type: "TIMED_OUT",
      sha: "1".repeat(40),
      message: "timeout at 7",
    });
    expect(outcomeEvent(settled("undeployed"))?.type).toBe("UNDEPLOYED");
    expect(outcomeEvent(settled("superseded"))?.type).toBe("SUPERSEDED");
  });

  it("running and failed add none: the model's state says so itself (models.ts)", () => {
    expect(outcomeEvent(settled("running"))).toBeUndefined();
    expect(outcomeEvent(settled("failed"))).toBeUndefined();
  });
});
