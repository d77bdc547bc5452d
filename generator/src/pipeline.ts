import {
  diffRendered,
  fragmentTimestamps,
  renderFragments,
  type RenderDiff,
  type RenderResult,
  type Timestamps,
} from "./render";
import { hasErrors, sortDiagnostics } from "./rules";
import type { Diagnostic, RepoSnapshot, Validation } from "./types";
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
  if (!validation.ok || hasErrors(own.diagnostics)) {
    const diagnostics = sortDiagnostics([...validation.diagnostics, ...own.diagnostics]);
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

export const isRenderCurrent = (diff: RenderDiff | undefined): boolean =>
  diff !== undefined && diff.stale.length === 0 && diff.missing.length === 0 && diff.extra.length === 0;
