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
});
