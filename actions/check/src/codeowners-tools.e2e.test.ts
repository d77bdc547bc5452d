// A tools PR (generator, schemas, dependencies) is judged with the changed tool on both sides (README,
// "Verifies the render"; "Upgrading serve-gitops": the check asks the upgrade PR to run both `render` and
// `codeowners`). A CODEOWNERS the change's tool renders differently from what is committed is then the
// change's own, exactly as a stale render is.
import { describe, expect, it } from "vitest";
import { edit, TOKENS, useGitHubServer, write, type ActionRun } from "./testing/harness";

const gh = useGitHubServer({ [TOKENS.workflow]: { login: "github-actions[bot]" } });

const codeowners = (run: ActionRun) =>
  run.annotations.filter((a) => a.properties.title === "E409 codeowners-stale");

describe("a tools PR that changes what CODEOWNERS should say", () => {
  it("fails with codeowners-stale, as it does for a stale render, instead of passing with a warning", async () => {
    const fx = gh.fixture({
      // main's CODEOWNERS as the older generator wrote it: current for that tool, not for this one.
      base: (dir) =>
        edit(dir, ".github/CODEOWNERS", (text) =>
          text
            .split("\n")
            .filter((line) => !line.startsWith("/agent/"))
            .join("\n"),
        ),
      // The admin's upgrade: a tool change, committed without running `npx serve-gitops codeowners`.
      head: (dir) => write(dir, "generator/src/version.ts", 'export const VERSION = "0.2.0";\n'),
    });
    const run = await gh.pullRequest(fx, { author: "platform-admin", number: 40 });
    expect(codeowners(run).map((a) => a.level)).toEqual(["error"]);
    expect(run.code).toBe(1);
    expect(run.outputs.ok).toBe("false");
  });
});
