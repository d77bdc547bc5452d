import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bare, clusterText, NOW, specText, withFiles, type FileChange } from "../test-fixtures/helpers";
import { emptySnapshot } from "./io/working-tree";
import { checkRepo } from "./pipeline";
import { planChange, type ClusterPlan } from "./plan";
import { planMarkdown, PLAN_MARKER } from "./plan-markdown";
import type { Layout, RepoSnapshot } from "./types";

const LATER = new Date("2026-03-01T08:00:00Z");
const A = "models/alice/a.yaml";
const B = "models/alice/b.yaml";
const C = "models/bob/c.yaml";

/** The tree as `render` leaves it. */
function rendered(snapshot: RepoSnapshot, now = NOW): RepoSnapshot {
  const result = checkRepo(snapshot, { now });
  if (!result.render) throw new Error(JSON.stringify(result.diagnostics));
  const changes: Record<string, FileChange> = Object.fromEntries(result.render.files);
  for (const path of result.renderDiff!.extra) changes[path] = null;
  return withFiles(changes, snapshot, "base");
}

function base(layout: Layout = "per-model") {
  return rendered(
    bare({
      "clusters/h1/cluster.yaml": clusterText({ default: true, serve: { layout } }),
      [A]: specText("a", { engine_kwargs: { max_model_len: 8192 } }),
      [B]: specText("b"),
      [C]: specText("c"),
    }),
  );
}

const EXTRA = readFileSync(new URL("../test-fixtures/templates/extra-settings.hbs", import.meta.url), "utf8");

/** base() with a cluster template that adds settings to every override (extra-settings.hbs). */
const templated = (layout: Layout) =>
  rendered(
    withFiles(
      {
        "clusters/h1/cluster.yaml": clusterText({ default: true, serve: { layout, template: "serve.hbs" } }),
        "clusters/h1/serve.hbs": EXTRA,
      },
      base(layout),
      "base",
    ),
  );

const plan = (before: RepoSnapshot, changes: Record<string, FileChange>) =>
  planChange(before, withFiles(changes, before, "head"), { now: LATER });
const h1 = (p: ReturnType<typeof plan>): ClusterPlan => p.clusters.find((c) => c.cluster === "h1")!;

describe("planChange", () => {
  it("reports no change for an unchanged tree", () => {
    const p = plan(base(), {});
    expect(p.ok).toBe(true);
    expect(p.changed).toBe(false);
    expect(h1(p)).toMatchObject({ deploy: [], update: [], undeploy: [], restarts: [] });
  });

  it("deploys a new model under a fresh name and undeploys a removed one", () => {
    const p = plan(base(), { "models/alice/d.yaml": specText("d", { num_replicas: 2 }), [C]: null });
    expect(p.changed).toBe(true);
    expect(h1(p).deploy).toEqual([
      {
        key: "alice/d",
        user: "alice",
        served_name: "alice-202603010800-d",
        endpoint: "https://dstack.company.com/access/models/team1/alice-202603010800-d/v1",
        spec: "models/alice/d.yaml",
        gpus: 2,
        replicas: "2x1 GPU",
        changes: [],
        restarts: true,
        provisional: true,
      },
    ]);
    expect(h1(p).undeploy.map((m) => m.served_name)).toEqual(["bob-202601061235-c"]);
    expect(h1(p).update).toEqual([]);
  });

  it("lists what an update changes and keeps the base's served name", () => {
    const p = plan(base(), {
      [A]: specText("a", { num_replicas: 3, engine_kwargs: { max_model_len: 4096, max_num_seqs: 16 } }),
    });
    const [update] = h1(p).update;
    expect(update!.served_name).toBe("alice-202601061235-a");
    expect(update!.changes).toEqual([
      "num_replicas 1 -> 3",
      "engine_kwargs.max_model_len 8192 -> 4096",
      "engine_kwargs.max_num_seqs (unset) -> 16",
    ]);
    expect(update!.restarts).toBe(true);
  });

  it("restarts nothing for a scale-only change", () => {
    for (const layout of ["per-model", "per-user", "single"] as const) {
      const p = plan(base(layout), {
        [A]: specText("a", { num_replicas: 4, engine_kwargs: { max_model_len: 8192 } }),
      });
      const [update] = h1(p).update;
      expect(update!.changes).toEqual(["num_replicas 1 -> 4"]);
      expect(update!.restarts).toBe(false);
      expect(h1(p).restarts).toEqual([]);
    }
  });

  it("undeploys nothing from a named cluster whose cluster.yaml the change breaks", () => {
    const both = specText("a", { clusters: ["h1", "lab"] });
    const before = rendered(withFiles({ [A]: both }, base(), "base"));
    expect(before.files.has("clusters/lab/rendered/alice/a.yaml")).toBe(true);
    const lab = "clusters/lab/cluster.yaml";
    const broken = new TextDecoder().decode(before.files.get(lab)!.bytes).replace(/^gpus: \d+$/m, "gpus: -1");
    const p = plan(before, { [lab]: broken });
    expect(p.ok).toBe(false);
    expect(p.diagnostics.some((d) => d.file === lab && d.severity === "error")).toBe(true);
    const labPlan = p.clusters.find((c) => c.cluster === "lab")!;
    // Nothing of a broken cluster renders until it is fixed: its models stay as they are.
    expect(labPlan).toMatchObject({ deploy: [], update: [], undeploy: [] });
    expect(p.changed).toBe(false);
    // A spec the same change deletes still shows as undeployed there.
    const gone = plan(before, { [lab]: broken, [A]: null });
    expect(gone.clusters.find((c) => c.cluster === "lab")!.undeploy.map((m) => m.key)).toEqual(["alice/a"]);
  });

  it("restarts the applications whose runtime_env a change to the cluster's template alters", () => {
    const custom = readFileSync(new URL("../test-fixtures/templates/custom.hbs", import.meta.url), "utf8");
    for (const layout of ["per-model", "single"] as const) {
      const before = rendered(
        withFiles(
          {
            "clusters/h1/cluster.yaml": clusterText({
              default: true,
              serve: { layout, template: "serve.hbs" },
            }),
            "clusters/h1/serve.hbs": custom,
          },
          base(layout),
          "base",
        ),
      );
      // Ray's code version hashes import_path, runtime_env and args: a new env var rebuilds every app.
      const p = plan(before, {
        "clusters/h1/serve.hbs": custom.replace('"VLLM_USE_V1": "1"', '"VLLM_USE_V1": "0"'),
      });
      expect(p.ok).toBe(true);
      expect(h1(p).restarts).toEqual(["alice-202601061235-a", "alice-202601061235-b", "bob-202601061235-c"]);
      // Settings outside the applications (http_options) and a comment restart no model.
      const quiet = plan(before, {
        "clusters/h1/serve.hbs": custom
          .replace("port: 8000", "port: 8001")
          .replace("(test fixture)", "(edited)"),
      });
      expect(h1(quiet).restarts).toEqual([]);
    }
  });

  it("restarts the models whose override's ray_actor_options a change to the cluster's template alters", () => {
    // Ray restarts a deployment's replicas when its ray_actor_options change, not only when the code version
    // does (serve/_private/version.py, DeploymentVersion.requires_actor_restart); the template may set them
    // on an override (README: "ray_actor_options or max_ongoing_requests on an override").
    const before = templated("per-model");
    const p = plan(before, {
      "clusters/h1/serve.hbs": EXTRA.replace(
        "ray_actor_options: {num_cpus: 4}",
        "ray_actor_options: {num_cpus: 8}",
      ),
    });
    expect(p.ok).toBe(true);
    expect(h1(p).restarts).toEqual(["alice-202601061235-a", "alice-202601061235-b", "bob-202601061235-c"]);
    // So does max_replicas_per_node (part of the replica config Ray compares).
    const spread = plan(before, {
      "clusters/h1/serve.hbs": EXTRA.replace(
        "ray_actor_options: {num_cpus: 4}",
        "ray_actor_options: {num_cpus: 4}\n        max_replicas_per_node: 1",
      ),
    });
    expect(spread.ok).toBe(true);
    expect(h1(spread).restarts).toEqual([
      "alice-202601061235-a",
      "alice-202601061235-b",
      "bob-202601061235-c",
    ]);
    // max_ongoing_requests is a lightweight update: nothing restarts.
    const light = plan(before, {
      "clusters/h1/serve.hbs": EXTRA.replace("max_ongoing_requests: 64", "max_ongoing_requests: 32"),
    });
    expect(h1(light).restarts).toEqual([]);
  });

  it("restarts the applications whose overrides a change to the cluster's template gives a request_router_config", () => {
    // Ray 2.5x's code version covers every dict request_router_config of an application's overrides
    // (deploy_utils.get_app_code_version; the emulator's appCodeVersion counts it too): a template that
    // adds one rebuilds the application.
    const before = templated("single");
    const p = plan(before, {
      "clusters/h1/serve.hbs": EXTRA.replace(
        "max_ongoing_requests: 64",
        "max_ongoing_requests: 64\n        request_router_config: {request_routing_stats_period_s: 20}",
      ),
    });
    expect(p.ok).toBe(true);
    expect(h1(p).restarts).toEqual(["alice-202601061235-a", "alice-202601061235-b", "bob-202601061235-c"]);
  });

  it("restarts nothing when only the order of keys nested in engine_kwargs changes", () => {
    // Ray hashes args with sorted keys (deploy_utils.get_app_code_version): key order is no change to it.
    const generation = (config: Record<string, number>) =>
      specText("a", { engine_kwargs: { max_model_len: 8192, override_generation_config: config } });
    for (const layout of ["per-model", "single"] as const) {
      const before = rendered(
        withFiles({ [A]: generation({ temperature: 0.5, top_p: 0.9 }) }, base(layout), "base"),
      );
      const head = withFiles({ [A]: generation({ top_p: 0.9, temperature: 0.5 }) }, before, "head");
      // The same LLMConfig whatever the spec's order (only the spec's digest in the fragment changes).
      const config = (tree: RepoSnapshot) =>
        JSON.stringify(
          checkRepo(tree, { now: LATER }).render!.fragments.find((f) => f.suffix === "a")!.llm_config,
        );
      expect(config(head)).toBe(config(before));
      const p = planChange(before, head, { now: LATER });
      expect(h1(p)).toMatchObject({ update: [], restarts: [] });
    }
  });

  it("shows switching to or from autoscaling as rebuilding the application (Ray 2.5x's code version)", () => {
    // deploy_utils.get_app_code_version hashes the policy of every override that autoscales: the switch
    // rebuilds the application, every model in it; bounds changed later restart nothing.
    const p = plan(base("per-user"), {
      [B]: specText("b", { autoscaling: { min_replicas: 1, max_replicas: 2 } }),
    });
    expect(h1(p).update[0]).toMatchObject({
      replicas: "autoscaling 1-2 x1 GPU",
      restarts: true,
      changes: [
        'autoscaling_config (unset) -> {"min_replicas":1,"max_replicas":2}',
        'num_replicas 1 -> "auto"',
      ],
    });
    expect(h1(p).restarts).toEqual(["alice-202601061235-a", "alice-202601061235-b"]);
    const autoscaled = rendered(
      withFiles(
        { [B]: specText("b", { autoscaling: { min_replicas: 1, max_replicas: 2 } }) },
        base("per-user"),
        "base",
      ),
    );
    const bounds = plan(autoscaled, {
      [B]: specText("b", { autoscaling: { min_replicas: 2, max_replicas: 4 } }),
    });
    expect(h1(bounds).update[0]).toMatchObject({ restarts: false });
    expect(h1(bounds).restarts).toEqual([]);
    expect(planMarkdown(bounds)).toContain(
      "<code>alice-202601061235-b</code> (scale only: nothing restarts)",
    );
    const back = plan(autoscaled, { [B]: specText("b", { num_replicas: 2 }) });
    expect(h1(back).restarts).toEqual(["alice-202601061235-a", "alice-202601061235-b"]);
  });

  it("per-model: an engine_kwargs change restarts no other model", () => {
    const p = plan(base("per-model"), { [A]: specText("a", { engine_kwargs: { max_model_len: 4096 } }) });
    expect(h1(p).restarts).toEqual(["alice-202601061235-a"]);
  });

  it("per-user: an engine_kwargs change restarts the user's models only", () => {
    const p = plan(base("per-user"), { [A]: specText("a", { engine_kwargs: { max_model_len: 4096 } }) });
    expect(h1(p).restarts).toEqual(["alice-202601061235-a", "alice-202601061235-b"]);
  });

  it("single: an engine_kwargs change restarts every other model in the application", () => {
    const p = plan(base("single"), { [A]: specText("a", { engine_kwargs: { max_model_len: 4096 } }) });
    expect(h1(p).restarts).toEqual(["alice-202601061235-a", "alice-202601061235-b", "bob-202601061235-c"]);
  });

  it("single: adding or removing a model restarts every existing one", () => {
    const added = plan(base("single"), { "models/bob/d.yaml": specText("d") });
    expect(h1(added).restarts).toEqual([
      "alice-202601061235-a",
      "alice-202601061235-b",
      "bob-202601061235-c",
    ]);
    const removed = plan(base("single"), { [C]: null });
    expect(h1(removed).restarts).toEqual(["alice-202601061235-a", "alice-202601061235-b"]);
  });

  it("single: a scale-only update restarts when another model's change rebuilds the application", () => {
    const p = plan(base("single"), {
      [A]: specText("a", { engine_kwargs: { max_model_len: 4096 } }),
      [B]: specText("b", { num_replicas: 2 }),
    });
    expect(h1(p).update.map((m) => [m.served_name, m.restarts])).toEqual([
      ["alice-202601061235-a", true],
      ["alice-202601061235-b", true],
    ]);
  });

  it("shows a layout change as every model moving to a new endpoint and restarting", () => {
    const before = base("per-model");
    const p = plan(before, {
      "clusters/h1/cluster.yaml": clusterText({ default: true, serve: { layout: "single" } }),
    });
    expect(p.changed).toBe(true);
    expect(h1(p).update.map((m) => [m.served_name, m.changes, m.restarts])).toEqual([
      [
        "alice-202601061235-a",
        [
          'endpoint "https://dstack.company.com/access/models/team1/alice-202601061235-a/v1" -> "https://dstack.company.com/access/models/team1/v1"',
        ],
        true,
      ],
      [
        "alice-202601061235-b",
        [
          'endpoint "https://dstack.company.com/access/models/team1/alice-202601061235-b/v1" -> "https://dstack.company.com/access/models/team1/v1"',
        ],
        true,
      ],
      [
        "bob-202601061235-c",
        [
          'endpoint "https://dstack.company.com/access/models/team1/bob-202601061235-c/v1" -> "https://dstack.company.com/access/models/team1/v1"',
        ],
        true,
      ],
    ]);
    expect(h1(p).restarts).toEqual(["alice-202601061235-a", "alice-202601061235-b", "bob-202601061235-c"]);
  });

  it("shows a base URL change as an endpoint change that restarts nothing", () => {
    const p = plan(base(), {
      "clusters/h1/cluster.yaml": clusterText({
        default: true,
        openai: { server_url: "https://dstack.company.com", base_url: "/v2/" },
      }),
    });
    expect(h1(p).update.map((m) => m.restarts)).toEqual([false, false, false]);
    expect(h1(p).update[0]!.changes[0]).toMatch(
      /^endpoint ".*\/access\/models\/team1\/alice-202601061235-a\/v1" -> ".*\/v2\/alice-202601061235-a\/v1"$/,
    );
    expect(h1(p).restarts).toEqual([]);
    const md = planMarkdown(p);
    expect(md).toContain("<code>alice-202601061235-a</code> (endpoint only: nothing restarts)</summary>");
    expect(md).not.toContain("scale only");
  });

  it("keeps the endpoint in its table cell when the base URL holds a pipe or angle brackets", () => {
    const p = plan(base(), {
      "clusters/h1/cluster.yaml": clusterText({
        default: true,
        openai: { server_url: "https://dstack.company.com", base_url: "/team|1/<x>/" },
      }),
    });
    const rows = planMarkdown(p)
      .split("\n")
      .filter((line) => line.startsWith("| 🟡 update |"));
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      // Five cells: an unescaped pipe would add a sixth, and <x> would be read as an HTML tag.
      expect(row.split(/(?<!\\)\|/).length - 2).toBe(5);
      expect(row).toContain("/team\\|1/\\<x\\>/");
    }
  });

  it("marks a new model's served name provisional until its fragment is rendered", () => {
    const spec = { "models/alice/d.yaml": specText("d") };
    const unrendered = plan(base(), spec);
    expect(h1(unrendered).deploy.map((m) => [m.served_name, m.provisional])).toEqual([
      ["alice-202603010800-d", true],
    ]);
    expect(planMarkdown(unrendered)).toContain(
      "| 🟢 deploy | `alice-202603010800-d` (provisional: named when first rendered) |",
    );
    const head = rendered(withFiles(spec, base()), NOW);
    const done = planChange(base(), head, { now: LATER });
    expect(h1(done).deploy.map((m) => [m.served_name, m.provisional])).toEqual([
      ["alice-202601061235-d", false],
    ]);
    expect(planMarkdown(done)).not.toContain("provisional");
  });

  it("counts GPUs before and after against capacity and per-user quota", () => {
    const p = plan(base(), {
      [A]: specText("a", { num_replicas: 2, gpus_per_replica: 2 }),
      "models/bob/d.yaml": specText("d", { num_replicas: 2 }),
    });
    expect(h1(p).gpus).toEqual({ before: 3, after: 8, capacity: 32, over: false });
    expect(h1(p).users).toEqual([
      { user: "alice", before: 2, after: 5, quota: 8, over: false },
      { user: "bob", before: 1, after: 3, quota: 4, over: false },
    ]);
  });

  it("flags a change over quota and over capacity, and fails", () => {
    const small = rendered(
      bare({
        "clusters/h1/cluster.yaml": clusterText({ default: true, gpus: 8, gpus_per_node: 8 }),
        [C]: specText("c"),
      }),
    );
    const p = plan(small, {
      [C]: specText("c", { num_replicas: 5 }),
      [A]: specText("a", { num_replicas: 4 }),
    });
    expect(p.ok).toBe(false);
    expect(p.diagnostics.map((d) => d.rule)).toEqual(["cluster-capacity", "user-quota"]);
    expect(h1(p).gpus).toEqual({ before: 1, after: 9, capacity: 8, over: true });
    expect(h1(p).users).toEqual([
      { user: "alice", before: 0, after: 4, quota: 8, over: false },
      { user: "bob", before: 1, after: 5, quota: 4, over: true },
    ]);
    expect(h1(p).update.map((m) => m.changes)).toEqual([["num_replicas 1 -> 5"]]);
  });

  it("counts a user exactly at quota and a cluster exactly at capacity as within them", () => {
    const small = rendered(
      bare({
        "clusters/h1/cluster.yaml": clusterText({ default: true, gpus: 8, gpus_per_node: 8 }),
        [C]: specText("c"),
      }),
    );
    const p = plan(small, {
      [C]: specText("c", { num_replicas: 4 }),
      [A]: specText("a", { num_replicas: 4 }),
    });
    expect(p.ok).toBe(true);
    expect(h1(p).gpus).toEqual({ before: 1, after: 8, capacity: 8, over: false });
    expect(h1(p).users).toEqual([
      { user: "alice", before: 0, after: 4, quota: 8, over: false },
      { user: "bob", before: 1, after: 4, quota: 4, over: false },
    ]);
  });

  it("does not show the models of a cluster whose cluster.yaml the change breaks as undeployed", () => {
    const p = plan(base(), { "clusters/h1/cluster.yaml": clusterText({ default: true, gpus: "many" }) });
    expect(p.ok).toBe(false);
    expect(p.diagnostics.map((d) => `${d.file} ${d.rule}`)).toEqual(["clusters/h1/cluster.yaml wrong-type"]);
    expect(h1(p)).toMatchObject({ deploy: [], update: [], undeploy: [], refusals: [] });
  });

  it("does not show a spec with errors as undeployed", () => {
    const p = plan(base(), { [B]: specText("b", { num_replicas: 0 }) });
    expect(p.ok).toBe(false);
    expect(h1(p)).toMatchObject({ deploy: [], update: [], undeploy: [] });
  });

  it("does not show a spec with errors that the change renames from .yaml to .yml as undeployed", () => {
    // Same user, same suffix: the same model (issue: the suffix is the file name without .yaml or .yml).
    const p = plan(base("per-user"), {
      [B]: null,
      "models/alice/b.yml": specText("b", { num_replicas: 0 }),
    });
    expect(p.ok).toBe(false);
    expect(h1(p)).toMatchObject({ deploy: [], update: [], undeploy: [], restarts: [] });
  });

  it("counts a model once when the change adds a .yml beside its .yaml (a duplicate-model error)", () => {
    // Review r4: the .yaml <-> .yml rename keeps the base fragment when EITHER file has errors; here b.yaml
    // still renders, and its base fragment is kept as well: b counted twice (GPUs, quota, restarts).
    const p = plan(base("per-user"), { "models/alice/b.yml": specText("b", { num_replicas: 0 }) });
    expect(p.ok).toBe(false);
    expect(h1(p).gpus).toMatchObject({ before: 3, after: 3 });
    expect(h1(p).users.find((u) => u.user === "alice")).toMatchObject({ before: 2, after: 2 });
    expect(h1(p).restarts).toEqual([]);
  });

  it("takes served names from the base over the head's own fragments", () => {
    const before = base();
    // The head carries a re-rendered fragment with another timestamp (a stale branch, a hand edit).
    const head = rendered(withFiles({ [A]: null }, before), LATER);
    const readded = rendered(
      withFiles({ [A]: specText("a", { engine_kwargs: { max_model_len: 8192 } }) }, head),
      LATER,
    );
    const p = planChange(before, readded, { now: LATER });
    expect(h1(p)).toMatchObject({ deploy: [], update: [], undeploy: [] });
  });

  it("plans a whole repository against an empty base", () => {
    const p = planChange(emptySnapshot(), base(), { now: LATER });
    expect(p.base).toBe("empty");
    expect(h1(p).deploy.map((m) => m.served_name)).toEqual([
      "alice-202601061235-a",
      "alice-202601061235-b",
      "bob-202601061235-c",
    ]);
    expect(h1(p).gpus).toEqual({ before: 0, after: 3, capacity: 32, over: false });
    expect(p.clusters.map((c) => c.cluster)).toEqual(["h1", "lab"]);
  });
});

describe("what the sync agent will refuse", () => {
  // Two clusters: east holds alice's only model, west holds nothing yet.
  function twoClusters(sync: Record<string, unknown> = {}) {
    return rendered(
      bare({
        "clusters/h1/cluster.yaml": null,
        "clusters/east/cluster.yaml": clusterText({ default: true, sync }),
        "clusters/west/cluster.yaml": clusterText({}),
        [A]: specText("a"),
      }),
    );
  }
  const at = (p: ReturnType<typeof plan>, name: string) => p.clusters.find((c) => c.cluster === name)!;

  it("says moving a cluster's only model elsewhere leaves it empty, refused unless allow_empty", () => {
    const p = plan(twoClusters(), { [A]: specText("a", { clusters: ["west"] }) });
    expect(p.ok).toBe(true);
    expect(at(p, "east").refusals.map((r) => r.guard)).toEqual(["empty"]);
    expect(at(p, "east").refusals[0]!.message).toContain("sync.allow_empty is false");
    expect(at(p, "west").refusals).toEqual([]);
    const warnings = p.diagnostics.filter((d) => d.rule === "agent-will-refuse");
    expect(warnings.map((d) => [d.file, d.severity, d.code])).toEqual([
      ["clusters/east/cluster.yaml", "warning", "E403"],
    ]);
    const md = planMarkdown(p);
    expect(md).toMatch(/^⛔ \*\*The sync agent will refuse this change after the merge\*\* on `east`/m);
    expect(md).toContain("> ⛔ **Will be refused by the agent (empty guard):**");
    expect(md).not.toContain("<details>");
    // In JSON, a field per cluster.
    const json = JSON.parse(JSON.stringify(p)) as { clusters: ClusterPlan[] };
    expect(json.clusters.filter((c) => c.refusals.length > 0).map((c) => c.cluster)).toEqual(["east"]);
  });

  it("shows a model that leaves one cluster for another as a move, not two unrelated rows", () => {
    const p = plan(twoClusters({ allow_empty: true }), { [A]: specText("a", { clusters: ["west"] }) });
    const md = planMarkdown(p);
    expect(md).toContain(
      "↪ `alice/a` moves from `east` to `west`: its OpenAI endpoint changes, and each cluster's agent acts on its own, so the old copy is undeployed without waiting for the new one to serve.",
    );
    expect(md).toMatch(/\| 🟢 deploy \| `alice-\d{12}-a` \(moves from `east`\) \|/);
    expect(md).toMatch(/\| 🔴 undeploy \| `alice-\d{12}-a` \(moves to `west`\) \|/);
    // Added to a second cluster, or dropped from one of two: no move.
    const added = planMarkdown(plan(twoClusters(), { [A]: specText("a", { clusters: ["east", "west"] }) }));
    expect(added).not.toContain("moves");
  });

  it("does not refuse an emptying the cluster allows, nor a cluster that had no models", () => {
    const p = plan(twoClusters({ allow_empty: true }), { [A]: specText("a", { clusters: ["west"] }) });
    expect(p.clusters.flatMap((c) => c.refusals)).toEqual([]);
    expect(p.diagnostics.filter((d) => d.rule === "agent-will-refuse")).toEqual([]);
    expect(planMarkdown(p)).not.toContain("⛔");
  });

  it("says a prune over sync.prune_limit needs an admin's merge with the trailer", () => {
    const before = rendered(
      bare({
        "clusters/h1/cluster.yaml": clusterText({ default: true, sync: { prune_limit: 1 } }),
        [A]: specText("a"),
        [B]: specText("b"),
        [C]: specText("c"),
      }),
    );
    const p = plan(before, { [A]: null, [B]: null });
    expect(h1(p).refusals.map((r) => r.guard)).toEqual(["prune"]);
    expect(h1(p).refusals[0]!.message).toContain("undeploys 2 models, more than sync.prune_limit (1)");
    expect(h1(p).refusals[0]!.message).toContain(
      "`Serve-Gitops-Allow-Prune: 2` typed into the merge message",
    );
    expect(planMarkdown(p)).toContain("`Serve-Gitops-Allow-Prune: 2`");
    // At the limit, the agent applies it.
    expect(h1(plan(before, { [A]: null })).refusals).toEqual([]);
  });

  it("refuses nothing on a cluster the change removes: no agent is left to refuse it", () => {
    const before = twoClusters();
    const p = plan(before, {
      "clusters/east/cluster.yaml": null,
      "clusters/east/rendered/alice/a.yaml": null,
      [A]: specText("a", { clusters: ["west"] }),
    });
    expect(p.ok).toBe(true);
    expect(at(p, "east").undeploy.map((m) => m.key)).toEqual(["alice/a"]);
    expect(p.clusters.flatMap((c) => c.refusals)).toEqual([]);
    expect(p.diagnostics.filter((d) => d.rule === "agent-will-refuse")).toEqual([]);
  });

  it("names both guards when a change empties a cluster beyond its prune limit", () => {
    const before = rendered(
      bare({
        "clusters/h1/cluster.yaml": clusterText({ default: true, sync: { prune_limit: 1 } }),
        [A]: specText("a"),
        [B]: specText("b"),
      }),
    );
    expect(h1(plan(before, { [A]: null, [B]: null })).refusals.map((r) => r.guard)).toEqual([
      "empty",
      "prune",
    ]);
  });
});

describe("planMarkdown", () => {
  it("renders deploys, updates, budgets and restarts", () => {
    const p = plan(base("single"), {
      [A]: specText("a", { engine_kwargs: { max_model_len: 4096 } }),
      "models/bob/d.yaml": specText("d"),
    });
    const md = planMarkdown(p);
    expect(md).toContain("### Cluster `h1` (single layout)");
    expect(md).toContain(
      "| 🟢 deploy | `bob-202603010800-d` (provisional: named when first rendered) | 1x1 GPU | 1 |",
    );
    expect(md).toContain("| 🟡 update | `alice-202601061235-a` |");
    expect(md).toContain("- `engine_kwargs.max_model_len 8192 -> 4096`");
    expect(md).toContain("**GPU budget:** 3 → 4 of 32");
    expect(md).toContain(
      "**Restarts** (Ray rebuilds every model of an application whose args or runtime_env change): `alice-202601061235-a`, `alice-202601061235-b`, `bob-202601061235-c`",
    );
    expect(PLAN_MARKER).toMatch(/^<!--.*-->$/);
  });

  it("keeps an owner's value inside its code span, backticks and markup included", () => {
    const value = "``x`` </details><img src=x onerror=alert(1)> | y";
    const p = plan(base(), {
      [A]: specText("a", { engine_kwargs: { max_model_len: 8192, revision: value } }),
    });
    const md = planMarkdown(p);
    expect(md).toContain(`- \`\`\`engine_kwargs.revision (unset) -> ${JSON.stringify(value)}\`\`\``);
    expect(md.match(/<\/details>/g)).toHaveLength(1 + 1);
  });

  it("says no model restarts for a change that only undeploys", () => {
    const md = planMarkdown(plan(base(), { [C]: null }));
    expect(md).toContain("| 🔴 undeploy | `bob-202601061235-c` |");
    expect(md).toContain("**Restarts:** none.");
    expect(md).not.toContain("deployed above");
    const added = planMarkdown(plan(base(), { "models/bob/d.yaml": specText("d") }));
    expect(added).toContain("**Restarts:** none besides the models deployed above.");
  });

  it("shows the restarts of a change that only restarts models (an application renamed)", () => {
    // Renaming the single application deploys, updates and undeploys no model (same LLMConfig, same
    // endpoint), yet Ray deletes the old application and builds the new one: every model restarts. The plan
    // says so (changed, restarts), so its Markdown, the PR comment, must not be empty.
    const before = base("single");
    const head = rendered(
      withFiles(
        {
          "clusters/h1/cluster.yaml": clusterText({
            default: true,
            serve: { layout: "single", application_name: "team_llm" },
          }),
        },
        before,
      ),
    );
    const p = planChange(before, head, { now: LATER });
    expect(p.changed).toBe(true);
    expect(h1(p)).toMatchObject({ deploy: [], update: [], undeploy: [] });
    expect(h1(p).restarts).toEqual(["alice-202601061235-a", "alice-202601061235-b", "bob-202601061235-c"]);
    const md = planMarkdown(p);
    expect(md).toContain("### Cluster `h1` (single layout)");
    expect(md).toContain("`alice-202601061235-a`, `alice-202601061235-b`, `bob-202601061235-c`");
  });

  it("says so when nothing changes", () => {
    expect(planMarkdown(plan(base(), {}))).toBe(
      "No model changes: nothing is deployed, updated or undeployed.\n",
    );
  });
});

describe("a base with errors", () => {
  it("shows the base's valid models as they are, not every model as a new deploy, and says so", () => {
    // The base holds a broken spec besides a, b and c; the head fixes it.
    const broken = withFiles(
      { "models/bob/bad.yaml": "model_id: bad\nmodel_source: /etc\n" },
      base(),
      "base",
    );
    const p = plan(broken, { "models/bob/bad.yaml": specText("bad") });
    expect(p.baseErrors).toBe(1);
    expect(h1(p).deploy.map((m) => m.served_name)).toEqual([expect.stringMatching(/^bob-\d{12}-bad$/)]);
    expect(h1(p).update).toEqual([]);
    expect(h1(p).undeploy).toEqual([]);
    expect(planMarkdown(p)).toContain("The base has 1 error(s), so it renders nothing");
    expect(planMarkdown(plan(base(), {}))).not.toContain("The base has");
  });

  it("does not show the models of a cluster whose broken cluster.yaml the change fixes as new deploys", () => {
    // The base's lab cluster.yaml is broken: nothing of lab renders, but lab's fragment of alice/a is still
    // committed and its agent keeps serving the last good config. Fixing the file deploys nothing new there.
    const good = rendered(withFiles({ [A]: specText("a", { clusters: ["h1", "lab"] }) }, base(), "base"));
    const lab = "clusters/lab/cluster.yaml";
    const text = new TextDecoder().decode(good.files.get(lab)!.bytes);
    const broken = withFiles({ [lab]: text.replace(/^gpus: \d+$/m, "gpus: -1") }, good, "base");
    const p = planChange(broken, good, { now: LATER });
    expect(p.ok).toBe(true);
    const labPlan = p.clusters.find((c) => c.cluster === "lab")!;
    expect(labPlan).toMatchObject({ deploy: [], update: [], undeploy: [] });
    expect(labPlan.gpus).toMatchObject({ before: 1, after: 1 });
    expect(p.changed).toBe(false);
  });
  it("reads a broken base cluster's committed fragment larger than a spec (up to the config size limit)", () => {
    // A fragment is not a spec: it may be larger than a spec's 64 KiB (its llm_config, deployment and metadata
    // around a large spec), up to a config file's limit.
    const good = rendered(withFiles({ [A]: specText("a", { clusters: ["h1", "lab"] }) }, base(), "base"));
    const lab = "clusters/lab/cluster.yaml";
    const fragment = "clusters/lab/rendered/alice/a.yaml";
    const decode = (path: string) => new TextDecoder().decode(good.files.get(path)!.bytes);
    const large = `${decode(fragment)}${"# padding\n".repeat(7000)}`;
    expect(large.length).toBeGreaterThan(64 * 1024);
    const broken = withFiles(
      { [lab]: decode(lab).replace(/^gpus: \d+$/m, "gpus: -1"), [fragment]: large },
      good,
      "base",
    );
    const p = planChange(broken, good, { now: LATER });
    const labPlan = p.clusters.find((c) => c.cluster === "lab")!;
    expect(labPlan).toMatchObject({ deploy: [], update: [], undeploy: [] });
    expect(labPlan.gpus).toMatchObject({ before: 1, after: 1 });
  });
  it("does not expand a hand-edited fragment's YAML aliases when it reads the fragments a broken base commits", () => {
    // Review r4: committedFragments() loads with js-yaml's load, aliases allowed and no size limit (every other
    // reader of the repository's YAML sets maxAliases: 0); the generator never writes an alias. A 1 KB fragment
    // of nested aliases is expanded by the plan's JSON comparisons: seconds at 7 levels, x10 per level.
    const good = rendered(withFiles({ [A]: specText("a", { clusters: ["h1", "lab"] }) }, base(), "base"));
    const lab = "clusters/lab/cluster.yaml";
    const fragment = "clusters/lab/rendered/alice/a.yaml";
    const decode = (path: string) => new TextDecoder().decode(good.files.get(path)!.bytes);
    const lines = [`    l0: &l0 [${Array(10).fill('"xxxxxxxxxx"').join(", ")}]`];
    for (let i = 1; i < 7; i++)
      lines.push(
        `    l${i}: &l${i} [${Array(10)
          .fill(`*l${i - 1}`)
          .join(", ")}]`,
      );
    const bomb = decode(fragment).replace("  engine_kwargs:\n", `  engine_kwargs:\n${lines.join("\n")}\n`);
    expect(bomb.length).toBeLessThan(2000);
    const broken = withFiles(
      { [lab]: decode(lab).replace(/^gpus: \d+$/m, "gpus: -1"), [fragment]: bomb },
      good,
      "base",
    );
    const started = Date.now();
    planChange(broken, good, { now: LATER });
    // Expanded, the aliases would never finish; 3 s leaves room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(3000);
  }, 60_000);
  it("lists a broken base cluster's committed fragments in the same order however the snapshot was read", () => {
    // Review r4: committedFragments() takes the fragments in the snapshot's file order (readWorkingTree does
    // not sort readdir's order), and planCluster lists undeploys in that order: the plan, its comment and
    // --json then differ between two reads of the same trees. The other fragments come from a render.
    const both = { clusters: ["h1", "lab"] };
    const good = rendered(withFiles({ [A]: specText("a", both), [B]: specText("b", both) }, base(), "base"));
    const lab = "clusters/lab/cluster.yaml";
    const text = new TextDecoder().decode(good.files.get(lab)!.bytes);
    const broken = withFiles({ [lab]: text.replace(/^gpus: \d+$/m, "gpus: -1") }, good, "base");
    const reversed: RepoSnapshot = { ...broken, files: new Map([...broken.files].reverse()) };
    // The change fixes lab's cluster.yaml and takes both models off lab.
    const head = rendered(withFiles({ [A]: specText("a"), [B]: specText("b") }, good, "head"));
    const one = planChange(broken, head, { now: LATER });
    const other = planChange(reversed, head, { now: LATER });
    const undeploys = (p: ReturnType<typeof planChange>) =>
      p.clusters.find((c) => c.cluster === "lab")!.undeploy.map((m) => m.served_name);
    expect(undeploys(one)).toHaveLength(2);
    expect(undeploys(other)).toEqual(undeploys(one));
    expect(planMarkdown(other)).toBe(planMarkdown(one));
  });
});
