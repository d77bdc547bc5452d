// GitHub attaches a pull_request run's annotations to the PR's head commit (the "Files changed" view shows
// the head's lines), while the check validates GitHub's merge commit. When the base branch changed the same
// file above the mistake (merged cleanly), the merge commit's line numbers are not the head's.
import { describe, expect, it } from "vitest";
import { fileErrors, git, misspeltWhileBaseMoved, TOKENS, useGitHubServer } from "./testing/harness";

const gh = useGitHubServer({ [TOKENS.workflow]: { login: "github-actions[bot]" } });

describe("annotations on a pull request whose base branch moved", () => {
  it("points at the line of the mistake in the PR head, not in the merge commit", async () => {
    // alice misspells an engine argument (line 8 on her branch); meanwhile an admin adds three lines above it on
    // main; the checkout is GitHub's merge commit of the PR head into the newer main.
    const fx = misspeltWhileBaseMoved(gh);

    const headLines = git(fx, fx.seed, ["show", `${fx.headSha}:models/alice/qwen-0.5b.yaml`]).split("\n");
    const line = headLines.findIndex((l) => l.includes("gpu_memory_utilisation")) + 1;
    expect(line).toBe(8);

    const run = await gh.pullRequest(fx, { author: "alice", number: 1 }, { inputs: { comment: "false" } });
    expect(run.code).toBe(1);
    const [typo] = fileErrors(run).filter((a) => a.properties.title === "E400 engine-kwarg-unknown");
    expect(typo!.properties.file).toBe("models/alice/qwen-0.5b.yaml");
    // The annotation is shown on the head's file: it must name the head's line, where the typo is.
    expect(typo!.properties.line).toBe(String(line));
  });
});
