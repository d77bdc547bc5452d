import { describe, expect, it } from "vitest";
import { LLM_IMPORT_PATH } from "../../../generator/src/index";
import { app, desiredOf, observedOf, spec } from "../../testkit/snapshot";
import { checkGuards, pruneAllowance } from "./guards";
import { reconcile, type ReconcileInput } from "./reconcile";
import { compare } from "./compare";
import { emptyRecord, type AgentRecord, type DesiredState, type Observed } from "./types";

const A = "a".repeat(40);
const B = "b".repeat(40);
const mark = (sha: string) => ({ sha, at: "2026-01-06T12:35:00Z" });
const record = (fields: Partial<AgentRecord> = {}): AgentRecord => ({ ...emptyRecord("h1"), ...fields });
/** What Ray reports after taking `desired`, with `from` replaced by `to` in every name (a served name of another time). */
function renamedIn(desired: DesiredState, from: string, to: string): Observed {
  const swap = (text: string) => text.replaceAll(from, to);
  const apps = [...observedOf(desired).apps.values()].map((a) => {
    const deployments = [...a.deployments.values()].map((d) => ({ ...d, name: swap(d.name) }));
    return {
      ...a,
      name: swap(a.name),
      config: JSON.parse(swap(JSON.stringify(a.config))) as Record<string, unknown>,
      deployments: new Map(deployments.map((d) => [d.name, d])),
    };
  });
  return { apps: new Map(apps.map((a) => [a.name, a])) };
}
const decide = (input: Partial<ReconcileInput> & Pick<ReconcileInput, "desired" | "observed">) =>
  reconcile({ record: record(), suspend: false, allowPrune: 0, ...input }).action;

describe("reconcile", () => {
  const v1 = desiredOf({ "alice/a": spec("a") }, { sha: A });
  const v2 = desiredOf({ "alice/a": spec("a"), "bob/b": spec("b") }, { sha: B });

  it("does nothing without a valid commit, or when Ray already runs it", () => {
    expect(decide({ desired: undefined, observed: observedOf(undefined) })).toEqual({
      kind: "none",
      why: "no-desired",
    });
    expect(decide({ desired: v1, observed: observedOf(v1) })).toEqual({ kind: "none", why: "in-sync" });
  });

  it("applies a new commit with the models it changes", () => {
    const action = decide({
      desired: v2,
      observed: observedOf(v1),
      record: record({ marks: { attempted: mark(A), applied: mark(A) } }),
    });
    expect(action).toMatchObject({ kind: "apply", cause: "commit" });
    expect(action.kind === "apply" && action.changes.map((c) => `${c.kind} ${c.key}`)).toEqual([
      "deploy bob/b",
    ]);
  });

  it("retries the PUT of a commit whose rollout has not settled; corrects drift of a settled one", () => {
    const unsettled = record({
      marks: { attempted: mark(B) },
      rollout: {
        heads: [{ sha: B, startedAt: 0, applied: false, announced: false, settled: false, summaryShas: [] }],
        tracked: [],
      },
    });
    expect(decide({ desired: v2, observed: observedOf(v1), record: unsettled })).toMatchObject({
      kind: "apply",
      cause: "retry",
    });
    const settled = record({ marks: { attempted: mark(B), applied: mark(B) } });
    expect(decide({ desired: v2, observed: observedOf(v1), record: settled })).toMatchObject({
      kind: "apply",
      cause: "drift",
    });
    const noHeal = desiredOf(
      { "alice/a": spec("a"), "bob/b": spec("b") },
      { sha: B, cluster: { sync: { self_heal: false } } },
    );
    expect(decide({ desired: noHeal, observed: observedOf(v1), record: settled })).toMatchObject({
      kind: "report-drift",
      why: "self-heal off",
    });
  });

  it("waits for a new commit after Ray refused this one (terminal)", () => {
    const blocked = record({ marks: { attempted: mark(B) }, blocked: { sha: B, reason: "400" } });
    expect(decide({ desired: v2, observed: observedOf(v1), record: blocked })).toEqual({
      kind: "none",
      why: "blocked",
    });
  });

  it("suspend (flag or cluster setting) holds new commits and reports drift", () => {
    const applied = record({ marks: { attempted: mark(A), applied: mark(A) } });
    expect(decide({ desired: v2, observed: observedOf(v1), record: applied, suspend: true })).toMatchObject({
      kind: "hold",
    });
    const suspended = desiredOf({ "alice/a": spec("a") }, { sha: A, cluster: { sync: { suspend: true } } });
    expect(decide({ desired: suspended, observed: observedOf(v2), record: applied })).toMatchObject({
      kind: "report-drift",
      why: "suspended",
    });
  });

  it("refuses through the guards before any apply", () => {
    const empty = desiredOf({}, { sha: B });
    const synced = record({
      marks: { attempted: mark(A), applied: mark(A) },
      deployedApps: [...v1.apps.keys()],
    });
    expect(decide({ desired: empty, observed: observedOf(v1), record: synced })).toMatchObject({
      kind: "refuse",
      refusal: { guard: "empty" },
    });
    const allowEmpty = desiredOf({}, { sha: B, cluster: { sync: { allow_empty: true } } });
    expect(decide({ desired: allowEmpty, observed: observedOf(v1), record: synced })).toMatchObject({
      kind: "apply",
    });
    const withLegacy = observedOf(v1, { extra: [app("legacy")] });
    expect(decide({ desired: v2, observed: withLegacy })).toMatchObject({
      kind: "refuse",
      refusal: { guard: "unmanaged" },
    });
    const adopt = desiredOf(
      { "alice/a": spec("a") },
      { sha: B, cluster: { sync: { adopt_unmanaged: true } } },
    );
    expect(decide({ desired: adopt, observed: withLegacy })).toMatchObject({ kind: "none" });
  });
});

describe("the first sync (no state.json)", () => {
  const v1 = desiredOf({ "bob/tiny": spec("tiny") }, { sha: A });
  const other = desiredOf({ "alice/a": spec("a") }, { sha: B });

  it("undeploys nothing it did not deploy, and says the Ray address may be another cluster's", () => {
    const action = decide({ desired: other, observed: observedOf(v1) });
    expect(action).toMatchObject({
      kind: "refuse",
      refusal: {
        guard: "first-sync",
        reason:
          "refused: first sync (no state) would undeploy 1 model(s) (bob/tiny): wrong Ray (--ray-address, dashboard_address)? or sync.adopt_unmanaged",
      },
    });
    const deleting = decide({ desired: desiredOf({}, { sha: B }), observed: observedOf(v1) });
    expect(deleting).toMatchObject({ kind: "refuse", refusal: { guard: "first-sync" } });
  });

  it("goes ahead once the agent has a record, with adopt_unmanaged, or when nothing would be undeployed", () => {
    const synced = record({
      marks: { attempted: mark(A), applied: mark(A) },
      deployedApps: [...v1.apps.keys()],
    });
    expect(decide({ desired: other, observed: observedOf(v1), record: synced })).toMatchObject({
      kind: "apply",
    });
    const adopt = desiredOf(
      { "alice/a": spec("a") },
      { sha: B, cluster: { sync: { adopt_unmanaged: true } } },
    );
    expect(decide({ desired: adopt, observed: observedOf(v1) })).toMatchObject({ kind: "apply" });
    const both = desiredOf({ "bob/tiny": spec("tiny"), "alice/a": spec("a") }, { sha: B });
    expect(decide({ desired: both, observed: observedOf(v1) })).toMatchObject({ kind: "apply" });
  });

  it("is a first sync only while the agent has neither an attempted commit nor applications it deployed", () => {
    // Either half of a record is a record: a state.json from before deployedApps, or one whose PUT's mark
    // was not written yet.
    const attemptedOnly = record({ marks: { attempted: mark(A), applied: mark(A) } });
    expect(decide({ desired: other, observed: observedOf(v1), record: attemptedOnly })).toMatchObject({
      kind: "apply",
    });
    const deployedOnly = record({ deployedApps: [...v1.apps.keys()] });
    expect(decide({ desired: other, observed: observedOf(v1), record: deployedOnly })).toMatchObject({
      kind: "apply",
    });
  });

  it("does not replace an application it did not deploy even when its model comes back under another name", () => {
    // Ray holds bob/tiny under a served name of another time (another cluster's agent, say): the commit's
    // bob/tiny is no undeploy, but the PUT would delete that application.
    const observed = renamedIn(v1, "202601061235", "202501010000");
    const action = decide({ desired: v1, observed });
    expect(action).toMatchObject({
      kind: "refuse",
      refusal: {
        guard: "first-sync",
        reason:
          "refused: first sync (no state) would undeploy 1 model(s) (bob-202501010000-tiny): wrong Ray (--ray-address, dashboard_address)? or sync.adopt_unmanaged",
      },
    });
    const synced = record({ marks: { attempted: mark(B), applied: mark(B) }, deployedApps: [] });
    expect(decide({ desired: v1, observed, record: synced })).toMatchObject({ kind: "apply" });
  });
});

describe("the empty guard", () => {
  it("refuses only an empty commit that would undeploy the agent's applications", () => {
    const empty = desiredOf({}, { sha: B });
    const v1 = desiredOf({ "alice/a": spec("a") });
    expect(checkGuards(empty, compare(empty, observedOf(v1)), 0)?.guard).toBe("empty");
    // Day 0: Ray holds no application of the agent's (here only someone else's): nothing would go.
    const day0 = compare(empty, { apps: new Map() });
    expect(checkGuards(empty, day0, 0)).toBeUndefined();
  });

  it("counts the agent's applications, also one whose models Ray no longer shows readably", () => {
    // An application the agent deployed whose llm_configs were edited by hand (no model id left): no model
    // to undeploy, but an empty PUT would still delete it.
    const empty = desiredOf({}, { sha: B });
    const edited = app("argus_llm_app", {
      config: { import_path: LLM_IMPORT_PATH, args: { llm_configs: [{ model_loading_config: {} }] } },
    });
    const comparison = compare(empty, { apps: new Map([[edited.name, edited]]) }, [edited.name]);
    expect(comparison).toMatchObject({ undeploys: 0, managed: [edited.name] });
    expect(checkGuards(empty, comparison, 0)?.guard).toBe("empty");
  });
});

describe("the prune guard", () => {
  const many = desiredOf(
    Object.fromEntries([1, 2, 3, 4, 5, 6, 7].map((n) => [`alice/m${n}`, spec(`m${n}`)])),
  );
  const few = desiredOf({ "alice/m7": spec("m7") }, { sha: B });
  const comparison = compare(few, observedOf(many));

  it("refuses more undeploys than the limit, naming the trailer that allows them", () => {
    expect(comparison.undeploys).toBe(6);
    expect(checkGuards(few, comparison, 0)?.reason).toBe(
      "refused: would undeploy 6 models (prune limit 5); needs an admin's merge with trailer Serve-Gitops-Allow-Prune: 6",
    );
    expect(checkGuards(few, comparison, 5)).toBeDefined();
    expect(checkGuards(few, comparison, 6)).toBeUndefined();
  });

  it("lets exactly the limit go without a trailer", () => {
    const six = desiredOf(Object.fromEntries([2, 3, 4, 5, 6, 7].map((n) => [`alice/m${n}`, spec(`m${n}`)])));
    const atLimit = compare(few, observedOf(six));
    expect(atLimit.undeploys).toBe(5);
    expect(checkGuards(few, atLimit, 0)).toBeUndefined();
  });

  it("reads the largest well-formed trailer value", () => {
    expect(pruneAllowance(["3", " 12 ", "many", "-1"])).toBe(12);
    expect(pruneAllowance([])).toBe(0);
    // Only a number alone: not one inside other words, nor one longer than six digits.
    expect(pruneAllowance(["7 models", "up to 9", "1234567"])).toBe(0);
  });
});

describe("a guard's refusal while Serve is held at the last applied commit", () => {
  const C = "c".repeat(40);
  const eight = desiredOf(
    Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8].map((n) => [`bob/m${n}`, spec(`m${n}`)])),
    { sha: A },
  );
  const two = desiredOf({ "bob/m7": spec("m7"), "bob/m8": spec("m8") }, { sha: C });
  const applied = record({
    marks: { attempted: mark(A), applied: mark(A) },
    deployedApps: [...eight.apps.keys()],
  });
  const emptied = observedOf(undefined);
  const held = (input: Partial<ReconcileInput> & Pick<ReconcileInput, "desired" | "observed">) =>
    reconcile({ record: applied, suspend: false, allowPrune: 0, applied: eight, ...input });

  it("judges what the commit drops from the last applied commit, not only what Ray still holds", () => {
    expect(held({ desired: two, observed: observedOf(eight) }).action).toMatchObject({
      kind: "refuse",
      refusal: { guard: "prune", undeploys: 6 },
    });
    // Ray lost every application (a head restart): the prune is still six models, and still refused.
    const decision = held({ desired: two, observed: emptied });
    expect(decision.action).toMatchObject({ kind: "refuse", refusal: { guard: "prune", undeploys: 6 } });
    expect(decision.action.kind === "refuse" && decision.action.refusal.reason).toMatch(
      /^refused: would undeploy 6 models/,
    );
    // An admin's trailer for six lifts it as before.
    expect(held({ desired: two, observed: emptied, allowPrune: 6 }).action).toMatchObject({
      kind: "apply",
      cause: "commit",
    });
    // Without the last applied commit (day 0, first sync) only Ray counts.
    expect(decide({ desired: two, observed: emptied, record: applied })).toMatchObject({ kind: "apply" });
  });

  it("restores the last applied commit while the refusal stands (self_heal), or reports its drift", () => {
    const decision = held({ desired: two, observed: emptied });
    expect(decision.restore?.desired.sha).toBe(A);
    expect(decision.restore?.action).toMatchObject({ kind: "apply", cause: "drift" });
    expect(decision.restore?.action.changes).toHaveLength(8);
    // Serve at the last applied commit: nothing to restore.
    expect(held({ desired: two, observed: observedOf(eight) }).restore).toBeUndefined();
    const noHeal = desiredOf(
      Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8].map((n) => [`bob/m${n}`, spec(`m${n}`)])),
      { sha: A, cluster: { sync: { self_heal: false } } },
    );
    expect(held({ desired: two, observed: emptied, applied: noHeal }).restore?.action).toMatchObject({
      kind: "report-drift",
      why: "self-heal off",
    });
    // A correction PUT would delete an application the agent did not deploy: reported instead.
    const legacy = observedOf(undefined, { extra: [app("legacy")] });
    expect(held({ desired: two, observed: legacy }).restore?.action).toMatchObject({
      kind: "report-drift",
      why: "refused",
    });
  });

  it("does not restore a last applied commit whose own correction Ray refused (blocked): no PUT loop", () => {
    // A drift correction of the last applied commit was rejected (400): like any commit Ray refused, it waits for
    // a new commit instead of being PUT again every cycle.
    const blocked = { ...applied, blocked: { sha: A, reason: "Ray rejected the config: bad" } };
    const decision = held({ desired: two, observed: emptied, record: blocked });
    expect(decision.action).toMatchObject({ kind: "refuse", refusal: { guard: "prune" } });
    expect(decision.restore).toBeUndefined();
  });

  it("refuses an empty commit that Ray, emptied, already matches: it is not applied as 'no models'", () => {
    const one = desiredOf({ "alice/a": spec("a") }, { sha: A });
    const empty = desiredOf({}, { sha: B });
    const synced = record({
      marks: { attempted: mark(A), applied: mark(A) },
      deployedApps: [...one.apps.keys()],
    });
    const decision = reconcile({
      desired: empty,
      observed: emptied,
      record: synced,
      suspend: false,
      allowPrune: 0,
      applied: one,
    });
    expect(decision.action).toMatchObject({ kind: "refuse", refusal: { guard: "empty" } });
    expect(decision.restore?.action).toMatchObject({ kind: "apply", cause: "drift" });
    // A commit that drops nothing the applied one runs is in sync as before.
    const same = desiredOf({ "alice/a": spec("a") }, { sha: B });
    expect(
      reconcile({
        desired: same,
        observed: observedOf(one),
        record: synced,
        suspend: false,
        allowPrune: 0,
        applied: one,
      }).action,
    ).toEqual({ kind: "none", why: "in-sync" });
  });

  it("refuses a prune that Ray, having lost the dropped models, already matches: it is not taken as in sync", () => {
    // Ray runs exactly the two models the commit keeps (it lost the other six): nothing to PUT, but the commit
    // still drops six models of the last applied commit.
    const decision = held({ desired: two, observed: observedOf(two) });
    expect(decision.comparison?.inSync).toBe(true);
    expect(decision.action).toMatchObject({ kind: "refuse", refusal: { guard: "prune", undeploys: 6 } });
    expect(decision.restore?.action).toMatchObject({ kind: "apply", cause: "drift" });
    // An admin's trailer for six lets it through: Ray already runs it.
    expect(held({ desired: two, observed: observedOf(two), allowPrune: 6 }).action).toEqual({
      kind: "none",
      why: "in-sync",
    });
  });
});
