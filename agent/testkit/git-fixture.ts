/**
 * TEST/DEMO/BENCH ONLY. A real git repository for the agent: a bare "remote" and a working clone in a temporary
 * directory, with serve-gitops content, rendered by the generator's own pipeline. Git runs with its identity in
 * the environment and with global and system configuration switched off.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pruneEmpty } from "../../generator/src/cli/render-command";
import { checkRepo } from "../../generator/src/index";
import { readWorkingTree } from "../../generator/src/io/working-tree";
import { TEMPLATE_REPO } from "../../generator/test-fixtures/helpers";
import { gitScript, NO_HOUSEKEEPING_ENV, shellQuote, type GitStep } from "../../generator/testkit/git-script";

/** The template's files, as a fork of it holds them (.github/CODEOWNERS included). */
export function templateFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const path of readdirSync(TEMPLATE_REPO, { recursive: true, encoding: "utf8" }))
    if (statSync(join(TEMPLATE_REPO, path)).isFile())
      files[path] = readFileSync(join(TEMPLATE_REPO, path), "utf8");
  return files;
}

export const GIT_TEST_ENV: Readonly<Record<string, string>> = {
  GIT_AUTHOR_NAME: "Test Author",
  GIT_AUTHOR_EMAIL: "author@example.com",
  GIT_COMMITTER_NAME: "Test Committer",
  GIT_COMMITTER_EMAIL: "committer@example.com",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_TERMINAL_PROMPT: "0",
  LANG: "C.UTF-8",
  LC_ALL: "C.UTF-8",
};

export interface ClusterOptions {
  readonly name?: string;
  readonly gpus?: number;
  readonly layout?: "per-model" | "per-user" | "single";
  readonly dashboard?: string;
  readonly sync?: Partial<{
    allow_empty: boolean;
    prune_limit: number;
    adopt_unmanaged: boolean;
    deploy_timeout_s: number;
    max_model_statuses: number;
    self_heal: boolean;
    suspend: boolean;
  }>;
}

export function clusterYaml(options: ClusterOptions = {}): string {
  const sync = {
    allow_empty: false,
    prune_limit: 5,
    adopt_unmanaged: false,
    deploy_timeout_s: 60,
    max_model_statuses: 50,
    self_heal: true,
    suspend: false,
    ...options.sync,
  };
  return [
    "default: true",
    "accelerator_type: H20",
    `gpus: ${options.gpus ?? 64}`,
    "gpus_per_node: 8",
    "ray:",
    `  dashboard_address: ${options.dashboard ?? "http://127.0.0.1:8265"}`,
    "openai:",
    "  server_url: https://llm.example.com",
    "  base_url: /access/models/h1/",
    "serve:",
    `  layout: ${options.layout ?? "per-model"}`,
    "  application_name: argus_llm_app",
    "  route_prefix: /",
    "sources:",
    "  allow_hub: false",
    "  roots:",
    "    shared: [/private/hf]",
    "    user: /private/users/{user}",
    "sync:",
    ...Object.entries(sync).map(([k, v]) => `  ${k}: ${String(v)}`),
    "",
  ].join("\n");
}

export function usersYaml(users: Record<string, number> = { alice: 8, bob: 8 }): string {
  return [
    "admins: [platform-admin]",
    "users:",
    ...Object.entries(users).flatMap(([user, quota]) => [
      `  ${user}:`,
      `    github: [${user}]`,
      `    gpu_quota: ${quota}`,
    ]),
    "",
  ].join("\n");
}

export interface SpecOptions {
  readonly source?: string;
  readonly replicas?: number;
  readonly gpus?: number;
  readonly maxModelLen?: number;
}

/** A shared-hub model by default; `source` may name a path (with $HOME macros) that the emulator lacks. */
export function specYaml(suffix: string, options: SpecOptions = {}): string {
  return [
    `model_id: ${suffix}`,
    `model_source: ${options.source ?? `$HOME/common/hf/hub/models--Qwen--${suffix}/snapshots/0123456789abcdef`}`,
    `num_replicas: ${options.replicas ?? 1}`,
    `gpus_per_replica: ${options.gpus ?? 1}`,
    "engine_kwargs:",
    `  max_model_len: ${options.maxModelLen ?? 8192}`,
    "",
  ].join("\n");
}

/** Paths the emulator's fake filesystem should hold for specYaml's default sources. */
export const HUB_ROOT = "/private/hf/hub";

export interface FixtureRepo {
  readonly root: string;
  readonly remote: string;
  readonly work: string;
  git(...args: string[]): string;
  write(path: string, text: string): void;
  remove(path: string): void;
  /** `serve-gitops render`: writes stale and missing fragments, deletes extra ones. Throws on invalid specs. */
  render(now?: Date): void;
  /** add -A + commit; returns the new sha. */
  commit(message: string): string;
  /** The remote's main moves to HEAD (as a forced push would: see createFixtureRepo). */
  push(): void;
  /**
   * The remote packs what it holds into a pack of its own, as a hosted remote stores its history: until then
   * a fetch compresses the clone's loose objects one by one (seconds for thousands of specs, in a bench).
   */
  pack(): void;
  /** Render, commit and push in one step. */
  ship(message: string, options?: { render?: boolean; now?: Date }): string;
  /** A rendered commit on a new branch off `from` (default main); returns its sha, main checked out again. */
  commitOnBranch(branch: string, message: string, change: () => void, from?: string): string;
  /** `git merge --no-ff` of a branch into main, pushed; returns the merge commit. */
  mergeBranch(branch: string, message: string): string;
  head(): string;
  cleanup(): void;
}

export function createFixtureRepo(
  files: Record<string, string> = {},
  options: { cluster?: ClusterOptions; prefix?: string } = {},
): FixtureRepo {
  const root = mkdtempSync(join(tmpdir(), options.prefix ?? "serve-gitops-agent-"));
  const remote = join(root, "remote.git");
  const work = join(root, "work");
  const env = { ...process.env, ...GIT_TEST_ENV, ...NO_HOUSEKEEPING_ENV };
  const run = (cwd: string, args: string[]) =>
    execFileSync("git", args, { env, encoding: "utf8", cwd, stdio: ["ignore", "pipe", "pipe"] });
  const runAll = (cwd: string, commands: GitStep[]) => gitScript(cwd, env, commands);
  // The remote borrows the clone's objects (git alternates), so a push is the remote's main moving to the
  // clone's HEAD: one `update-ref` instead of the seven processes of a local `git push` (receive-pack,
  // pack-objects, unpack-objects, a connectivity check...), the largest share of the agent tests' git work.
  // Like `push --force`, it does not refuse a non-fast-forward; the agent meets whatever the remote holds.
  const push: GitStep = {
    sh: `head=$(git rev-parse HEAD) && git --git-dir=${shellQuote(remote)} update-ref refs/heads/main "$head" && echo "$head"`,
  };
  const commit = (message: string) => [
    ["add", "-A"],
    ["commit", "--quiet", "--allow-empty", "-m", message],
  ];
  const head = ["rev-parse", "HEAD"];
  mkdirSync(remote);
  mkdirSync(work);
  runAll(work, [
    ["init", "--quiet", "--bare", "--initial-branch=main", remote],
    ["init", "--quiet", "--initial-branch=main"],
  ]);
  writeFileSync(join(remote, "objects/info/alternates"), `${join(work, ".git/objects")}\n`);
  const repo: FixtureRepo = {
    root,
    remote,
    work,
    git: (...args) => run(work, args).trim(),
    write(path, text) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), text);
    },
    remove(path) {
      rmSync(join(work, path), { force: true });
      pruneEmpty(work, dirname(path));
    },
    render(now = new Date("2026-01-06T12:35:00Z")) {
      const result = checkRepo(readWorkingTree(work), { now });
      if (!result.ok || !result.render || !result.renderDiff) {
        throw new Error(
          `fixture does not validate:\n${result.diagnostics.map((d) => `${d.file}:${d.line} ${d.message}`).join("\n")}`,
        );
      }
      for (const path of [...result.renderDiff.stale, ...result.renderDiff.missing])
        repo.write(path, result.render.files.get(path)!);
      for (const path of result.renderDiff.extra) repo.remove(path);
    },
    commit: (message) => runAll(work, [...commit(message), head]),
    push() {
      runAll(work, [push]);
    },
    // Not -l: the objects the remote borrows from the clone go into its pack too.
    pack: () => void run(work, ["--git-dir", remote, "repack", "-a", "-d", "-q"]),
    ship(message, opts = {}) {
      if (opts.render !== false) repo.render(opts.now);
      // The push prints the sha it moved main to.
      return runAll(work, [...commit(message), push]);
    },
    commitOnBranch(branch, message, change, from = "main") {
      run(work, ["checkout", "--quiet", "-b", branch, from]);
      change();
      repo.render();
      // checkout -q prints nothing: the last line is still the branch's commit.
      return runAll(work, [...commit(message), head, ["checkout", "--quiet", "main"]]);
    },
    mergeBranch: (branch, message) =>
      runAll(work, [["merge", "--quiet", "--no-ff", "-m", message, branch], push]),
    head: () => run(work, ["rev-parse", "HEAD"]).trim(),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
  const initial: Record<string, string> = {
    "models/users.yaml": usersYaml(),
    [`clusters/${options.cluster?.name ?? "h1"}/cluster.yaml`]: clusterYaml(options.cluster),
    ...files,
  };
  for (const [path, text] of Object.entries(initial)) repo.write(path, text);
  return repo;
}
