// Shared by the core's tests: the fixture repository as a snapshot, and small builders on top of it.
// Snapshots are plain data, so a test states the tree it needs instead of touching the filesystem.
import { dump } from "js-yaml";
import { fileURLToPath } from "node:url";
import { readWorkingTree } from "../src/io/working-tree";
import type { Diagnostic, RepoSnapshot, SnapshotFile } from "../src/types";

export const FIXTURES = fileURLToPath(new URL(".", import.meta.url));
/** The fixture repository: users alice (quota 8) and bob (quota 4); h1 (default, H20, 32 GPUs, 8 per node,
 * per-model) and lab (L4, 8 GPUs, 4 per node, per-user, hub allowed); one spec, models/alice/qwen.yaml. */
export const FIXTURE_REPO = `${FIXTURES}repo`;
/** A frozen copy of the example content this template ships at the repository root (models/, clusters/ with
 * their rendered/ fragments, .github/CODEOWNERS): users alice and bob, clusters h1 and lab, specs
 * alice/qwen-0.5b, alice/llama-8b and bob/qwen-7b. Tests that need those examples read this copy, never the
 * live models/ and clusters/, which a team that adopts the template replaces with its own. */
export const TEMPLATE_REPO = `${FIXTURES}template-repo`;
/** The time every test renders at: served names get 202601061235. */
export const NOW = new Date("2026-01-06T12:35:00Z");

let cached: RepoSnapshot | undefined;
export function fixtureRepo(): RepoSnapshot {
  cached ??= readWorkingTree(FIXTURE_REPO);
  return cached;
}

export type FileChange = string | Uint8Array | SnapshotFile | null;

/** A copy of `base` with files added, replaced (text, bytes or a whole SnapshotFile) or removed (null). */
export function withFiles(
  changes: Readonly<Record<string, FileChange>>,
  base: RepoSnapshot = fixtureRepo(),
  label = "test",
): RepoSnapshot {
  const files = new Map(base.files);
  for (const [path, change] of Object.entries(changes)) {
    if (change === null) files.delete(path);
    else if (typeof change === "string")
      files.set(path, { path, kind: "file", bytes: new TextEncoder().encode(change) });
    else if (change instanceof Uint8Array) files.set(path, { path, kind: "file", bytes: change });
    else files.set(path, change);
  }
  return { files, label };
}

/** A snapshot with only the fixture's users and clusters (no specs) plus `changes`. */
export function bare(changes: Readonly<Record<string, FileChange>> = {}): RepoSnapshot {
  return withFiles({ "models/alice/qwen.yaml": null, ...changes });
}

/** YAML text of a spec; `model_source` defaults to a path under the shared hub cache. */
export function specText(modelId: string, fields: Readonly<Record<string, unknown>> = {}): string {
  return dump(
    { model_id: modelId, model_source: `$HOME/common/hf/${modelId}`, ...fields },
    { lineWidth: -1 },
  );
}

const CLUSTER_DEFAULTS = {
  default: false,
  accelerator_type: "H20",
  gpus: 32,
  gpus_per_node: 8,
  ray: { dashboard_address: "http://127.0.0.1:8265" },
  openai: { server_url: "https://dstack.company.com", base_url: "/access/models/team1/" },
};

/** YAML text of a cluster.yaml: the h1 fixture's values with `fields` merged over them. */
export function clusterText(fields: Readonly<Record<string, unknown>> = {}): string {
  return dump({ ...CLUSTER_DEFAULTS, ...fields }, { lineWidth: -1 });
}

/** The fields a test asserts on: where, which class, which rule. */
export const where = (d: Diagnostic) => ({
  file: d.file,
  line: d.line,
  column: d.column,
  code: d.code,
  rule: d.rule,
});
