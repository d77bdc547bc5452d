// The annotations name the line in the PR head's file (head-lines.ts), where the author finds the mistake;
// the plan comment and the job summary list the same error with the merge commit's line, which the author's
// file does not have when the base branch changed the same file above it.
import { describe, expect, it } from "vitest";
import { fileErrors, misspeltWhileBaseMoved, TOKENS, useGitHubServer } from "./testing/harness";

const gh = useGitHubServer({ [TOKENS.workflow]: { login: "github-actions[bot]" } });

describe("the plan comment of a pull request whose base branch moved", () => {
  it("points at the same line of the author's file as the annotation does", async () => {
    const fx = misspeltWhileBaseMoved(gh);

    const run = await gh.pullRequest(fx, { author: "alice", number: 95 });
    expect(run.code).toBe(1);
    const [typo] = fileErrors(run).filter((a) => a.properties.title === "E400 engine-kwarg-unknown");
    expect(typo!.properties.line).toBe("8");
    const [comment] = gh.server.comments(95);
    // The author reads "line 11" in the comment and finds nothing there in their file.
    expect(comment!.body).toContain("`models/alice/qwen-0.5b.yaml:8`");
    expect(comment!.body).not.toContain("`models/alice/qwen-0.5b.yaml:11`");
    // The job summary and the plan output give the head's line too.
    expect(run.summary).toContain("| `models/alice/qwen-0.5b.yaml` | 8:3 | E400 | engine-kwarg-unknown |");
    expect(run.summary).not.toContain("| `models/alice/qwen-0.5b.yaml` | 11:");
    const plan = JSON.parse(run.outputs.plan!) as { diagnostics: Array<{ file: string; line: number }> };
    expect(
      plan.diagnostics.filter((d) => d.file === "models/alice/qwen-0.5b.yaml").map((d) => d.line),
    ).toEqual([8]);
  });
});
