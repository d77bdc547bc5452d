import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The Action's benchmark drives the real bundle with a pull_request payload and a stub of GitHub's API. It
// times nothing here: this only keeps it runnable as the check's contract moves (a payload field the check
// starts to require, an API call the stub lacks), so `npm run bench` never measures a failing or warning run.
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

describe("the Action's benchmark", () => {
  it("runs the check to a clean pass on a small repository", () => {
    const out = execFileSync(
      "node",
      ["actions/check/bench-check.mjs", "--specs", "40", "--runs", "1", "--json"],
      {
        cwd: ROOT,
        encoding: "utf8",
      },
    );
    const result = JSON.parse(out) as { ok: boolean; notices: string[] };
    expect(result.ok).toBe(true);
    expect(result.notices).toEqual([]);
  }, 60_000);
});
