import { readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { actionOptions } from "../../../generator/scripts/build.mjs";

const root = join(import.meta.dirname, "../../..");

describe("the committed Action bundle", () => {
  it("is what the sources build today (run `npm run build:action` and commit when this fails)", async () => {
    const result = await build({ ...actionOptions, absWorkingDir: root, write: false });
    const built = result.outputFiles[0]!.text;
    const committed = readFileSync(join(root, "actions/check/dist/index.js"), "utf8");
    expect(built === committed).toBe(true);
  });

  it("leaves out @actions/http-client and its undici (a third of the bundle), which only getIDToken would use", async () => {
    const result = await build({ ...actionOptions, absWorkingDir: root, write: false, metafile: true });
    const output = Object.values(result.metafile.outputs)[0]!;
    const inputs = Object.entries(output.inputs)
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([path]) => path);
    expect(inputs.filter((path) => /node_modules\/(undici|@actions\/http-client)\//.test(path))).toEqual([]);
    // What is left of @actions/core is what the check calls: inputs, outputs, annotations, the summary.
    expect(inputs.some((path) => path.includes("node_modules/@actions/core/lib/core.js"))).toBe(true);
  });
});
