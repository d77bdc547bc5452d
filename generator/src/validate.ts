import { deploymentBaseName } from "./layout";
import { classifyPath } from "./paths";
import { diagnostic, hasErrors, sortDiagnostics } from "./rules";
import {
  UnreadableFileError,
  type ClusterConfig,
  type Diagnostic,
  type ModelSpec,
  type RepoSnapshot,
  type SnapshotFile,
  type Validation,
} from "./types";
import { checkDefaults, parseCluster, parseUsers, USERS_FILE, type PartialCluster } from "./validate-config";
import { modelGpus, sha256, validateSpec, type SpecResult } from "./validate-spec";
import { checkTemplates } from "./validate-templates";
import { parseYamlFile } from "./yaml-source";

export interface ValidateOptions {
  /**
   * Files a change touched (a pull request's diff). Global problems — capacity, quota — are reported on
   * these specs when they contribute, so the owner sees them on the lines they changed.
   */
  readonly blame?: ReadonlySet<string>;
  /**
   * Results of spec validation to reuse across snapshots of one process (a PR's base and head share almost
   * every file). Keyed by path, content digest and the clusters' own digest, so a reuse is always exact.
   */
  readonly memo?: SpecMemo;
  /**
   * The snapshot's own fragment timestamps when the caller has read them already (checkRepo): a custom
   * template's dry run names models by them instead of reading every fragment again.
   */
  readonly timestamps?: ReadonlyMap<string, string>;
}

export type SpecMemo = Map<string, SpecResult>;
export const createSpecMemo = (): SpecMemo => new Map();

/**
 * A spec memo for a long-lived process (the agent validates every new commit): it answers from the results of
 * the current and the previous generation only, so it holds at most two repositories' worth of results however
 * many commits go by. Call rotate() after each snapshot.
 */
export class RollingSpecMemo extends Map<string, SpecResult> {
  #previous = new Map<string, SpecResult>();

  override get(key: string): SpecResult | undefined {
    return super.get(key) ?? this.#previous.get(key);
  }

  /** Start a new generation: results no snapshot has used since the last rotate are forgotten. */
  rotate(): void {
    this.#previous = new Map(super.entries());
    this.clear();
  }
}

export const USER_ID = /^[a-z][a-z0-9_]{0,31}$/;
/** A cluster's name, its folder under clusters/: what a spec's clusters: list accepts (serving-spec schema). */
export const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const TOP = { line: 1, column: 1 };

/** Validate a whole repository snapshot. Never throws; one bad file never hides another's diagnostics. */
export function validateRepo(snapshot: RepoSnapshot, options: ValidateOptions = {}): Validation {
  const diagnostics: Diagnostic[] = [];
  const specFiles: Array<{ file: SnapshotFile; user: string; suffix: string }> = [];
  const clusterFiles: Array<{ file: SnapshotFile; cluster: string }> = [];

  // What each clusters/<name>/ folder holds, whatever it is: a folder without cluster.yaml is reported.
  const clusterFolders = new Map<string, string[]>();
  for (const file of snapshot.files.values()) {
    const where = classifyPath(file.path);
    if ("cluster" in where) {
      const held = clusterFolders.get(where.cluster);
      if (held) held.push(file.path);
      else clusterFolders.set(where.cluster, [file.path]);
    }
    if (file.kind !== "file") {
      diagnostics.push(notRegular(file));
      continue;
    }
    if (where.role === "misplaced") {
      diagnostics.push(diagnostic("spec-location", file.path, TOP, where.reason));
      continue;
    }
    if (where.role === "cluster-file") continue;
    if (where.role !== "spec" && where.role !== "cluster" && where.role !== "users") continue;
    // The few files validation reads must be readable; an unreadable one is reported, never fatal.
    const unreadable = readProblem(file);
    if (unreadable) diagnostics.push(unreadable);
    else if (where.role === "spec") specFiles.push({ file, user: where.user, suffix: where.suffix });
    else if (where.role === "cluster") clusterFiles.push({ file, cluster: where.cluster });
  }
  // A cluster folder without cluster.yaml (a cluster.yml, a README, fragments left after the cluster.yaml was
  // deleted) would be silently ignored: reported once per folder, on the file it lacks.
  for (const [cluster, paths] of clusterFolders) {
    const settings = `clusters/${cluster}/cluster.yaml`;
    if (snapshot.files.has(settings)) continue;
    const held = [
      ...new Set(paths.map((p) => p.split("/").slice(2, 3).join("/") + (p.split("/").length > 3 ? "/" : ""))),
    ].sort();
    diagnostics.push(
      diagnostic(
        "missing-file",
        settings,
        TOP,
        `clusters/${cluster}/ has no cluster.yaml, so nothing in it is used (it holds ${held.slice(0, 5).join(", ")}${held.length > 5 ? ", ..." : ""}): add a cluster's settings as ${settings}, or remove the folder (\`git rm -r clusters/${cluster}\`)`,
      ),
    );
  }

  const usersFile = snapshot.files.get(USERS_FILE);
  const usersResult = parseUsers(
    usersFile?.kind === "file" && !diagnostics.some((d) => d.file === USERS_FILE) ? usersFile : undefined,
  );
  diagnostics.push(...usersResult.diagnostics);
  const users = usersResult.users;
  if (!usersFile && specFiles.length > 0)
    diagnostics.push(
      diagnostic(
        "missing-file",
        USERS_FILE,
        TOP,
        "models/users.yaml is missing: it registers every user whose folder is under models/",
      ),
    );

  const clusters = new Map<string, ClusterConfig>();
  const broken = new Map<string, PartialCluster | undefined>();
  const defaultAt = new Map<string, { line: number; column: number }>();
  const gpusAt = new Map<string, { line: number; column: number }>();
  const templateAt = new Map<string, { line: number; column: number }>();
  for (const { file, cluster } of clusterFiles.sort((a, b) => (a.cluster < b.cluster ? -1 : 1))) {
    // No spec could name it, the agent's --cluster neither: refused rather than usable only as the default.
    if (!CLUSTER_NAME.test(cluster))
      diagnostics.push(
        diagnostic(
          "spec-location",
          file.path,
          TOP,
          `clusters/${cluster}/ is no valid cluster name (1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit), so no spec's clusters: list could name it: rename the folder (\`git mv clusters/${cluster} clusters/<name>\`)`,
        ),
      );
    const result = parseCluster(cluster, file);
    diagnostics.push(...result.diagnostics);
    if (result.cluster) clusters.set(cluster, result.cluster);
    else broken.set(cluster, result.partial);
    if (result.defaultAt) defaultAt.set(cluster, result.defaultAt);
    if (result.gpusAt) gpusAt.set(cluster, result.gpusAt);
    if (result.templateAt) templateAt.set(cluster, result.templateAt);
  }
  const defaultsProblems = checkDefaults([...clusters.values()], defaultAt);
  diagnostics.push(...defaultsProblems);
  const defaults = [...clusters.values()].filter((c) => c.default);
  // Two defaults are reported on their cluster.yaml files: a spec relying on the default is not blamed too.
  if (defaults.length > 1) for (const c of defaults) broken.set(c.name, undefined);
  // Spec validation depends on the cluster files only (user registration is checked here, not in it).
  const clustersKey = options.memo
    ? sha256(Buffer.from(clusterFiles.map((c) => `${c.file.path}\0${sha256(c.file.bytes)}`).join("\0")))
    : "";
  const ctx = { clusters, broken, defaultCluster: defaults.length === 1 ? defaults[0] : undefined };

  // One model per (user, suffix), also across .yaml/.yml and letter case.
  const seen = new Map<string, string>();
  const deployments = new Map<string, string>();
  const models: ModelSpec[] = [];
  specFiles.sort((a, b) => (a.file.path < b.file.path ? -1 : 1));
  for (const { file, user, suffix } of specFiles) {
    if (!USER_ID.test(user) || !users?.users.has(user)) {
      const why = !USER_ID.test(user)
        ? "is not a valid user id (lowercase letter first, then lowercase letters, digits or _, at most 32)"
        : users
          ? "is not a registered user in models/users.yaml"
          : "cannot be checked: models/users.yaml is missing or invalid";
      diagnostics.push(diagnostic("unregistered-user", file.path, TOP, `folder models/${user}/ ${why}`));
      // A broken users.yaml must not hide the spec's own problems; an unregistered folder is the problem.
      if (users || !USER_ID.test(user)) continue;
    }
    // A conflict is reported on both files: whichever one a change (or a PATH given to validate) names shows it.
    const conflict = (rule: "duplicate-model" | "duplicate-deployment-name", other: string, why: string) => {
      for (const [at, with_] of [
        [file.path, other],
        [other, file.path],
      ] as const)
        diagnostics.push(diagnostic(rule, at, TOP, `${at} and ${with_} ${why}`));
    };
    const identity = `${user}/${suffix.toLowerCase()}`;
    const first = seen.get(identity);
    if (first !== undefined) {
      conflict("duplicate-model", first, "define the same model: keep one file");
      continue;
    }
    // Ray names a deployment after the served name with "." -> "_": q.b and q_b would be one deployment.
    const deploymentKey = `${user}/${deploymentBaseName(suffix.toLowerCase())}`;
    const sameDeployment = deployments.get(deploymentKey);
    if (sameDeployment !== undefined) {
      conflict(
        "duplicate-deployment-name",
        sameDeployment,
        'would get the same Ray deployment name (Ray turns "." into "_"): rename one',
      );
      continue;
    }
    deployments.set(deploymentKey, file.path);
    seen.set(identity, file.path);
    const digest = sha256(file.bytes);
    const key = `${file.path}\0${digest}\0${clustersKey}`;
    const result = options.memo?.get(key) ?? validateSpec(file, user, suffix, ctx, digest);
    options.memo?.set(key, result);
    diagnostics.push(...result.diagnostics);
    if (result.spec) models.push(result.spec);
  }

  // Budget problems point at the line that sets the model's size: its replicas, else its GPUs, else model_id.
  // Parsed documents are not kept for 10,000 valid specs (their events would survive into the old
  // generation); the few files a budget problem names are parsed again.
  const sizeAt = (spec: ModelSpec) => {
    const file = snapshot.files.get(spec.file);
    const parsed = file ? parseYamlFile(file.path, file.bytes) : undefined;
    if (!parsed?.ok) return TOP;
    const doc = parsed.doc;
    const value = doc.value as Record<string, unknown>;
    const key = spec.autoscaling
      ? "/autoscaling/max_replicas"
      : "num_replicas" in value
        ? "/num_replicas"
        : "gpus_per_replica" in value
          ? "/gpus_per_replica"
          : "/model_id";
    return doc.keyAt(key);
  };
  diagnostics.push(
    ...checkBudgets(models, clusters, users?.users, options.blame, sizeAt, (c) => gpusAt.get(c) ?? TOP),
  );
  diagnostics.push(...checkTemplates({ users, clusters, models }, snapshot, templateAt, options.timestamps));
  const sorted = sortDiagnostics(diagnostics);
  return { model: { users, clusters, models }, diagnostics: sorted, ok: !hasErrors(sorted) };
}

/** A symlink, a FIFO or device, or a folder that could not be listed: never followed, always reported. */
function notRegular(file: SnapshotFile): Diagnostic {
  const top = file.path.split("/")[0];
  // The reader wrote the reason and the fix into the bytes.
  if (file.kind === "unreadable")
    return diagnostic("file-unreadable", file.path, TOP, Buffer.from(file.bytes).toString());
  if (file.kind === "symlink")
    return diagnostic(
      "symlink",
      file.path,
      TOP,
      file.path === top
        ? `${top} is a symlink: commit the folder itself`
        : `symlinks are not allowed under ${top}/: commit the file itself`,
    );
  return diagnostic(
    "special-file",
    file.path,
    TOP,
    `${file.path} is not a regular file (${file.bytes.length > 0 ? Buffer.from(file.bytes).toString() : "a FIFO, socket or device"}): only regular files are allowed under ${top}/`,
  );
}

/** Reading a working-tree file can fail (permissions); git snapshots always have the bytes. */
function readProblem(file: SnapshotFile): Diagnostic | undefined {
  try {
    void file.bytes;
    return undefined;
  } catch (error) {
    if (!(error instanceof UnreadableFileError)) throw error;
    return diagnostic("file-unreadable", file.path, TOP, `${error.message}: check its permissions`);
  }
}

/** Capacity per cluster, quota per user and cluster, and whether replicas pack onto whole nodes. */
function checkBudgets(
  models: readonly ModelSpec[],
  clusters: ReadonlyMap<string, ClusterConfig>,
  users: ReadonlyMap<string, { gpu_quota: number }> | undefined,
  blame: ReadonlySet<string> | undefined,
  sizeAt: (spec: ModelSpec) => { line: number; column: number },
  capacityAt: (cluster: string) => { line: number; column: number },
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const cluster of clusters.values()) {
    const here = models.filter((m) => m.clusters.includes(cluster.name));
    const total = here.reduce((sum, m) => sum + modelGpus(m), 0);
    // A change (or a PATH) that names the cluster.yaml itself sees the problem there, not on every spec.
    const blamed = blame?.has(cluster.file) ? [] : here.filter((m) => blame?.has(m.file));
    const at = (rule: "cluster-capacity" | "packing", message: string) => {
      if (blamed.length === 0) out.push(diagnostic(rule, cluster.file, capacityAt(cluster.name), message));
      else for (const m of blamed) out.push(diagnostic(rule, m.file, sizeAt(m), message));
    };
    if (total > cluster.gpus) {
      // Who holds what, biggest first: the owner sees how much is free besides their own models.
      const held = new Map<string, number>();
      for (const m of here) held.set(m.user, (held.get(m.user) ?? 0) + modelGpus(m));
      const breakdown = [...held]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .map(([user, gpus]) => `${user} ${gpus}`)
        .join(", ");
      at(
        "cluster-capacity",
        `cluster ${cluster.name} has ${cluster.gpus} GPUs; its models would need ${total} (${breakdown}), ${total - cluster.gpus} too many: reduce replicas (num_replicas, autoscaling.max_replicas) or gpus_per_replica, or deploy to another cluster (clusters:)`,
      );
    } else if (!packs(here, cluster)) {
      at(
        "packing",
        `the ${total} GPUs fit cluster ${cluster.name}'s ${cluster.gpus}, but the replicas cannot be packed onto whole nodes of ${cluster.gpus_per_node} GPUs${nodeRest(cluster)}: some may stay pending`,
      );
    }
    const byUser = new Map<string, ModelSpec[]>();
    for (const m of here) byUser.set(m.user, [...(byUser.get(m.user) ?? []), m]);
    for (const [user, owned] of byUser) {
      // Without a valid users.yaml (reported there) no quota is known: do not flag every model.
      if (!users) break;
      const quota = users.get(user)?.gpu_quota ?? 0;
      const used = owned.reduce((sum, m) => sum + modelGpus(m), 0);
      if (used <= quota) continue;
      const targets = owned.filter((m) => blame?.has(m.file));
      for (const m of targets.length > 0 ? targets : owned) {
        out.push(
          diagnostic(
            "user-quota",
            m.file,
            sizeAt(m),
            `${user} would hold ${used} GPUs on cluster ${cluster.name} (this model: ${modelGpus(m)}); the quota is ${quota}${m.autoscaling ? " (autoscaling counts max_replicas)" : ""}. To fit, reduce ${m.autoscaling ? "autoscaling.max_replicas" : "num_replicas"} or gpus_per_replica of ${user}'s models on ${cluster.name} (or undeploy one), or ask an admin to raise ${user}'s gpu_quota in models/users.yaml`,
          ),
        );
      }
    }
  }
  return out;
}

const nodeRest = (cluster: ClusterConfig): string => {
  const rest = cluster.gpus % cluster.gpus_per_node;
  return rest === 0 ? "" : ` (and one node of ${rest})`;
};

/**
 * Whether the replicas fit onto the nodes, counting nodes by free GPUs (sizes never exceed a node). A `gpus`
 * that is no multiple of `gpus_per_node` is whole nodes plus one smaller node holding the rest. Best-fit
 * decreasing answers almost always; where it finds no packing, an exact search (nodes with the same free
 * GPUs are one choice, states already refuted are skipped) decides, within a step budget past which the
 * warning stands.
 */
function packs(models: readonly ModelSpec[], cluster: ClusterConfig): boolean {
  const free = new Array<number>(cluster.gpus_per_node + 1).fill(0);
  free[cluster.gpus_per_node] = Math.floor(cluster.gpus / cluster.gpus_per_node);
  free[cluster.gpus % cluster.gpus_per_node]! += 1;
  const sizes = models.flatMap((m) =>
    new Array<number>(m.autoscaling ? m.autoscaling.max_replicas : (m.num_replicas ?? 1)).fill(
      m.gpus_per_replica,
    ),
  );
  sizes.sort((a, b) => b - a);
  return bestFit(sizes, [...free]) || exactFit(sizes, free);
}

function bestFit(sizes: readonly number[], free: number[]): boolean {
  for (const size of sizes) {
    let c = size;
    while (c < free.length && free[c] === 0) c++;
    if (c >= free.length) return false;
    free[c]!--;
    free[c - size]!++;
  }
  return true;
}

/** The exact search's bounds: steps (a few ms), and replicas (its recursion depth). */
const PACKING_STEPS = 50_000;
const PACKING_DEPTH = 1_000;

function exactFit(sizes: readonly number[], free: number[]): boolean {
  if (sizes.length > PACKING_DEPTH) return false;
  const refuted = new Set<string>();
  let steps = 0;
  // What is left to place after index i, for the bound: GPUs on nodes too small for any remaining replica
  // are lost.
  const rest = new Array<number>(sizes.length + 1).fill(0);
  for (let i = sizes.length - 1; i >= 0; i--) rest[i] = rest[i + 1]! + sizes[i]!;
  const place = (i: number): boolean => {
    if (i === sizes.length) return true;
    if (++steps > PACKING_STEPS) return false;
    const smallest = sizes[sizes.length - 1]!;
    let usable = 0;
    for (let c = smallest; c < free.length; c++) usable += c * free[c]!;
    if (usable < rest[i]!) return false;
    const key = `${i}:${free.join(",")}`;
    if (refuted.has(key)) return false;
    const size = sizes[i]!;
    for (let c = size; c < free.length; c++) {
      if (free[c] === 0) continue;
      free[c]!--;
      free[c - size]!++;
      const fits = place(i + 1);
      free[c]!++;
      free[c - size]!--;
      if (fits) return true;
      if (steps > PACKING_STEPS) return false;
    }
    refuted.add(key);
    return false;
  };
  return place(0);
}
