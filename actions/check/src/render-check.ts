import {
  classifyPath,
  diagnostic,
  fragmentPath,
  isRenderCurrent,
  type Diagnostic,
  type RenderDiff,
  type RenderResult,
  type RepoSnapshot,
  type Timestamps,
} from "../../../generator/src";

/** What the author runs to bring the committed render up to date; printed verbatim in every failure. */
export const RENDER_COMMAND =
  "npx serve-gitops render && git add -A clusters && git commit -m 'Render serving specs' && git push";

export interface RenderCheckInput {
  readonly head: RepoSnapshot;
  readonly render: RenderResult;
  readonly diff: RenderDiff;
  /** Served-name timestamps of the base branch: an existing model keeps its base name. */
  readonly baseTimestamps: Timestamps;
  /** Served-name timestamps the head's own fragments carry. */
  readonly headTimestamps: Timestamps;
}

/**
 * One diagnostic per model whose committed fragments differ from the render, on its spec (the file the
 * author touched) so it shows on the PR diff; an extra fragment with no spec is reported on itself.
 */
export function renderStaleDiagnostics(input: RenderCheckInput): Diagnostic[] {
  if (isRenderCurrent(input.diff)) return [];
  const specOf = new Map<string, string>();
  for (const f of input.render.fragments) specOf.set(fragmentPath(f.cluster, f.user, f.suffix), f.spec);
  const bySpec = new Map<string, string[]>();
  const note = (file: string, line: string) => bySpec.set(file, [...(bySpec.get(file) ?? []), line]);
  for (const path of input.diff.stale) note(specOf.get(path) ?? path, `${path} is out of date`);
  for (const path of input.diff.missing) note(specOf.get(path) ?? path, `${path} is missing`);
  for (const path of input.diff.extra)
    note(path, `${path} is left over: nothing renders it any more, delete it`);

  const out: Diagnostic[] = [];
  for (const [file, lines] of bySpec) {
    const hints = renamedHints(file, input);
    out.push(
      diagnostic(
        "render-stale",
        input.head.files.has(file) ? file : lines[0]!.split(" ")[0]!,
        { line: 1, column: 1 },
        `the committed render does not match this spec: ${lines.join("; ")}. Run \`${RENDER_COMMAND}\`.${hints}`,
      ),
    );
  }
  return out;
}

/** A model the base already has keeps the base's served name; a committed fragment that renames it stays stale. */
function renamedHints(file: string, input: RenderCheckInput): string {
  const where = classifyPath(file);
  if (where.role !== "spec") return "";
  const key = `${where.user}/${where.suffix}`;
  const base = input.baseTimestamps.get(key);
  const head = input.headTimestamps.get(key);
  if (base === undefined || head === undefined || base === head) return "";
  return ` The committed fragments rename the model (timestamp ${head}; the base branch has ${base}): served names of existing models never change, so restore its fragments from the base branch first (\`git checkout origin/HEAD -- clusters/*/rendered/${where.user}/${where.suffix}.yaml\`).`;
}
