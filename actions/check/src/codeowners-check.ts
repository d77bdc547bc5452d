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
