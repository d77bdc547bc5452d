import { readCommitSnapshot, UnknownRevisionError } from "../io/git";
import { emptySnapshot } from "../io/working-tree";
import { checkRepo } from "../pipeline";
import { planChange, type Plan } from "../plan";
import { planMarkdown } from "../plan-markdown";
import { renderStaleDiagnostics } from "../render-check";
import { sortDiagnostics } from "../rules";
import type { RepoSnapshot } from "../types";
import { createSpecMemo } from "../validate";
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
  --markdown    the plan as Markdown, the default: the same output as no flag (the plan as the PR
                comment shows it, after any diagnostics in the text format of validate)
  --now TIME    the time a model not rendered yet is named after (default: now); with Z or an offset
DIR may be a subfolder of a git repository (a monorepo): REFs are read under that folder.
The plan is what the specs render to. The head's fragments under clusters/*/rendered/ (the working tree's
when --head is not given) must be that render, keeping the base's served names, as the PR check requires:
a stale, missing, extra or renaming fragment is an error (E409 render-stale) saying to run render.
Exit: 0 when the head is valid, 1 when it has errors (the plan is still printed), 2 on usage errors.`,
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
    const now = parseNow(values.now);
    const { root, snapshot } = loadRepo(values.repo);
    const at = async (
      flag: string,
      ref: string | undefined,
      fallback: RepoSnapshot,
    ): Promise<RepoSnapshot> => {
      if (ref === undefined) return fallback;
      if (ref === "empty") return emptySnapshot();
      try {
        return await readCommitSnapshot(root, ref);
      } catch (error) {
        const message =
          error instanceof UnknownRevisionError
            ? `${flag} ${ref}: no such commit, branch or tag in the git repository of ${root}`
            : `cannot read ${ref} in ${root}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`;
        // No git repository, or one without commits: say how to plan without history.
        const hint =
          flag === "--base"
            ? `hint: --base empty plans against clusters with nothing deployed and needs no git history${values.base === undefined ? " (without --base, the base is HEAD)" : ""}`
            : "hint: leave out --head to plan the working tree, which needs no git history (with --base empty when there is no commit to plan against)";
        throw new UsageError(`${message}\n${hint}`);
      }
    };
    const baseRef = values.base ?? "HEAD";
    const head = await at("--head", values.head, snapshot);
    const base = await at("--base", baseRef, emptySnapshot());

    // The same checks as the PR check: served names of models the base has come from the base.
    const memo = createSpecMemo();
    const baseCheck = checkRepo(base, { now, memo });
    const headCheck = checkRepo(head, { now, timestamps: [baseCheck.timestamps], memo });
    const planned = planChange(base, head, { now, checks: { base: baseCheck, head: headCheck } });
    const stale =
      headCheck.render && headCheck.renderDiff
        ? renderStaleDiagnostics({
            head,
            render: headCheck.render,
            diff: headCheck.renderDiff,
            baseTimestamps: baseCheck.timestamps,
            headTimestamps: headCheck.timestamps,
            command:
              values.head === undefined
                ? "npx serve-gitops render"
                : "npx serve-gitops render && git add -A clusters && git commit -m 'Render serving specs'",
            restoreFrom: baseRef,
            workingTree: values.head === undefined,
          })
        : [];
    const plan: Plan =
      stale.length === 0
        ? planned
        : { ...planned, ok: false, diagnostics: sortDiagnostics([...planned.diagnostics, ...stale]) };

    if (values.json) process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
    else {
      if (plan.diagnostics.length > 0) process.stdout.write(formatDiagnostics(plan.diagnostics) + "\n");
      process.stdout.write(`Plan: ${base.label} -> ${head.label}\n\n${planMarkdown(plan)}`);
    }
    return plan.ok ? 0 : 1;
  },
};
