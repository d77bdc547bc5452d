// `serve-gitops agent` flags and their environment variables -> AgentConfig. Secrets come from files or the
// environment only (a flag would show in `ps`); git credentials become git configuration in the environment
// (GIT_CONFIG_COUNT/KEY/VALUE with http.extraHeader), never part of the URL.
import { readFileSync } from "node:fs";
import { parse } from "../../../generator/src/cli/args";
import { UsageError } from "../../../generator/src/cli/errors";
import type { AgentConfig } from "../runtime/run-agent";

/** flag -> environment variable. Every flag also reads from the environment; the flag wins. */
export const AGENT_ENV = {
  cluster: "SERVE_GITOPS_CLUSTER",
  repo: "SERVE_GITOPS_REPO",
  branch: "SERVE_GITOPS_BRANCH",
  "ray-address": "SERVE_GITOPS_RAY_ADDRESS",
  "ray-token-file": "SERVE_GITOPS_RAY_TOKEN_FILE",
  "github-repo": "SERVE_GITOPS_GITHUB_REPO",
  "github-api-url": "SERVE_GITOPS_GITHUB_API_URL",
  "github-token-file": "SERVE_GITOPS_GITHUB_TOKEN_FILE",
  "git-token-file": "SERVE_GITOPS_GIT_TOKEN_FILE",
  "state-dir": "SERVE_GITOPS_STATE_DIR",
  interval: "SERVE_GITOPS_INTERVAL",
  "watch-interval": "SERVE_GITOPS_WATCH_INTERVAL",
  once: "SERVE_GITOPS_ONCE",
  listen: "SERVE_GITOPS_LISTEN",
  "status-url": "SERVE_GITOPS_STATUS_URL",
  "sync-token-file": "SERVE_GITOPS_SYNC_TOKEN_FILE",
  "webhook-secret-file": "SERVE_GITOPS_WEBHOOK_SECRET_FILE",
  "dry-run": "SERVE_GITOPS_DRY_RUN",
  suspend: "SERVE_GITOPS_SUSPEND",
  "log-level": "SERVE_GITOPS_LOG_LEVEL",
  "ray-timeout": "SERVE_GITOPS_RAY_TIMEOUT",
  "git-timeout": "SERVE_GITOPS_GIT_TIMEOUT",
} as const;

/** Secrets read straight from the environment (for platforms that inject them so). */
export const SECRET_ENV = {
  githubToken: ["SERVE_GITOPS_GITHUB_TOKEN", "GITHUB_TOKEN"],
  rayToken: ["SERVE_GITOPS_RAY_TOKEN", "RAY_AUTH_TOKEN"],
  gitToken: ["SERVE_GITOPS_GIT_TOKEN"],
  syncToken: ["SERVE_GITOPS_SYNC_TOKEN"],
  webhookSecret: ["SERVE_GITOPS_WEBHOOK_SECRET"],
} as const;

type Flag = keyof typeof AGENT_ENV;
const BOOLEAN: readonly Flag[] = ["once", "dry-run", "suspend"];

const OPTIONS = Object.fromEntries(
  (Object.keys(AGENT_ENV) as Flag[]).map((flag) => [
    flag,
    { type: BOOLEAN.includes(flag) ? ("boolean" as const) : ("string" as const) },
  ]),
) as Record<Flag, { type: "string" | "boolean" }>;

/** Environment passed on to git processes (createGit adds PATH, HOME and its own settings). */
const GIT_PASS_THROUGH =
  /^(GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+)|GIT_SSL_CAINFO|GIT_SSL_CAPATH|HTTPS?_PROXY|https?_proxy|NO_PROXY|no_proxy)$/;

export function parseAgentOptions(
  argv: string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
  readSecret: (path: string) => string = (path) => readFileSync(path, "utf8"),
): AgentConfig {
  for (const arg of argv) {
    const name = /^--(github-token|ray-token|git-token|sync-token|webhook-secret)(=|$)/.exec(arg)?.[1];
    if (name)
      throw new UsageError(
        `secrets are never flags (they show in ps): use --${name}-file F or the environment`,
      );
  }
  const { values } = parse(argv, OPTIONS);
  const value = (flag: Flag): string | undefined => {
    const v = (values as Record<string, string | boolean | undefined>)[flag];
    if (typeof v === "string") return v;
    const e = env[AGENT_ENV[flag]];
    return e === undefined || e === "" ? undefined : e;
  };
  const flagOn = (flag: Flag): boolean => {
    if ((values as Record<string, unknown>)[flag] === true) return true;
    const e = env[AGENT_ENV[flag]];
    return e !== undefined && /^(1|true|yes|on)$/i.test(e);
  };
  const required = (flag: Flag): string => {
    const v = value(flag);
    if (!v) throw new UsageError(`--${flag} (or ${AGENT_ENV[flag]}) is required`);
    return v;
  };
  const secret = (flag: Flag, envNames: readonly string[]): string | undefined => {
    const file = value(flag);
    if (file) {
      let text: string;
      try {
        text = readSecret(file);
      } catch (error) {
        throw new UsageError(
          `cannot read --${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        );
      }
      const trimmed = text.trim();
      if (!trimmed) throw new UsageError(`--${flag} ${file} is empty`);
      return trimmed;
    }
    for (const name of envNames) {
      const v = env[name];
      if (v) return v.trim();
    }
    return undefined;
  };

  const dryRun = flagOn("dry-run");
  const cluster = required("cluster");
  const repo = required("repo");
  const stateDir = required("state-dir");
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*@/i.test(repo) && !/^ssh:\/\/[^:/@]+@/i.test(repo)) {
    throw new UsageError(
      "--repo must not carry credentials: use --git-token-file (sent as an http.extraHeader) or git's own configuration",
    );
  }
  const githubRepo = value("github-repo") ?? env.GITHUB_REPOSITORY;
  if (!githubRepo && !dryRun)
    throw new UsageError(`--github-repo owner/name (or ${AGENT_ENV["github-repo"]}) is required`);
  if (githubRepo && !/^[\w.-]+\/[\w.-]+$/.test(githubRepo))
    throw new UsageError(`--github-repo must be owner/name (got "${githubRepo}")`);
  const githubToken = secret("github-token-file", SECRET_ENV.githubToken);
  if (!githubToken && !dryRun)
    throw new UsageError(
      "a GitHub token is required: --github-token-file F, SERVE_GITOPS_GITHUB_TOKEN or GITHUB_TOKEN (scopes: statuses: write, pull-requests: write, contents: read)",
    );
  const rayAddress = value("ray-address");
  if (rayAddress !== undefined) checkUrl("--ray-address", rayAddress);
  const githubApiUrl = value("github-api-url") ?? env.GITHUB_API_URL ?? "https://api.github.com";
  checkUrl("--github-api-url", githubApiUrl);
  const statusUrl = value("status-url");
  if (statusUrl !== undefined) checkUrl("--status-url", statusUrl);
  const listen = value("listen");
  const rayToken = secret("ray-token-file", SECRET_ENV.rayToken);
  const syncToken = secret("sync-token-file", SECRET_ENV.syncToken);
  const webhookSecret = secret("webhook-secret-file", SECRET_ENV.webhookSecret);
  const logLevel = value("log-level") ?? "info";
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(logLevel))
    throw new UsageError(`--log-level ${logLevel} is not a pino level`);
  return {
    cluster,
    repo,
    branch: value("branch") ?? "main",
    ...(rayAddress ? { rayAddress } : {}),
    ...(rayToken ? { rayToken } : {}),
    githubRepo: githubRepo ?? "",
    githubApiUrl,
    ...(githubToken ? { githubToken } : {}),
    stateDir,
    intervalMs: parseDuration("--interval", value("interval") ?? "10s"),
    watchIntervalMs: parseDuration("--watch-interval", value("watch-interval") ?? "2s"),
    once: flagOn("once"),
    ...(listen ? { listen: parseListen(listen) } : {}),
    dryRun,
    suspend: flagOn("suspend"),
    ...(statusUrl ? { statusUrl } : {}),
    ...(syncToken ? { syncToken } : {}),
    ...(webhookSecret ? { webhookSecret } : {}),
    logLevel,
    gitEnv: gitEnvironment(env, secret("git-token-file", SECRET_ENV.gitToken)),
    gitTimeoutMs: parseDuration("--git-timeout", value("git-timeout") ?? "60s"),
    rayTimeoutMs: parseDuration("--ray-timeout", value("ray-timeout") ?? "10s"),
  };
}

/** "500ms", "10s", "5m", "1h", or a number of seconds. */
export function parseDuration(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag} must be a duration such as 500ms, 10s or 5m (got "${text}")`);
  const n = Number(match[1]);
  const unit = match[2] ?? "s";
  const ms = unit === "ms" ? n : unit === "s" ? n * 1000 : unit === "m" ? n * 60_000 : n * 3_600_000;
  if (ms <= 0) throw new UsageError(`${flag} must be more than zero`);
  return Math.round(ms);
}

export function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-f:.]+)\]|([^:]*)):(\d{1,5})$/i.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535)
    throw new UsageError(`--listen must be host:port, e.g. 127.0.0.1:9464 (got "${text}")`);
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

function checkUrl(flag: string, text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag} must be an http(s) URL (got "${text}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`${flag} must be an http(s) URL (got "${text}")`);
  if (url.username || url.password) throw new UsageError(`${flag} must not carry credentials`);
}

/** git's configuration for the agent's git processes; a git token becomes one more http.extraHeader entry. */
export function gitEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  gitToken: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env))
    if (value !== undefined && GIT_PASS_THROUGH.test(key)) out[key] = value;
  if (gitToken) {
    const index = Number(out.GIT_CONFIG_COUNT ?? "0") || 0;
    const basic = Buffer.from(`x-access-token:${gitToken}`).toString("base64");
    out[`GIT_CONFIG_KEY_${index}`] = "http.extraHeader";
    out[`GIT_CONFIG_VALUE_${index}`] = `Authorization: Basic ${basic}`;
    out.GIT_CONFIG_COUNT = String(index + 1);
  }
  return out;
}
