/**
 * Test harness for the committed Action bundle: real git repositories (a bare "GitHub" remote, a developer
 * clone, and a runner checkout holding GitHub's merge commit), a real pull_request payload from
 * @octokit/webhooks-examples with its SHAs and logins adapted, and the bundle run as a child process with a
 * runner's environment. Never reads the user's git config: HOME points into the fixture.
 */
import { spawn, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkRepo, CODEOWNERS_FILE, codeownersOf } from "../../../../generator/src";
import { readWorkingTree } from "../../../../generator/src/io/working-tree";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import {
  startGitHubApiServer,
  type GitHubApiServer,
  type TokenIdentity,
  type WorkflowRunInput,
} from "../../../../generator/testkit/github-api-server";
import { TEMPLATE_REPO } from "../../../../generator/test-fixtures/helpers";
import { gitScript, NO_HOUSEKEEPING_ENV } from "../../../../generator/testkit/git-script";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const BUNDLE = join(ROOT, "actions/check/dist/index.js");
export const REPOSITORY = "acme/serving";
export const BASE_DATE = "2026-01-06T12:00:00Z";
export const HEAD_DATE = "2026-02-02T09:30:00Z";
/** The served-name timestamp a model first rendered at HEAD_DATE gets. */
export const HEAD_STAMP = "202602020930";

export const TOKENS = {
  workflow: "ghs_workflowTokenAAAA1111bbbb2222cccc3333",
  app: "ghs_appInstallationTokenDDDD4444eeee5555",
  fork: "ghs_forkReadOnlyTokenFFFF6666gggg7777hh",
  unknown: "ghp_revokedPersonalTokenIIII8888jjjj9999",
  /** A machine user's personal access token. */
  pat: "ghp_machineUserTokenKKKK0000llll1111mmmm",
} as const;

export interface Fixture {
  readonly dir: string;
  /** The developer's clone, on branch `feature`. */
  readonly seed: string;
  /** The bare remote standing in for GitHub. */
  readonly remote: string;
  /** The runner's checkout (GITHUB_WORKSPACE), detached at the merge commit. */
  readonly workspace: string;
  readonly home: string;
  readonly baseSha: string;
  headSha: string;
  mergeSha: string;
}

function gitEnv(home: string, date: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "Test Author",
    GIT_AUTHOR_EMAIL: "author@example.invalid",
    GIT_COMMITTER_NAME: "Test Author",
    GIT_COMMITTER_EMAIL: "author@example.invalid",
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
    LC_ALL: "C",
    // The Action under test runs git with the runner's environment, not this one.
    ...NO_HOUSEKEEPING_ENV,
  };
}

export function git(fx: Pick<Fixture, "home">, cwd: string, args: string[], date = HEAD_DATE): string {
  return execFileSync("git", args, { cwd, env: gitEnv(fx.home, date), encoding: "utf8" }).trim();
}

/** Git commands that always go together, in one process: see gitScript. */
export function gitAll(
  fx: Pick<Fixture, "home">,
  cwd: string,
  commands: string[][],
  date = HEAD_DATE,
): string {
  return gitScript(cwd, gitEnv(fx.home, date), commands);
}

export function write(dir: string, path: string, text: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
}

export function read(dir: string, path: string): string {
  return readFileSync(join(dir, path), "utf8");
}

/** Rewrite one file of a folder. */
export function edit(dir: string, path: string, change: (text: string) => string): void {
  write(dir, path, change(read(dir, path)));
}

/** What `serve-gitops render` does, through the core: bring clusters/*\/rendered/ up to date in a folder. */
export function renderInto(dir: string, now = HEAD_DATE): void {
  const result = checkRepo(readWorkingTree(dir), { now: new Date(now) });
  if (!result.render || !result.renderDiff)
    throw new Error(`fixture does not validate: ${JSON.stringify(result.diagnostics)}`);
  for (const path of [...result.renderDiff.stale, ...result.renderDiff.missing])
    write(dir, path, result.render.files.get(path)!);
  for (const path of result.renderDiff.extra) rmSync(join(dir, path));
}

/** alice sets her qwen-0.5b's num_replicas and renders: a model change that passes. */
export const scaleQwen = (replicas: number) => (dir: string) => {
  edit(dir, "models/alice/qwen-0.5b.yaml", (text) =>
    text.replace(/num_replicas: \d+/, `num_replicas: ${replicas}`),
  );
  renderInto(dir);
};

export interface FixtureOptions {
  /** Changes the base commit makes to this repository's models/ and clusters/. */
  readonly base?: (dir: string) => void;
  /** The PR's one commit. */
  readonly head?: (dir: string) => void;
}

/**
 * Base: the template's example models/ and clusters/ (the frozen copy in generator/test-fixtures/template-repo,
 * never this repository's live ones, which an adopter replaces) and their .github/CODEOWNERS on `main`.
 * Head: `feature`, one commit made by `head`. The workspace is what actions/checkout leaves on a pull_request: the merge commit.
 */
export function makeFixture(options: FixtureOptions, bases: BaseCache): Fixture {
  const dir = mkdtempSync(join(tmpdir(), "serve-gitops-check-"));
  const home = join(dir, "home");
  mkdirSync(home);
  const seed = join(dir, "seed");
  const remote = join(dir, "remote.git");
  const workspace = join(dir, "workspace");
  const fx = { home };
  let baseSha: string;
  if (options.base) {
    mkdirSync(seed);
    baseSha = commitBase(fx, seed, options.base);
  } else {
    // The same files, identity and date make the same commit: a test file's fixtures start from one copy of it.
    const base = (bases.plain ??= makeBase());
    cpSync(base.seed, seed, { recursive: true });
    baseSha = base.sha;
  }
  options.head?.(seed);
  const headSha = gitAll(fx, seed, [
    ["add", "-A"],
    ["commit", "-q", "--allow-empty", "-m", "change"],
    ["clone", "-q", "--bare", seed, remote],
    ["remote", "add", "origin", remote],
    ["clone", "-q", remote, workspace],
    ["rev-parse", "HEAD"],
  ]);
  const fixture: Fixture = { dir, seed, remote, workspace, home, baseSha, headSha, mergeSha: "" };
  checkoutMerge(fixture, baseSha, false);
  return fixture;
}

/**
 * The template's models/ and clusters/, rendered, with their CODEOWNERS and the test's own changes, committed as
 * the base on `main` in a new repository at `seed`, with branch `feature` checked out: the base's sha.
 */
function commitBase(fx: Pick<Fixture, "home">, seed: string, change?: (dir: string) => void): string {
  for (const path of ["models", "clusters"])
    cpSync(join(TEMPLATE_REPO, path), join(seed, path), { recursive: true });
  // The base is made current with the core under test, so the fixtures never depend on the state of the
  // example render committed in this repository. Existing models keep their served names.
  renderInto(seed, BASE_DATE);
  write(seed, CODEOWNERS_FILE, codeownersOf(readWorkingTree(seed)).text!);
  change?.(seed);
  return gitAll(
    fx,
    seed,
    [
      ["init", "-q", "-b", "main"],
      ["add", "-A"],
      ["commit", "-q", "-m", "base"],
      ["checkout", "-q", "-b", "feature"],
      ["rev-parse", "HEAD"],
    ],
    BASE_DATE,
  );
}

/** The base without a test's changes, made once for a test file and copied (.git and all) into its fixtures. */
export interface BaseCache {
  plain?: { readonly dir: string; readonly seed: string; readonly sha: string };
}

function makeBase(): NonNullable<BaseCache["plain"]> {
  const dir = mkdtempSync(join(tmpdir(), "serve-gitops-check-base-"));
  const home = join(dir, "home");
  const seed = join(dir, "seed");
  mkdirSync(home);
  mkdirSync(seed);
  return { dir, seed, sha: commitBase({ home }, seed) };
}

/** Another commit on the PR branch, pushed, and the runner's checkout of the new merge commit. */
export function pushToFeature(
  fx: Fixture,
  change: (dir: string) => void,
  date = "2026-02-03T08:00:00Z",
): void {
  change(fx.seed);
  fx.headSha = gitAll(
    fx,
    fx.seed,
    [
      ["add", "-A"],
      ["commit", "-q", "-m", "another change"],
      ["push", "-q", "origin", "feature"],
      ["rev-parse", "HEAD"],
    ],
    date,
  );
  checkoutMerge(fx);
}

/**
 * The runner's checkout of GitHub's merge commit of the PR head into `onto` (the base): sets mergeSha. `fetch`
 * false: the workspace already holds the head (a clone made just now).
 */
export function checkoutMerge(fx: Fixture, onto = fx.baseSha, fetch = true): void {
  fx.mergeSha = gitAll(fx, fx.workspace, [
    ...(fetch ? [["fetch", "-q", "origin"]] : []),
    ["checkout", "-q", "--detach", onto],
    ["merge", "-q", "--no-ff", "--no-edit", fx.headSha],
    ["rev-parse", "HEAD"],
  ]);
}

/**
 * A pull request whose base branch moved above its mistake: alice misspells an engine argument of her
 * qwen-0.5b (line 8 of the file on her branch) while an admin adds three comment lines at the top of the same
 * file on main; the checkout is GitHub's merge commit of the head into that newer main, where the line differs.
 */
export function misspeltWhileBaseMoved(runs: Pick<CheckRuns, "fixture">): Fixture {
  const fx = runs.fixture({
    head: (dir) =>
      edit(dir, "models/alice/qwen-0.5b.yaml", (text) =>
        text.replace("gpu_memory_utilization", "gpu_memory_utilisation"),
      ),
  });
  git(fx, fx.seed, ["checkout", "-q", "main"]);
  edit(
    fx.seed,
    "models/alice/qwen-0.5b.yaml",
    (text) => `# owner: alice\n# team: research\n# reviewed\n${text}`,
  );
  git(fx, fx.seed, ["commit", "-q", "-am", "admin notes"]);
  git(fx, fx.seed, ["push", "-q", "origin", "main"]);
  const main = git(fx, fx.seed, ["rev-parse", "HEAD"]);
  git(fx, fx.seed, ["checkout", "-q", "feature"]);
  checkoutMerge(fx, main);
  return fx;
}

function removeFixture(fx: Fixture): void {
  rmSync(fx.dir, { recursive: true, force: true });
}

const require = createRequire(import.meta.url);
interface WebhookExamples {
  name: string;
  examples: Array<Record<string, unknown>>;
}

interface RepositoryPayload {
  full_name: string;
  default_branch: string;
  name: string;
  owner: { login: string };
}

/** The parts of GitHub's payloads the fixtures adapt; everything else stays as recorded. */
interface PullRequestPayload {
  number: number;
  repository: RepositoryPayload;
  sender: { login: string; type: string };
  pull_request: {
    number: number;
    user: { login: string };
    base: { sha: string; ref: string; repo: { full_name: string; default_branch: string } };
    head: { sha: string; ref: string; repo: { full_name: string; fork: boolean } };
  };
}

interface PushPayload {
  ref: string;
  before: string;
  after: string;
  repository: RepositoryPayload;
}

/** A recorded webhook payload of @octokit/webhooks-examples, deep-copied. */
function recorded<T>(event: string, action?: string): T & Record<string, unknown> {
  const all = require("@octokit/webhooks-examples") as WebhookExamples[];
  const examples = all.find((e) => e.name === event)?.examples ?? [];
  const example = examples.find((e) => action === undefined || e.action === action);
  if (!example) throw new Error(`no recorded ${event} payload`);
  return structuredClone(example) as T & Record<string, unknown>;
}

/**
 * GitHub's `synchronize` payload with this fixture's SHAs and the given author (and fork); the sender (who
 * pushed) is the author unless given.
 */
export interface PullRequestOptions {
  readonly number?: number;
  readonly author: string;
  readonly fork?: boolean;
  readonly sender?: string;
}

export function pullRequestPayload(fx: Fixture, options: PullRequestOptions): Record<string, unknown> {
  const payload = recorded<PullRequestPayload>("pull_request", "synchronize");
  const [owner = "", name = ""] = REPOSITORY.split("/");
  const pr = payload.pull_request;
  payload.number = pr.number = options.number ?? 7;
  payload.repository.full_name = REPOSITORY;
  payload.repository.name = name;
  payload.repository.owner.login = owner;
  payload.repository.default_branch = pr.base.repo.default_branch = "main";
  pr.user.login = payload.sender.login = options.author;
  if (options.sender !== undefined) payload.sender.login = options.sender;
  pr.base.sha = fx.baseSha;
  pr.base.ref = "main";
  pr.base.repo.full_name = REPOSITORY;
  pr.head.sha = fx.headSha;
  pr.head.ref = "feature";
  pr.head.repo.full_name = options.fork ? `${options.author}/${name}` : REPOSITORY;
  pr.head.repo.fork = options.fork ?? false;
  return payload;
}

/** GitHub's push payload for a push of `after` onto main over `before`. */
export function pushPayload(before: string, after: string): Record<string, unknown> {
  const payload = recorded<PushPayload>("push");
  payload.ref = "refs/heads/main";
  payload.before = before;
  payload.after = after;
  payload.repository.full_name = REPOSITORY;
  return payload;
}

/** A push of the fixture's head onto main: the runner checks out the head and runs the bundle on it. */
export function runPush(fx: Fixture, options: Partial<Omit<RunOptions, "event">> = {}): Promise<ActionRun> {
  git(fx, fx.workspace, ["checkout", "-q", "--detach", fx.headSha]);
  return runAction(fx, {
    event: "push",
    payload: pushPayload(fx.baseSha, fx.headSha),
    sha: fx.headSha,
    ...options,
  });
}

export interface Annotation {
  readonly level: "error" | "warning" | "notice";
  readonly properties: Readonly<Record<string, string>>;
  readonly message: string;
  /** The raw line, for asserting the `::error file=...,line=...::` form. */
  readonly raw: string;
}

export interface ActionRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Readonly<Record<string, string>>;
  readonly summary: string;
  readonly annotations: readonly Annotation[];
}

export interface RunOptions {
  readonly event: "pull_request" | "push" | "merge_group";
  readonly payload: Record<string, unknown>;
  readonly server?: GitHubApiServer;
  /** The token passed as github-token; the workflow token by default. */
  readonly token?: string;
  readonly inputs?: Readonly<Record<string, string>>;
  /** The checked-out commit (GITHUB_SHA); the merge commit by default. */
  readonly sha?: string;
  /** A folder searched before the runner's PATH: a git that counts its calls, say. */
  readonly pathPrefix?: string;
  /**
   * Make the API server's GET /pulls/{n} answer with the payload's pull request (its current head), as
   * GitHub would for the event being delivered. False: leave the server's record as it is (a re-run of an
   * older workflow run, whose payload is not the PR's current state).
   */
  readonly registerPull?: boolean;
  /**
   * The workflow run GitHub lists for this run (GET .../actions/runs), registered with the API server for a
   * pull_request event: actor = the payload's sender, the next run_number. Overrides change it (a re-run's
   * `actor` stays the first attempt's); false registers none.
   */
  readonly run?: Partial<WorkflowRunInput> | false;
}

let runs = 0;
/** Run ids and numbers grow across the file's runs, as a workflow's do. */
const RUN_ID_BASE = 9_100_000_000;

/** Run the committed bundle as the runner does. Every run is checked for a leaked token. */
export async function runAction(fx: Fixture, options: RunOptions): Promise<ActionRun> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build:action\``);
  const n = ++runs;
  const eventPath = join(fx.dir, `event-${n}.json`);
  const outputPath = join(fx.dir, `output-${n}.txt`);
  const summaryPath = join(fx.dir, `summary-${n}.md`);
  writeFileSync(eventPath, JSON.stringify(options.payload));
  const pull = (options.payload as Partial<PullRequestPayload>).pull_request;
  if (options.server && pull && options.registerPull !== false) {
    options.server.setPull({
      number: pull.number,
      head: { sha: pull.head.sha, ref: pull.head.ref, repo: pull.head.repo },
      base: { sha: pull.base.sha, ref: pull.base.ref, repo: { full_name: pull.base.repo.full_name } },
      user: { login: pull.user.login },
    });
  }
  const runId = RUN_ID_BASE + n;
  if (options.server && pull && options.run !== false) {
    const sender = (options.payload as Partial<PullRequestPayload>).sender?.login ?? pull.user.login;
    options.server.addWorkflowRun({
      id: runId,
      run_number: n,
      head_sha: pull.head.sha,
      actor: sender,
      created_at: new Date(Date.UTC(2026, 2, 1, 0, n)).toISOString().replace(".000Z", "Z"),
      status: "in_progress",
      conclusion: null,
      pull_requests: pull.head.repo.full_name === REPOSITORY ? [pull.number] : [],
      ...options.run,
    });
  }
  writeFileSync(outputPath, "");
  writeFileSync(summaryPath, "");
  const inputs: Record<string, string> = {
    // The runner sets every input, with its action.yml default when the workflow gives none.
    "INPUT_GITHUB-TOKEN": options.token ?? TOKENS.workflow,
    "INPUT_WORKFLOW-TOKEN": TOKENS.workflow,
    INPUT_MODE: "",
    "INPUT_COMMIT-RENDERED": "false",
    INPUT_COMMENT: "true",
  };
  for (const [name, value] of Object.entries(options.inputs ?? {}))
    inputs[`INPUT_${name.toUpperCase()}`] = value;
  const env: NodeJS.ProcessEnv = {
    PATH: options.pathPrefix ? `${options.pathPrefix}:${process.env.PATH}` : process.env.PATH,
    HOME: fx.home,
    GIT_CONFIG_NOSYSTEM: "1",
    GITHUB_ACTIONS: "true",
    CI: "true",
    GITHUB_EVENT_NAME: options.event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_SHA: options.sha ?? fx.mergeSha,
    GITHUB_WORKSPACE: fx.workspace,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_API_URL: options.server?.url ?? "http://127.0.0.1:9",
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_RUN_ID: String(runId),
    GITHUB_RUN_ATTEMPT: "1",
    RUNNER_TEMP: fx.dir,
    SERVE_GITOPS_TEST_FAST: "1",
    ...inputs,
  };
  // Asynchronous: the API test server answers from this same process.
  const child = spawn(process.execPath, [BUNDLE], {
    cwd: fx.workspace,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((done, fail) => {
    child.on("error", fail);
    child.on("close", done);
  });
  const run: ActionRun = {
    code,
    stdout,
    stderr,
    outputs: parseOutputs(readFileSync(outputPath, "utf8")),
    summary: readFileSync(summaryPath, "utf8"),
    annotations: parseAnnotations(stdout),
  };
  assertNoTokenLeak(run, options.server);
  return run;
}

/** GITHUB_OUTPUT holds `name<<DELIMITER\nvalue\nDELIMITER` blocks. */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const end = lines.indexOf(m[2]!, i + 1);
    out[m[1]!] = lines.slice(i + 1, end).join("\n");
    i = end;
  }
  return out;
}

const unescapeData = (s: string) => s.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
const unescapeProperty = (s: string) => unescapeData(s).replace(/%3A/g, ":").replace(/%2C/g, ",");

export function parseAnnotations(stdout: string): Annotation[] {
  const out: Annotation[] = [];
  for (const raw of stdout.split("\n")) {
    const m = /^::(error|warning|notice)(?: ([^:]*))?::(.*)$/.exec(raw);
    if (!m) continue;
    const properties: Record<string, string> = {};
    for (const pair of (m[2] ?? "").split(",").filter(Boolean)) {
      const at = pair.indexOf("=");
      properties[pair.slice(0, at)] = unescapeProperty(pair.slice(at + 1));
    }
    out.push({ level: m[1] as Annotation["level"], properties, message: unescapeData(m[3]!), raw });
  }
  return out;
}

/** No token anywhere the Action writes, except the runner's own `::add-mask::` command. */
function assertNoTokenLeak(run: ActionRun, server: GitHubApiServer | undefined): void {
  const logs = [...run.stdout.split("\n"), ...run.stderr.split("\n")].filter(
    (l) => !l.startsWith("::add-mask::"),
  );
  const places: Array<[string, string]> = [
    ["log", logs.join("\n")],
    ["summary", run.summary],
    ["outputs", JSON.stringify(run.outputs)],
    ["comments", JSON.stringify(server?.requests.map((r) => r.body) ?? [])],
  ];
  for (const token of Object.values(TOKENS)) {
    const base64 = Buffer.from(`x-access-token:${token}`).toString("base64");
    for (const [where, text] of places) {
      if (text.includes(token) || text.includes(base64)) throw new Error(`a token leaked into the ${where}`);
    }
  }
}

/** Error annotations on a file (the final "N errors" line has none). */
export const fileErrors = (run: ActionRun): Annotation[] =>
  run.annotations.filter((a) => a.level === "error" && a.properties.file !== undefined);

/** A test file's GitHub API server and the fixtures of its tests: see useGitHubServer. */
export interface CheckRuns {
  readonly server: GitHubApiServer;
  /** Requests to the server, as "METHOD path status" lines. */
  calls(): string[];
  /** makeFixture, removed again after the test. */
  fixture(options?: FixtureOptions): Fixture;
  /** runAction against the server. */
  run(fx: Fixture, options: Omit<RunOptions, "server">): Promise<ActionRun>;
  /** A `pull_request` event (GitHub's `synchronize` payload) for the fixture's head, against the server. */
  pullRequest(
    fx: Fixture,
    pr: PullRequestOptions,
    options?: Omit<RunOptions, "server" | "event" | "payload">,
  ): Promise<ActionRun>;
}

/**
 * One GitHub API test server per test file, strict: after each test it must have seen no unexpected call;
 * its request log is cleared and the test's fixtures are removed.
 */
export function useGitHubServer(tokens: Record<string, TokenIdentity>): CheckRuns {
  let started: GitHubApiServer | undefined;
  const fixtures: Fixture[] = [];
  const bases: BaseCache = {};
  beforeAll(async () => {
    started = await startGitHubApiServer({ tokens });
  });
  afterAll(async () => {
    if (bases.plain) rmSync(bases.plain.dir, { recursive: true, force: true });
    await started?.close();
  });
  afterEach(() => {
    expect(started!.unexpected).toEqual([]);
    for (const fx of fixtures.splice(0)) removeFixture(fx);
    started!.requests.length = 0;
    // Fixtures are alike to the SHA: one test's runs must not be another's earlier runs.
    started!.clearWorkflowRuns();
    started!.clearActivities();
  });
  const runs: CheckRuns = {
    get server() {
      if (!started) throw new Error("the GitHub API test server starts before the first test");
      return started;
    },
    calls: () => runs.server.requests.map((r) => `${r.method} ${r.path} ${r.status}`),
    fixture(options) {
      const fx = makeFixture(options ?? {}, bases);
      fixtures.push(fx);
      return fx;
    },
    run: (fx, options) => runAction(fx, { ...options, server: runs.server }),
    pullRequest: (fx, pr, options = {}) =>
      runs.run(fx, { event: "pull_request", payload: pullRequestPayload(fx, pr), ...options }),
  };
  return runs;
}
