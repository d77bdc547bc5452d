import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkRepo, isRenderCurrent, timestampsOf } from "../../../generator/src";
import { readCommitSnapshot } from "../../../generator/src/io/git";
import type { GitHubApiServer } from "../../../generator/testkit/github-api-server";
import { QUEUE_RENDER_NOTE, RENDER_COMMAND } from "./render-check";
import {
  git,
  HEAD_DATE,
  makeFixture,
  pullRequestPayload,
  pushPayload,
  read,
  removeFixture,
  renderInto,
  runAction,
  TOKENS,
  write,
  useGitHubServer,
  type Fixture,
} from "./testing/harness";

let server: GitHubApiServer;
let fx: Fixture | undefined;

useGitHubServer(
  {
    [TOKENS.workflow]: { login: "github-actions[bot]" },
    [TOKENS.app]: { login: "serve-gitops-app[bot]" },
  },
  (started) => (server = started),
  () => {
    removeFixture(fx);
    fx = undefined;
  },
);

/** A spec change committed without running `serve-gitops render`. */
const unrendered = (dir: string) =>
  write(
    dir,
    "models/alice/qwen-0.5b.yaml",
    read(dir, "models/alice/qwen-0.5b.yaml").replace("max_model_len: 8192", "max_model_len: 4096"),
  );

const remoteFeature = (f: Fixture) => git(f, f.remote, ["rev-parse", "refs/heads/feature"]);

describe("the render check", () => {
  it("fails a stale render with the exact command to run", async () => {
    fx = makeFixture({ head: unrendered });
    const run = await runAction(fx, {
      event: "pull_request",
      payload: pullRequestPayload(fx, { author: "alice", number: 21 }),
      server,
    });
    expect(run.code).toBe(1);
    const stale = run.annotations.find((a) => a.properties.title === "E409 render-stale")!;
    expect(stale.raw).toMatch(
      /^::error title=E409 render-stale,file=models\/alice\/qwen-0\.5b\.yaml,line=1,col=1::/,
    );
    expect(stale.message).toContain("clusters/h1/rendered/alice/qwen-0.5b.yaml is out of date");
    expect(stale.message).toContain(RENDER_COMMAND);
    expect(run.summary).toContain(`\`\`\`sh\n${RENDER_COMMAND}\n\`\`\``);
    expect(run.summary).toContain("- stale: `clusters/h1/rendered/alice/qwen-0.5b.yaml`");
  });

  it("pushes the render to the PR branch with a GitHub App token (commit-rendered)", async () => {
    fx = makeFixture({ head: unrendered });
    const run = await runAction(fx, {
      event: "pull_request",
      payload: pullRequestPayload(fx, { author: "alice", number: 22 }),
      token: TOKENS.app,
      inputs: { "commit-rendered": "true" },
      server,
    });
    expect(run.code).toBe(0);
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
      `commit-rendered: pushed the render to feature as ${pushed}; the check runs again on it`,
    );
    expect(run.summary).toContain(`pushed to the branch as ${pushed}`);
    // The runner's checkout is left as it was.
    expect(git(fx, fx.workspace, ["rev-parse", "HEAD"])).toBe(fx.mergeSha);
    expect(git(fx, fx.workspace, ["status", "--porcelain"])).toBe("");
  });

  it("judges the person it rendered for, not its own bot, on the render commit it pushed", async () => {
    fx = makeFixture({ head: unrendered });
    const first = await runAction(fx, {
      event: "pull_request",
      payload: pullRequestPayload(fx, { author: "alice", number: 23 }),
      token: TOKENS.app,
      inputs: { "commit-rendered": "true" },
      server,
    });
    expect(first.code).toBe(0);
    const pushed = remoteFeature(fx);
    expect(server.comments(23)[0]!.body.split("\n")[1]).toBe(
      `<!-- serve-gitops:pushed-by=alice head=${pushed} -->`,
    );
    // GitHub's run for the render commit: sender is the App's bot.
    git(fx, fx.workspace, ["fetch", "-q", "origin"]);
    git(fx, fx.workspace, ["checkout", "-q", "--detach", fx.baseSha]);
    git(fx, fx.workspace, ["merge", "-q", "--no-ff", "--no-edit", pushed]);
    fx.mergeSha = git(fx, fx.workspace, ["rev-parse", "HEAD"]);
    fx.headSha = pushed;
    const payload = pullRequestPayload(fx, {
      author: "alice",
      sender: "serve-gitops-app[bot]",
      number: 23,
    }) as {
      sender: { type: string };
    };
    payload.sender.type = "Bot";
    const second = await runAction(fx, { event: "pull_request", payload, token: TOKENS.app, server });
    expect(second.annotations.filter((a) => a.level === "error")).toEqual([]);
    expect(second.code).toBe(0);
  });

  it("refuses commit-rendered with the workflow's own token, and says why", async () => {
    fx = makeFixture({ head: unrendered });
    const run = await runAction(fx, {
      event: "pull_request",
      payload: pullRequestPayload(fx, { author: "alice", number: 23 }),
      inputs: { "commit-rendered": "true" },
      server,
    });
    expect(run.code).toBe(1);
    expect(remoteFeature(fx)).toBe(fx.headSha);
    const warning = run.annotations.find((a) => a.level === "warning")!;
    expect(warning.message).toContain(
      "github-token is the workflow's own token: a push made with it starts no workflow run",
    );
    expect(run.annotations.some((a) => a.properties.title === "E409 render-stale")).toBe(true);
  });

  it("refuses commit-rendered on a fork PR", async () => {
    fx = makeFixture({ head: unrendered });
    const run = await runAction(fx, {
      event: "pull_request",
      payload: pullRequestPayload(fx, { author: "alice", number: 24, fork: true }),
      token: TOKENS.app,
      inputs: { "commit-rendered": "true" },
      server,
    });
    expect(run.code).toBe(1);
    expect(remoteFeature(fx)).toBe(fx.headSha);
    expect(run.annotations.find((a) => a.level === "warning")!.message).toContain("comes from a fork");
  });
});

/** bob's fragments as an older generator left them on main: the base branch's render is stale. */
const olderGenerator = (dir: string) => {
  for (const cluster of ["h1", "lab"]) {
    const path = `clusters/${cluster}/rendered/bob/qwen-7b.yaml`;
    write(dir, path, read(dir, path).replace(/^generator: .*$/m, 'generator: "serve-gitops 0.0.9"'));
  }
};
const scaleAlice = (dir: string) => {
  write(
    dir,
    "models/alice/qwen-0.5b.yaml",
    read(dir, "models/alice/qwen-0.5b.yaml").replace(/num_replicas: \d+/, "num_replicas: 2"),
  );
  renderInto(dir);
};
const titles = (run: { annotations: readonly { level: string; properties: Record<string, string> }[] }) =>
  run.annotations
    .filter((a) => a.properties.file !== undefined)
    .map((a) => `${a.level} ${a.properties.title} ${a.properties.file}`);

describe("a stale render on the base branch", () => {
  it("fails an admin's tools-only PR, which is checked in full, with the command to re-render", async () => {
    fx = makeFixture({
      base: olderGenerator,
      head: (dir) => write(dir, "generator/src/version.ts", 'export const VERSION = "0.1.0";\n'),
    });
    const run = await runAction(fx, {
      event: "pull_request",
      payload: pullRequestPayload(fx, { author: "platform-admin", number: 25 }),
      server,
    });
    expect(run.code).toBe(1);
    expect(titles(run)).toEqual(["error E409 render-stale models/bob/qwen-7b.yaml"]);
    expect(run.summary).toContain(`\`\`\`sh\n${RENDER_COMMAND}\n\`\`\``);
    expect(run.summary).toContain("- stale: `clusters/h1/rendered/bob/qwen-7b.yaml`");
  });

  it("only warns a model owner whose PR leaves the base's stale fragments alone", async () => {
    fx = makeFixture({
      base: olderGenerator,
      head: (dir) => {
        scaleAlice(dir);
        olderGenerator(dir); // what alice commits: only her own fragments re-rendered
      },
    });
    const run = await runAction(fx, {
      event: "pull_request",
      payload: pullRequestPayload(fx, { author: "alice", number: 26 }),
      server,
    });
    expect(run.code).toBe(0);
    expect(titles(run)).toEqual(["warning E409 render-stale models/bob/qwen-7b.yaml"]);
    const warning = run.annotations.find((a) => a.level === "warning")!;
    expect(warning.message).toContain("the base branch's render is stale");
    expect(warning.message).toContain("an admin must re-render main");
    expect(run.summary).toContain("- stale on the base: `clusters/h1/rendered/bob/qwen-7b.yaml`");
    expect(run.summary).toContain("Nothing this change renders is stale.");
  });

  it("tells the author that the base's stale fragments are their own to re-render if they like", async () => {
    const staleQwen = (dir: string) => {
      const path = "clusters/h1/rendered/alice/qwen-0.5b.yaml";
      write(dir, path, read(dir, path).replace(/num_replicas: 1/g, "num_replicas: 5"));
    };
    fx = makeFixture({
      base: staleQwen,
      head: (dir) => {
        write(
          dir,
          "models/alice/llama-8b.yaml",
          read(dir, "models/alice/llama-8b.yaml").replace("max_replicas: 2", "max_replicas: 3"),
        );
        renderInto(dir);
        staleQwen(dir);
      },
    });
    const run = await runAction(fx, {
      event: "pull_request",
      payload: pullRequestPayload(fx, { author: "alice", number: 28 }),
      server,
      inputs: { comment: "false" },
    });
    expect(run.code).toBe(0);
    const warning = run.annotations.find((a) => a.properties.title === "E409 render-stale")!;
    expect(warning.level).toBe("warning");
    expect(warning.message).toContain(
      "these are your own fragments: you may re-render them here (`npx serve-gitops render`, then commit only clusters/h1/rendered/alice/qwen-0.5b.yaml)",
    );
    expect(warning.message).not.toContain("someone else");
  });

  it("tells a file under rendered/ that is no fragment to be removed", async () => {
    fx = makeFixture({ head: (dir) => write(dir, "clusters/h1/rendered/alice/README.md", "notes\n") });
    const run = await runAction(fx, {
      event: "pull_request",
      payload: pullRequestPayload(fx, { author: "alice", number: 29 }),
      server,
      inputs: { comment: "false" },
    });
    expect(run.code).toBe(1);
    const stale = run.annotations.find((a) => a.properties.title === "E409 render-stale")!;
    expect(stale.properties.file).toBe("clusters/h1/rendered/alice/README.md");
    expect(stale.message).toMatch(/^clusters\/h1\/rendered\/alice\/README\.md is not a rendered fragment: /);
    expect(stale.message).toContain("(`git rm clusters/h1/rendered/alice/README.md`)");
  });

  it("still fails the staleness a PR causes itself, next to the base's", async () => {
    fx = makeFixture({ base: olderGenerator, head: unrendered });
    const run = await runAction(fx, {
      event: "pull_request",
      payload: pullRequestPayload(fx, { author: "alice", number: 27 }),
      server,
    });
    expect(run.code).toBe(1);
    expect(titles(run)).toEqual([
      "error E409 render-stale models/alice/qwen-0.5b.yaml",
      "warning E409 render-stale models/bob/qwen-7b.yaml",
    ]);
  });

  it("names the PR's base branch where renamed fragments are restored from", async () => {
    fx = makeFixture({
      head: (dir) => {
        // Fragments rendered afresh (a new served-name timestamp) rename a model the base already has.
        for (const cluster of ["h1", "lab"])
          rmSync(join(dir, `clusters/${cluster}/rendered/alice/qwen-0.5b.yaml`), { force: true });
        scaleAlice(dir);
      },
    });
    const run = await runAction(fx, {
      event: "pull_request",
      payload: pullRequestPayload(fx, { author: "alice", number: 28 }),
      server,
    });
    expect(run.code).toBe(1);
    const stale = run.annotations.find((a) => a.properties.title === "E409 render-stale")!;
    expect(stale.message).toContain("git checkout origin/main -- clusters/*/rendered/alice/qwen-0.5b.yaml");
  });
});

describe("push mode", () => {
  it("validates main after a push, checks the render and sets the outputs without calling the API", async () => {
    fx = makeFixture({
      head: (dir) => {
        write(
          dir,
          "models/bob/qwen-7b.yaml",
          read(dir, "models/bob/qwen-7b.yaml").replace("num_replicas: 2", "num_replicas: 1"),
        );
        renderInto(dir);
      },
    });
    git(fx, fx.workspace, ["checkout", "-q", "--detach", fx.headSha]);
    const run = await runAction(fx, {
      event: "push",
      payload: pushPayload(fx.baseSha, fx.headSha),
      sha: fx.headSha,
      server,
    });
    expect(run.code).toBe(0);
    expect(run.outputs.ok).toBe("true");
    expect(JSON.parse(run.outputs["changed-models"]!)).toEqual(["bob/qwen-7b"]);
    expect(run.summary).toContain("The committed render is current");
    expect(server.requests).toEqual([]);
  });

  it("needs no token in push mode: it never calls the API", async () => {
    fx = makeFixture({ head: (dir) => dir });
    git(fx, fx.workspace, ["checkout", "-q", "--detach", fx.headSha]);
    const run = await runAction(fx, {
      event: "push",
      payload: pushPayload(fx.baseSha, fx.headSha),
      sha: fx.headSha,
      token: "",
    });
    expect(run.code).toBe(0);
    expect(run.outputs.ok).toBe("true");
  });

  it("fails a push whose render is stale", async () => {
    fx = makeFixture({ head: unrendered });
    git(fx, fx.workspace, ["checkout", "-q", "--detach", fx.headSha]);
    const run = await runAction(fx, {
      event: "push",
      payload: pushPayload(fx.baseSha, fx.headSha),
      sha: fx.headSha,
      server,
    });
    expect(run.code).toBe(1);
    expect(run.outputs.ok).toBe("false");
    expect(run.annotations.some((a) => a.properties.title === "E409 render-stale")).toBe(true);
    expect(server.requests).toEqual([]);
  });

  it("only warns a merge-queue group about the staleness its base already had, and keeps a push to main strict", async () => {
    const staleQwen = (dir: string) => {
      const path = "clusters/h1/rendered/alice/qwen-0.5b.yaml";
      write(dir, path, read(dir, path).replace(/num_replicas: 1/g, "num_replicas: 5"));
    };
    fx = makeFixture({
      base: staleQwen,
      head: (dir) => {
        write(
          dir,
          "models/alice/llama-8b.yaml",
          read(dir, "models/alice/llama-8b.yaml").replace("max_replicas: 2", "max_replicas: 3"),
        );
        renderInto(dir);
        staleQwen(dir);
      },
    });
    const queue = (mergeGroup: Record<string, unknown>) => ({
      action: "checks_requested",
      merge_group: mergeGroup,
      repository: { full_name: "acme/serving", default_branch: "main" },
    });
    const grouped = await runAction(fx, {
      event: "merge_group",
      payload: queue({ base_sha: fx.baseSha, head_sha: fx.mergeSha, base_ref: "refs/heads/main" }),
      token: "",
    });
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
    fx = makeFixture({ head: unrendered });
    const run = await runAction(fx, {
      event: "merge_group",
      payload: {
        action: "checks_requested",
        merge_group: { base_sha: fx.baseSha, head_sha: fx.mergeSha, base_ref: "refs/heads/main" },
        repository: { full_name: "acme/serving", default_branch: "main" },
      },
      token: "",
    });
    expect(run.code).toBe(1);
    const stale = run.annotations.find((a) => a.properties.title === "E409 render-stale")!;
    expect(stale.level).toBe("error");
    expect(stale.message).toContain(RENDER_COMMAND);
    expect(stale.message.endsWith(QUEUE_RENDER_NOTE)).toBe(true);
  });

  it("checks a merge queue's commit in push mode", async () => {
    fx = makeFixture({
      head: (dir) => {
        write(
          dir,
          "models/alice/qwen-0.5b.yaml",
          read(dir, "models/alice/qwen-0.5b.yaml").replace("max_model_len: 8192", "max_model_len: 4096"),
        );
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
    const run = await runAction(fx, { event: "merge_group", payload, sha: fx.headSha, server });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.outputs["changed-models"]!)).toEqual(["alice/qwen-0.5b"]);
    expect(server.requests).toEqual([]);
  });
});
