// Which commit statuses (and PR comments) a rollout owes GitHub right now. Pure: the rollout's flags
// (announced, reported) say what was already queued, so each status is queued once.
import type { HeadRollout, ModelRecord, OutcomeResult, RolloutState, TrackedModel } from "../model/types";
import { commentBody } from "./comment";
import { describe, fitDescription } from "./describe";

export type CommitState = "pending" | "success" | "failure" | "error";

export interface StatusWrite {
  readonly kind: "status";
  readonly sha: string;
  readonly context: string;
  readonly state: CommitState;
  readonly description: string;
  readonly target_url?: string;
  /** Also post it on the head commit of the pull request(s) the commit belongs to. */
  readonly mirror: boolean;
  /** Written only where GitHub already shows the context (a successor resolving what an agent before posted). */
  readonly onlyIfShown?: boolean;
}

export interface CommentWrite {
  readonly kind: "comment";
  /** The commit whose pull request(s) get the comment. */
  readonly sha: string;
  readonly body: string;
}

export type GitHubWrite = StatusWrite | CommentWrite;

export const clusterContext = (cluster: string): string => `serve/${cluster}`;
export const modelContext = (cluster: string, key: string): string => `serve/${cluster}/${key}`;
export const summaryContext = (cluster: string): string => `serve/${cluster}/models`;

export interface Counts {
  readonly running: number;
  /** Models on their way in: deploying, updating or queued. */
  readonly deploying: number;
  /** Models on their way out: an operator must not read them as models coming up. */
  readonly undeploying: number;
  readonly failed: number;
}

export interface DueInput {
  readonly state: RolloutState;
  readonly cluster: string;
  readonly counts: Counts;
  readonly models: Readonly<Record<string, ModelRecord>>;
  /** The agent's public status page, for statuses that have no endpoint to point at. */
  readonly statusUrl?: string;
}

const SUCCESS: ReadonlySet<OutcomeResult> = new Set(["running", "undeployed", "superseded"]);

export function dueWrites(input: DueInput): { writes: GitHubWrite[]; state: RolloutState } {
  const { cluster, statusUrl } = input;
  const writes: GitHubWrite[] = [];
  let heads = [...input.state.heads];
  let tracked = [...input.state.tracked];
  const link = (url: string | undefined) => (url ? { target_url: url } : {});
  // The comment shows the commit's models, a newer commit's superseding ones too once the comment was written
  // (it said DEPLOYING then); an older commit's "superseded" entries alone get none.
  const comment = (sha: string) => {
    const mine = tracked.filter((t) => t.sha === sha && !t.older && !t.unchanged);
    const written = (t: TrackedModel) => heads.some((h) => h.sha === t.head && h.announced);
    if (mine.some((t) => t.outcome?.result !== "superseded" || written(t)))
      writes.push({ kind: "comment", sha, body: commentBody(cluster, sha, mine, input.models) });
  };

  // 1. Pending statuses once the PUT is accepted — also when the models settled before the agent could say so
  // (a restart after the PUT): the cluster, then each changed model (or one summary).
  heads = heads.map((h) => {
    if (!h.applied || h.announced) return h;
    const announced = tracked.filter((t) => t.head === h.sha && !t.older);
    // A successor (an agent without a record on a Ray an agent before it ran) re-reports what GitHub may show
    // green already: what has settled by now gets its final status below, with no pending flash before it.
    const known = (t: TrackedModel) => h.successor === true && t.outcome !== undefined;
    if (!(h.settled && announced.every(known)))
      writes.push(clusterWrite(h.sha, cluster, "pending", describe.cluster(input.counts), statusUrl));
    for (const sha of unique(announced.map((t) => t.sha))) {
      const group = announced.filter((t) => t.sha === sha);
      if (h.summaryShas.includes(sha) && !group.every(known)) {
        writes.push({
          kind: "status",
          sha,
          context: summaryContext(cluster),
          state: "pending",
          description: describe.summaryPending(group.length),
          mirror: true,
          ...link(statusUrl),
        });
      }
      if (!h.summaryShas.includes(sha) || h.successor) {
        for (const t of group) {
          if (known(t)) continue;
          const undeploy = t.kind === "undeploy";
          writes.push({
            kind: "status",
            sha,
            context: modelContext(cluster, t.key),
            state: "pending",
            description: undeploy ? describe.undeploying() : describe.deploying(t.replicas),
            mirror: true,
            // The endpoint of a model being removed is going away: link the status page or nothing.
            ...link(undeploy ? statusUrl : (statusUrl ?? t.endpoint)),
            ...(h.summaryShas.includes(sha) ? { onlyIfShown: true } : {}),
          });
        }
      }
      comment(sha);
    }
    return { ...h, announced: true };
  });

  // 2. Final model statuses, as each model settles.
  const finished = new Set<string>();
  tracked = tracked.map((t) => {
    if (!t.outcome || t.reported) return t;
    const summarised = isSummarised(heads, t);
    // A summarised model gets no status of its own, unless a successor resolves one GitHub already shows.
    if (summarised && (t.shown || !heads.some((h) => h.sha === t.head && h.successor))) return t;
    const state = SUCCESS.has(t.outcome.result) ? "success" : "failure";
    const url = urlOf(t, statusUrl);
    writes.push({
      kind: "status",
      sha: t.sha,
      context: modelContext(cluster, t.key),
      state,
      description: t.outcome.description,
      mirror: true,
      ...link(url),
      ...(summarised ? { onlyIfShown: true } : {}),
    });
    if (summarised) return { ...t, shown: true };
    finished.add(t.sha);
    return { ...t, reported: true };
  });

  // 3. One summary per commit that changed more models than statuses are worth.
  for (const h of heads) {
    for (const sha of h.summaryShas) {
      const group = tracked.filter((t) => t.head === h.sha && t.sha === sha);
      if (group.length === 0 || !group.every((t) => t.outcome) || group.every((t) => t.reported)) continue;
      const count = (r: OutcomeResult) => group.filter((t) => t.outcome?.result === r).length;
      const failed = count("failed") + count("timeout");
      const superseded = count("superseded");
      const firstError = group.find((t) => t.outcome?.error_summary)?.outcome?.error_summary;
      const description = fitDescription(
        `${count("running")} running, ${count("undeployed")} undeployed, ${failed} failed${superseded > 0 ? `, ${superseded} superseded` : ""} of ${group.length} models${failed > 0 && firstError ? `; ${firstError}` : ""}`,
      );
      writes.push({
        kind: "status",
        sha,
        context: summaryContext(cluster),
        state: failed > 0 ? "failure" : "success",
        description,
        mirror: true,
        ...link(statusUrl),
      });
      tracked = tracked.map((t) => (group.includes(t) ? { ...t, reported: true } : t));
      finished.add(sha);
    }
  }
  for (const sha of finished) {
    if (tracked.filter((t) => t.sha === sha).every((t) => t.outcome)) comment(sha);
  }

  // 4. The cluster status of each settled head.
  heads = heads.map((h) => {
    if (!h.settled || h.reported) return h;
    if (h.failure) writes.push(clusterWrite(h.sha, cluster, "failure", h.failure, statusUrl));
    else if (h.supersededBy) {
      // Whatever pending status the head got (deploying, retrying, suspended) is resolved: none stays pending.
      if (h.announced || h.said)
        writes.push(clusterWrite(h.sha, cluster, "success", describe.superseded(h.supersededBy), statusUrl));
    } else if (h.applied) {
      writes.push(
        clusterWrite(
          h.sha,
          cluster,
          input.counts.failed > 0 ? "failure" : "success",
          describe.cluster(input.counts),
          statusUrl,
        ),
      );
    }
    return { ...h, reported: true };
  });

  // 5. Forget what is fully reported.
  tracked = tracked.filter((t) => !t.reported);
  heads = heads.filter((h) => !h.reported || tracked.some((t) => t.head === h.sha));
  return { writes, state: { ...input.state, heads, tracked } };
}

/**
 * A settled model's status links its endpoint while the model serves there; an undeployed model's endpoint
 * is gone (a link to it would 404), so it links the agent's status page or nothing (target_url is optional).
 */
function urlOf(t: TrackedModel, statusUrl: string | undefined): string | undefined {
  if (t.outcome?.result === "running") return t.endpoint;
  if (t.outcome?.result === "undeployed") return statusUrl;
  return statusUrl ?? t.endpoint;
}

function isSummarised(heads: readonly HeadRollout[], t: TrackedModel): boolean {
  return heads.some((h) => h.sha === t.head && h.summaryShas.includes(t.sha));
}

export function clusterWrite(
  sha: string,
  cluster: string,
  state: CommitState,
  description: string,
  statusUrl?: string,
): StatusWrite {
  return {
    kind: "status",
    sha,
    context: clusterContext(cluster),
    state,
    description: fitDescription(description),
    mirror: false,
    ...(statusUrl ? { target_url: statusUrl } : {}),
  };
}

const unique = <T>(list: readonly T[]): T[] => [...new Set(list)];
