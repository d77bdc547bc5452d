import { readCommitSnapshot } from "../io/git";
import { emptySnapshot } from "../io/working-tree";
import { planChange } from "../plan";
import { planMarkdown } from "../plan-markdown";
import type { RepoSnapshot } from "../types";
import { parse, parseNow } from "./args";
import { UsageError } from "./errors";
import type { Command } from "./command";
import { formatDiagnostics } from "./output";
import { loadRepo } from "./repo";

export const planCommand: Command = {
  summary:
    "Show what a change deploys, updates and undeploys on each cluster, its GPU budget and what restarts.",
  usage: `Usage: serve-gitops plan [--repo DIR] [--base REF|--base empty] [--head REF] [--json|--markdown] [--now ISO8601]

  --base REF    the state before (default: HEAD); "empty" plans against clusters with nothing deployed
  --head REF    the state after (default: the working tree)
  --json        the plan as JSON
  --markdown    the plan as Markdown (what the PR comment shows)

Exit: 0 when the head is valid, 1 when it has errors (the plan is still printed).`,
  async run(argv) {
    const { values } = parse(argv, {
      repo: { type: "string" },
      base: { type: "string" },
      head: { type: "string" },
      json: { type: "boolean" },
      markdown: { type: "boolean" },
      now: { type: "string" },
    });
    if (values.json && values.markdown) throw new UsageError("choose one of --json and --markdown");
    const { root, snapshot } = loadRepo(values.repo);
    const at = async (ref: string | undefined, fallback: RepoSnapshot): Promise<RepoSnapshot> => {
      if (ref === undefined) return fallback;
      if (ref === "empty") return emptySnapshot();
      try {
        return await readCommitSnapshot(root, ref);
      } catch (error) {
        throw new UsageError(
          `cannot read ${ref} in ${root}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
        );
      }
    };
    const head = await at(values.head, snapshot);
    const base = await at(values.base ?? "HEAD", emptySnapshot());
    const plan = planChange(base, head, { now: parseNow(values.now) });
    if (values.json) process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
    else {
      if (plan.diagnostics.length > 0) process.stdout.write(formatDiagnostics(plan.diagnostics) + "\n");
      process.stdout.write(`Plan: ${base.label} -> ${head.label}\n\n${planMarkdown(plan)}`);
    }
    return plan.ok ? 0 : 1;
  },
};
