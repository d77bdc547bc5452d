import Handlebars from "handlebars";
import type { Plan } from "./plan";
import { codeSpan } from "./text";

/** A marker the PR comment carries so the Action finds and updates the same comment on every push. */
export const PLAN_MARKER = "<!-- serve-gitops:plan -->";

const TEMPLATE = `{{#if baseErrors}}
⚠️ The base has {{baseErrors}} error(s), so it renders nothing: its models are shown as its valid specs would render them.

{{/if}}
{{#if (refused clusters)}}
⛔ **The sync agent will refuse this change after the merge** on {{#each clusters}}{{#if refusals}}\`{{cluster}}\` {{/if}}{{/each}}(see below): the cluster keeps running its current models until a later commit passes its guard.

{{/if}}
{{#each moves}}
↪ \`{{key}}\` moves from {{from}} to {{to}}: its OpenAI endpoint changes, and each cluster's agent acts on its own, so the old copy is undeployed without waiting for the new one to serve.

{{/each}}
{{#if changed}}
{{#each clusters}}
{{#if (hasChanges this)}}
### Cluster \`{{cluster}}\` ({{layout}} layout)

{{#each refusals}}
> ⛔ **Will be refused by the agent ({{guard}} guard):** {{message}}

{{/each}}

| | model | replicas | GPUs | endpoint |
|---|---|---|---|---|
{{#each deploy}}
| 🟢 deploy | \`{{served_name}}\`{{#if provisional}} (provisional: named when first rendered){{/if}}{{note}} | {{replicas}} | {{gpus}} | {{endpoint}} |
{{/each}}
{{#each update}}
| 🟡 update | \`{{served_name}}\` | {{replicas}} | {{gpus}} | {{endpoint}} |
{{/each}}
{{#each undeploy}}
| 🔴 undeploy | \`{{served_name}}\`{{note}} | {{replicas}} | {{gpus}} | |
{{/each}}
{{#each update}}

<details><summary>What changes in <code>{{served_name}}</code>{{restartNote this}}</summary>

{{#each changes}}
- {{code this}}
{{/each}}

</details>
{{/each}}

**GPU budget:** {{gpus.before}} → {{gpus.after}} of {{gpus.capacity}}{{#if gpus.over}} ⛔ over capacity{{/if}}

| user | GPUs before | GPUs after | quota |
|---|---|---|---|
{{#each users}}
| {{user}} | {{before}} | {{after}} | {{quota}}{{#if over}} ⛔ over quota{{/if}} |
{{/each}}

{{#if restarts}}
**Restarts** (Ray rebuilds every model of an application whose args or runtime_env change): {{#each restarts}}{{code this}}{{#unless @last}}, {{/unless}}{{/each}}
{{else if deploy}}
**Restarts:** none besides the models deployed above.
{{else}}
**Restarts:** none.
{{/if}}

{{/if}}
{{/each}}
{{else}}
No model changes: nothing is deployed, updated or undeployed.
{{/if}}
`;

const hbs = Handlebars.create();
hbs.registerHelper(
  "hasChanges",
  (c: Plan["clusters"][number]) =>
    c.deploy.length + c.update.length + c.undeploy.length + c.restarts.length > 0,
);
// Replica counts and autoscaling live in per-deployment overrides, the endpoint outside Ray's config: changes
// to them alone rebuild nothing, and the note says which of the two it was.
const SCALE_FIELD = /^(num_replicas|autoscaling_config)[. ]/;
hbs.registerHelper("restartNote", (change: Plan["clusters"][number]["update"][number]) => {
  if (change.restarts) return "";
  if (change.changes.every((c) => SCALE_FIELD.test(c))) return " (scale only: nothing restarts)";
  if (change.changes.every((c) => c.startsWith("endpoint "))) return " (endpoint only: nothing restarts)";
  return " (nothing restarts)";
});
hbs.registerHelper("refused", (clusters: Plan["clusters"]) => clusters.some((c) => c.refusals.length > 0));
let compiled: Handlebars.TemplateDelegate | undefined;

// Markdown, not HTML: escape only what would break a table cell or start markup.
const cell = (text: string) => text.replace(/[|<>`\\]/g, (c) => `\\${c}`).replace(/\r?\n/g, " ");

const prose = (text: string) => text.replace(/[|<>\\]/g, (c) => `\\${c}`).replace(/\r?\n/g, " ");

hbs.registerHelper("code", (text: string) => codeSpan(text));

const clusterList = (names: readonly string[]) => names.map((n) => codeSpan(n)).join(", ");

/**
 * A model undeployed from some clusters and deployed to others in the same change is a move: the two rows
 * would otherwise read as unrelated, and the agents of the two clusters do not wait for each other.
 */
function moves(plan: Plan) {
  const from = new Map<string, string[]>();
  const to = new Map<string, string[]>();
  for (const c of plan.clusters) {
    for (const m of c.undeploy) from.set(m.key, [...(from.get(m.key) ?? []), c.cluster]);
    for (const m of c.deploy) to.set(m.key, [...(to.get(m.key) ?? []), c.cluster]);
  }
  return [...from]
    .filter(([key]) => to.has(key))
    .map(([key, clusters]) => ({ key, from: clusters, to: to.get(key)! }));
}

/** The plan as Markdown, for the job summary and the PR comment. */
export function planMarkdown(plan: Plan): string {
  compiled ??= hbs.compile(TEMPLATE, { strict: true, noEscape: true });
  const moved = moves(plan);
  const movedFrom = new Map(moved.map((m) => [m.key, m.from]));
  const movedTo = new Map(moved.map((m) => [m.key, m.to]));
  // Strings in arrays (changes, restarts) are shown through {{code}}, not in table cells.
  // A refusal's message is the core's own text: its code spans (the trailer to type) stay code.
  const safe = JSON.parse(JSON.stringify(plan), (key, value: unknown) =>
    typeof value !== "string" || /^\d+$/.test(key) ? value : key === "message" ? prose(value) : cell(value),
  ) as Plan;
  const view = {
    ...safe,
    // Cluster names and keys are validated identifiers; they are shown as code spans all the same.
    moves: moved.map((m) => ({ key: m.key, from: clusterList(m.from), to: clusterList(m.to) })),
    clusters: safe.clusters.map((c) => ({
      ...c,
      deploy: c.deploy.map((m) => {
        const origin = movedFrom.get(m.key);
        return { ...m, note: origin ? ` (moves from ${clusterList(origin)})` : "" };
      }),
      undeploy: c.undeploy.map((m) => {
        const target = movedTo.get(m.key);
        return { ...m, note: target ? ` (moves to ${clusterList(target)})` : "" };
      }),
    })),
  };
  return (
    compiled(view)
      .replace(/\n{3,}/g, "\n\n")
      .trim() + "\n"
  );
}
