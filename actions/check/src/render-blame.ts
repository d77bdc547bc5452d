import {
  diagnostic,
  fragmentPath,
  isFragmentPath,
  notAFragment,
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
 * Inherited staleness as warnings, one per spec (or per left-over file): the author did not cause it. Other
 * people's fragments must not be re-rendered (the ownership check would refuse them); the author's own
 * (`own`) may be. A file under rendered/ that is no fragment at all is told to be removed.
 */
export function inheritedStaleWarnings(
  inherited: RenderDiff,
  render: RenderResult,
  head: RepoSnapshot,
  baseRef: string,
  own: (path: string) => boolean = () => false,
): Diagnostic[] {
  const specOf = new Map<string, string>();
  for (const f of render.fragments) specOf.set(fragmentPath(f.cluster, f.user, f.suffix), f.spec);
  const bySpec = new Map<string, string[]>();
  const note = (file: string, line: string) => bySpec.set(file, [...(bySpec.get(file) ?? []), line]);
  const out: Diagnostic[] = [];
  for (const path of inherited.stale) note(specOf.get(path) ?? path, `${path} is out of date`);
  for (const path of inherited.missing) note(specOf.get(path) ?? path, `${path} is missing`);
  for (const path of inherited.extra) {
    if (isFragmentPath(path)) note(path, `${path} is left over`);
    else
      out.push(
        diagnostic(
          "render-stale",
          path,
          { line: 1, column: 1 },
          `the base branch ${baseRef} already has it, and this change leaves it as it is: ${notAFragment(path)}`,
          "warning",
        ),
      );
  }
  for (const [file, lines] of bySpec) {
    const paths = lines.map((l) => l.split(" ")[0]!);
    const stale = `the base branch's render is stale: ${lines.join("; ")} on ${baseRef} already, and this change leaves it as it is.`;
    out.push(
      diagnostic(
        "render-stale",
        head.files.has(file) ? file : paths[0]!,
        { line: 1, column: 1 },
        paths.every(own)
          ? `${stale} Not this PR's to fix, but these are your own fragments: you may re-render them here (\`npx serve-gitops render\`, then commit only ${paths.join(" ")}) or leave them as they are.`
          : `${stale} Not this PR's to fix: an admin must re-render ${baseRef}. If you render for your own changes, keep these files as ${baseRef} has them (\`git checkout origin/${baseRef} -- ${paths.join(" ")}\`): they belong to someone else.`,
        "warning",
      ),
    );
  }
  return out;
}
