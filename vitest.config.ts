import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["generator/**/*.test.ts", "agent/**/*.test.ts", "actions/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Two forks even on two cores: most of the time goes to the processes the e2e tests start (git, the
    // Action bundle, the agent), so the default of one fork left a core idle (234 s against 134 s).
    maxWorkers: 2,
  },
});
