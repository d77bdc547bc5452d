import { configDefaults, defineConfig } from "vitest/config";

// Test files that replace a module with vi.mock: they need a fresh module graph of their own.
export const MOCKING = ["generator/src/io/working-tree-unreadable.test.ts"];
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
