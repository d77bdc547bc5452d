// GET /status: the agent and every model, as the original serving API's ServingModel fields.
import type { AgentRecord, ModelRecord } from "../model/types";
import { redactUrl } from "../redact-url";

export interface StatusDoc {
  readonly cluster: string;
  readonly branch: string;
  readonly dry_run: boolean;
  readonly suspended: boolean;
  readonly ray: { readonly address: string; readonly version: string };
  readonly head?: string;
  readonly desired?: string;
  readonly marks: AgentRecord["marks"];
  readonly blocked?: AgentRecord["blocked"];
  /** The last applied commit git no longer has, and the models the guards count a new commit's drops against. */
  readonly unreadable?: AgentRecord["unreadable"];
  readonly refused: ReadonlyArray<{ readonly sha: string; readonly reason: string }>;
  readonly rollout: { readonly active: boolean; readonly watching: number };
  readonly outbox: number;
  readonly last_cycle?: { readonly at: string; readonly action: string; readonly faults: readonly string[] };
  readonly models: readonly ModelRecord[];
}

export interface StatusInput {
  readonly record: AgentRecord;
  readonly branch: string;
  readonly dryRun: boolean;
  readonly suspended: boolean;
  readonly ray: { readonly address: string; readonly version: string };
  readonly head?: string;
  readonly outbox: number;
  readonly lastCycle?: {
    readonly at: number;
    readonly action: string;
    readonly faults: readonly { message: string }[];
  };
}

export function statusDoc(input: StatusInput): StatusDoc {
  const { record } = input;
  return {
    cluster: record.cluster,
    branch: input.branch,
    dry_run: input.dryRun,
    suspended: input.suspended,
    // GET /status needs no credentials, so it never shows any: a dashboard address with user info is redacted.
    ray: { ...input.ray, address: redactUrl(input.ray.address) },
    ...(input.head ? { head: input.head } : {}),
    ...(record.desired ? { desired: record.desired } : {}),
    marks: record.marks,
    ...(record.blocked ? { blocked: record.blocked } : {}),
    ...(record.unreadable ? { unreadable: record.unreadable } : {}),
    refused: Object.entries(record.refused)
      .slice(-10)
      .map(([sha, reason]) => ({ sha, reason })),
    rollout: {
      active: record.rollout.heads.some((h) => !h.settled),
      watching: record.rollout.tracked.filter((t) => !t.outcome).length,
    },
    outbox: input.outbox,
    ...(input.lastCycle
      ? {
          last_cycle: {
            at: new Date(input.lastCycle.at).toISOString(),
            action: input.lastCycle.action,
            faults: input.lastCycle.faults.map((f) => f.message),
          },
        }
      : {}),
    models: Object.values(record.models).sort((a, b) => (a.key < b.key ? -1 : 1)),
  };
}
