// `serve-gitops demo`: the whole loop on this machine — a temporary bare git repository, the Ray Serve
// dashboard EMULATOR and the local GitHub API TEST SERVER, with the real agent in between. A SIMULATION: no
// GPU, no Ray cluster and no GitHub are involved, and the output says so.
import { parse } from "../../../generator/src/cli/args";
import type { Command } from "../../../generator/src/cli/command";
import { specYaml } from "../../testkit/git-fixture";
import { createHarness, TEST_REPO, type Harness } from "../../testkit/harness";
import { box } from "../cli/box";
import { statusTable } from "../cli/status-table";
import { createLogger } from "../log";
import type { RunningAgent } from "../runtime/run-agent";
import { Timeline } from "./timeline";

const BANNER = box([
  "SIMULATION: serve-gitops demo",
  "Ray Serve here is an EMULATOR (agent/emulator), GitHub is a local TEST SERVER,",
  "the repository is a temporary git repository. No GPU, Ray cluster or GitHub",
  "is used; deploy times are compressed to fractions of a second.",
]);

export const demoCommand: Command = {
  summary:
    "The whole loop on this machine against a SIMULATED Ray cluster and GitHub, as a readable timeline.",
  usage: `Usage: serve-gitops demo [--keep]

Runs the sync agent for real against a temporary git repository, the Ray Serve dashboard emulator and a
local GitHub API test server, and prints what each did. Nothing outside this machine is touched.
  --keep   leave the temporary repository and state directory in place and print their paths (the emulator
           and test servers stop either way)`,
  async run(argv) {
    const { values } = parse(argv, { keep: { type: "boolean" } });
    const out = (line: string) => process.stdout.write(`${line}\n`);
    out(`\n${BANNER}`);
    const timeline = new Timeline(out);
    const h = await createHarness({ emulator: { deployDelayMs: 300 } });
    try {
      await play(h, timeline);
    } finally {
      // The servers always stop, so the command exits; --keep spares only the files.
      await h.close({ keepFiles: values.keep === true });
      if (values.keep) out(`\n(kept: repository ${h.repo.root}, state ${h.stateDir})`);
    }
    out(`\n${box(["END OF THE SIMULATION: nothing outside this machine was touched."])}`);
    return 0;
  },
};

async function play(h: Harness, timeline: Timeline): Promise<void> {
  const log = createLogger({ level: "info", destination: timeline.destination });
  const agent = await h.start({ intervalMs: 200, watchIntervalMs: 100 }, { log });
  const sync = async () => {
    let report = await agent.agent.cycle();
    timeline.flush(h.github);
    for (let i = 0; i < 100 && report.busy; i++) {
      await new Promise((r) => setTimeout(r, 100));
      report = await agent.agent.cycle({ checkHead: false });
      timeline.flush(h.github);
    }
  };
  const mergePr = (
    number: number,
    author: string,
    branch: string,
    change: () => void,
    title: string,
  ): string => {
    h.repo.git("checkout", "--quiet", "-b", branch);
    change();
    h.repo.render();
    const head = h.repo.commit(title);
    h.repo.git("checkout", "--quiet", "main");
    h.repo.git(
      "merge",
      "--quiet",
      "--no-ff",
      "-m",
      `Merge pull request #${number} from ${author}/${branch}`,
      branch,
    );
    const merge = h.repo.head();
    h.repo.push();
    h.github.setCommitPulls(
      merge,
      [{ number, head: { sha: head, ref: branch }, base: { ref: "main" }, user: { login: author } }],
      TEST_REPO,
    );
    timeline.say(
      "repo",
      `${author} merges PR #${number} "${title}" -> main ${merge.slice(0, 7)} (PR head ${head.slice(0, 7)})`,
    );
    return merge;
  };
  timeline.say(
    "note",
    `Ray Serve emulator ${h.ray.url}, GitHub test server ${h.github.url}, repository ${h.repo.remote}`,
  );

  timeline.say("scene", "1. alice adds a model through a pull request");
  h.repo.ship("platform: cluster h1 and users");
  await sync();
  mergePr(
    1,
    "alice",
    "qwen",
    () => h.repo.write("models/alice/qwen-0.5b.yaml", specYaml("qwen-0.5b")),
    "alice: serve qwen-0.5b",
  );
  await sync();

  timeline.say("scene", "2. bob adds a model with two replicas");
  mergePr(
    2,
    "bob",
    "qwen-7b",
    () => h.repo.write("models/bob/qwen-7b.yaml", specYaml("qwen-7b", { replicas: 2 })),
    "bob: serve qwen-7b x2",
  );
  await sync();

  timeline.say("scene", "3. bob scales to three replicas: a lightweight change, nothing restarts");
  mergePr(
    3,
    "bob",
    "scale",
    () => h.repo.write("models/bob/qwen-7b.yaml", specYaml("qwen-7b", { replicas: 3 })),
    "bob: qwen-7b x3",
  );
  await sync();
  timeline.say(
    "ray",
    `replica restarts so far: alice/qwen-0.5b ${h.ray.restarts("LLMServer:alice-202601061235-qwen-0_5b")}, bob/qwen-7b ${h.ray.restarts("LLMServer:bob-202601061235-qwen-7b")}`,
  );

  timeline.say("scene", "4. alice pushes a model whose weights are not on the cluster");
  h.repo.write("models/alice/llama.yaml", specYaml("llama", { source: "$HOME/checkpoints/llama-typo" }));
  const broken = h.repo.ship("alice: serve my llama fine-tune");
  timeline.say("repo", `alice pushes ${broken.slice(0, 7)} straight to main`);
  await sync();

  timeline.say("scene", "5. alice reverts it: the model leaves Ray");
  h.repo.git("revert", "--no-edit", broken);
  h.repo.push();
  timeline.say("repo", `git revert ${broken.slice(0, 7)} -> ${h.repo.head().slice(0, 7)}`);
  await sync();

  timeline.say(
    "scene",
    "6. a commit pushed without rendering is refused; the last good config keeps serving",
  );
  h.repo.write("models/bob/phi.yaml", specYaml("phi"));
  const unrendered = h.repo.ship("bob: forgot serve-gitops render", { render: false });
  timeline.say("repo", `bob pushes ${unrendered.slice(0, 7)} without running serve-gitops render`);
  await sync();
  h.repo.ship("bob: render phi");
  timeline.say("repo", `bob renders and pushes ${h.repo.head().slice(0, 7)}`);
  await sync();

  timeline.say("scene", "7. an operator edits Serve by hand (drift); the agent puts the commit back");
  h.ray.tamper("bob-202601061235-qwen-7b", (app: { deployments: Array<{ num_replicas?: number }> }) => {
    app.deployments[0]!.num_replicas = 1;
  });
  timeline.say("ray", "someone changed bob-202601061235-qwen-7b to 1 replica through the dashboard API");
  await sync();

  timeline.say("scene", "what `serve-gitops status --agent URL` prints at the end");
  process.stdout.write(`\n${statusTable(agent.status())}`);
  const comment = h.github.comments(2, TEST_REPO)[0]?.body ?? "";
  process.stdout.write(
    `\nThe comment on PR #2 (excerpt):\n${comment
      .split("\n")
      .slice(0, 12)
      .map((l) => `  | ${l}`)
      .join("\n")}\n`,
  );
  summarize(h, agent);
}

function summarize(h: Harness, agent: RunningAgent): void {
  const writes = h.github.requests.filter((r) => r.method !== "GET").length;
  const reads = h.github.requests.length - writes;
  process.stdout.write(
    `\nGitHub (test server): ${writes} writes, ${reads} reads; Ray (emulator): ${h.ray.acceptedPutCount()} PUTs accepted; ` +
      `agent marks: applied ${agent.status().marks.applied?.sha.slice(0, 7)}, reported ${agent.status().marks.reported?.sha.slice(0, 7)}\n`,
  );
}
