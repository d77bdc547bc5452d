import Handlebars from "handlebars";
import { load } from "js-yaml";
import { placement } from "./layout";
import { GENERATOR_VERSION } from "./render";
import { diagnostic } from "./rules";
import { schemaErrors } from "./schemas";
import type { ClusterConfig, Diagnostic, Fragment, RepoSnapshot } from "./types";

export const LLM_IMPORT_PATH = "ray.serve.llm:build_openai_app";

/** The built-in template. Values only ever enter through {{json}}: JSON is valid YAML and cannot break it. */
export const DEFAULT_TEMPLATE = `# Ray Serve config for cluster {{json cluster}}, assembled by {{json generator}} from its rendered fragments.
# Derived, never committed: \`serve-gitops assemble --cluster <name>\` prints it.
{{#if applications}}
applications:
{{#each applications}}
  - name: {{json name}}
    route_prefix: {{json route_prefix}}
    import_path: {{json import_path}}
    args: {{json args}}
    deployments: {{json deployments}}
{{/each}}
{{else}}
applications: []
{{/if}}
`;

export interface ServeApplication {
  readonly name: string;
  readonly route_prefix: string;
  readonly import_path: string;
  readonly args: { readonly llm_configs: ReadonlyArray<Readonly<Record<string, unknown>>> };
  readonly deployments: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

export interface ServeConfig {
  readonly applications: readonly ServeApplication[];
}

export interface AssembleResult {
  readonly config?: ServeConfig;
  readonly text?: string;
  readonly diagnostics: readonly Diagnostic[];
}

/** Group a cluster's fragments into applications by its layout. With no models, no application. */
export function applicationsOf(cluster: ClusterConfig, fragments: readonly Fragment[]): ServeApplication[] {
  const apps = new Map<string, { route: string; configs: Fragment[] }>();
  const mine = fragments
    .filter((f) => f.cluster === cluster.name)
    .sort((a, b) => (a.served_name < b.served_name ? -1 : 1));
  for (const fragment of mine) {
    const where = placement(cluster, fragment.user, fragment.served_name);
    const app = apps.get(where.app) ?? { route: where.route, configs: [] };
    app.configs.push(fragment);
    apps.set(where.app, app);
  }
  return [...apps.entries()].map(([name, app]) => ({
    name,
    route_prefix: app.route,
    import_path: LLM_IMPORT_PATH,
    args: { llm_configs: app.configs.map((f) => f.llm_config) },
    deployments: app.configs.map((f) => f.deployment),
  }));
}

const hbs = Handlebars.create();
hbs.registerHelper("json", (value: unknown) => {
  // `strict` does not reach helper arguments: a misspelt field arrives here as undefined and would render
  // as an empty (null) YAML value. Fail as a missing field would.
  if (value === undefined) throw new Error("{{json}} got a missing field (misspelt name?)");
  return new hbs.SafeString(JSON.stringify(value));
});

/**
 * Build the complete Ray Serve config (the body the agent PUTs) for one cluster through its template, then
 * parse and validate what the template produced before anyone uses it.
 */
export function assemble(
  cluster: ClusterConfig,
  fragments: readonly Fragment[],
  snapshot?: RepoSnapshot,
): AssembleResult {
  const templatePath = cluster.serve.template
    ? `clusters/${cluster.name}/${cluster.serve.template}`
    : undefined;
  const where = templatePath ?? cluster.file;
  const fail = (message: string): AssembleResult => ({
    diagnostics: [diagnostic("template-invalid", where, { line: 1, column: 1 }, message)],
  });
  let source = DEFAULT_TEMPLATE;
  if (templatePath) {
    const file = snapshot?.files.get(templatePath);
    if (!file || file.kind !== "file")
      return fail(`serve.template names ${templatePath}, which does not exist`);
    source = new TextDecoder().decode(file.bytes);
  }
  const applications = applicationsOf(cluster, fragments);
  let text: string;
  try {
    const template = hbs.compile(source, { strict: true, noEscape: true });
    text = template({ cluster: cluster.name, generator: GENERATOR_VERSION, applications });
  } catch (error) {
    return fail(
      `the Serve config template failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  let config: unknown;
  try {
    config = load(text);
  } catch (error) {
    return fail(
      `the Serve config template produced invalid YAML: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const problems = checkServeConfig(config);
  if (problems.length > 0)
    return fail(`the assembled Serve config breaks Ray's rules: ${problems.join("; ")}`);
  return { config: config as ServeConfig, text, diagnostics: [] };
}

/** Ray's rules for a Serve config: the schema plus what a schema cannot say (uniqueness). */
export function checkServeConfig(config: unknown): string[] {
  const problems = schemaErrors("ray-serve-config", config).map(
    (e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`,
  );
  if (problems.length > 0) return problems;
  const apps = (config as ServeConfig).applications;
  // Ray Serve LLM silently drops unknown LLMConfig keys: a template that mangles one must not reach a cluster.
  apps.forEach((app, i) => {
    if (app.import_path !== LLM_IMPORT_PATH) return;
    const configs: unknown = (app.args as { llm_configs?: unknown } | undefined)?.llm_configs;
    if (!Array.isArray(configs) || configs.length === 0) {
      problems.push(
        `/applications/${i}/args/llm_configs must be a non-empty list (an empty one fails to build)`,
      );
      return;
    }
    configs.forEach((llm: unknown, j) => {
      for (const e of schemaErrors("ray-llm-config", llm)) {
        problems.push(
          `/applications/${i}/args/llm_configs/${j}${e.instancePath} ${e.message ?? "is invalid"}`,
        );
      }
    });
  });
  const names = new Set<string>();
  const routes = new Set<string>();
  for (const app of apps) {
    if (names.has(app.name)) problems.push(`Found multiple configs for application ${app.name}`);
    names.add(app.name);
    if (app.route_prefix !== null && routes.has(app.route_prefix))
      problems.push(`duplicate route_prefix ${app.route_prefix}`);
    routes.add(app.route_prefix);
    const deployments = new Set<string>();
    for (const d of app.deployments) {
      const name = String(d.name);
      if (deployments.has(name)) problems.push(`application ${app.name} overrides deployment ${name} twice`);
      deployments.add(name);
    }
  }
  return problems;
}
