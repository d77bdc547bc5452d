// The check refuses pull_request_target, whose misuse it knows. Other events that carry a pull request
// (pull_request_review, pull_request_review_comment: an adopter adds one to re-run the required check on an
// approval) fall to push mode by default: the run reports on the PR's head without judging who may change what.
import { describe, expect, it } from "vitest";
import { edit, pullRequestPayload, renderInto, TOKENS, useGitHubServer } from "./testing/harness";

const gh = useGitHubServer({ [TOKENS.workflow]: { login: "github-actions[bot]" } });

describe("a workflow that also runs on pull_request_review", () => {
  it("does not pass alice's change to bob's folder unjudged", async () => {
    const fx = gh.fixture({
      head: (dir) => {
        edit(dir, "models/bob/qwen-7b.yaml", (t) => t.replace("max_num_seqs: 128", "max_num_seqs: 1"));
        renderInto(dir);
      },
    });
    const payload = pullRequestPayload(fx, { author: "alice", number: 93, sender: "carol" });
    payload.action = "submitted";
    payload.review = { state: "approved", user: { login: "carol" } };
    const run = await gh.run(fx, {
      event: "pull_request_review" as "pull_request",
      payload,
      run: false,
      inputs: { comment: "false" },
    });
    // Either judged as the pull request it is (E403 on bob's files) or refused: never a green check on its head.
    expect(run.code).toBe(1);
  });
});
