// Workflows cannot run on a development machine. What can be checked here is checked: both workflow files
// against a strict schema of the workflow syntax this repository uses, the policy the issue asks for, and
// action.yml against what the bundle reads and writes.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { inputVariable } from "./context";
import { ROOT } from "./testing/harness";

const schema = JSON.parse(
  readFileSync(join(ROOT, "actions/check/test-fixtures/github-workflow.schema.json"), "utf8"),
) as object;
const validate = new Ajv2020({
  allErrors: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
}).compile(schema);
const WORKFLOWS = [".github/workflows/serving-specs.yml", ".github/workflows/ci.yml"];

type Workflow = {
  on: Record<string, { branches?: string[]; paths?: string[]; types?: string[] } | null>;
  permissions: Record<string, string>;
  jobs: Record<
    string,
    {
      name: string;
      permissions?: Record<string, string>;
      steps: Array<{ uses?: string; run?: string; with?: Record<string, unknown> }>;
    }
  >;
};
const text = (path: string) => readFileSync(join(ROOT, path), "utf8");
const parse = (path: string) => load(text(path)) as Workflow;
const errorsOf = (value: unknown) =>
  validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

describe("the workflow files", () => {
  it.each(WORKFLOWS)("%s passes the strict workflow schema", (path) => {
    expect(errorsOf(parse(path))).toEqual([]);
  });

  it.each(WORKFLOWS)("%s never mentions pull_request_target", (path) => {
    expect(text(path)).not.toContain("pull_request_target");
  });

  it("runs the check on every pull request, merge queue and push to main, with no paths filter", () => {
    const wf = parse(".github/workflows/serving-specs.yml");
    expect(Object.keys(wf.on).sort()).toEqual(["merge_group", "pull_request", "push"]);
    expect(wf.on.push).toEqual({ branches: ["main"] });
    expect(JSON.stringify(wf.on)).not.toMatch(/paths/);
  });

  it("runs the check again when a pull request is retargeted (edited), besides GitHub's default types", () => {
    const wf = parse(".github/workflows/serving-specs.yml");
    expect(wf.on.pull_request).toEqual({ types: ["opened", "synchronize", "reopened", "edited"] });
    // No job-level `if:`: a skipped job reports a passing required check.
    expect(Object.values(wf.jobs).map((j) => (j as { if?: unknown }).if)).toEqual([undefined]);
  });

  it("has one job with a fixed name, least privilege and the action from this repository", () => {
    const wf = parse(".github/workflows/serving-specs.yml");
    expect(wf.permissions).toEqual({ contents: "read" });
    const jobs = Object.values(wf.jobs);
    expect(jobs).toHaveLength(1);
    const [job] = jobs;
    expect(job!.name).toBe("serving-specs");
    expect(job!.permissions).toEqual({
      contents: "read",
      "pull-requests": "write",
      // Read only: who pushed the head, from its workflow runs and the PR's reopen events (push-runs.ts).
      actions: "read",
      issues: "read",
    });
    const checkout = job!.steps.find((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkout!.with).toMatchObject({ "fetch-depth": 0, "persist-credentials": false });
    expect(job!.steps.map((s) => s.uses)).toContain("./actions/check");
  });

  it("checks in CI that the committed bundle is current", () => {
    const runs = parse(".github/workflows/ci.yml")
      .jobs.test!.steps.map((s) => s.run ?? "")
      .join("\n");
    expect(runs).toContain("npm ci");
    expect(runs).toContain("npm test");
    expect(runs).toContain("npm run build:action");
    expect(runs).toContain("git diff --exit-code -- actions/check/dist");
  });

  it("tests on Node 24 and on the lowest Node that package.json's engines accept", () => {
    const engines = (JSON.parse(text("package.json")) as { engines: { node: string } }).engines.node;
    const lowest = /^>=(\d+\.\d+)$/.exec(engines)![1]!;
    const versions = Object.values(parse(".github/workflows/ci.yml").jobs).map((job) => {
      const setup = job.steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
      return String(setup!.with!["node-version"]);
    });
    expect(versions).toEqual(["24", `${lowest}.0`]);
  });

  it.each([
    ["a pull_request_target trigger", (wf: Workflow) => (wf.on.pull_request_target = null)],
    ["an action pinned by tag", (wf: Workflow) => (wf.jobs.check!.steps[0]!.uses = "actions/checkout@v5")],
    [
      "an action pinned by a short SHA",
      (wf: Workflow) => (wf.jobs.check!.steps[0]!.uses = "actions/checkout@08c6903"),
    ],
    ["a permission level that does not exist", (wf: Workflow) => (wf.permissions.contents = "admin")],
    ["an unknown top-level key", (wf: Workflow) => Object.assign(wf, { triggers: { push: null } })],
    ["an unknown job key", (wf: Workflow) => Object.assign(wf.jobs.check!, { "run-on": "ubuntu-latest" })],
  ])("rejects a workflow with %s", (_name, mutate) => {
    const wf = parse(".github/workflows/serving-specs.yml");
    mutate(wf);
    expect(errorsOf(wf)).not.toEqual([]);
  });
});

describe("action.yml", () => {
  const action = load(text("actions/check/action.yml")) as {
    inputs: Record<string, { default?: string }>;
    outputs: Record<string, unknown>;
    runs: { using: string; main: string };
  };

  it("runs the committed bundle on node24", () => {
    expect(action.runs).toEqual({ using: "node24", main: "dist/index.js" });
    expect(existsSync(join(ROOT, "actions/check", action.runs.main))).toBe(true);
  });

  it("declares exactly the inputs the bundle reads, with the documented defaults", () => {
    expect(Object.keys(action.inputs).sort()).toEqual([
      "comment",
      "commit-rendered",
      "github-token",
      "mode",
      "workflow-token",
    ]);
    expect(action.inputs["github-token"]!.default).toBe("${{ github.token }}");
    expect(action.inputs["workflow-token"]!.default).toBe("${{ github.token }}");
    expect(action.inputs["commit-rendered"]!.default).toBe("false");
    expect(action.inputs.comment!.default).toBe("true");
    const bundle = readFileSync(join(ROOT, "actions/check/dist/index.js"), "utf8");
    for (const name of Object.keys(action.inputs))
      expect(inputVariable(name)).toBe(`INPUT_${name.toUpperCase()}`);
    for (const name of ["github-token", "commit-rendered", "workflow-token"])
      expect(bundle).toContain(`"${name}"`);
  });

  it("declares the outputs the bundle sets", () => {
    expect(Object.keys(action.outputs).sort()).toEqual(["changed-models", "ok", "plan"]);
    const bundle = readFileSync(join(ROOT, "actions/check/dist/index.js"), "utf8");
    for (const name of Object.keys(action.outputs)) expect(bundle).toContain(`setOutput("${name}"`);
  });
});
