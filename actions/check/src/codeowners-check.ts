import {
  CODEOWNERS_COMMAND,
  CODEOWNERS_FILE,
  codeownersOf,
  diagnostic,
  USERS_FILE,
  type Diagnostic,
  type RepoSnapshot,
} from "../../../generator/src";

/**
 * The committed CODEOWNERS must be what users.yaml renders: a stale file gives admin paths to the wrong
 * reviewers. Nothing is reported when users.yaml itself is broken: its own diagnostics say so.
 */
export function codeownersDiagnostics(head: RepoSnapshot, committed: string | undefined): Diagnostic[] {
  const { text } = codeownersOf(head);
  if (text === undefined || committed === text) return [];
  const fix = `run \`${CODEOWNERS_COMMAND}\` and commit ${CODEOWNERS_FILE}`;
  if (committed === undefined) {
    return [
      diagnostic(
        "codeowners-stale",
        USERS_FILE,
        { line: 1, column: 1 },
        `${CODEOWNERS_FILE} is missing: ${fix}`,
      ),
    ];
  }
  const want = text.split("\n");
  const have = committed.split("\n");
  let line = 0;
  while (line < want.length && want[line] === have[line]) line++;
  return [
    diagnostic(
      "codeowners-stale",
      CODEOWNERS_FILE,
      { line: line + 1, column: 1 },
      `${CODEOWNERS_FILE} does not match ${USERS_FILE} (line ${line + 1} should be ${JSON.stringify(want[line] ?? "")}): ${fix}`,
    ),
  ];
}

/** A CODEOWNERS as one commit has it: the committed text and the text its users.yaml renders. */
export interface CodeownersAt {
  readonly snapshot: RepoSnapshot;
  readonly committed: string | undefined;
}

/**
 * The CODEOWNERS findings of a pull request (or merge-queue group). Staleness the base branch already had,
 * which the change leaves exactly as it was (the same committed file, the same file its users.yaml and tools
 * render), is not the author's to fix: a users.yaml edit or tool upgrade merged without it would otherwise
 * fail every PR until an admin regenerates the file. That is a warning; anything the change causes is an error.
 * A change to the tools is judged in full, as the render check does: both sides are rendered by the changed
 * tool, so "the same text" could not tell whether the upgrade changed what CODEOWNERS should say.
 */
export function judgeCodeowners(
  found: readonly Diagnostic[],
  head: CodeownersAt,
  base: CodeownersAt,
  baseRef: string,
  toolChanged = false,
): Diagnostic[] {
  const inherited =
    found.length > 0 &&
    !toolChanged &&
    head.committed === base.committed &&
    codeownersOf(head.snapshot).text === codeownersOf(base.snapshot).text;
  if (!inherited) return [...found];
  return found.map((d) => ({
    ...d,
    severity: "warning",
    message: `${d.message}. The base branch ${baseRef} already has it so and this change leaves it alone: an admin fixes it there`,
  }));
}
