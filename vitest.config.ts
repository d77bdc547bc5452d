import { relative } from "node:path";
import { configDefaults, defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { MOCKING, processesFirst } from "./vitest.files";

/** See processesFirst: a fresh clone's run no longer ends on one long file while the other forks idle. */
class ProcessesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return processesFirst(
      await super.sort(files),
      (file) => relative(import.meta.dirname, file.moduleId),
      (file) => file.project.name,
    );
  }
}

const ALL = ["generator/**/*.test.ts", "agent/**/*.test.ts", "actions/**/*.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Most of the time goes to waiting on the processes the e2e tests start (git, the Action bundle, the
    // agent) and on their timers, so a third fork on two cores keeps both busy: 5 m 12 s against 6 m 19 s for
    // two forks with isolation on this machine (2026-12-07), with no test failing under the extra load.
    maxWorkers: 3,
    // A file's vi.stubEnv never outlives it, even in a fork that runs the next file.
    unstubEnvs: true,
    sequence: { sequencer: ProcessesFirst },
    projects: [
      {
        extends: true,
        // Files share a fork's modules instead of importing the whole graph again for each of the ~100
        // files (vitest's "import" time: 71 s summed over the files with isolation, 13 s without).
        // Nothing the code under test keeps at module level is per-test state: compiled validators, the
        // engine-argument catalog, caches keyed by content.
        test: {
          name: "shared",
          isolate: false,
          include: ALL,
          exclude: [...configDefaults.exclude, ...MOCKING],
        },
      },
      { extends: true, test: { name: "isolated", include: MOCKING } },
    ],
  },
});
