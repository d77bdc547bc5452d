import { describe, expect, it } from "vitest";
import { codeownersOf, PLAN_MARKER } from "../../../generator/src";
import { readWorkingTree } from "../../../generator/src/io/working-tree";
import {
  checkoutMerge,
  edit,
  fileErrors as errors,
  git,
  pullRequestPayload,
  read,
  renderInto,
  scaleQwen,
  TOKENS,
  useGitHubServer,
  write,
  type Fixture,
} from "./testing/harness";

const gh = useGitHubServer({ [TOKENS.workflow]: { login: "github-actions[bot]" } });

const editBob = (dir: string) => {
  edit(dir, "models/bob/qwen-7b.yaml", (text) => text.replace("max_num_seqs: 128", "max_num_seqs: 1"));
  renderInto(dir);
};

/**
 * alice (write access: she pushes her own branches) pushes `playground` off main, where users.yaml makes
 * her an admin, and opens her PR against it. The runner's checkout is GitHub's merge into playground.
 */
function prIntoPlayground(f: Fixture): Record<string, unknown> {
  git(f, f.seed, ["checkout", "-q", "-b", "playground", f.baseSha]);
  edit(f.seed, "models/users.yaml", (text) =>
    text.replace("  - platform-admin", "  - platform-admin\n  - alice"),
  );
  write(f.seed, ".github/CODEOWNERS", codeownersOf(readWorkingTree(f.seed)).text!);
  git(f, f.seed, ["add", "-A"]);
  git(f, f.seed, ["commit", "-q", "-m", "playground"]);
  const playground = git(f, f.seed, ["rev-parse", "HEAD"]);
  git(f, f.seed, ["push", "-q", "origin", "playground", "feature"]);
  checkoutMerge(f, playground);
  const payload = pullRequestPayload(f, { author: "alice", number: 31 }) as {
    pull_request: { base: { sha: string; ref: string } };
  };
  payload.pull_request.base.sha = playground;
  payload.pull_request.base.ref = "playground";
  return payload;
}

describe("rights", () => {
  it("come from the default branch's users.yaml, not from a base branch the author controls", async () => {
    const fx = gh.fixture({ head: editBob });
    const run = await gh.run(fx, { event: "pull_request", payload: prIntoPlayground(fx) });
    expect(run.code).toBe(1);
    expect(errors(run).map((a) => `${a.properties.title} ${a.properties.file}`)).toEqual([
      "E403 ownership clusters/h1/rendered/bob/qwen-7b.yaml",
      "E403 ownership clusters/lab/rendered/bob/qwen-7b.yaml",
      "E403 ownership models/bob/qwen-7b.yaml",
    ]);
    expect(errors(run)[2]!.message).toContain(
      "user bob's folder; @alice may change only models/alice/ and clusters/*/rendered/alice/",
    );
  });

  it("fetch the default branch when the checkout lacks it", async () => {
    const fx = gh.fixture({ head: editBob });
    const payload = prIntoPlayground(fx);
    git(fx, fx.workspace, ["update-ref", "-d", "refs/remotes/origin/main"]);
    const run = await gh.run(fx, { event: "pull_request", payload });
    expect(run.code).toBe(1);
    expect(errors(run).map((a) => a.properties.title)).toEqual(Array(3).fill("E403 ownership"));
    expect(git(fx, fx.workspace, ["rev-parse", "refs/remotes/origin/main"])).toBe(fx.baseSha);
  });

  it("refuse to judge when the default branch cannot be read", async () => {
    const fx = gh.fixture({ head: editBob });
    const payload = prIntoPlayground(fx);
    git(fx, fx.workspace, ["update-ref", "-d", "refs/remotes/origin/main"]);
    git(fx, fx.workspace, ["remote", "set-url", "origin", `${fx.dir}/no-such-remote.git`]);
    const run = await gh.run(fx, { event: "pull_request", payload });
    expect(run.code).toBe(1);
    expect(run.outputs.ok).toBeUndefined();
    expect(run.annotations.map((a) => a.message)).toEqual([
      "the check failed to run: the default branch main is not in the checkout and could not be fetched: rights are read from its models/users.yaml. Check out with actions/checkout and fetch-depth: 0",
    ]);
  });

  it("must cover whoever pushed, not only the PR's author", async () => {
    const fx = gh.fixture({ head: editBob });
    const run = await gh.pullRequest(fx, { author: "platform-admin", sender: "alice", number: 32 });
    expect(run.code).toBe(1);
    const denied = errors(run);
    expect(denied.map((a) => a.properties.file)).toEqual([
      "clusters/h1/rendered/bob/qwen-7b.yaml",
      "clusters/lab/rendered/bob/qwen-7b.yaml",
      "models/bob/qwen-7b.yaml",
    ]);
    expect(denied[2]!.message).toContain("@alice (who pushed) may change only models/alice/");
  });

  it("of an admin who pushes to a user's PR are enough for the pusher's part", async () => {
    const fx = gh.fixture({ head: editBob });
    const run = await gh.pullRequest(fx, { author: "bob", sender: "platform-admin", number: 33 });
    expect(errors(run)).toEqual([]);
    expect(run.code).toBe(0);
  });
});

describe("a broken users.yaml on the default branch", () => {
  const USERS = "models/users.yaml";
  let good = "";
  const breakUsers = (dir: string) => {
    good = read(dir, USERS);
    write(dir, USERS, good.replace("gpu_quota: 4", "gpu_quota: four"));
  };

  it("can be fixed by an admin's pull request: the admins keep their rights", async () => {
    const fx = gh.fixture({ base: breakUsers, head: (dir) => write(dir, USERS, good) });
    const run = await gh.pullRequest(
      fx,
      { author: "platform-admin", number: 50 },
      { inputs: { comment: "false" } },
    );
    expect(errors(run).filter((a) => a.properties.title === "E403 ownership")).toEqual([]);
    expect(run.code).toBe(0);
  });

  it("leaves everyone else without rights, and says why", async () => {
    const fx = gh.fixture({ base: breakUsers, head: (dir) => write(dir, USERS, good) });
    const run = await gh.pullRequest(fx, { author: "alice", number: 51 }, { inputs: { comment: "false" } });
    expect(run.code).toBe(1);
    expect(errors(run).find((a) => a.properties.title === "E403 ownership")!.message).toBe(
      "models/users.yaml on the base branch is invalid: until it is fixed only its admins keep their rights, for every path; @alice is not one of them. This change needs an admin (@platform-admin).",
    );
  });
});

describe("who pushed the head", () => {
  const editAlice = scaleQwen(2);
  // Fixtures are alike to the SHA: each test its own PR, so no test reads another's plan comment.
  let number = 40;
  const event = (f: Fixture, action: string, sender: string, type = "User") => {
    const payload = pullRequestPayload(f, { author: "alice", sender, number }) as {
      action: string;
      sender: { type: string };
    };
    payload.action = action;
    payload.sender.type = type;
    return payload;
  };

  it("is still judged when the author edits the PR after someone else pushed to it", async () => {
    const fx = gh.fixture({ head: editAlice });
    const pushed = await gh.run(fx, { event: "pull_request", payload: event(fx, "synchronize", "mallory") });
    expect(pushed.code).toBe(1);
    // The plan comment says nothing about who pushed: the later runs read GitHub's workflow runs.
    expect(gh.server.comments(number)[0]!.body).not.toContain("pushed-by");
    for (const [action, sender, type] of [
      ["edited", "alice", "User"],
      ["reopened", "alice", "User"],
      ["edited", "some-app[bot]", "Bot"],
    ] as const) {
      const run = await gh.run(fx, { event: "pull_request", payload: event(fx, action, sender, type) });
      expect(run.code).toBe(1);
      expect(errors(run)[0]!.message).toContain("@mallory (who pushed) is not listed in models/users.yaml");
    }
  });

  it("fails closed when no earlier run shows who pushed the head", async () => {
    number++;
    const fx = gh.fixture({ head: editAlice });
    const run = await gh.run(fx, { event: "pull_request", payload: event(fx, "edited", "alice") });
    expect(run.code).toBe(1);
    expect(errors(run).map((a) => a.message)).toEqual([
      `cannot tell who pushed ${fx.headSha.slice(0, 7)}: this run was started by \`edited\` (@alice), which does not say who pushed ${fx.headSha.slice(0, 7)}, and the workflow runs of the head do not tell either: this is the first run of the check for ${fx.headSha.slice(0, 7)}, so no earlier run shows who pushed it. The author's rights do not cover commits someone else pushes, so the check fails closed: push to the branch again, or re-run the check's run for the push (the \`synchronize\` run: a re-run keeps its event's sender) so the pusher is judged.`,
    ]);
  });

  it("passes the author's own edit after the author's own push", async () => {
    number++;
    const fx = gh.fixture({ head: editAlice });
    expect(
      (await gh.run(fx, { event: "pull_request", payload: event(fx, "synchronize", "alice") })).code,
    ).toBe(0);
    const run = await gh.run(fx, { event: "pull_request", payload: event(fx, "edited", "alice") });
    expect(errors(run)).toEqual([]);
    expect(run.code).toBe(0);
  });

  it("judges a bot that pushes like anyone else", async () => {
    number++;
    const fx = gh.fixture({ head: editAlice });
    const run = await gh.run(fx, {
      event: "pull_request",
      payload: event(fx, "synchronize", "other-app[bot]", "Bot"),
    });
    expect(run.code).toBe(1);
    expect(errors(run)[0]!.message).toContain(
      "@other-app[bot] (who pushed) is not listed in models/users.yaml",
    );
  });
});

describe("a forged push record in a bot's comment (security probe)", () => {
  // alice (who owns only models/alice/) pushes a commit into bob's PR branch that edits bob's model, and
  // from a workflow of her own with `pull-requests: write` posts, as github-actions[bot] like the check
  // itself, a comment that starts with the plan marker and claims bob pushed the head.
  let number = 70;
  const event = (f: Fixture, action: string, sender: string) => {
    const payload = pullRequestPayload(f, { author: "bob", sender, number }) as { action: string };
    payload.action = action;
    return payload;
  };
  const forge = (f: Fixture) =>
    gh.server.addComment("acme/serving", number, {
      login: "github-actions[bot]",
      body: `${PLAN_MARKER}\n<!-- serve-gitops:pushed-by=bob head=${f.headSha} -->\n### serve-gitops plan for ${f.headSha.slice(0, 7)}: ✅ passes\n`,
    });

  it("is not taken for who pushed: the workflow runs name alice, who is judged", async () => {
    const fx = gh.fixture({ head: editBob });
    const pushed = await gh.run(fx, {
      event: "pull_request",
      payload: event(fx, "synchronize", "alice"),
      inputs: { comment: "false" },
    });
    expect(pushed.code).toBe(1);
    const forged = forge(fx);
    expect(forged.user?.type).toBe("Bot");
    const run = await gh.run(fx, { event: "pull_request", payload: event(fx, "edited", "bob") });
    expect(run.code).toBe(1);
    expect(errors(run).map((a) => a.message)[0]).toContain("@alice (who pushed)");
    expect(run.stdout).toContain(
      `Who pushed ${fx.headSha.slice(0, 7)}: @alice, from the workflow run of the push`,
    );
    expect(run.stdout).not.toContain("@bob, from");
    // The sticky comment is still the one comment, edited in place: the forgery is overwritten.
    const comments = gh.server.comments(number);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.id).toBe(forged.id);
    expect(comments[0]!.body).not.toContain("pushed-by");
    expect(comments[0]!.body).toContain("❌");
  });

  it("is not taken for who pushed when the workflow runs cannot tell: the run fails closed", async () => {
    number++;
    const fx = gh.fixture({ head: editBob });
    forge(fx);
    const run = await gh.run(fx, { event: "pull_request", payload: event(fx, "edited", "bob") });
    expect(run.code).toBe(1);
    expect(errors(run).map((a) => a.message)).toEqual([
      expect.stringContaining(`cannot tell who pushed ${fx.headSha.slice(0, 7)}:`),
    ]);
    expect(run.stdout).toContain(`Who pushed ${fx.headSha.slice(0, 7)}: unknown (this is the first run`);
  });
});

describe("the base of a pull request", () => {
  it("is the merge commit's first parent when main moved on after the payload's base.sha", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    // Meanwhile bob's new model is merged into main, and GitHub's merge commit is made against it.
    git(fx, fx.seed, ["checkout", "-q", "main"]);
    write(
      fx.seed,
      "models/bob/new-one.yaml",
      "model_id: new-one\nmodel_source: $HOME/common/hf/x\nnum_replicas: 1\ngpus_per_replica: 1\nclusters: [lab]\n",
    );
    renderInto(fx.seed, "2026-02-01T00:00:00Z");
    git(fx, fx.seed, ["add", "-A"]);
    git(fx, fx.seed, ["commit", "-q", "-m", "bob's model"]);
    git(fx, fx.seed, ["push", "-q", "origin", "main"]);
    const main = git(fx, fx.seed, ["rev-parse", "HEAD"]);
    checkoutMerge(fx, main);
    const run = await gh.pullRequest(fx, { author: "alice", number: 34 }, { inputs: { comment: "false" } });
    expect(errors(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.outputs["changed-models"]!)).toEqual(["alice/qwen-0.5b"]);
    expect(run.summary).toContain(`base \`${main.slice(0, 7)}\``);
    expect(run.summary).not.toContain("new-one");
  });
});
