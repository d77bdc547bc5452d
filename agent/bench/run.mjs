#!/usr/bin/env node
// `node agent/bench/run.mjs [--models 1000] [--k 50] [--cycles 1000]`: bundles the agent bench (TypeScript) and
// the agent's child-process entry with esbuild into a temporary directory, then runs the bench. Prints its figures.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const dir = mkdtempSync(join(tmpdir(), "serve-gitops-agent-bench-"));
const banner = {
  js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);',
};
const common = { bundle: true, platform: "node", target: "node20", format: "esm", banner, logLevel: "error" };
try {
  await Promise.all([
    build({ ...common, entryPoints: ["agent/bench/agent-bench.ts"], outfile: join(dir, "bench.mjs") }),
    build({ ...common, entryPoints: ["agent/testkit/child-agent.ts"], outfile: join(dir, "child.mjs") }),
  ]);
  process.env.SERVE_GITOPS_BENCH_CHILD = join(dir, "child.mjs");
  const { main } = await import(pathToFileURL(join(dir, "bench.mjs")).href);
  process.exitCode = await main(process.argv.slice(2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
