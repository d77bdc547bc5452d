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
  pushToFeature,
  renderInto,
  scaleQwen,
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

    // bob's folder is still not alice's on main: the retargeted PR must fail, never pass on playground's
    // users.yaml. The checkout merges into playground, not main: it is refused (re-run once GitHub rebuilt it).
    expect(run.code).toBe(1);
    expect(run.outputs.ok).not.toBe("true");
    expect(run.stdout + run.stderr).toContain(
      "which is not on the base branch main: GitHub's merge commit is stale",
    );
    // Rights are main's in any case: the same PR checked out as GitHub's merge into main fails on bob's file.
    checkoutMerge(fx);
    const rebuilt = await gh.run(fx, {
      event: "pull_request",
      payload: edited,
      inputs: { comment: "false" },
    });
    expect(rebuilt.code).toBe(1);
    expect(errors(rebuilt).map((a) => `${a.properties.title} ${a.properties.file}`)).toContain(
      "E403 ownership models/bob/qwen-7b.yaml",
    );
  });
  it("counts the old base's own commits (users.yaml making the author an admin) as changed once it targets main", async () => {
    // Review r4: rights are now read at main's tip, but what counts as changed is still measured from the stale
    // merge commit's first parent, the OLD base. A PR whose old base is a branch its author controls carries
    // that branch's commits into main when merged, and none of them is judged.
    // alice's `playground` (off main) makes her an admin in users.yaml; her feature branch starts from it.
    const fx = gh.fixture({
      head: (dir) => {
        edit(dir, "models/users.yaml", (text) =>
          text.replace("  - platform-admin", "  - platform-admin\n  - alice"),
        );
        write(dir, ".github/CODEOWNERS", codeownersOf(readWorkingTree(dir)).text!);
      },
    });
    const playground = fx.headSha;
    git(fx, fx.seed, ["branch", "playground", playground]);
    git(fx, fx.seed, ["push", "-q", "origin", "playground"]);
    // On top of it she changes only her own model, and opens the PR against playground.
    pushToFeature(fx, scaleQwen(2));
    checkoutMerge(fx, playground);
    gh.server.addActivity({ ref: "feature", after: fx.headSha, before: playground, actor: "alice" });
    const opened = pullRequestPayload(fx, { author: "alice", number: 62 }) as {
      action: string;
      pull_request: { base: { sha: string; ref: string } };
    };
    opened.action = "opened";
    opened.pull_request.base.sha = playground;
    opened.pull_request.base.ref = "playground";
    const first = await gh.run(fx, { event: "pull_request", payload: opened, inputs: { comment: "false" } });
    expect(first.code).toBe(0); // her own model, into her own branch

    // Retargeted to main: the runner's checkout is still GitHub's merge into playground (actions/checkout#919).
    const edited = pullRequestPayload(fx, { author: "alice", number: 62 }) as Record<string, unknown> & {
      action: string;
      pull_request: { base: { sha: string; ref: string } };
    };
    edited.action = "edited";
    edited.changes = { base: { ref: { from: "playground" }, sha: { from: playground } } };
    expect(edited.pull_request.base.ref).toBe("main");
    const run = await gh.run(fx, { event: "pull_request", payload: edited, inputs: { comment: "false" } });
    // Merging it into main makes alice an admin: the check must fail it (E403 on models/users.yaml) or refuse
    // a checkout that is not a merge into main; it passed (exit 0, ok=true).
    expect(run.code).toBe(1);
    expect(run.outputs.ok).not.toBe("true");
  });
});
