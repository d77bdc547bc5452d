import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkRepo, isRenderCurrent, timestampsOf } from "../../../generator/src";
import { readCommitSnapshot } from "../../../generator/src/io/git";
import { QUEUE_RENDER_NOTE, RENDER_COMMAND } from "./render-check";
import {
  checkoutMerge,
  edit,
  fileErrors,
  git,
  HEAD_DATE,
  pullRequestPayload,
  pushPayload,
  renderInto,
  runAction,
  runPush,
  scaleQwen,
  TOKENS,
  useGitHubServer,
  write,
  type ActionRun,
  type Fixture,
} from "./testing/harness";

const gh = useGitHubServer({
  [TOKENS.workflow]: { login: "github-actions[bot]" },
  [TOKENS.app]: { login: "serve-gitops-app[bot]" },
});

/** A spec change committed without running `serve-gitops render`. */
const unrendered = (dir: string) =>
  edit(dir, "models/alice/qwen-0.5b.yaml", (text) =>
    text.replace("max_model_len: 8192", "max_model_len: 4096"),
  );

const COMMIT_RENDERED = { "commit-rendered": "true" };

const remoteFeature = (f: Fixture) => git(f, f.remote, ["rev-parse", "refs/heads/feature"]);

/** A commit on top of the PR branch, made by `change` in the developer's clone and pushed; its SHA. */
const commitOnFeature = (f: Fixture, change: (dir: string) => void): string => {
  change(f.seed);
  git(f, f.seed, ["add", "-A"]);
  git(f, f.seed, ["commit", "-q", "-m", "Render serving specs"]);
  git(f, f.seed, ["push", "-q", "origin", "feature"]);
  return git(f, f.seed, ["rev-parse", "HEAD"]);
};

/** GitHub's run for a commit the App's bot pushed to the PR branch: `synchronize`, the bot its sender. */
const runOnRender = (f: Fixture, pushed: string, number: number): Promise<ActionRun> => {
  f.headSha = pushed;
  checkoutMerge(f);
  const payload = pullRequestPayload(f, { author: "alice", sender: "serve-gitops-app[bot]", number }) as {
    sender: { type: string };
  };
  payload.sender.type = "Bot";
  return gh.run(f, { event: "pull_request", payload, token: TOKENS.app });
};

describe("the render check", () => {
  it("fails a stale render with the exact command to run", async () => {
    const fx = gh.fixture({ head: unrendered });
    const run = await gh.pullRequest(fx, { author: "alice", number: 21 });
    expect(run.code).toBe(1);
    const stale = run.annotations.find((a) => a.properties.title === "E409 render-stale")!;
    expect(stale.raw).toMatch(
      /^::error title=E409 render-stale,file=models\/alice\/qwen-0\.5b\.yaml,line=1,col=1::/,
    );
    expect(stale.message).toContain("clusters/h1/rendered/alice/qwen-0.5b.yaml is out of date");
    expect(stale.message).toContain(RENDER_COMMAND);
    expect(run.summary).toContain(`\`\`\`sh\n${RENDER_COMMAND}\n\`\`\``);
    expect(run.summary).toContain("- stale: `clusters/h1/rendered/alice/qwen-0.5b.yaml`");
    // The `plan` output agrees with `ok`: a later step reading plan.ok sees the stale render too.
    expect(run.outputs.ok).toBe("false");
    const plan = JSON.parse(run.outputs.plan!) as { ok: boolean; diagnostics: { rule: string }[] };
    expect(plan.ok).toBe(false);
    expect(plan.diagnostics.map((d) => d.rule)).toContain("render-stale");
  });

  it("pushes the render to the PR branch with a GitHub App token (commit-rendered)", async () => {
    const fx = gh.fixture({ head: unrendered });
    const run = await gh.pullRequest(
      fx,
      { author: "alice", number: 22 },
      { token: TOKENS.app, inputs: COMMIT_RENDERED },
    );
    // This head still fails: a check belongs to its commit, and this commit's render is stale (moved back to it
    // by a push that starts no run, the branch would merge green). The run the push starts judges the new head.
    expect(run.code).toBe(1);
    expect(run.outputs.ok).toBe("false");
    expect(fileErrors(run).map((a) => a.properties.title)).toEqual(["E409 render-stale"]);
    const pushed = remoteFeature(fx);
    expect(pushed).not.toBe(fx.headSha);
    expect(git(fx, fx.remote, ["rev-parse", `${pushed}^`])).toBe(fx.headSha);
    expect(git(fx, fx.remote, ["diff", "--name-only", fx.headSha, pushed])).toBe(
      "clusters/h1/rendered/alice/qwen-0.5b.yaml",
    );
    // The pushed branch is exactly what the next run of the check accepts.
    const head = await readCommitSnapshot(fx.remote, pushed);
    const base = await readCommitSnapshot(fx.remote, fx.baseSha);
    expect(
      isRenderCurrent(
        checkRepo(head, { now: new Date(HEAD_DATE), timestamps: [timestampsOf(base)] }).renderDiff,
      ),
    ).toBe(true);
    expect(run.annotations.find((a) => a.level === "notice")!.message).toBe(
      `commit-rendered: pushed the render to feature as ${pushed}; the check runs again on it (this commit's render stays stale: its check fails)`,
    );
    expect(run.summary).toContain(
      `pushed to the branch as ${pushed}; the check runs again on it. This commit keeps its stale render, so its check fails.`,
    );
    // The runner's checkout is left as it was.
    expect(git(fx, fx.workspace, ["rev-parse", "HEAD"])).toBe(fx.mergeSha);
    expect(git(fx, fx.workspace, ["status", "--porcelain"])).toBe("");
  });

  it("notes a failed push of the render with git's words kept inert in the job summary", async () => {
    const fx = gh.fixture({ head: unrendered });
    // The remote refuses, echoing text a branch name may hold: an HTML comment opener and a team mention.
    const hook = join(fx.remote, "hooks/pre-receive");
    writeFileSync(hook, "#!/bin/sh\necho 'refused <!-- @acme/admins' >&2\nexit 1\n", { mode: 0o755 });
    const run = await gh.pullRequest(
      fx,
      { author: "alice", number: 29 },
      { token: TOKENS.app, inputs: COMMIT_RENDERED },
    );
    expect(run.code).toBe(1);
    expect(remoteFeature(fx)).toBe(fx.headSha);
    const note = run.summary.split("\n").find((l) => l.includes("commit-rendered: the push failed"))!;
    expect(note).toMatch(/^> commit-rendered: the push failed: `[^`]*refused <!-- @acme\/admins[^`]*`$/);
  });

  it("judges the person it rendered for, not its own bot, on the render commit it pushed", async () => {
    const fx = gh.fixture({ head: unrendered });
    const first = await gh.pullRequest(
      fx,
      { author: "alice", number: 23 },
      { token: TOKENS.app, inputs: COMMIT_RENDERED },
    );
    expect(first.code).toBe(1); // the stale head fails; the pushed render is judged by its own run
    const pushed = remoteFeature(fx);
    const rendered = fx.headSha;
    // GitHub's run for the render commit: sender is the App's bot. Whom the render is for comes from the
    // workflow runs of the commit it rendered (the first run's actor), not from the plan comment.
    const second = await runOnRender(fx, pushed, 23);
    expect(second.annotations.filter((a) => a.level === "error")).toEqual([]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(
      `Who pushed ${pushed.slice(0, 7)}: @serve-gitops-app[bot], a render of commits pushed by @alice, from the workflow run of the push, run #`,
    );
    expect(
      gh.server.requests
        .filter((r) => r.path === "/repos/acme/serving/actions/runs")
        .map((r) => r.query.head_sha),
    ).toEqual([pushed, rendered]);
  });

  it("passes a title edit on the render commit it pushed: the bot's render is judged as the person it rendered for", async () => {
    const fx = gh.fixture({ head: unrendered });
    gh.server.addActivity({ ref: "feature", after: fx.headSha, before: fx.baseSha, actor: "alice" });
    const first = await gh.pullRequest(
      fx,
      { author: "alice", number: 32 },
      { token: TOKENS.app, inputs: COMMIT_RENDERED },
    );
    expect(first.code).toBe(1); // the stale head fails; the pushed render is judged by its own run
    const pushed = remoteFeature(fx);
    gh.server.addActivity({
      ref: "feature",
      after: pushed,
      before: fx.headSha,
      actor: "serve-gitops-app[bot]",
    });
    // The run on the render commit passes: it judges alice, for whom the render was made.
    expect((await runOnRender(fx, pushed, 32)).code).toBe(0);
    // alice then edits the PR's title: the same head, the same change, the same people.
    const payload = pullRequestPayload(fx, { author: "alice", number: 32 }) as { action: string };
    payload.action = "edited";
    const edited = await gh.run(fx, { event: "pull_request", payload, token: TOKENS.app });
    expect(fileErrors(edited).map((a) => a.message)).toEqual([]);
    expect(edited.code).toBe(0);
  });

  it("passes a title edit on the render commit it pushed when only the workflow runs tell who pushed", async () => {
    const fx = gh.fixture({ head: unrendered });
    const first = await gh.pullRequest(
      fx,
      { author: "alice", number: 33 },
      { token: TOKENS.app, inputs: COMMIT_RENDERED },
    );
    expect(first.code).toBe(1); // the stale head fails; the pushed render is judged by its own run
    const pushed = remoteFeature(fx);
    expect((await runOnRender(fx, pushed, 33)).code).toBe(0);
    // No activity in the log: the render commit's earliest run is the bot's, so the run of the commit it
    // rendered (alice's) names whom to judge.
    const payload = pullRequestPayload(fx, { author: "alice", number: 33 }) as { action: string };
    payload.action = "edited";
    const edited = await gh.run(fx, { event: "pull_request", payload, token: TOKENS.app });
    expect(fileErrors(edited).map((a) => a.message)).toEqual([]);
    expect(edited.code).toBe(0);
    expect(edited.stdout).toMatch(/Who pushed [0-9a-f]{7}: @alice, from /);
  });

  it("judges whoever pushed the commit a bot's render is on top of: mallory's push fails on mallory", async () => {
    const fx = gh.fixture({ head: unrendered });
    const payload = pullRequestPayload(fx, { author: "alice", sender: "mallory", number: 25 });
    expect((await gh.run(fx, { event: "pull_request", payload, token: TOKENS.app })).code).toBe(1);
    // A commit of nothing but the render on top of mallory's head, pushed as the App's bot.
    const second = await runOnRender(fx, commitOnFeature(fx, renderInto), 25);
    expect(second.code).toBe(1);
    expect(fileErrors(second)[0]!.message).toContain("@mallory (who pushed the commits the check rendered)");
  });

  it("judges a bot's push of more than a render as the bot, reading no runs", async () => {
    const fx = gh.fixture({ head: unrendered });
    expect((await gh.pullRequest(fx, { author: "alice", number: 26 }, { token: TOKENS.app })).code).toBe(1);
    const more = commitOnFeature(fx, (dir) => {
      renderInto(dir);
      edit(dir, "models/alice/qwen-0.5b.yaml", (text) => `${text}# and more\n`);
    });
    const second = await runOnRender(fx, more, 26);
    expect(second.code).toBe(1);
    expect(fileErrors(second)[0]!.message).toContain("@serve-gitops-app[bot] (who pushed)");
    expect(gh.server.requests.some((r) => r.path === "/repos/acme/serving/actions/runs")).toBe(false);
  });

  it("refuses commit-rendered with the workflow's own token, and says why", async () => {
    const fx = gh.fixture({ head: unrendered });
    const run = await gh.pullRequest(fx, { author: "alice", number: 23 }, { inputs: COMMIT_RENDERED });
    expect(run.code).toBe(1);
    expect(remoteFeature(fx)).toBe(fx.headSha);
    const warning = run.annotations.find((a) => a.level === "warning")!;
    expect(warning.message).toContain(
      "github-token is the workflow's own token: a push made with it starts no workflow run",
    );
    expect(run.annotations.some((a) => a.properties.title === "E409 render-stale")).toBe(true);
  });

  it("refuses commit-rendered on a fork PR", async () => {
    const fx = gh.fixture({ head: unrendered });
    const run = await gh.pullRequest(
      fx,
      { author: "alice", number: 24, fork: true },
      { token: TOKENS.app, inputs: COMMIT_RENDERED },
    );
    expect(run.code).toBe(1);
    expect(remoteFeature(fx)).toBe(fx.headSha);
    expect(run.annotations.find((a) => a.level === "warning")!.message).toContain("comes from a fork");
  });
});

/** bob's fragments as an older generator left them on main: the base branch's render is stale. */
const olderGenerator = (dir: string) => {
  for (const cluster of ["h1", "lab"])
    edit(dir, `clusters/${cluster}/rendered/bob/qwen-7b.yaml`, (text) =>
      text.replace(/^generator: .*$/m, 'generator: "serve-gitops 0.0.9"'),
    );
};
/** Base: alice's own qwen-0.5b fragment on h1 is stale. Head: alice retunes her llama-8b and renders it only. */
const staleQwen = (dir: string) =>
  edit(dir, "clusters/h1/rendered/alice/qwen-0.5b.yaml", (text) =>
    text.replace(/num_replicas: 1/g, "num_replicas: 5"),
  );
const retuneLlamaOnly = (dir: string) => {
  edit(dir, "models/alice/llama-8b.yaml", (text) => text.replace("max_replicas: 2", "max_replicas: 3"));
  renderInto(dir);
  staleQwen(dir);
};
const titles = (run: ActionRun) =>
  run.annotations
    .filter((a) => a.properties.file !== undefined)
    .map((a) => `${a.level} ${a.properties.title} ${a.properties.file}`);

describe("a stale render on the base branch", () => {
  it("fails an admin's tools-only PR, which is checked in full, with the command to re-render", async () => {
    const fx = gh.fixture({
      base: olderGenerator,
      head: (dir) => write(dir, "generator/src/version.ts", 'export const VERSION = "0.1.0";\n'),
    });
    const run = await gh.pullRequest(fx, { author: "platform-admin", number: 25 });
    expect(run.code).toBe(1);
    expect(titles(run)).toEqual(["error E409 render-stale models/bob/qwen-7b.yaml"]);
    expect(run.summary).toContain(`\`\`\`sh\n${RENDER_COMMAND}\n\`\`\``);
    expect(run.summary).toContain("- stale: `clusters/h1/rendered/bob/qwen-7b.yaml`");
  });

  it("only warns a model owner whose PR leaves the base's stale fragments alone", async () => {
    const fx = gh.fixture({
      base: olderGenerator,
      head: (dir) => {
        scaleQwen(2)(dir);
        olderGenerator(dir); // what alice commits: only her own fragments re-rendered
      },
    });
    const run = await gh.pullRequest(fx, { author: "alice", number: 26 });
    expect(run.code).toBe(0);
    expect(titles(run)).toEqual(["warning E409 render-stale models/bob/qwen-7b.yaml"]);
    const warning = run.annotations.find((a) => a.level === "warning")!;
    expect(warning.message).toContain("the base branch's render is stale");
    expect(warning.message).toContain("an admin must re-render main");
    expect(run.summary).toContain("- stale on the base: `clusters/h1/rendered/bob/qwen-7b.yaml`");
    expect(run.summary).toContain("Nothing this change renders is stale.");
  });

  it("only warns on the base's stale fragments when the base also has a spec error the PR fixes", async () => {
    const fx = gh.fixture({
      base: (dir) => {
        olderGenerator(dir);
        // alice's spec broke on the base (num_replicas 0: no render of the base at all).
        edit(dir, "models/alice/qwen-0.5b.yaml", (text) =>
          text.replace(/num_replicas: \d+/, "num_replicas: 0"),
        );
      },
      head: (dir) => {
        scaleQwen(2)(dir);
        olderGenerator(dir); // alice fixes and renders her own spec only
      },
    });
    const run = await gh.pullRequest(fx, { author: "alice", number: 27 }, { inputs: { comment: "false" } });
    expect(titles(run)).toEqual(["warning E409 render-stale models/bob/qwen-7b.yaml"]);
    expect(run.code).toBe(0);
  });

  it("tells the author that the base's stale fragments are their own to re-render if they like", async () => {
    const fx = gh.fixture({ base: staleQwen, head: retuneLlamaOnly });
    const run = await gh.pullRequest(fx, { author: "alice", number: 28 }, { inputs: { comment: "false" } });
    expect(run.code).toBe(0);
    const warning = run.annotations.find((a) => a.properties.title === "E409 render-stale")!;
    expect(warning.level).toBe("warning");
    expect(warning.message).toContain(
      "these are your own fragments: you may re-render them here (`npx serve-gitops render`, then commit only clusters/h1/rendered/alice/qwen-0.5b.yaml)",
    );
    expect(warning.message).not.toContain("someone else");
  });

  it("tells a file under rendered/ that is no fragment to be removed", async () => {
    const fx = gh.fixture({ head: (dir) => write(dir, "clusters/h1/rendered/alice/README.md", "notes\n") });
    const run = await gh.pullRequest(fx, { author: "alice", number: 29 }, { inputs: { comment: "false" } });
    expect(run.code).toBe(1);
    const stale = run.annotations.find((a) => a.properties.title === "E409 render-stale")!;
    expect(stale.properties.file).toBe("clusters/h1/rendered/alice/README.md");
    expect(stale.message).toMatch(/^clusters\/h1\/rendered\/alice\/README\.md is not a rendered fragment: /);
    expect(stale.message).toContain("(`git rm clusters/h1/rendered/alice/README.md`)");
  });

  it("still fails the staleness a PR causes itself, next to the base's", async () => {
    const fx = gh.fixture({ base: olderGenerator, head: unrendered });
    const run = await gh.pullRequest(fx, { author: "alice", number: 27 });
    expect(run.code).toBe(1);
    expect(titles(run)).toEqual([
      "error E409 render-stale models/alice/qwen-0.5b.yaml",
      "warning E409 render-stale models/bob/qwen-7b.yaml",
    ]);
  });

  it("names the PR's base branch where renamed fragments are restored from", async () => {
    const fx = gh.fixture({
      head: (dir) => {
        // Fragments rendered afresh (a new served-name timestamp) rename a model the base already has.
        for (const cluster of ["h1", "lab"])
          rmSync(join(dir, `clusters/${cluster}/rendered/alice/qwen-0.5b.yaml`), { force: true });
        scaleQwen(2)(dir);
      },
    });
    const run = await gh.pullRequest(fx, { author: "alice", number: 28 });
    expect(run.code).toBe(1);
    const stale = run.annotations.find((a) => a.properties.title === "E409 render-stale")!;
    expect(stale.message).toContain("git checkout origin/main -- clusters/*/rendered/alice/qwen-0.5b.yaml");
  });
});

/** GitHub's merge_group event for a queue group of the PR merged onto main: the workspace's merge commit. */
const queuedMerge = (fx: Fixture) => ({
  action: "checks_requested",
  merge_group: { base_sha: fx.baseSha, head_sha: fx.mergeSha, base_ref: "refs/heads/main" },
  repository: { full_name: "acme/serving", default_branch: "main" },
});

describe("push mode", () => {
  it("validates main after a push, checks the render and sets the outputs without calling the API", async () => {
    const fx = gh.fixture({
      head: (dir) => {
        edit(dir, "models/bob/qwen-7b.yaml", (text) => text.replace("num_replicas: 2", "num_replicas: 1"));
        renderInto(dir);
      },
    });
    const run = await runPush(fx, { server: gh.server });
    expect(run.code).toBe(0);
    expect(run.outputs.ok).toBe("true");
    expect(JSON.parse(run.outputs["changed-models"]!)).toEqual(["bob/qwen-7b"]);
    expect(run.summary).toContain("The committed render is current");
    expect(gh.server.requests).toEqual([]);
  });

  it("needs no token in push mode: it never calls the API", async () => {
    const fx = gh.fixture({ head: (dir) => dir });
    const run = await runPush(fx, { token: "" });
    expect(run.code).toBe(0);
    expect(run.outputs.ok).toBe("true");
  });

  it("fails a push whose render is stale", async () => {
    const fx = gh.fixture({ head: unrendered });
    const run = await runPush(fx, { server: gh.server });
    expect(run.code).toBe(1);
    expect(run.outputs.ok).toBe("false");
    expect(run.annotations.some((a) => a.properties.title === "E409 render-stale")).toBe(true);
    expect(gh.server.requests).toEqual([]);
  });

  it("only warns a merge-queue group about the staleness its base already had, and keeps a push to main strict", async () => {
    const fx = gh.fixture({ base: staleQwen, head: retuneLlamaOnly });
    const grouped = await runAction(fx, { event: "merge_group", payload: queuedMerge(fx), token: "" });
    expect(grouped.annotations.filter((a) => a.level === "error")).toEqual([]);
    expect(grouped.code).toBe(0);
    const [inherited] = grouped.annotations.filter((a) => a.properties.title === "E409 render-stale");
    expect(inherited!.level).toBe("warning");
    expect(inherited!.message).toContain("the base branch's render is stale");
    expect(inherited!.message).toContain("an admin must re-render main");

    const pushed = await runAction(fx, {
      event: "push",
      payload: pushPayload(fx.baseSha, fx.mergeSha),
      token: "",
    });
    expect(pushed.code).toBe(1);
    expect(pushed.annotations.find((a) => a.properties.title === "E409 render-stale")!.level).toBe("error");
  });

  it("tells a merge-queue group whose render is stale how to fix it outside the queue", async () => {
    const fx = gh.fixture({ head: unrendered });
    const run = await runAction(fx, { event: "merge_group", payload: queuedMerge(fx), token: "" });
    expect(run.code).toBe(1);
    const stale = run.annotations.find((a) => a.properties.title === "E409 render-stale")!;
    expect(stale.level).toBe("error");
    expect(stale.message).toContain(RENDER_COMMAND);
    expect(stale.message.endsWith(QUEUE_RENDER_NOTE)).toBe(true);
  });

  it("checks a merge queue's commit in push mode", async () => {
    const fx = gh.fixture({
      head: (dir) => {
        unrendered(dir);
        renderInto(dir);
      },
    });
    git(fx, fx.workspace, ["checkout", "-q", "--detach", fx.headSha]);
    const payload = {
      action: "checks_requested",
      merge_group: {
        base_sha: fx.baseSha,
        head_sha: fx.headSha,
        head_ref: "refs/heads/gh-readonly-queue/main/pr-7-x",
        base_ref: "refs/heads/main",
      },
      repository: { full_name: "acme/serving" },
    };
    const run = await gh.run(fx, { event: "merge_group", payload, sha: fx.headSha });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.outputs["changed-models"]!)).toEqual(["alice/qwen-0.5b"]);
    expect(gh.server.requests).toEqual([]);
  });
});
