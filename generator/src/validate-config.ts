import clusterSchema from "../../schemas/cluster.schema.json";
import {
  engineArgNames,
  isEngineArg,
  LIFTABLE_KWARGS,
  PLATFORM_KWARGS,
  suggest,
  VLLM_VERSION,
} from "./engine-kwargs";
import { diagnostic } from "./rules";
import { schemaDiagnostics } from "./schema-diagnostics";
import { isKnownAccelerator } from "./schemas";
import { schemaErrors } from "./schemas";
import type { ClusterConfig, Diagnostic, Layout, SnapshotFile, UserEntry, UsersConfig } from "./types";
import { MAX_CONFIG_BYTES, parseYamlFile, type Position } from "./yaml-source";

export const USERS_FILE = "models/users.yaml";

/** Where model_source may point when a cluster.yaml sets no `sources.roots`. */
export const DEFAULT_SOURCE_ROOTS = { shared: ["/private/hf"], user: "/private/users/{user}" } as const;

/**
 * What a cluster.yaml that leaves out an optional setting gets. schemas/cluster.schema.json states the same
 * values as `default` annotations for editors (annotations only: ajv never fills them in), and a test holds
 * the two equal.
 */
export const CLUSTER_DEFAULTS = {
  serve: { layout: "per-model", application_name: "argus_llm_app", route_prefix: "/" },
  sources: { allow_hub: false, roots: DEFAULT_SOURCE_ROOTS },
  engine_kwargs: { deny: [], allow: [] },
  sync: {
    allow_empty: false,
    prune_limit: 5,
    adopt_unmanaged: false,
    deploy_timeout_s: 1800,
    max_model_statuses: 50,
    self_heal: true,
    suspend: false,
  },
} as const;

export function parseUsers(file: SnapshotFile | undefined): {
  users?: UsersConfig;
  diagnostics: Diagnostic[];
} {
  if (!file) return { diagnostics: [] };
  const parsed = parseYamlFile(file.path, file.bytes, MAX_CONFIG_BYTES);
  if (!parsed.ok) return { diagnostics: parsed.diagnostics };
  const errors = schemaErrors("users", parsed.doc.value);
  if (errors.length > 0) return { diagnostics: schemaDiagnostics(parsed.doc, errors, ["admins", "users"]) };
  const value = parsed.doc.value as { admins: string[]; users: Record<string, UserEntry> };
  return { users: { admins: value.admins, users: new Map(Object.entries(value.users)) }, diagnostics: [] };
}

/**
 * The admins of a users.yaml that is invalid elsewhere, when its `admins` list on its own is what the schema
 * allows. They keep their rights, so a broken file can be fixed by a pull request; anything less certain
 * (the YAML does not parse, the list itself is malformed) gives undefined and no one keeps rights.
 */
export function salvageAdmins(file: SnapshotFile): string[] | undefined {
  const parsed = parseYamlFile(file.path, file.bytes, MAX_CONFIG_BYTES);
  if (!parsed.ok) return undefined;
  const value: unknown = parsed.doc.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const admins = (value as Record<string, unknown>).admins;
  if (!Array.isArray(admins) || schemaErrors("users", { admins, users: {} }).length > 0) return undefined;
  return admins as string[];
}

interface RawCluster {
  default: boolean;
  accelerator_type: string;
  gpus: number;
  gpus_per_node: number;
  ray: { dashboard_address: string };
  openai: { server_url: string; base_url: string };
  serve?: { layout?: Layout; application_name?: string; route_prefix?: string; template?: string };
  sources?: { allow_hub?: boolean; roots?: { shared?: string[]; user?: string } };
  engine_kwargs?: { deny?: string[]; allow?: string[] };
  sync?: Partial<ClusterConfig["sync"]>;
}

/** Parse clusters/<name>/cluster.yaml and apply the documented defaults. */
export function parseCluster(
  name: string,
  file: SnapshotFile,
): {
  cluster?: ClusterConfig;
  /** With errors: what specs can still be checked against (each field only when valid on its own). */
  partial?: PartialCluster;
  defaultAt?: Position;
  gpusAt?: Position;
  templateAt?: Position;
  diagnostics: Diagnostic[];
} {
  const parsed = parseYamlFile(file.path, file.bytes, MAX_CONFIG_BYTES);
  if (!parsed.ok) return { diagnostics: parsed.diagnostics };
  const { doc } = parsed;
  const errors = schemaErrors("cluster", doc.value);
  if (errors.length > 0)
    return { diagnostics: schemaDiagnostics(doc, errors, []), partial: partialCluster(doc.value) };
  const raw = doc.value as RawCluster;
  const diagnostics: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  if (!isKnownAccelerator(raw.accelerator_type)) {
    diagnostics.push(
      diagnostic(
        "accelerator-unknown",
        file.path,
        doc.valueAt("/accelerator_type"),
        `accelerator_type "${raw.accelerator_type}" is not in Ray's accelerator list (schemas/ray-accelerators.json)`,
      ),
    );
  }
  // A misspelt deny entry ("trust_remote_cod") would silently allow the argument it meant to deny.
  (raw.engine_kwargs?.deny ?? []).forEach((name, i) => {
    if (isEngineArg(name) || Object.hasOwn(PLATFORM_KWARGS, name)) return;
    const guess = suggest(name, engineArgNames());
    warnings.push(
      diagnostic(
        "engine-kwarg-deny-unknown",
        file.path,
        doc.valueAt(`/engine_kwargs/deny/${i}`),
        `engine_kwargs.deny lists \`${name}\`, which is not a vLLM ${VLLM_VERSION} engine argument${guess ? `: did you mean \`${guess}\`?` : ""} (a misspelt entry denies nothing)`,
        "warning",
      ),
    );
  });
  // An allow entry lifts a built-in denial or cap by name: one that names neither (a typo, or a key never
  // denied), or that deny lists too, lifts nothing.
  const deny = raw.engine_kwargs?.deny ?? [];
  (raw.engine_kwargs?.allow ?? []).forEach((name, i) => {
    if (LIFTABLE_KWARGS.includes(name) && !deny.includes(name)) return;
    const guess = suggest(name, LIFTABLE_KWARGS);
    warnings.push(
      diagnostic(
        "engine-kwarg-allow-unused",
        file.path,
        doc.valueAt(`/engine_kwargs/allow/${i}`),
        deny.includes(name)
          ? `engine_kwargs.allow lists \`${name}\`, which engine_kwargs.deny lists too: it stays denied`
          : `engine_kwargs.allow lists \`${name}\`, which is neither on the built-in deny list nor capped, so it lifts nothing${Object.hasOwn(PLATFORM_KWARGS, name) ? ` (the platform sets it, and no cluster can lift that: ${PLATFORM_KWARGS[name]})` : guess ? `: did you mean \`${guess}\`?` : " (arguments not denied need no allow; the README's cluster settings list the built-in denials and caps)"}`,
        "warning",
      ),
    );
  });
  // A shared root that holds the users' folders (or lies in one) would let every user read every other's.
  const userRoot = raw.sources?.roots?.user ?? DEFAULT_SOURCE_ROOTS.user;
  const usersBase = userRoot.slice(0, userRoot.indexOf("{user}")).replace(/\/$/, "");
  // The default shared roots count too when only the user root is set: pointed at the user root then.
  const sharedSet = raw.sources?.roots?.shared;
  (sharedSet ?? DEFAULT_SOURCE_ROOTS.shared).forEach((root, i) => {
    if (root === usersBase || usersBase.startsWith(`${root}/`) || root.startsWith(`${usersBase}/`))
      diagnostics.push(
        diagnostic(
          "invalid-value",
          file.path,
          doc.valueAt(sharedSet ? `/sources/roots/shared/${i}` : "/sources/roots/user"),
          sharedSet
            ? `shared root ${root} overlaps the users' own folders (${userRoot}): every user could use every other user's files; name a folder beside them`
            : `user root ${userRoot} overlaps the default shared root ${root}: every user could use every other user's files; put the users' folders beside it, or set sources.roots.shared to folders that do not hold them`,
        ),
      );
  });
  if (raw.gpus_per_node > raw.gpus) {
    diagnostics.push(
      diagnostic(
        "gpus-per-node",
        file.path,
        doc.valueAt("/gpus_per_node"),
        `gpus_per_node (${raw.gpus_per_node}) exceeds gpus (${raw.gpus})`,
      ),
    );
  }
  if (diagnostics.length > 0)
    return { diagnostics: [...diagnostics, ...warnings], partial: partialCluster(doc.value) };
  const cluster: ClusterConfig = {
    name,
    file: file.path,
    default: raw.default,
    accelerator_type: raw.accelerator_type,
    gpus: raw.gpus,
    gpus_per_node: raw.gpus_per_node,
    ray: raw.ray,
    openai: raw.openai,
    serve: { ...CLUSTER_DEFAULTS.serve, ...raw.serve },
    sources: {
      allow_hub: raw.sources?.allow_hub ?? CLUSTER_DEFAULTS.sources.allow_hub,
      roots: { ...CLUSTER_DEFAULTS.sources.roots, ...raw.sources?.roots },
    },
    engine_kwargs: { ...CLUSTER_DEFAULTS.engine_kwargs, ...raw.engine_kwargs },
    sync: { ...CLUSTER_DEFAULTS.sync, ...raw.sync },
  };
  return {
    cluster,
    defaultAt: doc.keyAt("/default"),
    gpusAt: doc.valueAt("/gpus"),
    ...(cluster.serve.template ? { templateAt: doc.valueAt("/serve/template") } : {}),
    diagnostics: warnings,
  };
}

/**
 * What a cluster.yaml with errors still says, field by field: its specs are checked against these (a bad
 * dashboard address must not hide a spec's denied engine argument), each field only when valid by itself.
 */
export interface PartialCluster {
  readonly default?: boolean;
  readonly gpus_per_node?: number;
  /** Unknown when invalid: hub ids are then not judged. */
  readonly allow_hub?: boolean;
  readonly roots: ClusterConfig["sources"]["roots"];
  /** Each when valid, else empty: the built-in denials then all apply. */
  readonly engine_kwargs: ClusterConfig["engine_kwargs"];
}

const ROOTS_SCHEMA = clusterSchema.properties.sources.properties.roots.properties;
const SHARED_ROOT = new RegExp(ROOTS_SCHEMA.shared.items.pattern, "u");
const USER_ROOT = new RegExp(ROOTS_SCHEMA.user.pattern, "u");

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

function partialCluster(value: unknown): PartialCluster | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const raw = value as Record<string, unknown>;
  const field = (object: unknown, key: string): unknown =>
    typeof object === "object" && object !== null && Object.hasOwn(object, key)
      ? (object as Record<string, unknown>)[key]
      : undefined;
  const sources = field(raw, "sources");
  const roots = field(sources, "roots");
  const shared = field(roots, "shared");
  const user = field(roots, "user");
  const deny = field(field(raw, "engine_kwargs"), "deny");
  const allow = field(field(raw, "engine_kwargs"), "allow");
  const allowHub = field(sources, "allow_hub");
  return {
    ...(typeof raw.default === "boolean" ? { default: raw.default } : {}),
    ...(Number.isInteger(raw.gpus_per_node) && (raw.gpus_per_node as number) >= 1
      ? { gpus_per_node: raw.gpus_per_node as number }
      : {}),
    ...(allowHub === undefined
      ? { allow_hub: false }
      : typeof allowHub === "boolean"
        ? { allow_hub: allowHub }
        : {}),
    roots: {
      // Each as the schema has it, else the platform's default: an invalid root is never trusted.
      shared:
        isStringList(shared) && shared.every((r) => SHARED_ROOT.test(r))
          ? shared
          : DEFAULT_SOURCE_ROOTS.shared,
      user: typeof user === "string" && USER_ROOT.test(user) ? user : DEFAULT_SOURCE_ROOTS.user,
    },
    engine_kwargs: { deny: isStringList(deny) ? deny : [], allow: isStringList(allow) ? allow : [] },
  };
}

/** Exactly one cluster may be the default. */
export function checkDefaults(
  clusters: readonly ClusterConfig[],
  defaultAt: ReadonlyMap<string, Position>,
): Diagnostic[] {
  const defaults = clusters.filter((c) => c.default);
  if (defaults.length <= 1) return [];
  return defaults.map((c) =>
    diagnostic(
      "multiple-default-clusters",
      c.file,
      defaultAt.get(c.name) ?? { line: 1, column: 1 },
      `more than one cluster says default: true (${defaults.map((d) => d.name).join(", ")}): keep one`,
    ),
  );
}
