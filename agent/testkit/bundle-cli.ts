import { join } from "node:path";
import { build } from "esbuild";
import { cliOptions } from "../../generator/scripts/build.mjs";

/**
 * The CLI bundled as `npm run build` bundles it, into `dir` (dir/cli.mjs and its chunks) rather than dist/,
 * so a test that spawns it never races cli.test.ts, which rebuilds dist/. Returns the entry's path.
 */
export async function bundleCli(dir: string): Promise<string> {
  await build({ ...cliOptions, outdir: dir, outExtension: { ".js": ".mjs" }, logLevel: "error" });
  return join(dir, "cli.mjs");
}
