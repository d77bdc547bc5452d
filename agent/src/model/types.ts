// The agent's vocabulary: what a commit asks for (desired), what Ray reports (observed), and what the agent
// remembers between cycles (its record). Plain data, so the decisions over it stay pure functions.
import type { ClusterConfig, ServeApplication, ServeConfig } from "../../../generator/src/index";

/** One model as a commit declares it for this cluster (from its rendered fragment). */
export interface DesiredModel {
  /** <user>/<suffix>: a model's identity, never its served name. */
  readonly key: string;
  readonly user: string;
  readonly suffix: string;
  readonly served_name: string;
  /** When the model was first rendered (ISO 8601). */
  readonly created: string;
  /** The spec file: models/<user>/<suffix>.yaml */
  readonly spec: string;
  /** The committed fragment: clusters/<cluster>/rendered/<user>/<suffix>.yaml (what commits touch). */
  readonly fragment: string;
  readonly model_source: string;
  /** The Serve application holding the model, its route prefix and the resolved OpenAI base URL. */
  readonly app: string;
  readonly route: string;
  readonly endpoint: string;
  /** The full deployment name Ray reports: LLMServer:<name>. */
  readonly deployment: string;
  readonly llm_config: Readonly<Record<string, unknown>>;
  readonly override: Readonly<Record<string, unknown>>;
  /** "2x1 GPU", "autoscaling 1-4 x2 GPU" */
  readonly replicas: string;
  readonly gpus: number;
}

/** A valid commit, ready to apply: the assembled PUT body and its models. */
export interface DesiredState {
  readonly sha: string;
  readonly cluster: ClusterConfig;
  readonly config: ServeConfig;
  readonly apps: ReadonlyMap<string, ServeApplication>;
  readonly models: ReadonlyMap<string, DesiredModel>;
}

export interface ObservedDeployment {
  readonly name: string;
  /** DeploymentStatus: UPDATING, HEALTHY, UNHEALTHY, DEPLOY_FAILED, UPSCALING, DOWNSCALING. */
  readonly status: string;
  readonly message: string;
}

export interface ObservedApp {
  readonly name: string;
  /** ApplicationStatus: NOT_STARTED, DEPLOYING, DEPLOY_FAILED, RUNNING, UNHEALTHY, DELETING. */
  readonly status: string;
  readonly message: string;
  /** "declarative" | "imperative" | "unknown" */
  readonly source: string;
  readonly route_prefix: string | null;
  readonly last_deployed_time_s: number | undefined;
  /** What was submitted (null while deleting): the only thing drift is measured against. */
  readonly config: Readonly<Record<string, unknown>> | null;
  readonly deployments: ReadonlyMap<string, ObservedDeployment>;
}

/** GET /api/serve/applications/, reduced to what the agent reads. */
export interface Observed {
  readonly apps: ReadonlyMap<string, ObservedApp>;
}

/** The original serving API's model states. */
export type ModelState = "QUEUED" | "DEPLOYING" | "RUNNING" | "FAILED" | "DELETING";

export type ModelEventType =
  | "DEPLOY_REQUESTED"
  | "APPLIED"
  | "RUNNING"
  | "FAILED"
  | "TIMED_OUT"
  | "SUPERSEDED"
  | "UNDEPLOY_REQUESTED"
  | "UNDEPLOYED"
  | "DRIFT_DETECTED"
  | "DRIFT_CORRECTED"
  | "REFUSED"
  /**
   * The last applied commit, or the commit last taken, cannot be read from git any more (a force-push, a new
   * clone): said once.
   */
  | "COMMIT_UNREADABLE";

export interface ModelEvent {
  readonly type: ModelEventType;
  /** ISO 8601 */
  readonly at: string;
  readonly sha?: string;
  readonly message?: string;
}

/** One model as GET /status shows it: the fields of the original API's ServingModel. */
export interface ModelRecord {
  readonly key: string;
  readonly served_name: string;
  /** The spec file the model comes from. */
  readonly source: string;
  readonly model_source: string;
  readonly replicas: string;
  readonly gpus: number;
  readonly state: ModelState;
  readonly endpoint: string;
  readonly events: readonly ModelEvent[];
  readonly error_summary?: string;
  /**
   * The commit that last changed the model's rendered config (the one it runs or is deploying), not the
   * branch head; for a model the agent found already serving, the commit it first saw.
   */
  readonly sha?: string;
  readonly created: string;
  readonly updated: string;
}

/** How a model's rollout ended. */
export type OutcomeResult = "running" | "failed" | "timeout" | "undeployed" | "superseded";

export interface Outcome {
  readonly result: OutcomeResult;
  /** The status description (already fitted to GitHub's limits). */
  readonly description: string;
  readonly error_summary?: string;
  /** epoch ms */
  readonly at: number;
}

/** A model a commit changed, watched until Ray says it serves, failed, or the deploy timeout passes. */
export interface TrackedModel {
  readonly key: string;
  readonly served_name: string;
  readonly kind: "deploy" | "update" | "undeploy";
  /** The commit that changed the model (gets its statuses). */
  readonly sha: string;
  /** The branch head that was applied. */
  readonly head: string;
  readonly app: string;
  readonly deployment: string;
  readonly endpoint: string;
  readonly replicas: string;
  /** epoch ms of the PUT (or of the attempt, until the PUT is accepted). */
  readonly startedAt: number;
  /** The app's last_deployed_time_s before the PUT: a status read before Ray took the PUT is not trusted. */
  readonly appDeployedBefore: number | null;
  readonly outcome?: Outcome;
  /** An older commit that changed the model before the head changed it again: it only gets "superseded". */
  readonly older?: boolean;
  /** Its final status is queued (or folded into its commit's summary). */
  readonly reported?: boolean;
  /** A successor's summarised model: its per-model status is queued, to resolve one GitHub already shows. */
  readonly shown?: boolean;
  /**
   * Its commit did not change it: a successor watches it only to resolve the statuses an agent before left on the
   * commit. Left out of the PR comment, which shows what the commit changed.
   */
  readonly unchanged?: boolean;
}

/** One applied branch head: its cluster status. */
export interface HeadRollout {
  readonly sha: string;
  readonly startedAt: number;
  /** The PUT was accepted (pending statuses may be written). */
  readonly applied: boolean;
  /** Pending statuses were queued. */
  readonly announced: boolean;
  /**
   * A pending cluster status was posted before the PUT was accepted ("retrying", or a held commit's
   * "suspended"): superseded, it is resolved like an announced head.
   */
  readonly said?: boolean;
  readonly settled: boolean;
  /** Its final cluster status is queued. */
  readonly reported?: boolean;
  readonly supersededBy?: string;
  /** Ray refused the PUT (terminal): the cluster status says why. */
  readonly failure?: string;
  /** Commits that get one summary status instead of one per model. */
  readonly summaryShas: readonly string[];
  /**
   * Watched by an agent without a record, on a Ray an agent before it ran: besides a summary, the per-model
   * statuses GitHub already shows for its commits (an agent before may have left them pending) are resolved.
   */
  readonly successor?: boolean;
}

export interface RolloutState {
  readonly heads: readonly HeadRollout[];
  readonly tracked: readonly TrackedModel[];
  /** Commits held by the suspend switch, with a pending cluster status: resolved by the next applied commit. */
  readonly held?: readonly string[];
}

export interface Mark {
  readonly sha: string;
  /** ISO 8601 */
  readonly at: string;
}

/** What the agent keeps in its state directory (state.json). */
export interface AgentRecord {
  readonly version: 1;
  readonly cluster: string;
  /**
   * attempted: before the PUT; accepted: the last config Ray took (a PUT accepted, or found running: what Serve
   * is held at); applied: PUT accepted and the models settled; reported: every status written.
   */
  readonly marks: {
    readonly attempted?: Mark;
    readonly accepted?: Mark;
    readonly applied?: Mark;
    readonly reported?: Mark;
  };
  /** The last valid commit: what the agent serves while later commits are refused. */
  readonly desired?: string;
  /**
   * A commit that failed terminally (Ray refused it): not retried until a new commit arrives. `agentFault`: the
   * refusal was the agent's (a proxy's 405, a token refused on the PUT), not the config's: /readyz fails meanwhile.
   */
  readonly blocked?: { readonly sha: string; readonly reason: string; readonly agentFault?: boolean };
  /**
   * Refused commits (sha -> reason), newest last, bounded: invalid or unrendered ones since the last valid
   * commit, and the current commit while a guard refuses it. Cleared when a later valid commit arrives (it is
   * the latest word on the cluster then), and the guard's entry once the commit is applied or no longer refused.
   */
  readonly refused: Readonly<Record<string, string>>;
  /**
   * The last applied commit (record.ts lastApplied), or after a restart the commit last taken (`desired`), when
   * git no longer has it (force-pushed away, the clone made anew), with the models the record held when that was
   * found: what the guards count a new commit's drops against instead of that commit's config. Said once; gone
   * once another commit is applied.
   */
  readonly unreadable?: { readonly sha: string; readonly models: readonly string[] };
  /**
   * The drift last reported (the agent may not correct it: self_heal off, suspended, ...): the commit Serve
   * differs from and how (compare.ts `differences`, one line per application). Said once, also across restarts;
   * gone once Serve no longer differs. Absent in a record written before.
   */
  readonly drift?: { readonly sha: string; readonly differences: readonly string[] };
  readonly rollout: RolloutState;
  readonly models: Readonly<Record<string, ModelRecord>>;
  /**
   * The applications of the configs the agent PUT: the last accepted one, plus the one in flight. What makes
   * an application the agent's own (a PUT deletes the others), also after serve.application_name is renamed.
   */
  readonly deployedApps?: readonly string[];
  /**
   * Which Ray the record describes: a digest of its dashboard address without credentials. Another
   * address is another Ray, where the agent starts as on a first sync. Absent in a record written before.
   */
  readonly rayId?: string;
}

export const emptyRecord = (cluster: string): AgentRecord => ({
  version: 1,
  cluster,
  marks: {},
  refused: {},
  rollout: { heads: [], tracked: [] },
  models: {},
});
