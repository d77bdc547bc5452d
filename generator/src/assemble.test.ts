import { Ajv2020 } from "ajv/dist/2020";
import { readFileSync } from "node:fs";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import serveSchema from "../../schemas/ray-serve-config.schema.json";
import { bare, clusterText, FIXTURES, NOW, specText, where } from "../test-fixtures/helpers";
import { assemble, checkServeConfig, DEFAULT_TEMPLATE, LLM_IMPORT_PATH } from "./assemble";
import { renderFragments } from "./render";
import { hasErrors } from "./rules";
import { validateRepo } from "./validate";
import type { Layout, RepoSnapshot, ServeConfig } from "./types";

const template = (name: string) => readFileSync(`${FIXTURES}templates/${name}`, "utf8");
const SPECS = {
  "models/alice/a.yaml": specText("a", { num_replicas: 2 }),
  "models/alice/b.yaml": specText("b", { autoscaling: { min_replicas: 0, max_replicas: 2 } }),
  "models/bob/c.yaml": specText("c"),
};

/** Assemble one cluster of a snapshot. Validation checks templates too: those problems are assemble's to report here. */
function build(snapshot: RepoSnapshot, clusterName = "h1") {
  const { model, diagnostics } = validateRepo(snapshot);
  const others = diagnostics.filter((d) => !d.rule.startsWith("template-"));
  if (hasErrors(others)) throw new Error(JSON.stringify(others));
  const { fragments } = renderFragments(model, { now: NOW, timestamps: [] });
  return assemble(model.clusters.get(clusterName)!, fragments, snapshot);
}

function layout(name: Layout, extra: Record<string, unknown> = {}) {
  return bare({
    ...SPECS,
    "clusters/h1/cluster.yaml": clusterText({ default: true, serve: { layout: name, ...extra } }),
  });
}

const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const validateServe = ajv.compile(serveSchema);

describe("layouts", () => {
  it("per-model: one application per model at /<served name>", () => {
    const { config, diagnostics } = build(layout("per-model"));
    expect(diagnostics).toEqual([]);
    expect(
      config!.applications.map((a) => [
        a.name,
        a.route_prefix,
        a.args.llm_configs.length,
        a.deployments.map((d) => d.name),
      ]),
    ).toEqual([
      ["alice-202601061235-a", "/alice-202601061235-a", 1, ["LLMServer:alice-202601061235-a"]],
      ["alice-202601061235-b", "/alice-202601061235-b", 1, ["LLMServer:alice-202601061235-b"]],
      ["bob-202601061235-c", "/bob-202601061235-c", 1, ["LLMServer:bob-202601061235-c"]],
    ]);
    for (const app of config!.applications) expect(app.import_path).toBe(LLM_IMPORT_PATH);
  });

  it("per-user: one application per user at /<user>", () => {
    const { config } = build(layout("per-user"));
    expect(
      config!.applications.map((a) => [a.name, a.route_prefix, a.deployments.map((d) => d.name)]),
    ).toEqual([
      ["argus_llm_app-alice", "/alice", ["LLMServer:alice-202601061235-a", "LLMServer:alice-202601061235-b"]],
      ["argus_llm_app-bob", "/bob", ["LLMServer:bob-202601061235-c"]],
    ]);
  });

  it("single: one application at the route prefix with every model", () => {
    const { config } = build(layout("single", { application_name: "llm" }));
    expect(config!.applications).toHaveLength(1);
    const [app] = config!.applications;
    expect(app!.name).toBe("llm");
    expect(app!.route_prefix).toBe("/");
    expect(
      app!.args.llm_configs.map((c) => (c.model_loading_config as { model_id: string }).model_id),
    ).toEqual(["alice-202601061235-a", "alice-202601061235-b", "bob-202601061235-c"]);
  });

  it("keeps replica counts in the deployment overrides only", () => {
    const { config } = build(layout("single"));
    const [app] = config!.applications;
    expect(app!.deployments).toEqual([
      { name: "LLMServer:alice-202601061235-a", num_replicas: 2 },
      {
        name: "LLMServer:alice-202601061235-b",
        num_replicas: "auto",
        autoscaling_config: { min_replicas: 0, max_replicas: 2 },
      },
      { name: "LLMServer:bob-202601061235-c", num_replicas: 1 },
    ]);
    for (const c of app!.args.llm_configs)
      expect(c.deployment_config).toEqual({ name: expect.any(String) as string, num_replicas: 1 });
  });

  it("only assembles the cluster's own fragments", () => {
    const snapshot = bare({ ...SPECS, "models/bob/c.yaml": specText("c", { clusters: ["lab"] }) });
    expect(build(snapshot, "lab").config!.applications.map((a) => a.name)).toEqual(["argus_llm_app-bob"]);
    expect(build(snapshot, "h1").config!.applications).toHaveLength(2);
  });

  it.each(["per-model", "per-user", "single"] as const)(
    "%s output passes Ray's schema and parses from its text",
    (name) => {
      const { config, text } = build(layout(name));
      expect(validateServe(config), JSON.stringify(validateServe.errors)).toBe(true);
      expect(load(text!)).toEqual(config);
      expect(text!.split("\n")[0]).toMatch(
        /^# Ray Serve config for cluster "h1", assembled by "serve-gitops /,
      );
    },
  );
});

describe("with no models", () => {
  it("emits `applications: []`, never an application with empty llm_configs", () => {
    for (const name of ["per-model", "per-user", "single"] as const) {
      const result = build(
        bare({ "clusters/h1/cluster.yaml": clusterText({ default: true, serve: { layout: name } }) }),
      );
      expect(result.diagnostics).toEqual([]);
      expect(result.config).toEqual({ applications: [] });
      expect(result.text).toContain("\napplications: []\n");
    }
  });
});

describe("values through the json helper", () => {
  it("survive YAML-breaking characters", () => {
    const tricky = "x: #y\n- \"z\" 'w' {a} [b] &c *d !e %f @g `h` \\ \u2028 \u0085 \u007f";
    const snapshot = bare({ "models/alice/a.yaml": specText("a", { engine_kwargs: { revision: tricky } }) });
    const { config, diagnostics } = build(snapshot);
    expect(diagnostics).toEqual([]);
    expect(
      (config!.applications[0]!.args.llm_configs[0]!.engine_kwargs as Record<string, unknown>).revision,
    ).toBe(tricky);
  });

  it("are the only way in: a template that inserts values any other way is refused before it renders", () => {
    const snapshot = bare({
      "clusters/h1/cluster.yaml": clusterText({ default: true, serve: { template: "raw.hbs" } }),
      "clusters/h1/raw.hbs": template("raw-values.hbs"),
      "models/alice/a.yaml": specText("a", { engine_kwargs: { revision: "x: y\n  - z: [" } }),
    });
    const { config, diagnostics } = build(snapshot);
    expect(config).toBeUndefined();
    const at = (line: number, column: number) => ({
      file: "clusters/h1/raw.hbs",
      line,
      column,
      code: "E403",
      rule: "template-unsafe",
    });
    expect(diagnostics.map(where)).toEqual([at(3, 11), at(4, 19), at(5, 18), at(6, 11)]);
    expect(diagnostics[0]!.message).toContain("`{{name}}` inserts a value without the json helper");
  });
});

describe("template override", () => {
  const custom = (name: string, text: string) =>
    bare({
      ...SPECS,
      "clusters/h1/cluster.yaml": clusterText({ default: true, serve: { template: name } }),
      [`clusters/h1/${name}`]: text,
    });

  it("renders through the cluster's own template", () => {
    const { config, text, diagnostics } = build(custom("serve.hbs", template("custom.hbs")));
    expect(diagnostics).toEqual([]);
    expect(text!.split("\n")[0]).toBe(
      '# Custom Serve config template for "h1" (test fixture): adds http_options and logging.',
    );
    expect(config).toMatchObject({
      http_options: { host: "0.0.0.0", port: 8000 },
      logging_config: { encoding: "JSON" },
    });
    expect(config!.applications).toHaveLength(3);
    expect(validateServe(config)).toBe(true);
  });

  it.each([
    ["broken.hbs", 4, 1, "the Serve config template does not parse: Parse error on line 4"],
    ["missing-field.hbs", 4, 19, "the Serve config template failed: {{json}} got a missing field"],
    ["not-ray.hbs", 1, 1, "the assembled Serve config breaks Ray's rules"],
    ["mangled-llm.hbs", 1, 1, "/applications/0/args/llm_configs/0 must NOT have additional properties"],
  ])("reports %s as a diagnostic on the template, at %i:%i", (name, line, column, message) => {
    const { config, diagnostics } = build(custom(name, template(name)));
    expect(config).toBeUndefined();
    expect(diagnostics.map(where)).toEqual([
      { file: `clusters/h1/${name}`, line, column, code: "E400", rule: "template-invalid" },
    ]);
    expect(diagnostics[0]!.message).toContain(message);
  });

  it("reports a template that produces invalid YAML", () => {
    const { diagnostics } = build(custom("bad.hbs", "applications: [\n"));
    expect(diagnostics[0]!.message).toContain("produced invalid YAML");
  });

  it("reports a template named in cluster.yaml that does not exist", () => {
    const snapshot = bare({
      ...SPECS,
      "clusters/h1/cluster.yaml": clusterText({ default: true, serve: { template: "gone.hbs" } }),
    });
    const { diagnostics } = build(snapshot);
    expect(diagnostics.map(where)).toEqual([
      { file: "clusters/h1/gone.hbs", line: 1, column: 1, code: "E400", rule: "template-invalid" },
    ]);
    expect(diagnostics[0]!.message).toBe("serve.template names clusters/h1/gone.hbs, which does not exist");
  });

  it("keeps the built-in template's values behind the json helper", () => {
    for (const line of DEFAULT_TEMPLATE.split("\n").filter(
      (l) => l.includes("{{") && !l.includes("{{#") && !l.includes("{{/") && !l.includes("{{else"),
    )) {
      expect(line).toMatch(/\{\{json [a-z_]+\}\}/);
    }
  });
});

describe("checkServeConfig", () => {
  const app = (name: string, route: string, deployments = ["LLMServer:a"]) => ({
    name,
    route_prefix: route,
    import_path: LLM_IMPORT_PATH,
    args: { llm_configs: [{ model_loading_config: { model_id: `${name}-model` } }] },
    deployments: deployments.map((d) => ({ name: d })),
  });

  it("accepts a valid config", () => {
    expect(
      checkServeConfig({ applications: [app("a", "/a"), app("b", "/b")] } satisfies ServeConfig),
    ).toEqual([]);
  });

  it("refuses duplicate application names, route prefixes and deployment overrides", () => {
    expect(checkServeConfig({ applications: [app("a", "/a"), app("a", "/b")] })).toEqual([
      "Found multiple configs for application a",
    ]);
    expect(checkServeConfig({ applications: [app("a", "/x"), app("b", "/x")] })).toEqual([
      "duplicate route_prefix /x",
    ]);
    expect(checkServeConfig({ applications: [app("a", "/a", ["LLMServer:x", "LLMServer:x"])] })).toEqual([
      "application a overrides deployment LLMServer:x twice",
    ]);
  });

  it("refuses an LLM application with no models (Ray fails to build it) or a mangled LLMConfig", () => {
    expect(checkServeConfig({ applications: [{ ...app("a", "/a"), args: { llm_configs: [] } }] })).toEqual([
      "/applications/0/args/llm_configs must be a non-empty list (an empty one fails to build)",
    ]);
    const typo = { model_loading_config: { model_id: "m" }, engine_kwarg: {} };
    expect(
      checkServeConfig({ applications: [{ ...app("a", "/a"), args: { llm_configs: [typo] } }] }),
    ).toEqual(["/applications/0/args/llm_configs/0 must NOT have additional properties"]);
  });

  it("refuses what Ray's schema refuses", () => {
    expect(checkServeConfig({})).not.toEqual([]);
    expect(checkServeConfig({ applications: [{ ...app("a", "/a"), import_path: "nope" }] })).not.toEqual([]);
    expect(checkServeConfig("applications: []")).not.toEqual([]);
  });
});
