import type { Diagnostic } from "../../../generator/src";

/**
 * GitHub shows at most 10 error and 10 warning annotations per step and silently drops the rest, so the
 * ones it shows must be the author's: diagnostics on files the change touched come first.
 */
export const ANNOTATIONS_PER_SEVERITY = 10;

export interface AnnotationPlan {
  /** Emitted as annotations, in this order. */
  readonly annotate: readonly Diagnostic[];
  /** Only in the log and the job summary. */
  readonly rest: readonly Diagnostic[];
}

/**
 * `budget`: how many of each kind the diagnostics may use. The Action's own annotations count against the
 * same limit — setFailed's closing error line, a warning that the comment could not be posted — so the
 * caller leaves room for them, or GitHub drops the last one emitted.
 */
export function planAnnotations(
  diagnostics: readonly Diagnostic[],
  touched: ReadonlySet<string>,
  budget: { readonly error: number; readonly warning: number } = {
    error: ANNOTATIONS_PER_SEVERITY,
    warning: ANNOTATIONS_PER_SEVERITY,
  },
): AnnotationPlan {
  const rank = (d: Diagnostic) => (touched.has(d.file) ? 0 : 1);
  // Array.prototype.sort is stable: within a rank the core's file/line order is kept.
  const ordered = [...diagnostics].sort((a, b) => rank(a) - rank(b));
  const annotate: Diagnostic[] = [];
  const rest: Diagnostic[] = [];
  const shown = { error: 0, warning: 0 };
  for (const d of ordered) {
    if (shown[d.severity] < budget[d.severity]) {
      shown[d.severity]++;
      annotate.push(d);
    } else rest.push(d);
  }
  return { annotate, rest };
}

/**
 * Where GitHub attaches a diagnostic's annotation (@actions/core's AnnotationProperties). The file is the pull
 * request's to name, so it is masked as the message is: the runner's masking is no excuse to write a token.
 */
export function annotationProperties(
  d: Diagnostic,
  redact: (text: string) => string,
): { title: string; file: string; startLine: number; startColumn: number } {
  return { title: `${d.code} ${d.rule}`, file: redact(d.file), startLine: d.line, startColumn: d.column };
}
