// The annotations name the line in the PR head's file (head-lines.ts), where the author finds the mistake;
// the plan comment and the job summary list the same error with the merge commit's line, which the author's
// file does not have when the base branch changed the same file above it.
import { describe, expect, it } from "vitest";
import { checkoutMerge, edit, fileErrors, git, TOKENS, useGitHubServer } from "./testing/harness";

const gh = useGitHubServer({ [TOKENS.workflow]: { login: "github-actions[bot]" } });

describe("the plan comment of a pull request whose base branch moved", () => {
  it("points at the same line of the author's file as the annotation does", async () => {
    const fx = gh.fixture({
      head: (dir) =>
        edit(dir, "models/alice/qwen-0.5b.yaml", (text) =>
          text.replace("gpu_memory_utilization", "gpu_memory_utilisation"),
        ),
    });
    git(fx, fx.seed, ["checkout", "-q", "main"]);
    edit(
      fx.seed,
      "models/alice/qwen-0.5b.yaml",
      (text) => `# owner: alice\n# team: research\n# reviewed\n${text}`,
    );
    git(fx, fx.seed, ["commit", "-q", "-am", "admin notes"]);
    git(fx, fx.seed, ["push", "-q", "origin", "main"]);
    const main = git(fx, fx.seed, ["rev-parse", "HEAD"]);
    git(fx, fx.seed, ["checkout", "-q", "feature"]);
    checkoutMerge(fx, main);

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
