// GitHub builds a PR's merge commit (refs/pull/N/merge, GITHUB_SHA) asynchronously and does not always
// rebuild it before the run starts: a run can be handed the merge commit of an OLDER head than its payload's
// head.sha (actions/checkout#919 after a base change; #518, #27 for pushes). The check validates the checkout
// ("the tree the PR would produce") while it judges ownership and reports on the payload's head.
import { describe, expect, it } from "vitest";
import {
  checkoutMerge,
  edit,
  fileErrors as errors,
  git,
  pullRequestPayload,
  pushToFeature,
  scaleQwen,
  TOKENS,
  useGitHubServer,
} from "./testing/harness";

const gh = useGitHubServer({ [TOKENS.workflow]: { login: "github-actions[bot]" } });

describe("a checkout that is GitHub's merge commit of an older head than the event's", () => {
  it("does not pass the newer head's broken spec unvalidated", async () => {
    // alice's PR first scales her model (valid), and GitHub builds its merge commit.
    const fx = gh.fixture({ head: scaleQwen(2) });
    const staleMerge = fx.mergeSha;
    const oldHead = fx.headSha;
    // She then pushes a spec with a misspelt engine argument: the event names this new head...
    pushToFeature(fx, (dir) =>
      edit(dir, "models/alice/qwen-0.5b.yaml", (t) =>
        t.replace("gpu_memory_utilization", "gpu_memory_utilisation"),
      ),
    );
    expect(fx.headSha).not.toBe(oldHead);
    // ...while the runner's checkout is still the merge commit GitHub built for the old head.
    git(fx, fx.workspace, ["checkout", "-q", "--detach", staleMerge]);
    gh.server.addActivity({ ref: "feature", after: fx.headSha, before: oldHead, actor: "alice" });
    const payload = pullRequestPayload(fx, { author: "alice", number: 71 }) as { action: string };
    payload.action = "reopened";
    const run = await gh.run(fx, {
      event: "pull_request",
      payload,
      sha: staleMerge,
      inputs: { comment: "false" },
    });
    // The head it reports on has an error: the check must find it (validate the head's merge) or refuse to
    // judge a checkout that is not a merge of the head, never report the head as passing.
    expect(run.code).toBe(1);
    expect(run.outputs.ok).not.toBe("true");
  });

  it("(control) finds the error when the checkout is the new head's merge commit", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    pushToFeature(fx, (dir) =>
      edit(dir, "models/alice/qwen-0.5b.yaml", (t) =>
        t.replace("gpu_memory_utilization", "gpu_memory_utilisation"),
      ),
    );
    checkoutMerge(fx);
    const run = await gh.pullRequest(fx, { author: "alice", number: 72 }, { inputs: { comment: "false" } });
    expect(run.code).toBe(1);
    expect(errors(run).map((a) => a.properties.title)).toContain("E400 engine-kwarg-unknown");
  });
});
