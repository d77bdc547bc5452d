/**
 * TEST/DEMO/BENCH ONLY. The agent's whole world on this machine: a real git remote (git-fixture), the Ray Serve
 * dashboard emulator and the strict GitHub API test server, with the agent wired to them in-process.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  startGitHubApiServer,
  testOctokitOptions,
  type GitHubApiServer,
  type TestOctokitOptionsInput,
} from "../../generator/testkit/github-api-server";
import { startRayEmulator, type RayEmulator, type RayEmulatorOptions } from "../emulator/ray-dashboard";
import { cloneDirIn, GitSource } from "../src/adapters/git-source";
import { RayServeTarget } from "../src/adapters/ray-target";
import { RayError } from "../src/errors";
import { silentLogger } from "../src/log";
import type { ServeTarget } from "../src/ports";
import type { CycleReport } from "../src/runtime/agent";
import {
  startAgent,
  type AgentConfig,
  type AgentOverrides,
  type RunningAgent,
} from "../src/runtime/run-agent";
import { createFixtureRepo, HUB_ROOT, type ClusterOptions, type FixtureRepo } from "./git-fixture";

export const TEST_TOKEN = "ghp_test_token_0123456789";

/** The names of the applications a Ray dashboard (the emulator) lists, sorted. */
export async function appsOf(url: string): Promise<string[]> {
  const body = (await (await fetch(`${url}/api/serve/applications/`)).json()) as {
    applications: Record<string, unknown>;
  };
  return Object.keys(body.applications).sort();
}
export const TEST_REPO = "acme/models";

export interface HarnessOptions {
  readonly files?: Record<string, string>;
  readonly cluster?: ClusterOptions;
  readonly emulator?: RayEmulatorOptions;
  readonly octokit?: TestOctokitOptionsInput;
}

export interface Harness {
  readonly repo: FixtureRepo;
  readonly ray: RayEmulator;
  readonly github: GitHubApiServer;
  readonly stateDir: string;
  config(extra?: Partial<AgentConfig>): AgentConfig;
  overrides(extra?: AgentOverrides): AgentOverrides;
  start(extra?: Partial<AgentConfig>, overrides?: AgentOverrides): Promise<RunningAgent>;
  /** A GitSource on the agent's own clone, as startAgent makes it from config() (less its metrics and stop signal). */
  gitSource(): GitSource;
  /** The usual opening: ship the files as the first commit, start the agent and settle it. */
  startSettled(message?: string): Promise<{ agent: RunningAgent; sha: string }>;
  /** Cycle until nothing deploys and nothing waits to be written (or `max` cycles). */
  settle(
    agent: RunningAgent,
    options?: { max?: number; pauseMs?: number; checkHead?: boolean },
  ): Promise<CycleReport>;
  /** The statuses posted on a commit, as "context state description", oldest first. */
  statuses(sha: string): string[];
  /** The latest state per context. */
  latest(sha: string): Map<string, { state: string; description: string }>;
  /** Stop the agents and servers; remove the repository and state directory unless keepFiles. */
  close(options?: { readonly keepFiles?: boolean }): Promise<void>;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const repo = createFixtureRepo(options.files ?? {}, options.cluster ? { cluster: options.cluster } : {});
  const ray = await startRayEmulator({ existingPaths: [HUB_ROOT], deployDelayMs: 40, ...options.emulator });
  const github = await startGitHubApiServer({ tokens: { [TEST_TOKEN]: { login: "serve-gitops[bot]" } } });
  const stateDir = mkdtempSync(join(tmpdir(), "serve-gitops-state-"));
  const running: RunningAgent[] = [];
  const harness: Harness = {
    repo,
    ray,
    github,
    stateDir,
    config: (extra = {}) => ({
      cluster: options.cluster?.name ?? "h1",
      repo: repo.remote,
      branch: "main",
      rayAddress: ray.url,
      githubRepo: TEST_REPO,
      githubApiUrl: github.url,
      githubToken: TEST_TOKEN,
      stateDir,
      intervalMs: 50,
      watchIntervalMs: 20,
      once: false,
      dryRun: false,
      suspend: false,
      logLevel: "silent",
      gitEnv: {},
      gitTimeoutMs: 10_000,
      rayTimeoutMs: 2_000,
      ...extra,
    }),
    overrides: (extra = {}) => ({
      log: silentLogger(),
      octokitTuning: testOctokitOptions({ msPerSecond: 2, ...options.octokit }),
      ...extra,
    }),
    async start(extra = {}, overrides = {}) {
      const agent = await startAgent(harness.config(extra), harness.overrides(overrides));
      running.push(agent);
      return agent;
    },
    gitSource: () => {
      const config = harness.config();
      return new GitSource({
        url: config.repo,
        branch: config.branch,
        cloneDir: cloneDirIn(config.stateDir),
        env: config.gitEnv,
        timeoutMs: config.gitTimeoutMs,
      });
    },
    async startSettled(message = "initial") {
      const sha = repo.ship(message);
      const agent = await harness.start();
      await harness.settle(agent);
      return { agent, sha };
    },
    async settle(agent, opts = {}) {
      let report = await agent.agent.cycle({ checkHead: opts.checkHead ?? true });
      for (let i = 0; i < (opts.max ?? 200) && (report.busy || report.faults.length > 0); i++) {
        await new Promise((r) => setTimeout(r, opts.pauseMs ?? 15));
        report = await agent.agent.cycle({ checkHead: false });
      }
      return report;
    },
    statuses: (sha) => github.statuses(sha).map((s) => `${s.context} ${s.state} ${s.description ?? ""}`),
    latest(sha) {
      const out = new Map<string, { state: string; description: string }>();
      for (const s of github.statuses(sha))
        out.set(s.context, { state: s.state, description: s.description ?? "" });
      return out;
    },
    async close(options = {}) {
      for (const agent of running) await agent.close().catch(() => undefined);
      await ray.close();
      await github.close();
      if (options.keepFiles) return;
      repo.cleanup();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** The harness's Ray behind a switch: while it is on, Ray answers every PUT with `status` (a 5xx). */
export function failingPuts(
  h: Harness,
  status: 500 | 503 = 500,
): { target: ServeTarget; setFailing: (on: boolean) => void } {
  const real = new RayServeTarget({ address: () => h.ray.url, timeoutMs: 2000 });
  let failing = false;
  return {
    target: {
      version: () => real.version(),
      observe: () => real.observe(),
      async apply(config) {
        if (failing) h.ray.setFailNext(status);
        return real.apply(config);
      },
    },
    setFailing: (on) => {
      failing = on;
    },
  };
}

/**
 * An admin merges pull request #`number` from `branch`: one commit (`message`, by `author`) that removes `paths`,
 * merged with the trailer `Serve-Gitops-Allow-Prune: <how many>` written in the merge dialog. Returns the merge.
 */
export function adminMergedPrune(
  h: Harness,
  pr: {
    readonly number: number;
    readonly branch: string;
    /** The PR head's ref, when it is not `branch`. */
    readonly ref?: string;
    readonly message: string;
    readonly author: string;
    readonly paths: readonly string[];
  },
): string {
  const inner = h.repo.commitOnBranch(pr.branch, pr.message, () => {
    for (const path of pr.paths) h.repo.remove(path);
  });
  const merge = h.repo.mergeBranch(
    pr.branch,
    `Merge pull request #${pr.number} from ${pr.branch}\n\nServe-Gitops-Allow-Prune: ${pr.paths.length}`,
  );
  h.github.setCommitPulls(merge, [
    {
      number: pr.number,
      state: "closed",
      merged_at: "2026-01-06T12:40:00Z",
      merge_commit_sha: merge,
      head: { sha: inner, ref: pr.ref ?? pr.branch },
      base: { ref: "main" },
      user: { login: pr.author },
      merged_by: { login: "platform-admin" },
    },
  ]);
  h.github.setPullCommits(pr.number, [{ sha: inner, message: pr.message }]);
  return merge;
}

/**
 * A target over the harness's Ray whose PUT, once `lose.next` is set, Ray takes but whose answer is lost (the
 * agent's request times out first): the next PUT clears `lose.next`.
 */
export function answerLosingTarget(h: Harness): { target: ServeTarget; lose: { next: boolean } } {
  const real = new RayServeTarget({ address: () => h.ray.url, timeoutMs: 2000 });
  const lose = { next: false };
  const target: ServeTarget = {
    version: () => real.version(),
    observe: () => real.observe(),
    async apply(config) {
      await real.apply(config);
      if (lose.next) {
        lose.next = false;
        throw new RayError("Ray did not answer the PUT in time", { kind: "transient" });
      }
    },
  };
  return { target, lose };
}
