// Wiring: one real adapter per port, the state directory (locked), the loop and the --listen server. The CLI,
// the demo, the bench and the tests all start the agent through startAgent().
import { existsSync, mkdirSync } from "node:fs";
import { nodeFilePort } from "../adapters/fs-port";
import { cloneDirIn, GitSource } from "../adapters/git-source";
import { GitHubReporter } from "../adapters/github-reporter";
import { createOctokit } from "../adapters/octokit";
import { RayServeTarget } from "../adapters/ray-target";
import { createLogger, type Logger } from "../log";
import type { DesiredStateSource, FilePort, ServeTarget, StatusReporter } from "../ports";
import { Outbox } from "../report/outbox";
import { startServer, type AgentServer, type Health } from "../server/http-server";
import { AgentMetrics } from "../server/metrics";
import { statusDoc, type StatusDoc } from "../server/status-doc";
import { acquireLock, type StateLock } from "../state/lock";
import { StateStore } from "../state/state-store";
import { Agent } from "./agent";
import { dryRunClone, type DryRunClone } from "./dry-run-clone";
import { PruneApproval } from "./prune-approval";
import { AgentLoop } from "./loop";
import { RayGate } from "./ray-gate";

export interface AgentConfig {
  readonly cluster: string;
  /** A git URL (without credentials) or a local path. */
  readonly repo: string;
  readonly branch: string;
  /** Overrides cluster.yaml's ray.dashboard_address. */
  readonly rayAddress?: string;
  readonly rayToken?: string;
  /** owner/name */
  readonly githubRepo: string;
  readonly githubApiUrl: string;
  /** Absent only in --dry-run. */
  readonly githubToken?: string;
  readonly stateDir: string;
  readonly intervalMs: number;
  readonly watchIntervalMs: number;
  readonly once: boolean;
  /** host:port */
  readonly listen?: { readonly host: string; readonly port: number };
  readonly dryRun: boolean;
  readonly suspend: boolean;
  /** The public URL of GET /status, for statuses without an endpoint. */
  readonly statusUrl?: string;
  readonly syncToken?: string;
  readonly webhookSecret?: string;
  readonly logLevel: string;
  /** GIT_CONFIG_* (http.extraHeader) for a private repository. */
  readonly gitEnv: Readonly<Record<string, string>>;
  readonly gitTimeoutMs: number;
  readonly rayTimeoutMs: number;
  /** Per GitHub API call, retries included (default 10 s). */
  readonly githubTimeoutMs?: number;
  /** How long a cycle waits for its GitHub writes before going on (default 2 s; they go on in the background). */
  readonly githubWaitMs?: number;
  /** How long the statuses owed get on a stop (default 18 s: the whole stop fits 20 s). */
  readonly graceMs?: number;
}

/** Test seams: each replaces one real piece; production passes none. */
export interface AgentOverrides {
  readonly log?: Logger;
  readonly now?: () => number;
  readonly files?: FilePort;
  readonly source?: DesiredStateSource;
  readonly target?: ServeTarget;
  readonly reporter?: StatusReporter;
  /** plugin-throttling / plugin-retry options (tests shorten their timings; the plugins stay on). */
  readonly octokitTuning?: { readonly throttle?: object; readonly retry?: object };
  readonly defaultMetrics?: boolean;
}

export interface RunningAgent {
  readonly agent: Agent;
  readonly loop: AgentLoop;
  readonly metrics: AgentMetrics;
  readonly outbox: Outbox;
  readonly server?: AgentServer;
  readonly log: Logger;
  status(): StatusDoc;
  health(): Health;
  /** Stop the server, release the state directory and remove a dry run's clone (after the loop returned). */
  close(): Promise<void>;
}

export async function startAgent(config: AgentConfig, overrides: AgentOverrides = {}): Promise<RunningAgent> {
  const log = overrides.log ?? createLogger({ level: config.logLevel });
  const now = overrides.now ?? Date.now;
  // A dry run creates no state directory: one that does not exist has nothing to read and no agent to exclude.
  // One that exists is locked as by any agent (the lock file goes when the agent closes).
  let lock: StateLock | undefined;
  if (!config.dryRun || existsSync(config.stateDir)) {
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    lock = acquireLock(config.stateDir);
  }
  const scratch = config.dryRun && !overrides.source ? dryRunClone(config.stateDir) : undefined;
  const release = () => {
    scratch?.remove();
    lock?.release();
  };
  try {
    return await assemble(config, overrides, log, now, release, scratch);
  } catch (error) {
    release();
    throw error;
  }
}

async function assemble(
  config: AgentConfig,
  overrides: AgentOverrides,
  log: Logger,
  now: () => number,
  release: () => void,
  scratch: DryRunClone | undefined,
): Promise<RunningAgent> {
  const metrics = new AgentMetrics({ defaultMetrics: overrides.defaultMetrics ?? false });
  const files = config.dryRun ? readOnly(overrides.files ?? nodeFilePort) : (overrides.files ?? nodeFilePort);
  const store = new StateStore(config.stateDir, files);
  const record = await store.loadRecord(config.cluster);
  const ray = new RayGate({ ...(config.rayAddress ? { override: config.rayAddress } : {}), log });
  const target =
    overrides.target ??
    new RayServeTarget({
      address: () => ray.address(),
      ...(config.rayToken ? { token: config.rayToken } : {}),
      timeoutMs: config.rayTimeoutMs,
      onResponse: (method, _path, status) => metrics.rayRequests.inc({ method, status: String(status) }),
    });
  ray.attach(target);
  // Kills a git call under way on stop: a hanging remote would otherwise hold the stop for gitTimeoutMs.
  const stopping = new AbortController();
  const source =
    overrides.source ??
    new GitSource({
      url: config.repo,
      branch: config.branch,
      cloneDir: scratch?.cloneDir ?? cloneDirIn(config.stateDir),
      ...(scratch?.borrowObjects ? { borrowObjects: scratch.borrowObjects } : {}),
      env: config.gitEnv,
      timeoutMs: config.gitTimeoutMs,
      signal: stopping.signal,
      onCommand: (command) => metrics.gitCommands.inc({ command }),
    });
  let reporter: StatusReporter | undefined = overrides.reporter;
  // Aborts GitHub requests still in flight when a stop's grace period is over.
  const shutdown = new AbortController();
  if (!reporter && config.githubToken && !config.dryRun) {
    const octokit = createOctokit({
      baseUrl: config.githubApiUrl,
      token: config.githubToken,
      log,
      signal: shutdown.signal,
      ...(config.githubTimeoutMs !== undefined ? { timeoutMs: config.githubTimeoutMs } : {}),
      ...(overrides.octokitTuning ? { tuning: overrides.octokitTuning } : {}),
      onResponse: (method, status, remaining) => {
        metrics.githubRequests.inc({ method, status: String(status) });
        if (remaining !== undefined) metrics.githubRemaining.set(remaining);
      },
    });
    reporter = new GitHubReporter(octokit, config.githubRepo);
  }
  const outbox = await Outbox.load({
    cluster: config.cluster,
    branch: config.branch,
    store,
    reporter: config.dryRun ? undefined : reporter,
    log,
    now,
  });
  const approval = new PruneApproval({
    source,
    reporter: config.dryRun ? undefined : reporter,
    branch: config.branch,
    log,
    now,
  });
  const agent = new Agent(
    {
      cluster: config.cluster,
      source,
      target,
      ray,
      approval,
      outbox,
      store,
      log,
      metrics,
      now,
      suspend: config.suspend,
      dryRun: config.dryRun,
      ...(config.statusUrl ? { statusUrl: config.statusUrl } : {}),
      ...(config.githubWaitMs !== undefined ? { githubWaitMs: config.githubWaitMs } : {}),
    },
    record,
  );
  const loop = new AgentLoop(agent, {
    intervalMs: config.intervalMs,
    watchIntervalMs: config.watchIntervalMs,
    once: config.once,
    log,
    now,
    ...(config.graceMs !== undefined ? { graceMs: config.graceMs } : {}),
    onStop: () => stopping.abort(),
    onGiveUp: () => shutdown.abort(),
  });

  const status = (): StatusDoc => {
    const last = loop.lastCycle;
    return statusDoc({
      record: agent.state,
      branch: config.branch,
      dryRun: config.dryRun,
      suspended: config.suspend || agent.current?.cluster.sync.suspend === true,
      ray: { address: ray.address(), version: ray.version },
      ...(agent.lastHead ? { head: agent.lastHead } : {}),
      outbox: outbox.size,
      ...(last ? { lastCycle: { at: last.at, action: last.report.action, faults: last.report.faults } } : {}),
    });
  };
  const health = (): Health => {
    const reasons: string[] = [];
    const last = loop.lastCycle;
    if (!ray.isChecked) reasons.push("Ray's version has not been checked yet");
    if (!last) reasons.push("no cycle has run yet");
    else for (const f of last.report.faults) reasons.push(`${f.name}: ${f.message}`);
    // Ray refused the agent itself (a proxy's 405, a token refused on the PUT): said once as a cycle's fault,
    // then nothing can be applied until an operator acts, so it stays a reason until a later commit is taken.
    const blocked = agent.state.blocked;
    if (blocked?.agentFault && !last?.report.faults.length)
      reasons.push(
        `the agent cannot apply ${blocked.sha.slice(0, 7)}: ${blocked.reason}; once that is fixed, a new commit (an empty one will do) is applied`,
      );
    return { live: loop.isRunning || !last, ready: reasons.length === 0, reasons };
  };
  let server: AgentServer | undefined;
  if (config.listen) {
    server = await startServer({
      host: config.listen.host,
      port: config.listen.port,
      branch: config.branch,
      registry: metrics.registry,
      status,
      health,
      onSync: (via) => {
        log.info({ via }, "POST /sync: cycle requested");
        loop.requestSync();
      },
      log,
      ...(config.syncToken ? { syncToken: config.syncToken } : {}),
      ...(config.webhookSecret ? { webhookSecret: config.webhookSecret } : {}),
    });
    log.info({ url: server.url }, "status server listening");
  }
  return {
    agent,
    loop,
    metrics,
    outbox,
    log,
    ...(server ? { server } : {}),
    status,
    health,
    async close() {
      await server?.close();
      release();
    },
  };
}

/** --dry-run: reads the state directory, never writes it. */
function readOnly(files: FilePort): FilePort {
  const memory = new Map<string, string>();
  return {
    read: async (path) => memory.get(path) ?? files.read(path),
    write: async (path, data) => void memory.set(path, data),
  };
}

/** The agent as a process: run until --once finishes or SIGTERM, then finish writing statuses. */
export async function runAgent(config: AgentConfig, overrides: AgentOverrides = {}): Promise<number> {
  const running = await startAgent(config, { defaultMetrics: true, ...overrides });
  const { loop, log } = running;
  const stop = (signal: string) => {
    log.info({ signal }, "stopping: finishing the current cycle and its status writes");
    loop.stop();
  };
  const onTerm = () => stop("SIGTERM");
  const onInt = () => stop("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  log.info(
    {
      cluster: config.cluster,
      branch: config.branch,
      once: config.once,
      dryRun: config.dryRun,
      suspend: config.suspend,
      intervalMs: config.intervalMs,
    },
    "serve-gitops agent started",
  );
  try {
    return await loop.run();
  } finally {
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
    await running.close();
    log.info("serve-gitops agent stopped");
  }
}
