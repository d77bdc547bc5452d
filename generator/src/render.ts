import { version } from "../../package.json";
import { deploymentBaseName, deploymentName, placement, SERVED_NAME, servedName } from "./layout";
import { diagnostic } from "./rules";
import { emitYaml } from "./yaml-emit";
import type {
  ClusterConfig,
  Diagnostic,
  Fragment,
  ModelSpec,
  RepoModel,
  RepoSnapshot,
  SnapshotFile,
} from "./types";
import { classifyPath } from "./paths";
import { modelGpus } from "./validate-spec";

export const GENERATOR_VERSION = `serve-gitops ${version}`;

/** `<user>/<suffix>` -> YYYYMMDDHHMM, from the served names of rendered fragments. */
export type Timestamps = ReadonlyMap<string, string>;

export const fragmentPath = (cluster: string, user: string, suffix: string): string =>
  `clusters/${cluster}/rendered/${user}/${suffix}.yaml`;

const SERVED_LINE = /^served_name: "?([^"\s]+)"?$/;
const SERVED_KEY = Buffer.from("served_name: ");

/**
 * The first line of a fragment's head (4 KiB) that starts with `served_name: `, found in the bytes: only
 * that line is decoded, not the whole file (10,000 fragments would otherwise make 10 MB of strings).
 */
function servedLine(bytes: Uint8Array): { text: string; line: () => number } | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 4096));
  for (let at = head.indexOf(SERVED_KEY); at !== -1; at = head.indexOf(SERVED_KEY, at + 1)) {
    if (at > 0 && head[at - 1] !== 10) continue;
    const end = head.indexOf(10, at);
    // A CRLF checkout (core.autocrlf) ends the line with a CR that git does not store.
    const stop = end === -1 ? head.length : end > at && head[end - 1] === 13 ? end - 1 : end;
    const text = head.toString("utf8", at, stop);
    return { text, line: () => head.toString("utf8", 0, at).split("\n").length };
  }
  return undefined;
}

/** Whether YYYYMMDDHHMM names a real UTC minute (not month 13, February 30th or 25:99). */
export function isRealTimestamp(timestamp: string): boolean {
  // Thousands of fragments share a handful of timestamps: each is judged once.
  let real = realTimestamps.get(timestamp);
  if (real === undefined) {
    if (realTimestamps.size >= 10_000) realTimestamps.clear();
    realTimestamps.set(timestamp, (real = judgeTimestamp(timestamp)));
  }
  return real;
}
const realTimestamps = new Map<string, boolean>();

function judgeTimestamp(timestamp: string): boolean {
  if (!/^\d{12}$/.test(timestamp)) return false;
  const at = (from: number, to: number) => Number(timestamp.slice(from, to));
  const date = utcDate(at(0, 4), at(4, 6) - 1, at(6, 8), at(8, 10), at(10, 12));
  return formatTimestamp(date) === timestamp;
}

export interface FragmentTimestamps {
  /** `<user>/<suffix>` -> YYYYMMDDHHMM, from the fragments that carry a real one and agree on it. */
  readonly timestamps: Map<string, string>;
  /** An impossible timestamp, or fragments of one model that disagree: each an error on the fragment. */
  readonly diagnostics: Diagnostic[];
  /** `<user>/<suffix>` -> a fragment of it with no served_name line at all (cut by hand): no name to keep. */
  readonly unnamed: Map<string, string>;
}

/**
 * The creation timestamps a snapshot's fragments carry, on any cluster: a model keeps its served name on
 * every later render and a second cluster gets the same name. A fragment is our own output, so its
 * `served_name:` line is read directly rather than parsing all of it.
 *
 * Fragments are only ever changed by hand, so the core does not guess: a timestamp that is no real minute
 * is reported and not used, and clusters disagreeing on a model's name are reported on each fragment (the
 * oldest is kept only so that a plan can still be shown; nothing is rendered from a tree with errors).
 */
export function fragmentTimestamps(snapshot: RepoSnapshot): FragmentTimestamps {
  const found = new Map<string, Array<{ file: SnapshotFile; timestamp: string }>>();
  const diagnostics: Diagnostic[] = [];
  const unnamed = new Map<string, string>();
  for (const file of snapshot.files.values()) {
    const where = classifyPath(file.path);
    if (where.role !== "rendered" || !where.user || !where.suffix || file.kind !== "file") continue;
    const served = servedLine(file.bytes);
    const match = served ? SERVED_LINE.exec(served.text) : null;
    const parts = match ? SERVED_NAME.exec(match[1]!) : null;
    // A file with no served_name line is no fragment at all: the render check lists it (stale or extra),
    // and checkRepo refuses to rename a model it is the only fragment of (unnamed).
    if (!served) {
      unnamed.set(`${where.user}/${where.suffix}`, file.path);
      continue;
    }
    if (!match || !parts || parts[1] !== where.user || parts[3] !== where.suffix) {
      // A served name edited by hand: taking no timestamp from it would rename the model on the next render.
      const expected = `${where.user}-<YYYYMMDDHHMM>-${where.suffix}`;
      diagnostics.push(
        diagnostic(
          "invalid-value",
          file.path,
          { line: served.line(), column: 14 },
          `served_name ${JSON.stringify(served.text.slice("served_name: ".length))} is not ${expected}: the fragment was edited by hand. Restore it from git (\`git checkout HEAD -- ${file.path}\`), or delete it and run \`npx serve-gitops render\` (the model then gets a new name)`,
        ),
      );
      continue;
    }
    const timestamp = parts[2]!;
    if (!isRealTimestamp(timestamp)) {
      diagnostics.push(
        diagnostic(
          "invalid-value",
          file.path,
          { line: served.line(), column: 14 },
          `served name ${match[1]} carries ${timestamp}, which is no real UTC minute (YYYYMMDDHHMM): the fragment was edited by hand. Restore it from git (\`git checkout HEAD -- ${file.path}\`), or delete it and run \`npx serve-gitops render\` (the model then gets a new name)`,
        ),
      );
      continue;
    }
    const key = `${where.user}/${where.suffix}`;
    const entry = { file, timestamp };
    const list = found.get(key);
    if (list) list.push(entry);
    else found.set(key, [entry]);
  }
  const timestamps = new Map<string, string>();
  for (const [key, list] of found) {
    if (list.every((f) => f.timestamp === list[0]!.timestamp)) {
      timestamps.set(key, list[0]!.timestamp);
      continue;
    }
    const distinct = [...new Set(list.map((f) => f.timestamp))].sort();
    timestamps.set(key, distinct[0]!);
    const all = list.map((f) => `${f.file.path} has ${f.timestamp}`).join(", ");
    for (const f of list)
      diagnostics.push(
        diagnostic(
          "served-name-conflict",
          f.file.path,
          { line: servedLine(f.file.bytes)!.line(), column: 14 },
          `the fragments of ${key} disagree on its served name (${all}); a model has one name on every cluster and it never changes, so a fragment was edited by hand. Restore them from git (\`git checkout HEAD -- clusters/*/rendered/${key}.yaml\`)`,
        ),
      );
  }
  return { timestamps, diagnostics, unnamed };
}

/** fragmentTimestamps without its diagnostics. */
export const timestampsOf = (snapshot: RepoSnapshot): Map<string, string> =>
  fragmentTimestamps(snapshot).timestamps;

/** Date.UTC, but years 0-99 are those years, not 1900-1999. Months count from 0, and roll over as Date.UTC's. */
export function utcDate(year: number, month: number, day: number, hours = 0, minutes = 0): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hours, minutes, 0, 0);
  return date;
}

export function formatTimestamp(now: Date): string {
  const iso = now.toISOString(); // 2026-01-06T12:35:07.000Z
  return iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16);
}

export interface RenderOptions {
  /** The time a model rendered for the first time is named after. */
  readonly now: Date;
  /** Where existing served names come from, first match wins (the Action puts the base branch first). */
  readonly timestamps: readonly Timestamps[];
}

export interface RenderResult {
  readonly fragments: readonly Fragment[];
  /** The complete desired content of every clusters/<c>/rendered/ file. */
  readonly files: ReadonlyMap<string, string>;
  readonly diagnostics: readonly Diagnostic[];
}

/** Render one fragment per (model, cluster). Pure and deterministic: same input, same bytes. */
export function renderFragments(model: RepoModel, options: RenderOptions): RenderResult {
  const fragments: Fragment[] = [];
  const files = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const fresh = formatTimestamp(options.now);
  const byServedName = new Map<string, string>();
  for (const spec of model.models) {
    const key = `${spec.user}/${spec.suffix}`;
    let timestamp = fresh;
    for (const source of options.timestamps) {
      const found = source.get(key);
      if (found !== undefined) {
        timestamp = found;
        break;
      }
    }
    const served = servedName(spec.user, timestamp, spec.suffix);
    const clash = byServedName.get(served.toLowerCase());
    if (clash !== undefined) {
      diagnostics.push(
        diagnostic(
          "duplicate-served-name",
          spec.file,
          { line: 1, column: 1 },
          `served name ${served} is also ${clash}'s`,
        ),
      );
      continue;
    }
    byServedName.set(served.toLowerCase(), spec.file);
    for (const clusterName of spec.clusters) {
      const cluster = model.clusters.get(clusterName)!;
      const fragment = buildFragment(spec, cluster, served, timestamp);
      fragments.push(fragment);
      files.set(fragmentPath(cluster.name, spec.user, spec.suffix), fragmentText(fragment));
    }
  }
  return { fragments, files, diagnostics };
}

/**
 * A value with the keys of every mapping in it sorted (lists keep their order): Ray hashes args with sorted
 * keys (deploy_utils.get_app_code_version), so reordering keys in a spec, at any depth, is no change.
 */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== "object" || value === null) return value;
  // fromEntries defines each key as an own property: an assignment of a key named __proto__ would set the
  // copy's prototype instead, and drop the key from the config.
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]),
  );
}

function buildFragment(spec: ModelSpec, cluster: ClusterConfig, served: string, timestamp: string): Fragment {
  const engineKwargs: Record<string, unknown> = {};
  for (const key of Object.keys(spec.engine_kwargs).sort())
    engineKwargs[key] = sortedKeys(spec.engine_kwargs[key]);
  engineKwargs.tensor_parallel_size = spec.gpus_per_replica;
  engineKwargs.pipeline_parallel_size = 1;
  // Replica counts stay out of args (a per-deployment override instead), so scaling restarts nothing;
  // num_replicas: 1 here also drops Ray Serve LLM's default autoscaling_config.
  const llmConfig = {
    model_loading_config: { model_id: served, model_source: spec.resolvedSource },
    accelerator_type: cluster.accelerator_type,
    deployment_config: { name: deploymentBaseName(served), num_replicas: 1 },
    engine_kwargs: engineKwargs,
  };
  const deployment = spec.autoscaling
    ? {
        name: deploymentName(served),
        num_replicas: "auto",
        autoscaling_config: {
          min_replicas: spec.autoscaling.min_replicas,
          max_replicas: spec.autoscaling.max_replicas,
          ...(spec.autoscaling.target_ongoing_requests !== undefined
            ? { target_ongoing_requests: spec.autoscaling.target_ongoing_requests }
            : {}),
        },
      }
    : { name: deploymentName(served), num_replicas: spec.num_replicas ?? 1 };
  const t = timestamp;
  return {
    cluster: cluster.name,
    user: spec.user,
    suffix: spec.suffix,
    served_name: served,
    created: `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(8, 10)}:${t.slice(10, 12)}:00Z`,
    spec: spec.file,
    spec_sha256: spec.digest,
    generator: GENERATOR_VERSION,
    gpus_per_replica: spec.gpus_per_replica,
    gpus: modelGpus(spec),
    endpoint: placement(cluster, spec.user, served).endpoint,
    llm_config: llmConfig,
    deployment,
  };
}

export function fragmentText(fragment: Fragment): string {
  const header =
    `# Generated by \`serve-gitops render\` from ${fragment.spec}. Do not edit: change the spec and run\n` +
    `# \`npx serve-gitops render\`. One file per model, so \`git revert\` of a model's commit stays clean.\n`;
  return header + emitYaml(fragment as unknown as Record<string, unknown>);
}

export interface RenderDiff {
  /** Fragments whose committed content differs from the render. */
  readonly stale: readonly string[];
  readonly missing: readonly string[];
  /** Files under clusters/<c>/rendered/ that nothing renders. */
  readonly extra: readonly string[];
}

/**
 * Whether bytes are the UTF-8 encoding of text, encoded into one reused buffer (10,000 fragments). A
 * checkout with core.autocrlf holds the same fragment with CRLF line ends (git stores LF): that is the
 * same text, not a stale fragment to rewrite. Any other CR is a difference.
 */
let scratch = Buffer.alloc(64 * 1024);
function sameText(bytes: Uint8Array, text: string): boolean {
  const length = Buffer.byteLength(text);
  if (bytes.length !== length) {
    if (bytes.length <= length || bytes.indexOf(13) === -1) return false;
    const lf = Buffer.from(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1").replace(/\r\n/g, "\n"),
      "latin1",
    );
    return lf.length === length && sameText(lf, text);
  }
  if (scratch.length < length) scratch = Buffer.alloc(length);
  scratch.write(text);
  return scratch.compare(bytes, 0, length, 0, length) === 0;
}

/** Compare a snapshot's committed rendered/ files with a render. */
export function diffRendered(snapshot: RepoSnapshot, files: ReadonlyMap<string, string>): RenderDiff {
  const stale: string[] = [];
  const missing: string[] = [];
  const extra: string[] = [];
  for (const [path, text] of files) {
    const committed = snapshot.files.get(path);
    if (!committed) missing.push(path);
    else if (committed.kind !== "file" || !sameText(committed.bytes, text)) stale.push(path);
  }
  for (const path of snapshot.files.keys()) {
    if (classifyPath(path).role === "rendered" && !files.has(path)) extra.push(path);
  }
  return { stale: stale.sort(), missing: missing.sort(), extra: extra.sort() };
}
