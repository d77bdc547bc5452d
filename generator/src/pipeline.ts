import {
  diffRendered,
  fragmentTimestamps,
  renderFragments,
  type FragmentTimestamps,
  type RenderDiff,
  type RenderResult,
  type Timestamps,
} from "./render";
import { diagnostic, hasErrors, sortDiagnostics } from "./rules";
import type { Diagnostic, ModelSpec, RepoSnapshot, Validation } from "./types";
import { validateRepo, type SpecMemo } from "./validate";

export interface CheckOptions {
  readonly now: Date;
  /** Served-name sources that win over the snapshot's own fragments (the Action passes the base branch's). */
  readonly timestamps?: readonly Timestamps[];
  readonly blame?: ReadonlySet<string>;
  /** Share spec results between the checks of one process (see ValidateOptions.memo). */
  readonly memo?: SpecMemo;
}

export interface RepoCheck {
  readonly validation: Validation;
  /**
   * The served-name timestamps of the snapshot's own fragments (fragmentTimestamps), read once for every
   * caller; a fragment with an impossible or disagreeing timestamp is an error in `diagnostics`.
   */
  readonly timestamps: Timestamps;
  /** Absent when validation failed: nothing is rendered from a tree with errors. */
  readonly render?: RenderResult;
  readonly renderDiff?: RenderDiff;
  readonly diagnostics: readonly Diagnostic[];
  /** No errors; the render may still be stale (see renderDiff). */
  readonly ok: boolean;
}

/** Validate, then render: the one pipeline the CLI, the Action and the agent share. */
export function checkRepo(snapshot: RepoSnapshot, options: CheckOptions): RepoCheck {
  const own = fragmentTimestamps(snapshot);
  const timestamps = own.timestamps;
  const validation = validateRepo(snapshot, {
    ...(options.blame ? { blame: options.blame } : {}),
    ...(options.memo ? { memo: options.memo } : {}),
    timestamps,
  });
  const unnamed = unnamedModels(validation.model.models, own, options.timestamps ?? []);
  if (!validation.ok || hasErrors(own.diagnostics) || unnamed.length > 0) {
    const diagnostics = sortDiagnostics([...validation.diagnostics, ...own.diagnostics, ...unnamed]);
    return { validation, timestamps, diagnostics, ok: false };
  }
  const render = renderFragments(validation.model, {
    now: options.now,
    timestamps: [...(options.timestamps ?? []), timestamps],
  });
  const diagnostics = sortDiagnostics([...validation.diagnostics, ...render.diagnostics]);
  if (hasErrors(render.diagnostics)) return { validation, timestamps, diagnostics, ok: false };
  return {
    validation,
    timestamps,
    render,
    renderDiff: diffRendered(snapshot, render.files),
    diagnostics,
    ok: true,
  };
}

/**
 * A declared model whose only fragment lost its served_name line (cut by hand) would be renamed by the next
 * render: reported, as a served name edited out of shape is, rather than guessed at. A name known from
 * elsewhere (another cluster's fragment, the base branch's) is kept, and needs nothing.
 */
function unnamedModels(
  models: readonly ModelSpec[],
  own: FragmentTimestamps,
  known: readonly Timestamps[],
): Diagnostic[] {
  if (own.unnamed.size === 0) return [];
  const out: Diagnostic[] = [];
  for (const m of models) {
    const key = `${m.user}/${m.suffix}`;
    const file = own.unnamed.get(key);
    if (file === undefined || own.timestamps.has(key) || known.some((t) => t.has(key))) continue;
    if (out.some((d) => d.file === file)) continue;
    out.push(
      diagnostic(
        "invalid-value",
        file,
        { line: 1, column: 1 },
        `${file} has no served_name line: the fragment was edited by hand, and rendering now would give ${key} a new served name. Restore it from git (\`git checkout HEAD -- ${file}\`), or delete it and run \`npx serve-gitops render\` (the model then gets a new name)`,
      ),
    );
  }
  return out;
}

export const isRenderCurrent = (diff: RenderDiff | undefined): boolean =>
  diff !== undefined && diff.stale.length === 0 && diff.missing.length === 0 && diff.extra.length === 0;
