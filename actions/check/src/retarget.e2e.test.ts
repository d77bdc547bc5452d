// Retargeting a PR (an `edited` event that changes its base) runs the check again, README says. GitHub does not
// recompute the PR's merge commit for it: the `edited` run's checkout is still the merge into the OLD base
// (actions/checkout#919, "Merge commit ref shouldn't stay same after changing base branch for a PR"). The
// check takes that merge commit's first parent as "the base branch as GitHub merged it" and, since the
// payload now names the default branch, reads the rights from that parent: the old base's users.yaml.
import { describe, expect, it } from "vitest";
import { codeownersOf } from "../../../generator/src";
import { readWorkingTree } from "../../../generator/src/io/working-tree";
import {
  checkoutMerge,
  edit,
  fileErrors as errors,
  git,
  pullRequestPayload,
  renderInto,
  TOKENS,
  useGitHubServer,
  write,
} from "./testing/harness";

const gh = useGitHubServer({ [TOKENS.workflow]: { login: "github-actions[bot]" } });

const editBob = (dir: string) => {
  edit(dir, "models/bob/qwen-7b.yaml", (text) => text.replace("max_num_seqs: 128", "max_num_seqs: 1"));
  renderInto(dir);
};

describe("a pull request retargeted from a branch its author controls to main", () => {
  it("is judged by main's users.yaml, not by the old base's that GitHub's stale merge commit sits on", async () => {
    const fx = gh.fixture({ head: editBob });
    // alice (write access) pushes `playground` off main, where users.yaml makes her an admin...
    git(fx, fx.seed, ["checkout", "-q", "-b", "playground", fx.baseSha]);
    edit(fx.seed, "models/users.yaml", (text) =>
      text.replace("  - platform-admin", "  - platform-admin\n  - alice"),
    );
    write(fx.seed, ".github/CODEOWNERS", codeownersOf(readWorkingTree(fx.seed)).text!);
    git(fx, fx.seed, ["add", "-A"]);
    git(fx, fx.seed, ["commit", "-q", "-m", "playground"]);
    const playground = git(fx, fx.seed, ["rev-parse", "HEAD"]);
    git(fx, fx.seed, ["push", "-q", "origin", "playground", "feature"]);
    gh.server.addActivity({ ref: "feature", after: fx.headSha, before: fx.baseSha, actor: "alice" });

    // ...opens her PR (changing bob's model) against playground: the check rightly fails it on main's rights.
    checkoutMerge(fx, playground);
    const opened = pullRequestPayload(fx, { author: "alice", number: 61 }) as {
      action: string;
      pull_request: { base: { sha: string; ref: string } };
    };
    opened.action = "opened";
    opened.pull_request.base.sha = playground;
    opened.pull_request.base.ref = "playground";
    const first = await gh.run(fx, { event: "pull_request", payload: opened, inputs: { comment: "false" } });
    expect(first.code).toBe(1);
    expect(errors(first).map((a) => a.properties.file)).toContain("models/bob/qwen-7b.yaml");

    // Then she retargets it to main. The `edited` payload names main as the base; the runner's checkout is
    // still GitHub's merge commit of the head into playground (actions/checkout#919).
    const edited = pullRequestPayload(fx, { author: "alice", number: 61 }) as Record<string, unknown> & {
      action: string;
      pull_request: { base: { sha: string; ref: string } };
    };
    edited.action = "edited";
    edited.changes = { base: { ref: { from: "playground" }, sha: { from: playground } } };
    expect(edited.pull_request.base.ref).toBe("main");
    expect(edited.pull_request.base.sha).toBe(fx.baseSha);
    const run = await gh.run(fx, { event: "pull_request", payload: edited, inputs: { comment: "false" } });

    // bob's folder is still not alice's on main: the retargeted PR must fail (or refuse to judge a checkout
    // that is not a merge into main), never pass on playground's users.yaml.
    expect(run.code).toBe(1);
    expect(errors(run).map((a) => `${a.properties.title} ${a.properties.file}`)).toContain(
      "E403 ownership models/bob/qwen-7b.yaml",
    );
  });
});
