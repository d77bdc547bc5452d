// TEST/BENCH ONLY: the agent as a real child process, bundled by esbuild (agent/test/crash.test.ts, agent/bench).
// It runs runAgent() with the GitHub test server's shortened octokit timings; with CRASH_AT set it stops dead at one
// point so the parent can SIGKILL it there: "put" right after Ray accepted the PUT, "post" after the first status.
import { testOctokitOptions } from "../../generator/testkit/github-api-server";
import { GitHubReporter } from "../src/adapters/github-reporter";
import { createOctokit } from "../src/adapters/octokit";
import { RayServeTarget } from "../src/adapters/ray-target";
import { createLogger } from "../src/log";
import type { ServeTarget, StatusReporter } from "../src/ports";
import { runAgent, type AgentConfig } from "../src/runtime/run-agent";

const config = JSON.parse(process.env.CHILD_AGENT_CONFIG ?? "{}") as AgentConfig;
const crashAt = process.env.CRASH_AT;
const hang = () => new Promise<never>(() => undefined);
const log = createLogger({ level: config.logLevel });
const tuning = testOctokitOptions({ msPerSecond: 2 });

const real = new RayServeTarget({ address: () => config.rayAddress ?? "", timeoutMs: config.rayTimeoutMs });
const target: ServeTarget = {
  version: () => real.version(),
  observe: () => real.observe(),
  async apply(serveConfig) {
    await real.apply(serveConfig);
    if (crashAt === "put") {
      process.stderr.write("CRASH_POINT put\n");
      return hang();
    }
  },
};
const github = new GitHubReporter(
  createOctokit({ baseUrl: config.githubApiUrl, token: config.githubToken ?? "", log, tuning }),
  config.githubRepo,
);
let posted = 0;
const reporter: StatusReporter = {
  combinedStatus: (sha) => github.combinedStatus(sha),
  pullsOf: (sha) => github.pullsOf(sha),
  mergedAs: (sha) => github.mergedAs(sha),
  findComment: (pr, marker, login) => github.findComment(pr, marker, login),
  createComment: (pr, body) => github.createComment(pr, body),
  updateComment: (id, body) => github.updateComment(id, body),
  async postStatus(sha, status) {
    await github.postStatus(sha, status);
    if (crashAt === "post" && ++posted === 1) {
      process.stderr.write("CRASH_POINT post\n");
      return hang();
    }
  },
};

process.exitCode = await runAgent(config, { log, target, reporter, octokitTuning: tuning });
