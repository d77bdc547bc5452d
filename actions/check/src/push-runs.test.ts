import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { earliestRun, pusherOfRun, type WorkflowRun } from "./push-runs";

const HEAD = "b".repeat(40);
const OTHER = "c".repeat(40);
const WORKFLOW = 7;
const run = (
  id: number,
  run_number: number,
  actor: string,
  extra: Partial<WorkflowRun> = {},
): WorkflowRun => ({
  id,
  run_number,
  workflow_id: WORKFLOW,
  event: "pull_request",
  head_sha: HEAD,
  created_at: `2026-03-01T00:0${run_number}:00Z`,
  actor: { login: actor },
  ...extra,
});
const current = { runId: 30, headSha: HEAD };
const self = run(30, 3, "alice");

describe("GitHub's workflow-run object, as @octokit/openapi-types describes it", () => {
  // The facts push-runs.ts builds on, read from the installed description so an update that changes them fails here.
  const types = readFileSync(
    createRequire(import.meta.url).resolve("@octokit/openapi-types/types.d.ts"),
    "utf8",
  );
  const schema = types.slice(types.indexOf('"workflow-run": {'), types.indexOf('"environment-approvals": {'));

  it("counts run_number up per workflow, and keeps one run (id) across re-run attempts", () => {
    expect(schema).toContain("The auto incrementing run number for the workflow run.");
    expect(schema).toContain(
      "Attempt number of the run, 1 for first attempt and higher if the workflow was re-run.",
    );
    expect(schema).toMatch(/actor\?: components\["schemas"\]\["simple-user"\];\s+triggering_actor\?:/);
  });

  it("does not say which pull request a run is for: pull_requests is a guess, and can be left out", () => {
    expect(schema).toContain(
      "The returned pull requests do not necessarily indicate pull requests that triggered the run.",
    );
    expect(types).toContain("If `true` pull requests are omitted from the response (empty array).");
    expect(types).toContain("Only returns workflow runs that are associated with the specified `head_sha`.");
  });
});

describe("earliestRun", () => {
  it("is the lowest run_number of this workflow's pull_request runs for the head, whatever the list's order", () => {
    const runs = [self, run(20, 2, "bob"), run(10, 1, "mallory")];
    expect(earliestRun(runs, current)).toEqual({ run: runs[2] });
  });

  it("ignores other workflows, other events and other heads", () => {
    const runs = [
      self,
      run(21, 1, "other-wf", { workflow_id: 99 }),
      run(22, 1, "pusher-to-main", { event: "push" }),
      run(23, 1, "other-head", { head_sha: OTHER }),
      run(24, 2, "mallory"),
    ];
    expect(earliestRun(runs, current)).toEqual({ run: runs[4] });
  });

  it("counts a run of another pull request with the same commit: the first to bring it here", () => {
    const other = run(5, 1, "carol"); // pull_requests is neither read nor trusted
    expect(earliestRun([self, other, run(24, 2, "mallory")], current)).toEqual({ run: other });
  });

  it("cannot tell when this run is the first, or is not listed at all", () => {
    expect(earliestRun([self, run(40, 4, "bob")], current)).toEqual({
      why: `this is the first run of the check for bbbbbbb, so no earlier run shows who pushed it`,
    });
    expect("why" in earliestRun([run(10, 1, "mallory")], current)).toBe(true);
  });

  it("cannot tell when no listed run was started by a pull_request event for the head", () => {
    const pushRun = run(30, 3, "alice", { event: "push" });
    expect(earliestRun([pushRun, run(10, 1, "mallory", { head_sha: OTHER })], current)).toEqual({
      why: "no pull_request run of the check is listed for bbbbbbb, so none shows who pushed it",
    });
  });
});

describe("pusherOfRun", () => {
  const push = run(10, 1, "mallory");

  it("is the run's actor, who started its first attempt, not who re-ran it", () => {
    // A re-run keeps actor (GitHub changelog 2022-07-19, github.actor vs github.triggering_actor).
    const rerun = { ...push, triggering_actor: { login: "alice" } } as WorkflowRun;
    expect(pusherOfRun(rerun, [])).toEqual({
      pusher: "mallory",
      from: "the workflow run of the push, run #1 (id 10), started by @mallory",
    });
  });

  it("refuses a run that started at or after a reopening: it may be the reopening's", () => {
    expect("why" in pusherOfRun(push, ["2026-03-01T00:00:59Z"])).toBe(true);
    expect("why" in pusherOfRun(push, ["2026-03-01T00:01:00Z"])).toBe(true);
    expect(pusherOfRun(push, ["2026-03-01T00:01:01Z"])).toMatchObject({ pusher: "mallory" });
  });

  it("refuses a run without an actor or with a creation time it cannot read", () => {
    expect("why" in pusherOfRun({ ...push, actor: null }, [])).toBe(true);
    expect("why" in pusherOfRun({ ...push, created_at: "yesterday" }, [])).toBe(true);
  });
});
