import { readFileSync } from "node:fs";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { bare, clusterText, FIXTURES, NOW, specText, where } from "../test-fixtures/helpers";
import { assemble, checkServeConfig, DEFAULT_TEMPLATE, LLM_IMPORT_PATH } from "./assemble";
import { checkRepo } from "./pipeline";
import { renderFragments } from "./render";
import { hasErrors } from "./rules";
import { compileTemplate, jsonText } from "./template";
import type { RepoSnapshot } from "./types";
import { validateRepo } from "./validate";

// Serve config templates written by someone who wants a model owner's string to become code on the cluster,
// or by someone who just got them wrong. Each is refused with a diagnostic on the template, never assembled.

const fixture = (name: string) => readFileSync(`${FIXTURES}templates/${name}`, "utf8");
const SPECS = {
  "models/alice/a.yaml": specText("a", { num_replicas: 2 }),
  "models/alice/b.yaml": specText("b", { autoscaling: { min_replicas: 0, max_replicas: 2 } }),
  "models/bob/c.yaml": specText("c"),
};

function withTemplate(text: string, specs: Record<string, string> = SPECS): RepoSnapshot {
  return bare({
    ...specs,
    "clusters/h1/cluster.yaml": clusterText({ default: true, serve: { template: "serve.hbs" } }),
    "clusters/h1/serve.hbs": text,
  });
}

/** Assemble h1, as the agent would, from a render of the snapshot's valid specs. */
function build(snapshot: RepoSnapshot) {
  const { model, diagnostics } = validateRepo(snapshot);
  const others = diagnostics.filter((d) => !d.rule.startsWith("template-"));
  if (hasErrors(others)) throw new Error(JSON.stringify(others));
  const { fragments } = renderFragments(model, { now: NOW, timestamps: [] });
  return assemble(model.clusters.get("h1")!, fragments, snapshot);
}

const onTemplate = (line: number, column: number, rule: string, code: string) => ({
  file: "clusters/h1/serve.hbs",
  line,
  column,
  code,
  rule,
});
const unsafe = (line: number, column: number) => onTemplate(line, column, "template-unsafe", "E403");
const mismatch = onTemplate(1, 1, "template-mismatch", "E409");

/** The QA probe: the built-in template plus a comment line that lists each model's engine_kwargs. */
const KWARGS_LINE =
  "# kwargs: {{#each args.llm_configs}}{{#each engine_kwargs}}{{this}} {{/each}}{{/each}}\n";
const withKwargsLine = (line: string) =>
  DEFAULT_TEMPLATE.replace(
    "    deployments: {{json deployments}}\n",
    `    deployments: {{json deployments}}\n${line}`,
  );
const KWARGS_AT = withKwargsLine(KWARGS_LINE).split("\n").indexOf(KWARGS_LINE.trimEnd()) + 1;
const INJECTION =
  'auto\n  - name: injected\n    route_prefix: /pwn\n    import_path: "evil.module:app"\n    args: {}\n    deployments: []\n#';

describe("the injection of an application through a value (QA repro)", () => {
  const specs = {
    ...SPECS,
    "models/bob/evil.yaml": specText("evil", { engine_kwargs: { tokenizer_mode: INJECTION } }),
  };

  it("is refused by validate, on the template's {{this}}, before anything is rendered", () => {
    const snapshot = withTemplate(withKwargsLine(KWARGS_LINE), specs);
    const column = KWARGS_LINE.indexOf("{{this}}") + 1;
    expect(validateRepo(snapshot).diagnostics.map(where)).toEqual([unsafe(KWARGS_AT, column)]);
    const check = checkRepo(snapshot, { now: NOW });
    expect(check.ok).toBe(false);
    expect(check.render).toBeUndefined();
    const { config, diagnostics } = build(snapshot);
    expect(config).toBeUndefined();
    expect(diagnostics.map(where)).toEqual([unsafe(KWARGS_AT, column)]);
  });

  it("is harmless through {{json}}: the value stays one string in the comment", () => {
    const snapshot = withTemplate(withKwargsLine(KWARGS_LINE.replace("{{this}}", "{{json this}}")), specs);
    expect(validateRepo(snapshot).diagnostics).toEqual([]);
    const { config, text, diagnostics } = build(snapshot);
    expect(diagnostics).toEqual([]);
    expect(config!.applications.map((a) => a.name)).toEqual([
      "alice-202601061235-a",
      "alice-202601061235-b",
      "bob-202601061235-c",
      "bob-202601061235-evil",
    ]);
    expect(text).not.toContain("\n  - name: injected");
    expect(text).toContain(JSON.stringify(INJECTION));
  });
});

describe("a template that inserts a value other than through {{json}}", () => {
  // Each snippet goes on the first line of an otherwise valid template, after "# x: " (column 6).
  it.each([
    ["{{name}}", "inserts a value without the json helper"],
    ["{{this}}", "inserts a value without the json helper"],
    ["{{@root.cluster}}", "inserts a value without the json helper"],
    ["{{{cluster}}}", "inserts a value without the json helper"],
    ["{{&cluster}}", "inserts a value without the json helper"],
    ["{{{json cluster}}}", "is a triple-stash"],
    ["{{> header}}", "is a partial"],
    ["{{#> layout}}x{{/layout}}", "is a partial"],
    ["{{log cluster}}", "inserts a value without the json helper"],
    ["{{lookup this 'cluster'}}", "inserts a value without the json helper"],
    ["{{this.json cluster}}", "inserts a value without the json helper"],
    ["{{json}}", "takes exactly one value"],
    ["{{json cluster generator}}", "takes exactly one value"],
    ["{{json cluster pretty=true}}", "takes exactly one value"],
    ["{{json (log cluster)}}", "calls a helper", 7],
    ["{{#if (json cluster)}}x{{/if}}", "calls a helper", 6],
    ["{{#json cluster}}x{{/json}}", "opens a block a template may not use"],
    ["{{#cluster}}x{{/cluster}}", "opens a block a template may not use"],
    ["{{#each applications key=1}}x{{/each}}", "passes key=value arguments"],
    ["{{{{raw}}}}{{cluster}}{{{{/raw}}}}", "opens a block a template may not use"],
    ["{{*inline}}", "is a Decorator"],
    ['{{#*inline "p"}}x{{/inline}}', "is a DecoratorBlock"],
  ])("refuses %s at its line and column", (snippet, message, offset = 0) => {
    const snapshot = withTemplate(`# x: ${snippet}\n${DEFAULT_TEMPLATE}`);
    const { diagnostics } = validateRepo(snapshot);
    expect(diagnostics.map(where)).toEqual([unsafe(1, 6 + offset)]);
    expect(diagnostics[0]!.message).toContain(message);
    expect(build(snapshot).diagnostics.map(where)).toEqual([unsafe(1, 6 + offset)]);
  });

  it("reports every offending expression, not only the first", () => {
    const problems = compileTemplate("a: {{x}}\nb: {{{y}}}\n{{#each l}}\n  - {{> p}}\n{{/each}}\n");
    expect(problems.ok).toBe(false);
    expect(!problems.ok && problems.problems.map((p) => [p.line, p.column, p.rule])).toEqual([
      [1, 4, "template-unsafe"],
      [2, 4, "template-unsafe"],
      [4, 5, "template-unsafe"],
    ]);
  });

  it("refuses the text the assembler marks values with", () => {
    const { diagnostics } = validateRepo(withTemplate(`# x\n#  serve_gitops_value_99_\n${DEFAULT_TEMPLATE}`));
    expect(diagnostics.map(where)).toEqual([onTemplate(2, 4, "template-invalid", "E400")]);
  });

  it.each([
    ["an alias that refers to itself", "x: &a [1, *a]\n", "YAML anchors (&name) are not allowed"],
    ["an anchor", "x: &a 1\n", "YAML anchors (&name) are not allowed"],
    ["a tag", "x: !!str 1\n", "YAML tags"],
    ["a second document", "x: 1\n---\ny: 2\n", "more than one YAML document"],
  ])("refuses output with %s (no check after this one could hold)", (_, extra, message) => {
    const { diagnostics } = validateRepo(withTemplate(`${extra}${DEFAULT_TEMPLATE}`));
    expect(diagnostics.map(where)).toEqual([onTemplate(1, 1, "template-invalid", "E400")]);
    expect(diagnostics[0]!.message).toContain(message);
  });

  it("accepts the built-in template and one using every allowed construct", () => {
    expect(compileTemplate(DEFAULT_TEMPLATE).ok).toBe(true);
    const { config, diagnostics } = build(withTemplate(fixture("extra-settings.hbs")));
    expect(diagnostics).toEqual([]);
    expect(config!.applications).toHaveLength(3);
  });
});

describe("a {{json}} value where it is not one whole YAML value", () => {
  // The value a model owner controls: it closes the quotes or plain scalar around it and adds `pip`, which
  // would install a package of their choosing on the cluster.
  const HOSTILE = '", pip: [evilpkg], x: "';
  const single = (line: string, revision = HOSTILE) =>
    withTemplate(
      DEFAULT_TEMPLATE.replace("    args: {{json args}}\n", `${line}\n    args: {{json args}}\n`),
      { "models/alice/a.yaml": specText("a", { engine_kwargs: { revision } }) },
    );
  const VALUE = "{{#each args.llm_configs}}{{json engine_kwargs.revision}}{{/each}}";
  const lineOf = (snapshot: RepoSnapshot) =>
    new TextDecoder()
      .decode(snapshot.files.get("clusters/h1/serve.hbs")!.bytes)
      .split("\n")
      .findIndex((l) => l.includes("{{json engine_kwargs")) + 1;

  it.each([
    ["inside double quotes", `    runtime_env: {env_vars: {REV: "${VALUE}"} }`, ", pip: [evilpkg], x: "],
    ["inside double quotes, harmless", `    runtime_env: {env_vars: {REV: "${VALUE}"} }`, "v1.0"],
    ["inside single quotes", `    runtime_env: {env_vars: {REV: '${VALUE}'} }`, "', pip: [evilpkg], x: '"],
    ["after other text in a flow mapping", `    runtime_env: {env_vars: {REV: v-${VALUE} } }`, HOSTILE],
    ["in a block scalar", `    runtime_env:\n      env_vars:\n        REV: |\n          ${VALUE}`, "v1.0"],
    ["as a mapping key", `    runtime_env: {env_vars: { ${VALUE}: "1"} }`, "REV"],
  ])("is refused %s", (_, line, revision) => {
    const snapshot = single(line, revision);
    const { diagnostics } = validateRepo(snapshot);
    expect(diagnostics.map((d) => [d.file, d.line, d.rule])).toEqual([
      ["clusters/h1/serve.hbs", lineOf(snapshot), "template-unsafe"],
    ]);
    expect(diagnostics[0]!.message).toContain("is not one whole YAML value");
    expect(build(snapshot).config).toBeUndefined();
  });

  it("points at the {{json}} inside the quotes", () => {
    const line = `    runtime_env: {env_vars: {REV: "${VALUE}"} }`;
    const [d] = validateRepo(single(line)).diagnostics;
    expect(d!.column).toBe(line.indexOf("{{json") + 1);
  });

  it("is accepted where it is a whole value, whatever its text", () => {
    const snapshot = single(`    runtime_env: {env_vars: {REV: ${VALUE} } }`);
    const { config, diagnostics } = build(snapshot);
    expect(diagnostics).toEqual([]);
    const app = config!.applications[0] as unknown as { runtime_env: unknown };
    expect(app.runtime_env).toEqual({ env_vars: { REV: HOSTILE } });
  });
});

describe("json text", () => {
  it("escapes what YAML readers take for line breaks or refuse, and means the same value", () => {
    const value = { s: 'a\u0085b\u2028c\u2029d\u007fe\u009ff\ufeffg\n"h' };
    const text = jsonText(value);
    expect(text).toMatch(/^[\x20-\x7e]*$/);
    expect(JSON.parse(text)).toEqual(value);
    expect(load(`# ${text}\nk: ${text}\n`)).toEqual({ k: value });
  });
});

describe("the assembled config against the fragments", () => {
  it.each([
    ["empty.hbs", 'application "alice-202601061235-a" (model alice-202601061235-a) is missing'],
    ["extra-app.hbs", 'application "extra" is not one the fragments define'],
    [
      "override-typo.hbs",
      'overrides deployment "LLMServer:typo", which it does not have (Ray fails the application as DEPLOY_FAILED)',
    ],
    [
      "import-path-space.hbs",
      `has import_path "${LLM_IMPORT_PATH} "; it must be exactly "${LLM_IMPORT_PATH}"`,
    ],
    [
      "changed-llm.hbs",
      'the LLMConfig of model alice-202601061235-a differs from its fragment: /accelerator_type is "H100", the fragment says "H20"',
    ],
    [
      "replicas.hbs",
      "the override of LLMServer:alice-202601061235-a has num_replicas 5; the fragment says 2",
    ],
    [
      "no-deployments.hbs",
      'application "alice-202601061235-a" has no override for deployment LLMServer:alice-202601061235-a',
    ],
  ])("refuses %s", (name, message) => {
    const snapshot = withTemplate(fixture(name));
    expect(validateRepo(snapshot).diagnostics.map(where)).toEqual([mismatch]);
    // The render's served names (validate's dry run names models not rendered yet after another time).
    const assembled = build(snapshot);
    expect(assembled.config).toBeUndefined();
    expect(assembled.diagnostics.map(where)).toEqual([mismatch]);
    expect(assembled.diagnostics[0]!.message).toContain(message);
  });

  it("refuses args beyond the fragments' llm_configs (they would restart every model)", () => {
    const text = DEFAULT_TEMPLATE.replace(
      "    args: {{json args}}",
      '    args: {"llm_configs": {{json args.llm_configs}}, "ingress_deployment_config": {}}',
    );
    const { diagnostics } = validateRepo(withTemplate(text));
    expect(diagnostics.map(where)).toEqual([mismatch]);
    expect(diagnostics[0]!.message).toContain('sets args "ingress_deployment_config"');
  });

  it("refuses a model listed twice in its application (Ray would build two servers of one name)", () => {
    const text = DEFAULT_TEMPLATE.replace(
      "    args: {{json args}}",
      '    args: {"llm_configs": [{{#each args.llm_configs}}{{json this}}, {{json this}}{{/each}}]}',
    );
    const { config, diagnostics } = build(withTemplate(text));
    expect(config).toBeUndefined();
    expect(diagnostics.map(where)).toEqual([mismatch]);
    expect(diagnostics[0]!.message).toBe(
      'the assembled Serve config does not match the cluster\'s fragments: application "alice-202601061235-a" lists model alice-202601061235-a twice; application "alice-202601061235-b" lists model alice-202601061235-b twice; application "bob-202601061235-c" lists model bob-202601061235-c twice',
    );
  });

  it("refuses an override that adds autoscaling to a fixed replica count (Ray's rule)", () => {
    const text = DEFAULT_TEMPLATE.replace(
      "    deployments: {{json deployments}}",
      '    deployments: [{{#each deployments}}{"name": {{json name}}, "num_replicas": {{json num_replicas}}, "autoscaling_config": {{#if autoscaling_config}}{{json autoscaling_config}}{{else}}{"max_replicas": 9}{{/if}} }{{/each}}]',
    );
    const { diagnostics } = build(withTemplate(text));
    expect(diagnostics.map(where)).toEqual([onTemplate(1, 1, "template-invalid", "E400")]);
    expect(diagnostics[0]!.message).toContain("the assembled Serve config breaks Ray's rules");
  });

  it("lets a template size Ray Serve LLM's own ingress, once, but not scale every model with target_capacity", () => {
    const ingress = DEFAULT_TEMPLATE.replace(
      "    deployments: {{json deployments}}",
      '    deployments: [{{#each deployments}}{{json this}}, {{/each}}{"name": "OpenAiIngress", "num_replicas": 2}]',
    );
    const sized = build(withTemplate(ingress));
    expect(sized.diagnostics).toEqual([]);
    expect(sized.config!.applications[0]!.deployments.at(-1)).toEqual({
      name: "OpenAiIngress",
      num_replicas: 2,
    });
    const capacity = DEFAULT_TEMPLATE.replace(
      "{{#if applications}}",
      "target_capacity: 50\n{{#if applications}}",
    );
    const scaled = validateRepo(withTemplate(capacity));
    expect(scaled.diagnostics.map(where)).toEqual([mismatch]);
    expect(scaled.diagnostics[0]!.message).toContain("target_capacity 50 would scale every model");
  });

  it("keeps what a template may add: top-level settings, runtime_env, logging and override settings", () => {
    const { config, diagnostics } = build(withTemplate(fixture("extra-settings.hbs")));
    expect(diagnostics).toEqual([]);
    expect(config).toMatchObject({
      proxy_location: "EveryNode",
      http_options: { request_timeout_s: 600 },
      logging_config: { encoding: "JSON" },
    });
    const [a, b] = config!.applications;
    expect(a).toMatchObject({
      runtime_env: { env_vars: { VLLM_USE_V1: "1" } },
      logging_config: { log_level: "DEBUG" },
    });
    expect(a!.deployments).toEqual([
      {
        name: "LLMServer:alice-202601061235-a",
        num_replicas: 2,
        max_ongoing_requests: 64,
        ray_actor_options: { num_cpus: 4 },
      },
    ]);
    expect(b!.deployments[0]).toMatchObject({
      num_replicas: "auto",
      autoscaling_config: { min_replicas: 0, max_replicas: 2 },
    });
  });
});

describe("applications without deployments, name or route_prefix", () => {
  it("reports a template without deployments as a diagnostic, not a crash", () => {
    expect(() =>
      checkServeConfig({
        applications: [
          {
            import_path: LLM_IMPORT_PATH,
            args: { llm_configs: [{ model_loading_config: { model_id: "m" } }] },
          },
        ],
      }),
    ).not.toThrow();
  });

  it('says that applications without a name all become Ray\'s "default"', () => {
    const { diagnostics } = validateRepo(withTemplate(fixture("no-name-route.hbs")));
    expect(diagnostics.map(where)).toEqual([onTemplate(1, 1, "template-invalid", "E400")]);
    expect(diagnostics[0]!.message).toContain(
      `Found multiple configs for application "default": applications 0 and 1 both get name "default" (Ray's default for an application that sets no name): set every application's name`,
    );
    expect(diagnostics[0]!.message).toContain(
      `duplicate route_prefix /: applications 0 and 1 both get route_prefix "/"`,
    );
    expect(diagnostics[0]!.message).not.toContain("undefined");
  });

  it("says which application has no name when only one model is deployed", () => {
    const { diagnostics } = validateRepo(
      withTemplate(fixture("no-name-route.hbs"), { "models/bob/c.yaml": specText("c") }),
    );
    expect(diagnostics.map(where)).toEqual([mismatch]);
    expect(diagnostics[0]!.message).toContain(
      '/applications/0 has no name (Ray would call it "default"): every application must be named as the cluster\'s layout names it',
    );
  });
});

describe("validate reports template problems before any assembly", () => {
  it("reports a missing template on cluster.yaml's serve.template", () => {
    const snapshot = bare({
      ...SPECS,
      "clusters/h1/cluster.yaml": clusterText({ default: true, serve: { template: "missing.hbs" } }),
    });
    const { diagnostics } = validateRepo(snapshot);
    const text = clusterText({ default: true, serve: { template: "missing.hbs" } }).split("\n");
    const line = text.findIndex((l) => l.includes("template:")) + 1;
    expect(diagnostics.map(where)).toEqual([
      {
        file: "clusters/h1/cluster.yaml",
        line,
        column: text[line - 1]!.indexOf("missing.hbs") + 1,
        code: "E400",
        rule: "template-invalid",
      },
    ]);
    expect(diagnostics[0]!.message).toContain(
      "serve.template names clusters/h1/missing.hbs, which does not exist",
    );
    expect(checkRepo(snapshot, { now: NOW }).ok).toBe(false);
  });

  it("reports a misspelt field at its {{json}}, through checkRepo too (render --check, the PR check)", () => {
    const snapshot = withTemplate(DEFAULT_TEMPLATE.replace("{{json route_prefix}}", "{{json nope}}"));
    const at = DEFAULT_TEMPLATE.split("\n").findIndex((l) => l.includes("{{json route_prefix}}"));
    const expected = [onTemplate(at + 1, 19, "template-invalid", "E400")];
    expect(validateRepo(snapshot).diagnostics.map(where)).toEqual(expected);
    const check = checkRepo(snapshot, { now: NOW });
    expect(check.ok).toBe(false);
    expect(check.diagnostics.map(where)).toEqual(expected);
  });

  it("checks the template over no models too (a cluster nobody deploys to yet)", () => {
    const { diagnostics } = validateRepo(withTemplate("applications: [{{x}}]\n", {}));
    expect(diagnostics.map(where)).toEqual([unsafe(1, 16)]);
  });

  it("tries the per-model part of a template on a cluster with no models with a sample model", () => {
    // A quote around {{json}} inside {{#each}}: no model of the repository reaches it yet.
    const quoted = DEFAULT_TEMPLATE.replace(
      "    route_prefix: {{json route_prefix}}",
      '    route_prefix: "{{json route_prefix}}"',
    );
    const { diagnostics } = validateRepo(withTemplate(quoted, {}));
    expect(diagnostics.map((d) => `${d.file} ${d.rule}`)).toEqual(["clusters/h1/serve.hbs template-unsafe"]);
    expect(validateRepo(withTemplate(DEFAULT_TEMPLATE, {})).diagnostics).toEqual([]);
  });

  it("tries an autoscaling model too, so a template that drops autoscaling_config fails the admin's change", () => {
    // The override part of this template writes num_replicas only: right for a fixed count, wrong for an
    // autoscaling model ("auto" without its bounds). The sample model has a fixed count, so the template
    // passes on a cluster with no models and the first owner who adds an autoscaling spec gets a
    // template-mismatch on a file only the cluster's admins can change.
    const fixedOnly = DEFAULT_TEMPLATE.replace(
      "    deployments: {{json deployments}}",
      '    deployments: [{{#each deployments}}{"name": {{json name}}, "num_replicas": {{json num_replicas}} }{{#unless @last}}, {{/unless}}{{/each}}]',
    );
    const autoscaled = { "models/alice/b.yaml": SPECS["models/alice/b.yaml"] };
    const onTheTemplate = (snapshot: RepoSnapshot) =>
      validateRepo(snapshot).diagnostics.map((d) => `${d.file} ${d.severity} ${d.rule.split("-")[0]}`);
    // What an owner's PR adding the autoscaling spec meets:
    expect(onTheTemplate(withTemplate(fixedOnly, autoscaled))).toEqual([
      "clusters/h1/serve.hbs error template",
    ]);
    // The admin's change that introduces the template, on a cluster with no models yet, must meet it first.
    expect(onTheTemplate(withTemplate(fixedOnly, {}))).toEqual(["clusters/h1/serve.hbs error template"]);
    // On a cluster whose models all have a fixed count the sample is tried after them: their config is fine
    // (the agent applies it), so what only the sample meets is a warning, saying which model will fail.
    const fixed = { "models/bob/c.yaml": SPECS["models/bob/c.yaml"] };
    const warned = validateRepo(withTemplate(fixedOnly, fixed));
    expect(warned.ok).toBe(true);
    expect(warned.diagnostics.map((d) => `${d.file} ${d.severity} ${d.rule.split("-")[0]}`)).toEqual([
      "clusters/h1/serve.hbs warning template",
    ]);
    expect(warned.diagnostics[0]!.message).toMatch(
      /^the first autoscaling model deployed to h1 will fail this template \(tried with a sample\): /,
    );
    expect(onTheTemplate(withTemplate(DEFAULT_TEMPLATE, fixed))).toEqual([]);
  });
});
