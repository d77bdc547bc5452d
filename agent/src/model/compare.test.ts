import { describe, expect, it } from "vitest";
import { LLM_IMPORT_PATH } from "../../../generator/src/index";
import { app, desiredOf, observedOf, spec } from "../../testkit/snapshot";
import { compare, isSubset, observedModels, ownership } from "./compare";

describe("compare", () => {
  const desired = desiredOf({ "alice/a": spec("a"), "bob/b": spec("b", { replicas: 2 }) });

  it("is in sync with what Ray reports after the PUT, the inherited logging_config included", () => {
    expect(compare(desired, observedOf(desired))).toMatchObject({
      inSync: true,
      changes: [],
      differences: [],
    });
    // controller.py apply_config copies the top-level logging_config into an application that sets none.
    const logged = { ...desired, config: { ...desired.config, logging_config: { log_level: "DEBUG" } } };
    const observed = observedOf(logged);
    expect(observed.apps.get("alice-202601061235-a")!.config).toMatchObject({
      logging_config: { log_level: "DEBUG" },
    });
    expect(compare(logged, observed).inSync).toBe(true);
    // A new top-level logging_config is a change, though no application sets one of its own.
    expect(compare(desired, observed)).toMatchObject({
      inSync: false,
      differences: ["application alice-202601061235-a differs", "application bob-202601061235-b differs"],
    });
  });

  it("expects LoggingConfig as Ray stores it: level names, attributes as a set, an empty top-level one copied", () => {
    const attrs = ["thread", "name", "lineno"];
    const logged = {
      ...desired,
      config: { ...desired.config, logging_config: { log_level: 10, additional_log_standard_attrs: attrs } },
    };
    const observed = observedOf(desired);
    for (const app of observed.apps.values())
      (app.config as Record<string, unknown>).logging_config = {
        log_level: "DEBUG",
        additional_log_standard_attrs: ["lineno", "name", "thread"],
      };
    expect(compare(logged, observed).inSync).toBe(true);
    const empty = { ...desired, config: { ...desired.config, logging_config: {} } };
    for (const app of observed.apps.values()) (app.config as Record<string, unknown>).logging_config = {};
    expect(compare(empty, observed).inSync).toBe(true);
    expect(compare(desired, observed).inSync).toBe(false);
  });

  it("sees a setting the commit removes (Ray keeps what was PUT until a new PUT)", () => {
    const observed = observedOf(desired);
    const config = observed.apps.get("alice-202601061235-a")!.config as {
      args: { llm_configs: Array<{ engine_kwargs: Record<string, unknown> }> };
      deployments: Array<Record<string, unknown>>;
    };
    config.args.llm_configs[0]!.engine_kwargs.enforce_eager = true;
    expect(compare(desired, observed).changes.map((c) => `${c.kind} ${c.key} ${c.detail}`)).toEqual([
      "update alice/a llm_config differs",
    ]);
    const override = observedOf(desired);
    const deployments = (override.apps.get("bob-202601061235-b")!.config as typeof config).deployments;
    deployments[0]!.max_ongoing_requests = 5;
    expect(compare(desired, override).changes.map((c) => `${c.kind} ${c.key} ${c.detail}`)).toEqual([
      "update bob/b deployment settings differ",
    ]);
  });

  it("compares a model's override with the assembled one: settings a cluster's template adds are no change", () => {
    // A template (generator/test-fixtures/templates/extra-settings.hbs) adds settings around the fragment's
    // override; the model's own override (its fragment) does not hold them, Ray's reported config does.
    const applications = desired.config.applications.map((a) => ({
      ...a,
      deployments: a.deployments.map((d) => ({ ...d, max_ongoing_requests: 64 })),
    }));
    const templated = {
      ...desired,
      config: { ...desired.config, applications },
      apps: new Map(applications.map((a) => [a.name, a])),
    };
    expect(templated.models.get("bob/b")!.override).not.toHaveProperty("max_ongoing_requests");
    expect(compare(templated, observedOf(templated))).toMatchObject({ inSync: true, changes: [] });
  });

  it("compares on the fields the agent sets: a scale change, a missing model, an extra one", () => {
    const next = desiredOf({ "alice/a": spec("a"), "bob/b": spec("b", { replicas: 3 }), "bob/c": spec("c") });
    const extra = desiredOf({
      "alice/a": spec("a"),
      "bob/b": spec("b", { replicas: 2 }),
      "alice/gone": spec("gone"),
    });
    const result = compare(next, observedOf(extra));
    expect(result.inSync).toBe(false);
    expect(result.changes.map((c) => `${c.kind} ${c.key} ${c.detail}`)).toEqual([
      "undeploy alice/gone not in the commit",
      "update bob/b replicas differ",
      "deploy bob/c not in Ray",
    ]);
    expect(result.undeploys).toBe(1);
  });

  it("sees a config changed by hand (drift), also one that no model field shows", () => {
    const observed = observedOf(desired);
    const config = observed.apps.get("alice-202601061235-a")!.config as { route_prefix: string };
    config.route_prefix = "/elsewhere";
    const result = compare(desired, observed);
    expect(result.inSync).toBe(false);
    expect(result.differences).toEqual(["application alice-202601061235-a differs"]);
  });

  it("leaves imperative apps alone and names declarative apps it does not manage", () => {
    const observed = observedOf(desired, {
      extra: [app("notebook", { source: "imperative" }), app("legacy")],
    });
    const result = compare(desired, observed);
    expect(result.inSync).toBe(true);
    expect(result.unmanaged).toEqual(["legacy"]);
  });

  it("guards an app whose source is missing or unknown: only imperative apps survive a PUT", () => {
    const observed = observedOf(desired, { extra: [app("handmade", { source: "unknown" })] });
    expect(compare(desired, observed).unmanaged).toEqual(["handmade"]);
  });

  it("recognises its own app under a name an earlier cluster.yaml gave, from its record of what it deployed", () => {
    const before = observedOf(desired);
    const own = before.apps.get("alice-202601061235-a")!;
    const renamed = { ...own, name: "old_llm_app" };
    const observed = {
      apps: new Map([...before.apps].filter(([n]) => n !== own.name)).set(renamed.name, renamed),
    };
    expect(compare(desired, observed).unmanaged).toEqual(["old_llm_app"]);
    const result = compare(desired, observed, ["old_llm_app", "bob-202601061235-b"]);
    expect(result.unmanaged).toEqual([]);
    expect(result.differences).toContain("application old_llm_app is not in the commit");
    expect(result.changes.map((c) => `${c.kind} ${c.key} ${c.detail}`)).toEqual([
      "update alice/a moves from application old_llm_app",
    ]);
    // A hand-made LLM app serving a model not named the serve-gitops way stays someone else's.
    const foreign = app("team_llm", {
      config: {
        import_path: "ray.serve.llm:build_openai_app",
        args: { llm_configs: [{ model_loading_config: { model_id: "qwen" } }] },
      },
    });
    expect(compare(desired, observedOf(desired, { extra: [foreign] })).unmanaged).toEqual(["team_llm"]);
  });

  it("never takes a hand-made app for its own by its name or its builder alone", () => {
    const mine = observedOf(desired).apps.get("alice-202601061235-a")!;
    const served = JSON.stringify(mine.config).replaceAll("alice-202601061235-a", "bob-202601010000-debug");
    // a) Ray Serve LLM's builder with a model named the serve-gitops way, under a name of its own.
    const llmScratch = app("scratch", { config: { ...(JSON.parse(served) as object), name: "scratch" } });
    // b) and c) a name of a layout (per-user, per-model) on another import_path.
    const prefixed = app("argus_llm_app-legacy", { config: { import_path: "legacy.app:app" } });
    const servedName = app("carol-202501010000-demo", { config: { import_path: "legacy.app:app" } });
    // A per-model layout name whose model is another one.
    const mismatched = app("carol-202501010000-demo2", { config: { ...(JSON.parse(served) as object) } });
    const observed = observedOf(desired, { extra: [llmScratch, prefixed, servedName, mismatched] });
    const expected = [
      "argus_llm_app-legacy",
      "carol-202501010000-demo",
      "carol-202501010000-demo2",
      "scratch",
    ];
    expect(compare(desired, observed).unmanaged).toEqual(expected);
    expect(compare(desired, observed).changes).toEqual([]);
    // Recorded as deployed, an app on another import_path is still not the agent's: it never PUTs one.
    expect(compare(desired, observed, ["argus_llm_app-legacy"]).unmanaged).toEqual(expected);
    expect(compare(desired, observed, ["scratch"]).unmanaged).toEqual(expected.slice(0, 3));
  });

  it("takes a per-user application for its own only when every model is that user's, named the serve-gitops way", () => {
    const perUser = desiredOf({ "alice/a": spec("a") }, { cluster: { layout: "per-user" } });
    const llm = (name: string, ids: string[]) =>
      app(name, {
        config: {
          import_path: LLM_IMPORT_PATH,
          args: { llm_configs: ids.map((id) => ({ model_loading_config: { model_id: id } })) },
        },
      });
    const own = llm("argus_llm_app-bob", ["bob-202601061235-b"]);
    // bob's application name serving alice's model, and one serving a model not named the serve-gitops way.
    const others = llm("argus_llm_app-carol", ["alice-202601061235-x"]);
    const mixed = llm("argus_llm_app-dave", ["dave-202601061235-d", "dave-handmade"]);
    const result = compare(perUser, observedOf(perUser, { extra: [own, others, mixed] }));
    expect(result.unmanaged).toEqual(["argus_llm_app-carol", "argus_llm_app-dave"]);
    expect(result.managed).toContain("argus_llm_app-bob");
  });

  it("knows an application Ray is deleting (no config left) by its name alone", () => {
    const deleting = (name: string) => app(name, { status: "DELETING", config: null });
    const observed = observedOf(desired, {
      extra: [deleting("legacy"), deleting("carol-202501010000-demo"), deleting("argus_llm_app-carol")],
    });
    expect(compare(desired, observed).unmanaged).toEqual(["legacy"]);
  });

  it("counts a model Ray serves under another served name as an update, never as an undeploy", () => {
    const before = observedOf(desired);
    const observed = {
      apps: new Map(
        [...before.apps.values()].map((a) => {
          const swap = (t: string) => t.replaceAll("202601061235", "202501010000");
          const config = JSON.parse(swap(JSON.stringify(a.config))) as Record<string, unknown>;
          return [swap(a.name), { ...a, name: swap(a.name), config }];
        }),
      ),
    };
    const result = compare(desired, observed);
    expect(result.undeploys).toBe(0);
    expect(result.changes.map((c) => `${c.kind} ${c.key} ${c.detail}`)).toEqual([
      "update alice/a new served name",
      "update bob/b new served name",
    ]);
  });

  it("reads models back from deployed_app_config, with their LLMServer deployment names", () => {
    const models = observedModels(observedOf(desired), ownership(desired));
    expect([...models.values()].map((m) => `${m.key} ${m.deployment}`)).toEqual([
      "alice/a LLMServer:alice-202601061235-a",
      "bob/b LLMServer:bob-202601061235-b",
    ]);
  });

  it("isSubset: arrays item by item and of the same length; objects key by key", () => {
    expect(isSubset({ a: [1, { b: 2 }] }, { a: [1, { b: 2, c: 3 }], d: 4 })).toBe(true);
    expect(isSubset({ a: [1] }, { a: [1, 2] })).toBe(false);
    expect(isSubset({ a: 1 }, null)).toBe(false);
  });
});
