import {
  diagnostic,
  fragmentPath,
  type Diagnostic,
  type RenderDiff,
  type RenderResult,
  type RepoSnapshot,
} from "../../../generator/src";

export interface RenderSide {
  readonly snapshot: RepoSnapshot;
  /** What this side renders to; undefined when it did not validate. */
  readonly render: RenderResult | undefined;
  readonly diff: RenderDiff | undefined;
}

export interface StalenessSplit {
  /** Staleness the change causes: errors, fixed by rendering on the branch. */
  readonly caused: RenderDiff;
  /** Staleness the base branch already has and the change leaves exactly as it was: not the author's. */
  readonly inherited: RenderDiff;
}

const EMPTY: RenderDiff = { stale: [], missing: [], extra: [] };

/**
 * Split a pull request's render staleness into what it causes and what its base already had. A fragment's
 * staleness is inherited only when the base is stale the same way on it and the change alters neither the
 * committed file nor what it should hold. When the change touches the tool (generator, schemas, the
 * Action, dependencies), base and head are both judged with the changed tool: every staleness is then the
 * change's own, and the admin's tools PR is told to re-render.
 */
export function splitStaleness(
  head: RenderSide & { readonly diff: RenderDiff; readonly render: RenderResult },
  base: RenderSide,
  toolChanged: boolean,
): StalenessSplit {
  if (toolChanged || !base.diff || !base.render) return { caused: head.diff, inherited: EMPTY };
  const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
    a === undefined ? b === undefined : b !== undefined && Buffer.compare(a, b) === 0;
  const unchanged = (path: string) =>
    same(head.snapshot.files.get(path)?.bytes, base.snapshot.files.get(path)?.bytes) &&
    head.render.files.get(path) === base.render!.files.get(path);
  const split = (kind: keyof RenderDiff) => {
    const inBase = new Set(base.diff![kind]);
    const caused: string[] = [];
    const inherited: string[] = [];
    for (const path of head.diff[kind]) (inBase.has(path) && unchanged(path) ? inherited : caused).push(path);
    return { caused, inherited };
  };
  const stale = split("stale");
  const missing = split("missing");
  const extra = split("extra");
  return {
    caused: { stale: stale.caused, missing: missing.caused, extra: extra.caused },
    inherited: { stale: stale.inherited, missing: missing.inherited, extra: extra.inherited },
  };
}

/**
 * Inherited staleness as warnings, one per spec (or per left-over fragment): the author did not cause it
 * and must not re-render other people's fragments (the ownership check would refuse them).
 */
export function inheritedStaleWarnings(
  inherited: RenderDiff,
  render: RenderResult,
  head: RepoSnapshot,
  baseRef: string,
): Diagnostic[] {
  const specOf = new Map<string, string>();
  for (const f of render.fragments) specOf.set(fragmentPath(f.cluster, f.user, f.suffix), f.spec);
  const bySpec = new Map<string, string[]>();
  const note = (file: string, line: string) => bySpec.set(file, [...(bySpec.get(file) ?? []), line]);
  for (const path of inherited.stale) note(specOf.get(path) ?? path, `${path} is out of date`);
  for (const path of inherited.missing) note(specOf.get(path) ?? path, `${path} is missing`);
  for (const path of inherited.extra) note(path, `${path} is left over`);
  return [...bySpec].map(([file, lines]) => {
    const paths = lines.map((l) => l.split(" ")[0]!);
    return diagnostic(
      "render-stale",
      head.files.has(file) ? file : paths[0]!,
      { line: 1, column: 1 },
      `the base branch's render is stale: ${lines.join("; ")} on ${baseRef} already, and this change leaves it as it is. Not this PR's to fix: an admin must re-render ${baseRef}. If you render for your own changes, keep these files as ${baseRef} has them (\`git checkout origin/${baseRef} -- ${paths.join(" ")}\`): they belong to someone else.`,
      "warning",
    );
  });
}
