import { checkAgainstFragments, type Produced } from "./assembled-check";
import { placement } from "./layout";
import { GENERATOR_VERSION } from "./render";
import { diagnostic, type RuleId } from "./rules";
import { schemaErrors } from "./schemas";
import { compileTemplate, type CompiledTemplate } from "./template";
import type {
  ClusterConfig,
  Diagnostic,
  Fragment,
  RepoSnapshot,
  ServeApplication,
  ServeConfig,
} from "./types";

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

/** Where a cluster's template comes from: the built-in one, its own file, or a file that is not there. */
export type TemplateSource =
  | { readonly kind: "built-in"; readonly source: string; readonly file: string }
  | { readonly kind: "file"; readonly source: string; readonly file: string }
  | { readonly kind: "missing"; readonly file: string };

export function templateOf(cluster: ClusterConfig, snapshot?: RepoSnapshot): TemplateSource {
  if (!cluster.serve.template) return { kind: "built-in", source: DEFAULT_TEMPLATE, file: cluster.file };
  const file = `clusters/${cluster.name}/${cluster.serve.template}`;
  const found = snapshot?.files.get(file);
  if (!found || found.kind !== "file") return { kind: "missing", file };
  return { kind: "file", source: new TextDecoder().decode(found.bytes), file };
}

/** The built-in template is compiled once per process; a cluster's own on every use (it may change). */
let builtIn: CompiledTemplate | undefined;
const compiled = (template: TemplateSource & { source: string }): CompiledTemplate =>
  template.kind === "built-in"
    ? (builtIn ??= compileTemplate(template.source))
    : compileTemplate(template.source);

/**
 * Build the complete Ray Serve config (the body the agent PUTs) for one cluster through its template, then
 * check what the template produced before anyone uses it: values only through `{{json}}`, each one whole YAML
 * value; Ray's rules; and exactly the applications, models and overrides the fragments determine.
 */
export function assemble(
  cluster: ClusterConfig,
  fragments: readonly Fragment[],
  snapshot?: RepoSnapshot,
): AssembleResult {
  const template = templateOf(cluster, snapshot);
  const where = template.file;
  const fail = (rule: RuleId, message: string, at = { line: 1, column: 1 }): AssembleResult => ({
    diagnostics: [diagnostic(rule, where, at, message)],
  });
  if (template.kind === "missing")
    return fail("template-invalid", `serve.template names ${where}, which does not exist`);
  const compiledTemplate = compiled(template);
  if (!compiledTemplate.ok)
    return {
      diagnostics: compiledTemplate.problems.map((p) => diagnostic(p.rule, where, p, p.message)),
    };
  const applications = applicationsOf(cluster, fragments);
  const rendered = compiledTemplate.render({
    cluster: cluster.name,
    generator: GENERATOR_VERSION,
    applications,
  });
  if (!rendered.ok) return fail(rendered.problem.rule, rendered.problem.message, rendered.problem);
  const problems = checkServeConfig(rendered.value);
  if (problems.length > 0)
    return fail("template-invalid", `the assembled Serve config breaks Ray's rules: ${summary(problems)}`);
  const mismatches = checkAgainstFragments(rendered.value as Produced, applications);
  if (mismatches.length > 0)
    return fail(
      "template-mismatch",
      `the assembled Serve config does not match the cluster's fragments: ${summary(mismatches)}`,
    );
  return { config: rendered.value as ServeConfig, text: rendered.text, diagnostics: [] };
}

/** Ten problems say what is wrong; ten thousand (a template that drops every model) only bury it. */
function summary(problems: readonly string[]): string {
  const shown = problems.slice(0, 10).join("; ");
  return problems.length > 10 ? `${shown}; and ${problems.length - 10} more` : shown;
}

/** Ray's rules for a Serve config: the schema plus what a schema cannot say (uniqueness). */
export function checkServeConfig(config: unknown): string[] {
  const problems = schemaErrors("ray-serve-config", config).map(
    (e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`,
  );
  if (problems.length > 0) return problems;
  // What a template produced: Ray's schema lets name, route_prefix and deployments be left out.
  const apps = (config as { applications: ReadonlyArray<Partial<ServeApplication>> }).applications;
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
  // Ray names an application without a name "default" and hangs one without a route_prefix at "/".
  const names = new Map<string, number>();
  const routes = new Map<string, number>();
  const defaulted = (field: "name" | "route_prefix", i: number, first: number, value: string) =>
    `applications ${first} and ${i} both get ${field} ${JSON.stringify(value)} (Ray's default for an application that sets no ${field}): set every application's ${field}`;
  apps.forEach((app, i) => {
    const name = app.name ?? "default";
    const first = names.get(name);
    if (first === undefined) names.set(name, i);
    else if (app.name === undefined || apps[first]!.name === undefined)
      problems.push(`Found multiple configs for application "default": ${defaulted("name", i, first, name)}`);
    else problems.push(`Found multiple configs for application ${name}`);
    const route = app.route_prefix === undefined ? "/" : app.route_prefix;
    const sameRoute = route === null ? undefined : routes.get(route);
    if (route !== null && sameRoute === undefined) routes.set(route, i);
    else if (
      sameRoute !== undefined &&
      (app.route_prefix === undefined || apps[sameRoute]!.route_prefix === undefined)
    )
      problems.push(`duplicate route_prefix /: ${defaulted("route_prefix", i, sameRoute, "/")}`);
    else if (sameRoute !== undefined) problems.push(`duplicate route_prefix ${route}`);
    const deployments = new Set<string>();
    // A template may leave deployments out (Ray allows it); the fragments check then reports the lost overrides.
    for (const d of app.deployments ?? []) {
      const deployment = String(d.name);
      if (deployments.has(deployment))
        problems.push(`application ${name} overrides deployment ${deployment} twice`);
      deployments.add(deployment);
    }
  });
  return problems;
}
