// Prometheus metrics (prom-client), in a registry of the agent's own so two agents in one process (tests) do not
// collide.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ModelState } from "../model/types";

export class AgentMetrics {
  readonly registry = new Registry();
  readonly cycleDuration = new Histogram({
    name: "serve_gitops_cycle_duration_seconds",
    help: "Duration of one agent cycle (ref query, apply, watch step, status writes).",
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  readonly lastAppliedTime = new Gauge({
    name: "serve_gitops_last_applied_commit_timestamp_seconds",
    help: "When the last commit was applied (PUT accepted and its models settled).",
    registers: [this.registry],
  });
  readonly models = new Gauge({
    name: "serve_gitops_models",
    help: "Models by state.",
    labelNames: ["state"],
    registers: [this.registry],
  });
  readonly rayRequests = new Counter({
    name: "serve_gitops_ray_requests_total",
    help: "Requests to the Ray dashboard by method and status ('unreachable' when there was no answer).",
    labelNames: ["method", "status"],
    registers: [this.registry],
  });
  readonly rayErrors = new Counter({
    name: "serve_gitops_ray_errors_total",
    help: "Failed Ray dashboard requests.",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  readonly githubRequests = new Counter({
    name: "serve_gitops_github_requests_total",
    help: "GitHub API requests by method and status.",
    labelNames: ["method", "status"],
    registers: [this.registry],
  });
  readonly githubRemaining = new Gauge({
    name: "serve_gitops_github_rate_limit_remaining",
    help: "x-ratelimit-remaining of the last GitHub answer.",
    registers: [this.registry],
  });
  readonly driftEvents = new Counter({
    name: "serve_gitops_drift_events_total",
    help: "Drift found on the cluster.",
    labelNames: ["action"],
    registers: [this.registry],
  });
  readonly gitCommands = new Counter({
    name: "serve_gitops_git_commands_total",
    help: "git processes run, by command.",
    labelNames: ["command"],
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: "serve_gitops_refused_commits_total",
    help: "Commits refused (invalid, unrendered, or a guard).",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  readonly outbox = new Gauge({
    name: "serve_gitops_outbox_size",
    help: "GitHub writes waiting to be made.",
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "serve_gitops_" });
  }

  setModels(counts: Readonly<Record<ModelState, number>>): void {
    for (const [state, n] of Object.entries(counts)) this.models.set({ state }, n);
  }
}
