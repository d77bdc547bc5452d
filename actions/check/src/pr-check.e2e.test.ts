import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  edit,
  fileErrors as errors,
  git,
  HEAD_STAMP,
  pullRequestPayload,
  read,
  renderInto,
  runPush,
  scaleQwen,
  TOKENS,
  useGitHubServer,
  write,
  type ActionRun,
} from "./testing/harness";

const NEW_SPEC = `model_id: qwen-coder
model_source: $HOME/common/hf/hub/models--Qwen--Qwen2.5-Coder-1.5B/snapshots/0123456789abcdef0123456789abcdef01234567
num_replicas: 1
gpus_per_replica: 1
engine_kwargs:
  max_model_len: 8192
`;

const gh = useGitHubServer({ [TOKENS.workflow]: { login: "github-actions[bot]" } });

let nextNumber = 1;

const pr = (head: (dir: string) => void, author = "alice", number = nextNumber++): Promise<ActionRun> =>
  gh.pullRequest(gh.fixture({ head }), { author, number });

/** A change to bob's model, rendered. */
const editBob = (dir: string) => {
  edit(dir, "models/bob/qwen-7b.yaml", (text) => text.replace("max_num_seqs: 128", "max_num_seqs: 64"));
  renderInto(dir);
};

describe("the check on a pull request", () => {
  it("runs git 14 times for a pull request: no answer asked twice", async () => {
    const fx = gh.fixture({ head: scaleQwen(2) });
    const shim = join(fx.dir, "counting-git");
    mkdirSync(shim);
    const real = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    writeFileSync(
      join(shim, "git"),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> ${JSON.stringify(join(fx.dir, "git-calls"))}\nexec ${JSON.stringify(real)} "$@"\n`,
      { mode: 0o755 },
    );
    const run = await gh.pullRequest(fx, { author: "alice", number: 90 }, { pathPrefix: shim });
    expect(run.code).toBe(0);
    const calls = readFileSync(join(fx.dir, "git-calls"), "utf8").trim().split("\n");
    // Twice the same question (the parents of the merge, the tip of main, ...) would show here; cat-file --batch
    // reads base and head, its questions on stdin.
    expect(calls.filter((call, i) => calls.indexOf(call) !== i && call !== "cat-file --batch")).toEqual([]);
    expect(calls, calls.join("\n")).toHaveLength(14);
  });

  it("passes a clean PR, posts the plan once and sets the outputs", async () => {
    const run = await pr(
      (dir) => {
        write(dir, "models/alice/qwen-coder.yaml", NEW_SPEC);
        renderInto(dir);
      },
      "alice",
      7,
    );
    expect(errors(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.ok).toBe("true");
    expect(JSON.parse(run.outputs["changed-models"]!)).toEqual(["alice/qwen-coder"]);
    const plan = JSON.parse(run.outputs.plan!) as {
      changed: boolean;
      clusters: Array<{ cluster: string; deploy: Array<{ served_name: string }> }>;
    };
    expect(plan.changed).toBe(true);
    // Named after the head commit's time, not the time the check ran.
    expect(plan.clusters.find((c) => c.cluster === "h1")!.deploy.map((d) => d.served_name)).toEqual([
      `alice-${HEAD_STAMP}-qwen-coder`,
    ]);
    expect(run.summary).toContain("serve-gitops check ✅ passed");
    expect(run.summary).toContain("The committed render is current");
    expect(run.summary).toContain(`alice-${HEAD_STAMP}-qwen-coder`);
    expect(gh.calls()).toEqual([
      "GET /repos/acme/serving/issues/7/comments 200",
      "GET /repos/acme/serving/pulls/7 200",
      "POST /repos/acme/serving/issues/7/comments 201",
    ]);
    const [comment] = gh.server.comments(7);
    expect(comment!.body).toContain("<!-- serve-gitops:plan -->");
    expect(comment!.body).toContain("✅ passes");
    expect(comment!.body).toContain(`alice-${HEAD_STAMP}-qwen-coder`);
  });

  it("warns, in an annotation and the plan comment, that the agent will refuse to empty a cluster", async () => {
    // bob moves his qwen-7b, lab's only model, to h1 alone: lab's agent refuses (allow_empty is false).
    const number = nextNumber++;
    const run = await pr(
      (dir) => {
        edit(dir, "models/bob/qwen-7b.yaml", (text) => text.replace("clusters: [h1, lab]", "clusters: [h1]"));
        renderInto(dir);
      },
      "bob",
      number,
    );
    expect(errors(run)).toEqual([]);
    expect(run.code).toBe(0);
    const refused = run.annotations.filter((a) => a.properties.title === "E403 agent-will-refuse");
    expect(refused.map((a) => [a.level, a.properties.file])).toEqual([
      ["warning", "clusters/lab/cluster.yaml"],
    ]);
    const plan = JSON.parse(run.outputs.plan!) as {
      clusters: Array<{ cluster: string; refusals: unknown[] }>;
    };
    expect(plan.clusters.map((c) => [c.cluster, c.refusals.length])).toEqual([
      ["h1", 0],
      ["lab", 1],
    ]);
    const [comment] = gh.server.comments(number);
    expect(comment!.body).toContain("The sync agent will refuse this change after the merge");
    expect(comment!.body).toContain("sync.allow_empty is false");
  });

  it("annotates a bad spec on the line of the mistake", async () => {
    const run = await pr((dir) => {
      write(
        dir,
        "models/alice/bad.yaml",
        `# a typo in engine_kwargs\n${NEW_SPEC.replace("model_id: qwen-coder", "model_id: bad").replace("max_model_len", "max_model_length")}`,
      );
    });
    expect(run.code).toBe(1);
    expect(run.outputs.ok).toBe("false");
    const [first] = errors(run);
    expect(first!.raw).toMatch(
      /^::error title=E400 engine-kwarg-unknown,file=models\/alice\/bad\.yaml,line=7,col=3::/,
    );
    expect(first!.message).toContain("did you mean `max_model_len`?");
    expect(run.summary).toContain("| `models/alice/bad.yaml` | 7:3 | E400 | engine-kwarg-unknown |");
    expect(gh.server.comments(nextNumber - 1)[0]!.body).toContain("❌ 1 error");
  });

  it("rejects a git submodule in the author's own folder with E403", async () => {
    let target = "";
    const run = await pr((dir) => {
      // A gitlink, as `git submodule add` stages it; the folder keeps `git add -A` from dropping it.
      target = execFileSync("git", ["rev-parse", "HEAD"], { cwd: dir, encoding: "utf8" }).trim();
      execFileSync("git", ["update-index", "--add", "--cacheinfo", `160000,${target},models/alice/sub`], {
        cwd: dir,
      });
      mkdirSync(join(dir, "models/alice/sub"));
    });
    expect(run.code).toBe(1);
    expect(errors(run).map((a) => a.raw)).toEqual([
      `::error title=E403 special-file,file=models/alice/sub,line=1,col=1::models/alice/sub is not a regular file (a git submodule at commit ${target}): only regular files are allowed under models/`,
    ]);
  });

  it("rejects a change in another user's folder with E403", async () => {
    const run = await pr(editBob);
    expect(run.code).toBe(1);
    const files = errors(run).map((a) => `${a.properties.title} ${a.properties.file}:${a.properties.line}`);
    expect(files).toEqual([
      "E403 ownership clusters/h1/rendered/bob/qwen-7b.yaml:1",
      "E403 ownership clusters/lab/rendered/bob/qwen-7b.yaml:1",
      "E403 ownership models/bob/qwen-7b.yaml:1",
    ]);
    expect(errors(run)[2]!.message).toContain(
      "user bob's folder; @alice may change only models/alice/ and clusters/*/rendered/alice/",
    );
  });

  it("lets bob's second login change bob's folder", async () => {
    const run = await pr(editBob, "Bob-Bot");
    expect(errors(run)).toEqual([]);
    expect(run.code).toBe(0);
  });

  it("rejects a non-admin's change to users.yaml, judged from the base branch", async () => {
    // alice makes herself an admin in the same PR: rights come from the base, so it does not count.
    const run = await pr((dir) =>
      edit(dir, "models/users.yaml", (text) =>
        text
          .replace("  - platform-admin", "  - platform-admin\n  - alice")
          .replace("gpu_quota: 8", "gpu_quota: 80"),
      ),
    );
    expect(run.code).toBe(1);
    expect(errors(run).map((a) => a.raw.split("::")[1])).toContain(
      "error title=E403 ownership,file=models/users.yaml,line=1,col=1",
    );
    expect(errors(run).find((a) => a.properties.file === "models/users.yaml")!.message).toContain(
      "needs an admin (@platform-admin)",
    );
  });

  it("lets an admin change users.yaml and regenerate CODEOWNERS", async () => {
    const run = await pr(
      (dir) => edit(dir, "models/users.yaml", (text) => text.replace("gpu_quota: 8", "gpu_quota: 16")),
      "platform-admin",
    );
    expect(errors(run)).toEqual([]);
    expect(run.code).toBe(0);
  });

  it("fails when CODEOWNERS is stale after a new user is added", async () => {
    const run = await pr(
      (dir) =>
        edit(dir, "models/users.yaml", (text) => `${text}  carol:\n    github: [carol]\n    gpu_quota: 2\n`),
      "platform-admin",
    );
    expect(run.code).toBe(1);
    const [stale] = errors(run);
    expect(stale!.properties).toMatchObject({ title: "E409 codeowners-stale", file: ".github/CODEOWNERS" });
    expect(stale!.message).toContain("run `npx serve-gitops codeowners`");
  });

  describe("a CODEOWNERS the base branch already has stale", () => {
    /** main got carol in users.yaml without regenerating CODEOWNERS. */
    const staleBase = (dir: string) =>
      edit(dir, "models/users.yaml", (text) => `${text}  carol:\n    github: [carol]\n    gpu_quota: 2\n`);
    const codeowners = (run: ActionRun) =>
      run.annotations.filter((a) => a.properties.title === "E409 codeowners-stale");

    it("only warns a model owner whose PR leaves it alone", async () => {
      const fx = gh.fixture({ base: staleBase, head: scaleQwen(2) });
      const run = await gh.pullRequest(fx, { author: "alice", number: nextNumber++ });
      expect(codeowners(run).map((a) => a.level)).toEqual(["warning"]);
      expect(codeowners(run)[0]!.message).toContain("The base branch main already has it so");
      expect(run.code).toBe(0);
    });

    it("stays an error for a PR that changes what CODEOWNERS should say, and on a push to main", async () => {
      const edits = (dir: string) =>
        edit(dir, "models/users.yaml", (text) => `${text}  dave:\n    github: [dave]\n    gpu_quota: 2\n`);
      const fx = gh.fixture({ base: staleBase, head: edits });
      const run = await gh.pullRequest(fx, { author: "platform-admin", number: nextNumber++ });
      expect(codeowners(run).map((a) => a.level)).toEqual(["error"]);
      expect(run.code).toBe(1);
      const push = await runPush(gh.fixture({ base: staleBase, head: scaleQwen(2) }), { server: gh.server });
      expect(codeowners(push).map((a) => a.level)).toEqual(["error"]);
    });
  });

  // Line 3 is num_replicas: the budget problems land on the replica count of the spec the PR touched.
  it("fails a PR over the user's GPU quota on the new spec", async () => {
    const run = await pr((dir) => {
      // Nothing is rendered from a tree with errors: the author could not have rendered it either.
      write(dir, "models/alice/qwen-coder.yaml", NEW_SPEC.replace("num_replicas: 1", "num_replicas: 4"));
    });
    expect(run.code).toBe(1);
    const [quota] = errors(run);
    expect(quota!.raw).toMatch(/^::error title=E422 user-quota,file=models\/alice\/qwen-coder\.yaml,line=3,/);
    expect(quota!.message).toContain("alice would hold 9 GPUs on cluster h1");
    expect(run.summary).toContain("over quota");
  });

  it("fails a PR over a cluster's capacity on the new spec", async () => {
    const run = await pr((dir) => {
      write(
        dir,
        "models/alice/big.yaml",
        "model_id: big\nmodel_source: Qwen/Qwen2.5-0.5B-Instruct\nnum_replicas: 7\ngpus_per_replica: 1\nclusters: [lab]\n",
      );
    });
    expect(run.code).toBe(1);
    const [capacity] = errors(run);
    expect(capacity!.raw).toMatch(
      /^::error title=E422 cluster-capacity,file=models\/alice\/big\.yaml,line=3,/,
    );
    expect(capacity!.message).toContain("cluster lab has 8 GPUs; its models would need 9");
  });

  it("says in one line that a PR touching no model changes nothing, and posts no comment", async () => {
    const run = await pr((dir) => write(dir, "docs/notes.md", "# notes\n"), "platform-admin", 70);
    expect(run.code).toBe(0);
    expect(run.outputs.ok).toBe("true");
    expect(run.outputs["changed-models"]).toBe("[]");
    expect(run.summary).toContain("No model changes: nothing is deployed, updated or undeployed.");
    expect(run.summary).not.toContain("### Render"); // exits fast: nothing was validated or rendered
    expect(gh.calls()).toEqual(["GET /repos/acme/serving/issues/70/comments 200"]);
    expect(gh.server.comments(70)).toEqual([]);
  });

  it("still needs an admin for a tool path when no model changes", async () => {
    const run = await pr((dir) => write(dir, "actions/check/src/run.ts", "// pass everything\n"));
    expect(run.code).toBe(1);
    expect(errors(run).map((a) => a.properties.file)).toEqual(["actions/check/src/run.ts"]);
  });

  it("leaves room for setFailed's closing line within GitHub's 10 error annotations", async () => {
    const run = await pr((dir) => {
      for (let i = 0; i < 13; i++)
        write(dir, `models/alice/m${i}.yaml`, `model_id: m${i}\nmodel_source: /etc/passwd\n`);
    });
    expect(run.code).toBe(1);
    const shown = run.annotations.filter((a) => a.level === "error");
    expect(shown).toHaveLength(10);
    expect(shown.at(-1)!.message).toMatch(/^\d+ errors: see the annotations and the job summary$/);
  });

  it("leaves room for its own warning within GitHub's 10 warning annotations", async () => {
    // A read-only token: the comment fails with a warning of the Action's own, besides 12 diagnostics'.
    gh.server.addToken(TOKENS.fork, { login: "github-actions[bot]", readOnly: true });
    const fx = gh.fixture({
      head: (dir) => {
        write(
          dir,
          "clusters/h1/cluster.yaml",
          `${read(dir, "clusters/h1/cluster.yaml")}engine_kwargs:\n  deny: [${Array.from({ length: 12 }, (_, i) => `no_such_arg_${i}`).join(", ")}]\n`,
        );
        // A model change, so that there is a plan to comment.
        write(dir, "models/alice/qwen-coder.yaml", NEW_SPEC);
        renderInto(dir);
      },
    });
    const run = await gh.pullRequest(fx, { author: "platform-admin", number: 72 }, { token: TOKENS.fork });
    const warnings = run.annotations.filter((a) => a.level === "warning");
    expect(warnings).toHaveLength(10);
    expect(warnings.filter((a) => a.message.startsWith("could not post the plan comment"))).toHaveLength(1);
    expect(warnings.filter((a) => a.properties.title === "E400 engine-kwarg-deny-unknown")).toHaveLength(9);
  });

  it("logs diagnostics beyond the annotations as inert lines, whatever their file names hold", async () => {
    const fx = gh.fixture({
      head: (dir) => {
        for (let i = 0; i < 10; i++)
          write(dir, `models/alice/m${i}.yaml`, `model_id: m${i}\nmodel_source: /etc/passwd\n`);
        write(dir, "zz/x\n::notice title=serving-specs::Approved\n::stop-commands::zzz\n.md", "x");
        // No control character at all: the name itself starts the line (more than the annotations take).
        for (let i = 0; i < 12; i++) write(dir, `::stop-commands::pwn${i}`, "x");
      },
    });
    const run = await gh.pullRequest(fx, { author: "alice", number: 73 }, { inputs: { comment: "false" } });
    expect(run.code).toBe(1);
    const lines = run.stdout.split("\n");
    expect(lines.filter((l) => /^\s*::stop-commands::/.test(l))).toEqual([]);
    expect(lines.filter((l) => l.startsWith("- ::stop-commands::pwn")).length).toBeGreaterThan(0);
    expect(run.annotations.filter((a) => a.level === "notice")).toEqual([]);
    expect(lines).toContain(
      "- zz/x\\u000a::notice title=serving-specs::Approved\\u000a::stop-commands::zzz\\u000a.md:1:1  E403 ownership  zz/x\\u000a::notice title=serving-specs::Approved\\u000a::stop-commands::zzz\\u000a.md is an admin path; @alice may change only models/alice/ and clusters/*/rendered/alice/. This change needs an admin (@platform-admin).",
    );
  });

  it("says how to fix a checkout without the base commit (a shallow clone)", async () => {
    const fx = gh.fixture({ head: (dir) => write(dir, "models/alice/qwen-coder.yaml", NEW_SPEC) });
    const payload = pullRequestPayload(fx, { author: "alice", number: 71 }) as {
      pull_request: { base: { sha: string } };
    };
    payload.pull_request.base.sha = "c".repeat(40);
    // A shallow checkout shows the merge commit without its parents: the base comes from the payload.
    git(fx, fx.workspace, ["checkout", "-q", "--detach", fx.headSha]);
    const run = await gh.run(fx, { event: "pull_request", payload, sha: fx.headSha });
    expect(run.code).toBe(1);
    expect(run.annotations.map((a) => a.message)).toEqual([
      `the check failed to run: commit ${"c".repeat(40)} is not in the checkout: check out with actions/checkout and fetch-depth: 0 so base and head are both present`,
    ]);
  });
});
