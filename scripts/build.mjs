// Builds the CLI (dist/) and, with --action, the committed Action bundle (actions/check/dist/).
import { build } from "esbuild";

const banner = {
  // ajv, handlebars and simple-git's dependencies are CommonJS; an ESM bundle needs a real `require`.
  js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
};
const common = { bundle: true, platform: "node", target: "node20", format: "esm", banner, logLevel: "warning", legalComments: "none" };

await build({
  ...common,
  entryPoints: { cli: "generator/src/cli/bin.ts" },
  outdir: "dist",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  banner: { js: `#!/usr/bin/env node\n${banner.js}` },
});

if (process.argv.includes("--action")) {
  await build({ ...common, entryPoints: ["actions/check/src/main.ts"], outfile: "actions/check/dist/index.js", minify: false });
}
