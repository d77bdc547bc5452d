import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["generator/**/*.test.ts", "agent/**/*.test.ts", "actions/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
