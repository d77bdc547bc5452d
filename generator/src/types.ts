// The core's vocabulary. Everything here is plain data: the core never touches the filesystem, git,
// the clock or the network; the edges (CLI, Action, agent) build a RepoSnapshot and pass it in.

/** One file of a repository snapshot, as git or the filesystem holds it. */
export interface SnapshotFile {
  /** Path relative to the repository root, always with "/" separators. */
  readonly path: string;
  /**
   * A symlink is data too: the core refuses it under models/ without following it. "other" is a FIFO, socket
   * or device; "unreadable" a folder the reader could not list (bytes: the message, reason and fix).
   */
  readonly kind: "file" | "symlink" | "other" | "unreadable";
  /** Raw bytes (for a symlink, its target). Kept as bytes so non-UTF-8 input is caught, not mangled. */
  readonly bytes: Uint8Array;
}

/** A snapshot's file whose bytes cannot be read (permissions, a folder swapped in): reported, never fatal. */
export class UnreadableFileError extends Error {}

/**
 * The repository as the core sees it: only `models/**` and `clusters/**` matter. The same type comes from the
 * working tree (CLI), from a commit (Action base/head, agent) or from a test.
 */
export interface RepoSnapshot {
  readonly files: ReadonlyMap<string, SnapshotFile>;
  /** What this snapshot is, for messages: "working tree", a commit SHA. */
  readonly label: string;
}

export type Severity = "error" | "warning";

/** The original serving API's error classes, kept so its users recognise them. */
export type DiagnosticCode = "E400" | "E403" | "E409" | "E422";

export interface Diagnostic {
  /** Relative to the repository root. */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  readonly severity: Severity;
  readonly code: DiagnosticCode;
  /** Stable rule id, e.g. "engine-kwarg-unknown"; see RULES in rules.ts. */
  readonly rule: string;
  readonly message: string;
}

export interface Autoscaling {
  readonly min_replicas: number;
  readonly max_replicas: number;
  readonly target_ongoing_requests?: number;
}

/** A validated ServingSpec with its defaults applied and its model_source expanded. */
export interface ModelSpec {
  readonly user: string;
  readonly suffix: string;
  /** models/<user>/<suffix>.yaml */
  readonly file: string;
  /** sha256 hex of the spec file's bytes, with CRLF read as LF (the same on a Windows checkout as in git). */
  readonly digest: string;
  /** As written by the owner (macros unexpanded). */
  readonly source: string;
  /** After macro expansion: an absolute path or an `org/name` hub repo id. */
  readonly resolvedSource: string;
  readonly num_replicas?: number;
  readonly autoscaling?: Autoscaling;
  readonly gpus_per_replica: number;
  readonly engine_kwargs: Readonly<Record<string, unknown>>;
  /** Cluster names, resolved (the default cluster when the spec names none). */
  readonly clusters: readonly string[];
  readonly description?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export type Layout = "per-model" | "per-user" | "single";

export interface ClusterConfig {
  readonly name: string;
  /** clusters/<name>/cluster.yaml */
  readonly file: string;
  readonly default: boolean;
  readonly accelerator_type: string;
  readonly gpus: number;
  readonly gpus_per_node: number;
  readonly ray: { readonly dashboard_address: string };
  readonly openai: { readonly server_url: string; readonly base_url: string };
  readonly serve: {
    readonly layout: Layout;
    readonly application_name: string;
    readonly route_prefix: string;
    /** A handlebars template under clusters/<name>/ that replaces the built-in one, if set. */
    readonly template?: string;
  };
  readonly sources: {
    readonly roots: { readonly shared: readonly string[]; readonly user: string };
    readonly allow_hub: boolean;
  };
  /** As cluster.yaml says (empty when absent): deny adds to the built-in denials, allow lifts some by name. */
  readonly engine_kwargs: { readonly deny: readonly string[]; readonly allow: readonly string[] };
  readonly sync: {
    readonly allow_empty: boolean;
    readonly prune_limit: number;
    readonly adopt_unmanaged: boolean;
    readonly deploy_timeout_s: number;
    readonly max_model_statuses: number;
    readonly self_heal: boolean;
    readonly suspend: boolean;
  };
}

export interface UserEntry {
  readonly github: readonly string[];
  readonly gpu_quota: number;
}

export interface UsersConfig {
  readonly admins: readonly string[];
  readonly users: ReadonlyMap<string, UserEntry>;
}

/** What one (model, cluster) contributes to Ray Serve: the content of one rendered fragment. */
export interface Fragment {
  readonly cluster: string;
  readonly user: string;
  readonly suffix: string;
  /** <user>-<YYYYMMDDHHMM>-<suffix> */
  readonly served_name: string;
  /** ISO 8601 UTC, minute precision: when the model was first rendered. */
  readonly created: string;
  readonly spec: string;
  readonly spec_sha256: string;
  readonly generator: string;
  readonly gpus_per_replica: number;
  /** GPUs the model may hold: replicas (max_replicas when autoscaling) x gpus_per_replica. */
  readonly gpus: number;
  /** The LLMConfig placed in the application's args (never carries replica counts). */
  readonly llm_config: Readonly<Record<string, unknown>>;
  /** The per-deployment override `{name: "LLMServer:<name>", num_replicas | autoscaling_config}`. */
  readonly deployment: Readonly<Record<string, unknown>>;
  /** The resolved absolute OpenAI base URL of this model. */
  readonly endpoint: string;
}

/** The validated repository: what survives validation, for rendering and planning. */
export interface RepoModel {
  readonly users: UsersConfig | undefined;
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
  /** Valid specs only (a spec with an error is left out, its diagnostics reported). */
  readonly models: readonly ModelSpec[];
}

export interface Validation {
  readonly model: RepoModel;
  readonly diagnostics: readonly Diagnostic[];
  /** True when no diagnostic is an error. */
  readonly ok: boolean;
}

/** One application of a Ray Serve config, as the built-in template writes it (a Ray Serve LLM app). */
export interface ServeApplication {
  readonly name: string;
  readonly route_prefix: string;
  readonly import_path: string;
  readonly args: { readonly llm_configs: ReadonlyArray<Readonly<Record<string, unknown>>> };
  readonly deployments: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

/** The complete Ray Serve config of one cluster: the body the agent PUTs. */
export interface ServeConfig {
  readonly applications: readonly ServeApplication[];
}
