// Which test files run how: read by vitest.config.ts and checked by generator/src/test-isolation.test.ts.

/** Test files that replace a module with vi.mock: they need a fresh module graph of their own. */
export const MOCKING = ["generator/src/io/working-tree-unreadable.test.ts"];

/**
 * Test files that start processes (git, the Action bundle, the agent, the CLI) and wait on them and on their
 * timers: the suite's long files, some of them small (agent/test/shutdown.test.ts waits out an 18 s grace
 * period). Vitest runs the longest files first when it has timings from an earlier run, and the largest files
 * first when it has none, as in a fresh clone, where a small long file started last and ran alone at the end.
 */
export const STARTS_PROCESSES = /^(agent\/test\/|agent\/src\/demo\/|generator\/src\/cli\/)|\.e2e\.test\.ts$/;

/**
 * The order vitest chose, with each project's files that start processes moved ahead of its other files
 * (order otherwise kept, projects kept in their order), so the quick files fill the forks at the end.
 */
export function processesFirst<T>(
  files: readonly T[],
  path: (file: T) => string,
  project: (file: T) => string,
): T[] {
  const projects = [...new Set(files.map(project))];
  return projects.flatMap((name) => {
    const mine = files.filter((file) => project(file) === name);
    const slow = (file: T) => STARTS_PROCESSES.test(path(file));
    return [...mine.filter(slow), ...mine.filter((file) => !slow(file))];
  });
}
