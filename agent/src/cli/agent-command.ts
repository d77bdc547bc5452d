import type { Command } from "../../../generator/src/cli/command";
import { LockError, StateStoreError } from "../errors";
import { runAgent } from "../runtime/run-agent";
import { parseAgentOptions } from "./agent-options";

/** How long the process may linger once the agent has stopped (its logs are written by then). */
const EXIT_AFTER_STOP_MS = 1_000;

export const agentCommand: Command = {
  summary:
    "Run the sync agent beside a Ray cluster: apply what the branch declares, report each model on its commit.",
  usage: `Usage: serve-gitops agent --cluster NAME --repo URL|PATH --github-repo OWNER/NAME --state-dir DIR [options]

Every flag also reads an environment variable (in brackets); the flag wins.
  --cluster NAME             the cluster this agent serves                  [SERVE_GITOPS_CLUSTER]
  --repo URL|PATH            the repository (no credentials in the URL)     [SERVE_GITOPS_REPO]
  --branch NAME              the branch to follow (default main)            [SERVE_GITOPS_BRANCH]
  --ray-address URL          overrides ray.dashboard_address of cluster.yaml [SERVE_GITOPS_RAY_ADDRESS]
  --ray-token-file F         Ray's auth token (RAY_AUTH_MODE=token)          [SERVE_GITOPS_RAY_TOKEN_FILE | SERVE_GITOPS_RAY_TOKEN | RAY_AUTH_TOKEN]
  --github-repo OWNER/NAME   where commit statuses go                        [SERVE_GITOPS_GITHUB_REPO | GITHUB_REPOSITORY]
  --github-api-url URL       GHES: https://HOST/api/v3; Gitea/Forgejo: /api/v1 [SERVE_GITOPS_GITHUB_API_URL | GITHUB_API_URL]
  --github-token-file F      statuses: write, pull-requests: write, contents: read [SERVE_GITOPS_GITHUB_TOKEN_FILE | SERVE_GITOPS_GITHUB_TOKEN | GITHUB_TOKEN]
  --git-token-file F         for a private repository, sent as git's http.extraHeader [SERVE_GITOPS_GIT_TOKEN_FILE | SERVE_GITOPS_GIT_TOKEN]
  --state-dir DIR            bare clone, record, outbox, lock (one agent per directory) [SERVE_GITOPS_STATE_DIR]
  --interval D               how often to ask the remote for the branch head (default 10s) [SERVE_GITOPS_INTERVAL]
  --watch-interval D         how often to read Ray while models deploy (default 2s) [SERVE_GITOPS_WATCH_INTERVAL]
  --once                     one full cycle (with the watch and the drift check), then exit [SERVE_GITOPS_ONCE]
  --listen HOST:PORT         serve /healthz /readyz /metrics /status and POST /sync [SERVE_GITOPS_LISTEN]
  --status-url URL           public URL of /status, linked from statuses    [SERVE_GITOPS_STATUS_URL]
  --sync-token-file F        bearer token POST /sync accepts                 [SERVE_GITOPS_SYNC_TOKEN_FILE | SERVE_GITOPS_SYNC_TOKEN]
  --webhook-secret-file F    secret of a GitHub push webhook to POST /sync   [SERVE_GITOPS_WEBHOOK_SECRET_FILE | SERVE_GITOPS_WEBHOOK_SECRET]
  --dry-run                  decide and log; no PUT, no status, state directory untouched [SERVE_GITOPS_DRY_RUN]
                             (git fetches into a temporary clone, removed at exit)
  --suspend                  apply nothing; keep reporting drift             [SERVE_GITOPS_SUSPEND]
  --log-level LEVEL          pino level (default info)                       [SERVE_GITOPS_LOG_LEVEL]
  --ray-timeout D            per request to Ray (default 10s)                [SERVE_GITOPS_RAY_TIMEOUT]
  --git-timeout D            per git command (default 60s)                   [SERVE_GITOPS_GIT_TIMEOUT]
Secrets (the *-file flags) come from a file or the environment, never a flag: the file (flag or *_FILE variable)
wins, then the first variable set, in the order listed.
Private repositories: --git-token-file, or git's own GIT_CONFIG_COUNT/GIT_CONFIG_KEY_n/GIT_CONFIG_VALUE_n
(e.g. http.extraHeader) in the environment, or SSH with SSH_AUTH_SOCK.

Exit (with --once): 0 the cycle ran, also when a model failed, Ray rejected the config or the commit was refused
(each is reported on the commit); 1 an agent fault: the cycle did not run or the agent itself was refused (the
branch does not exist; git, Ray or the disk still failing after retries; Ray unsupported, or refusing the agent's
token or requests with 401/403/405; GitHub refusing the token; another agent holds the state directory); 2 a
usage error (also a --cluster the branch does not define). Without --once: 0 after SIGTERM/SIGINT, 1 when Ray is unsupported or another agent holds
the state directory, 2 a usage error.`,
  async run(argv) {
    const config = parseAgentOptions(argv);
    try {
      const code = await runAgent(config);
      // The agent has stopped and closed: sockets of requests aborted at the end of the grace period may
      // still be winding down. They must not hold the process past the stop time the README promises.
      setTimeout(() => process.exit(), EXIT_AFTER_STOP_MS).unref();
      return code;
    } catch (error) {
      // An agent fault (exit 1), not a usage error: another agent holds the state directory, the disk refuses, ...
      const message =
        error instanceof LockError || error instanceof StateStoreError || error instanceof Error
          ? error.message
          : String(error);
      process.stderr.write(`serve-gitops agent: ${message}\n`);
      return 1;
    }
  },
};
