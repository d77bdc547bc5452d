import { isRenderCurrent } from "./pipeline";
import {
  fragmentPath,
  GENERATOR_VERSION,
  type RenderDiff,
  type RenderResult,
  type Timestamps,
} from "./render";
import { diagnostic } from "./rules";
import type { Diagnostic, RepoModel, RepoSnapshot } from "./types";
import { classifyPath } from "./paths";

export interface RenderCheckInput {
  readonly head: RepoSnapshot;
  readonly render: RenderResult;
  readonly diff: RenderDiff;
  /** Served-name timestamps of the base: an existing model keeps its base name. */
  readonly baseTimestamps: Timestamps;
  /** Served-name timestamps the head's own fragments carry. */
  readonly headTimestamps: Timestamps;
  /** What the author runs to bring the render up to date, quoted in every message. */
  readonly command: string;
  /** The git revision a renamed model's fragments are restored from (the base). */
  readonly restoreFrom: string;
  /** The head is a working tree (`plan` without --head), not a commit: messages say so. */
  readonly workingTree?: boolean;
}

/**
 * One render-stale diagnostic per model whose fragments differ from the render, on its spec (the file the
 * author touched) so it shows on a pull request's diff; an extra fragment with no spec is reported on
 * itself. Shared by the PR check and `serve-gitops plan`.
 */
export function renderStaleDiagnostics(input: RenderCheckInput): Diagnostic[] {
  if (isRenderCurrent(input.diff)) return [];
  const specOf = new Map<string, string>();
  for (const f of input.render.fragments) specOf.set(fragmentPath(f.cluster, f.user, f.suffix), f.spec);
  const bySpec = new Map<string, string[]>();
  const note = (file: string, line: string) => bySpec.set(file, [...(bySpec.get(file) ?? []), line]);
  for (const path of input.diff.stale) note(specOf.get(path) ?? path, `${path} is out of date`);
  for (const path of input.diff.missing) note(specOf.get(path) ?? path, `${path} is missing`);
  const out: Diagnostic[] = [];
  const render = input.workingTree
    ? "the rendered fragments in the working tree do"
    : "the committed render does";
  for (const [file, lines] of bySpec) {
    const hints = renamedHints(file, input);
    const paths = lines.map((l) => l.split(" ")[0]!);
    const skew = otherGeneratorVersions(input.head, paths);
    const run = skew
      ? ` ${skew}: run \`${input.command}\` with the repository's version.`
      : ` Run \`${input.command}\`.`;
    out.push(
      diagnostic(
        "render-stale",
        input.head.files.has(file) ? file : lines[0]!.split(" ")[0]!,
        { line: 1, column: 1 },
        `${render} not match this spec: ${lines.join("; ")}.${run}${hints}`,
      ),
    );
  }
  // A fragment nothing renders is reported on itself: its spec is gone, or no longer names its cluster.
  for (const path of input.diff.extra) {
    const message = isFragmentPath(path)
      ? `${leftOver(path, input.head)} Run \`${input.command}\` (it deletes the fragment).`
      : notAFragment(path);
    out.push(diagnostic("render-stale", path, { line: 1, column: 1 }, message));
  }
  return out;
}

/** The `generator:` a fragment's text records ("serve-gitops 0.1.0"), if it records one. */
export function recordedGenerator(bytes: Uint8Array): string | undefined {
  const text = new TextDecoder().decode(bytes);
  return /^generator: "?(serve-gitops [^"\r\n]+?)"?\r?$/m.exec(text)?.[1];
}

/**
 * Fragments rendered by another serve-gitops version are stale for this one (each records its version):
 * "rendered by serve-gitops 0.1.0; this is 0.2.0", naming every other version among `paths`, or undefined
 * when none records another. An upgrade (or a teammate's older CLI) is then the cause, not the spec.
 */
export function otherGeneratorVersions(snapshot: RepoSnapshot, paths: readonly string[]): string | undefined {
  const versions = new Set<string>();
  for (const path of paths) {
    const file = snapshot.files.get(path);
    const recorded = file?.kind === "file" ? recordedGenerator(file.bytes) : undefined;
    if (recorded !== undefined && recorded !== GENERATOR_VERSION) versions.add(recorded);
  }
  if (versions.size === 0) return undefined;
  const current = GENERATOR_VERSION.replace(/^serve-gitops /, "");
  return `rendered by ${[...versions].sort().join(" and ")}; this is ${current}`;
}

/** Why a fragment is left over: its spec was removed, or no longer deploys to the fragment's cluster. */
function leftOver(path: string, head: RepoSnapshot): string {
  const where = classifyPath(path);
  if (where.role !== "rendered" || where.suffix === undefined) return `${path} is left over.`;
  const spec = specFileOf(head, `${where.user}/${where.suffix}`);
  return spec === undefined
    ? `${path} is left over from a removed spec (models/${where.user}/${where.suffix}.yaml): nothing renders it any more.`
    : `${path} is left over: ${spec} does not deploy to cluster ${where.cluster}, so nothing renders this fragment.`;
}

/** A file `render` could have written: clusters/<cluster>/rendered/<user>/<model_id>.yaml. */
export const isFragmentPath = (path: string): boolean => {
  const where = classifyPath(path);
  return where.role === "rendered" && where.suffix !== undefined;
};

/** Anything else under clusters/<cluster>/rendered/ is no render output at all: no spec is to blame. */
export const notAFragment = (path: string): string =>
  `${path} is not a rendered fragment: clusters/<cluster>/rendered/ holds only what \`serve-gitops render\` writes (clusters/<cluster>/rendered/<user>/<model_id>.yaml), so remove it (\`git rm ${path}\`).`;

/** A model the base already has keeps the base's served name; a committed fragment that renames it stays stale. */
function renamedHints(file: string, input: RenderCheckInput): string {
  const where = classifyPath(file);
  if (where.role !== "spec") return "";
  const key = `${where.user}/${where.suffix}`;
  const base = input.baseTimestamps.get(key);
  const head = input.headTimestamps.get(key);
  if (base === undefined || head === undefined || base === head) return "";
  return ` The ${input.workingTree ? "fragments in the working tree" : "committed fragments"} rename the model (timestamp ${head}; the base has ${base}): served names of existing models never change, so restore its fragments from the base first (\`git checkout ${input.restoreFrom} -- clusters/*/rendered/${where.user}/${where.suffix}.yaml\`).`;
}

/** What the listing alone says about a render: fragments a valid spec lacks, fragments no spec has any more. */
export interface RenderGaps {
  /** Fragments the valid specs would render that the snapshot does not hold, with the spec of each. */
  readonly missing: ReadonlyArray<{ readonly spec: string; readonly fragment: string }>;
  /** Fragments of a known cluster whose spec is gone or no longer deploys there. */
  readonly extra: readonly string[];
}

/**
 * The render's gaps seen from paths only, without reading a fragment: `validate` names them so a model owner
 * learns before pushing that `render` has not run. Contents (an edited spec, another generator version) are
 * `render --check`'s to compare. A spec with errors is not in `model`, so its fragments are left out: whether
 * they are stale is unknown until it is fixed.
 */
export function renderGaps(snapshot: RepoSnapshot, model: RepoModel): RenderGaps {
  const expected = new Map<string, string>();
  for (const spec of model.models)
    for (const cluster of spec.clusters)
      if (model.clusters.has(cluster)) expected.set(fragmentPath(cluster, spec.user, spec.suffix), spec.file);
  const missing: Array<{ spec: string; fragment: string }> = [];
  for (const [fragment, spec] of expected)
    if (!snapshot.files.has(fragment)) missing.push({ spec, fragment });
  let valid: Set<string> | undefined;
  const extra: string[] = [];
  for (const path of snapshot.files.keys()) {
    // Classified only when not expected: validate classifies no fragment, and most of them are expected.
    if (expected.has(path)) continue;
    const where = classifyPath(path);
    if (where.role !== "rendered" || where.suffix === undefined || !model.clusters.has(where.cluster))
      continue;
    const key = `${where.user}/${where.suffix}`;
    valid ??= new Set(model.models.map((spec) => `${spec.user}/${spec.suffix}`));
    if (specFileOf(snapshot, key) !== undefined && !valid.has(key)) continue;
    extra.push(path);
  }
  return { missing, extra: extra.sort() };
}

/** The spec file of `<user>/<suffix>` the snapshot holds (.yaml or .yml), if any. */
function specFileOf(snapshot: RepoSnapshot, key: string): string | undefined {
  for (const ext of [".yaml", ".yml"])
    if (snapshot.files.has(`models/${key}${ext}`)) return `models/${key}${ext}`;
  return undefined;
}
