import { readFileSync } from "node:fs";
import { debug, error, info, notice, setFailed, setOutput, setSecret, summary, warning } from "@actions/core";
import { planMarkdown, type Diagnostic, type Plan } from "../../../generator/src";
import { analyse, headRenderChanges, type Analysis } from "./analyse";
import { rateLimitFailure } from "./api-failure";
import { codeSpan, printable } from "../../../generator/src/text";
import { annotationProperties, ANNOTATIONS_PER_SEVERITY, planAnnotations } from "./annotations";
import { commentBody } from "./comment-body";
import { pushRefusal, pushRender } from "./commit-rendered";
import { inputVariable, parseContext, type CheckContext, type PullRequestInfo } from "./context";
import { createGitHubClient } from "./github-client";
import { createRedactor, describeError } from "./redact";
import { isPushEvent, needsRunsLookup, type PusherEvidence } from "./pusher";
import { upsertStickyComment } from "./sticky-comment";
import { summaryMarkdown } from "./summary";
import { readRenderPusher, readRunPusher } from "./workflow-runs";
import { isBotLogin, readActivityPushers } from "./push-activity";
import { renderOnlyParent } from "./git-changes";
import { createGit } from "../../../generator/src/io/git";
import { onHeadLines } from "./head-lines";

type Env = Readonly<Record<string, string | undefined>>;

/** The whole Action: read the context, analyse, maybe push the render, then report. Never throws. */
export async function run(env: Env = process.env): Promise<void> {
  // Masked before anything else runs, so no later line can show them.
  const tokens = ["github-token", "workflow-token"].map((name) => env[inputVariable(name)]?.trim());
  for (const token of new Set(tokens)) if (token) setSecret(token);
  const redact = createRedactor(tokens);
  try {
    const payload = env.GITHUB_EVENT_PATH ? readFileSync(env.GITHUB_EVENT_PATH, "utf8") : undefined;
    const parsed = parseContext(env, payload);
    if ("problems" in parsed) {
      setFailed(redact(`the check cannot run: ${parsed.problems.join("; ")}`));
      return;
    }
    await check(
      parsed.context,
      redact,
      env.GITHUB_STEP_SUMMARY !== undefined && env.GITHUB_STEP_SUMMARY !== "",
    );
  } catch (failure) {
    setFailed(redact(`the check failed to run: ${describeError(failure)}`));
  }
}

async function check(
  ctx: CheckContext,
  redact: (text: string) => string,
  hasSummary: boolean,
): Promise<void> {
  // The Action's own warnings (a rate limit met reading who pushed, the comment's) share GitHub's
  // 10-per-step limit with the diagnostics': counted to leave room.
  let warned = 0;
  const warn = (message: string) => {
    warned++;
    warning(message);
  };
  const evidence = await pusherEvidence(ctx, redact, warn);
  const analysis = await analyse(ctx, evidence);
  const diagnostics = analysis.diagnostics;
  const notes: string[] = [];
  const pusher = ctx.pull && pusherLine(ctx.pull, evidence);
  if (pusher) {
    info(redact(pusher));
    notes.push(redact(pusher));
  }
  let pushed: string | undefined;

  // Only the staleness the change causes: the base's own (a warning) is not the PR's to fix.
  const stale = diagnostics.filter((d) => d.rule === "render-stale" && d.severity === "error");
  if (ctx.commitRendered && stale.length > 0) {
    const refusal = pushRefusal(ctx);
    if (refusal) {
      notes.push(`commit-rendered: not pushing the render: ${refusal}.`);
      warn(redact(`commit-rendered: not pushing the render: ${refusal}`));
    } else if (diagnostics.some((d) => d.severity === "error" && d.rule !== "render-stale")) {
      notes.push("commit-rendered: not pushing the render while the change has other errors.");
    } else {
      try {
        const changes = await headRenderChanges(ctx, analysis);
        if (changes.size === 0) {
          // The branch's own render is current: only its merge with a newer base is stale.
          throw new Error(
            "the branch's own render is current; merge the base branch into it and render again",
          );
        }
        pushed = await pushRender({
          workspace: ctx.workspace,
          headSha: analysis.headSha,
          headRef: ctx.pull!.headRef,
          changes,
          token: ctx.token,
          serverUrl: ctx.serverUrl,
          mask: setSecret,
        });
        // The push starts the check again on the new head, which judges it. This head keeps its errors: a check
        // belongs to its commit, and a branch moved back here by a push that starts no run would merge green.
        notice(
          `commit-rendered: pushed the render to ${ctx.pull!.headRef} as ${pushed}; the check runs again on it (this commit's render stays stale: its check fails)`,
        );
      } catch (failure) {
        const why = redact(describeError(failure));
        // git's message can quote the branch name, which the PR's author chose (`<!--`, `@` are allowed).
        notes.push(`commit-rendered: the push failed: ${codeSpan(why)}`);
        warn(`commit-rendered: the push failed: ${why}`);
      }
    }
  }

  const ok = !diagnostics.some((d) => d.severity === "error");
  // A pull request's findings are shown on its head's files (annotations, comment, summary, output): lines of
  // the merge commit are moved to the head's.
  const shown = ctx.pull
    ? await onHeadLines(createGit(ctx.workspace), diagnostics, analysis.treeSha, ctx.pull.headSha)
    : diagnostics;
  const plan = analysis.plan;
  const planText = planMarkdown(plan);

  if (ctx.pull && ctx.comment && ctx.token === "") {
    // Only a fork PR gets here (parseContext requires the token otherwise): it is given no secrets.
    const why = "github-token is empty (a fork's pull request gets no secrets), so no plan comment is posted";
    info(`${why}; the plan is in the job summary`);
    notes.push(`${why}.`);
  } else if (ctx.pull && ctx.comment) {
    const outcome = await comment(ctx, analysis, { ok, diagnostics: shown, planText, pushed }, redact, warn);
    if (outcome) notes.push(outcome);
  }
  // After the comment, whose warnings are then known; setFailed's closing line is one more error.
  annotate(shown, new Set(analysis.changed), redact, {
    error: ANNOTATIONS_PER_SEVERITY - (ok ? 0 : 1),
    warning: Math.max(0, ANNOTATIONS_PER_SEVERITY - warned),
  });

  // Outside a runner (no GITHUB_STEP_SUMMARY) the annotations and the log still carry every result.
  if (hasSummary) {
    await summary
      .addRaw(
        redact(
          summaryMarkdown({
            ok,
            subject: analysis.subject,
            diagnostics: shown,
            ...(analysis.render ? { render: { ...analysis.render, ...(pushed ? { pushed } : {}) } } : {}),
            plan: planText,
            notes,
          }),
        ),
      )
      .write();
  }

  setOutput("ok", String(ok));
  // The output carries the check's whole verdict, as `serve-gitops plan --json` does: ownership, a stale
  // render and CODEOWNERS are the check's findings too, so a later step reading `plan.ok` agrees with `ok`.
  setOutput("plan", redact(JSON.stringify({ ...plan, ok, diagnostics: shown })));
  setOutput("changed-models", JSON.stringify(changedModels(plan)));
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  if (ok)
    info(
      analysis.relevant
        ? `serve-gitops check passed${plan.changed ? "" : ": no model changes"}`
        : "no model changes: only ownership was checked",
    );
  else setFailed(`${errors} error${errors === 1 ? "" : "s"}: see the annotations and the job summary`);
}

/**
 * Who pushed the PR head, when this run needs it (pusher.ts). On a run that is not a push of a
 * same-repository PR, first from the repository's activity log of the branch (push-activity.ts): every
 * push that left the head there, which no one with write access can delete. When the log does not tell (no
 * such push in it, too long, or unreadable: one log line says why), from GitHub's workflow runs
 * (push-runs.ts): on a run that is not a push, the head's own runs; on a bot's push of a commit that only re-renders
 * fragments (the check's own `commit-rendered` push), the runs of the commit it rendered. Never from a
 * comment: anyone with a workflow of their own can post one as the check's bot. Without the runs' word a
 * run that is not a push fails closed on who pushed, and a bot's push is judged as the bot.
 */
async function pusherEvidence(
  ctx: CheckContext,
  redact: (text: string) => string,
  warn: (message: string) => void,
): Promise<PusherEvidence> {
  const pull = ctx.pull;
  if (!pull || !needsRunsLookup(pull)) return {};
  const push = isPushEvent(pull);
  let parent: string | undefined;
  if (push) {
    parent = await renderOnlyParent(createGit(ctx.workspace), pull.headSha).catch(() => undefined);
    // A bot's push of anything but a render is judged as the bot: nothing to look up.
    if (parent === undefined) return {};
  }
  // Reading needs no more than the workflow's own token: a fork PR gets no secret for github-token, and a
  // workflow with comment: false may pass none.
  const token = ctx.token || ctx.workflowToken || "";
  if (token === "")
    return { runsWhy: "the github-token and workflow-token inputs are empty, so nothing could be read" };
  if (ctx.runId === undefined) return { runsWhy: "GITHUB_RUN_ID is not set, so this run cannot be found" };
  const log = { debug: (m: string) => debug(redact(m)), warning: (m: string) => warn(redact(m)) };
  const octokit = createGitHubClient({ token, baseUrl: ctx.apiUrl, log });
  const target = {
    owner: ctx.owner,
    repo: ctx.repo,
    issue: pull.number,
    headSha: pull.headSha,
    runId: ctx.runId,
  };
  // A run that is not a push may find a bot pushed the head: when the head only re-renders fragments on top
  // of its parent (the check's own `commit-rendered` push), the bot is judged as whoever pushed the parent,
  // as on the push's own run.
  const renderedParent = async () =>
    push ? undefined : await renderOnlyParent(createGit(ctx.workspace), pull.headSha).catch(() => undefined);
  const activity = (headSha: string) =>
    readActivityPushers(octokit, { owner: ctx.owner, repo: ctx.repo, branch: pull.headRef, headSha });
  /** Pushers known already: people the log named beside a bot, or in the pages read of a log too long. */
  let known: { pushers: readonly string[]; from: string } | undefined;
  if (!push && !pull.fork) {
    const logged = await activity(pull.headSha);
    if ("why" in logged) return { runsWhy: logged.why };
    if ("pushers" in logged) {
      if (!logged.pushers.some(isBotLogin)) return { pushers: logged.pushers, from: logged.from };
      parent = await renderedParent();
      if (parent === undefined) return { pushers: logged.pushers, from: logged.from };
      const people = logged.pushers.filter((login) => !isBotLogin(login));
      known = { pushers: people, from: logged.from };
      const under = await activity(parent);
      if ("why" in under) return { runsWhy: under.why };
      if ("pushers" in under)
        return {
          pushers: union(people, under.pushers),
          from: `${logged.from}, a render of ${parent.slice(0, 7)}: ${under.from}`,
        };
      // The parent's push is not in the log: its workflow runs are asked, as on the push's own run.
    } else {
      known = logged.found;
      info(
        redact(
          `Who pushed ${pull.headSha.slice(0, 7)}: ${logged.fallback}; reading the workflow runs instead.`,
        ),
      );
    }
  }
  let found = parent
    ? await readRenderPusher(octokit, { ...target, parent })
    : await readRunPusher(octokit, target);
  if ("why" in found) return { runsWhy: found.why };
  if (!push && !parent && isBotLogin(found.pusher)) {
    parent = await renderedParent();
    if (parent !== undefined) found = await readRenderPusher(octokit, { ...target, parent });
    if ("why" in found) return { runsWhy: found.why };
  }
  if (!known) return { pushers: [found.pusher], from: found.from };
  return { pushers: union(known.pushers, [found.pusher]), from: `${known.from}; ${found.from}` };
}

/** Logins, each once (GitHub's logins are case-insensitive), in order. */
function union(...lists: ReadonlyArray<readonly string[]>): string[] {
  const out: string[] = [];
  for (const login of lists.flat())
    if (!out.some((o) => o.toLowerCase() === login.toLowerCase())) out.push(login);
  return out;
}

/** One line for the log and the summary: who pushed the head and how the check knows, or why it does not. */
function pusherLine(pull: PullRequestInfo, evidence: PusherEvidence): string | undefined {
  const head = pull.headSha.slice(0, 7);
  const push = isPushEvent(pull);
  const pushers = evidence.pushers?.map((login) => `@${login}`).join(" and ");
  if (pushers)
    return push && pull.sender
      ? `Who pushed ${head}: @${pull.sender.login}, a render of commits pushed by ${pushers}, from ${evidence.from}.`
      : `Who pushed ${head}: ${pushers}, from ${evidence.from}.`;
  if (push && pull.sender)
    return `Who pushed ${head}: @${pull.sender.login}, the sender of this \`${pull.action}\` event${evidence.runsWhy ? ` (judged as such: the workflow runs do not tell whom its render is for: ${evidence.runsWhy})` : ""}.`;
  if (evidence.runsWhy) return `Who pushed ${head}: unknown (${evidence.runsWhy}).`;
  return undefined;
}

/** Annotations for what GitHub will show; every other diagnostic as a plain log line. */
function annotate(
  diagnostics: readonly Diagnostic[],
  touched: ReadonlySet<string>,
  redact: (t: string) => string,
  budget: { error: number; warning: number },
): void {
  const { annotate: shown, rest } = planAnnotations(diagnostics, touched, budget);
  for (const d of shown) {
    // @actions/core escapes an annotation's message and properties; plain log lines below are not escaped.
    (d.severity === "error" ? error : warning)(redact(d.message), annotationProperties(d, redact));
  }
  if (rest.length > 0) {
    info(
      `${rest.length} more diagnostic${rest.length === 1 ? "" : "s"} (GitHub shows 10 annotations of each kind per step; all are in the job summary):`,
    );
    // A file name or message can hold a newline and a runner command ("\n::stop-commands::x"): printable()
    // shows control characters escaped, so every diagnostic stays one line, and the "- " before it keeps a
    // file named "::stop-commands::x" from starting the line the runner would obey.
    for (const d of rest)
      info(
        redact(
          `- ${printable(d.file)}:${d.line}:${d.column}  ${d.severity === "warning" ? "warning " : ""}${d.code} ${d.rule}  ${printable(d.message)}`,
        ),
      );
  }
}

/** Post or update the sticky comment; a failure becomes a note, never a failed check (fork PRs get 403). */
async function comment(
  ctx: CheckContext,
  analysis: Analysis,
  result: { ok: boolean; diagnostics: readonly Diagnostic[]; planText: string; pushed: string | undefined },
  redact: (text: string) => string,
  warn: (message: string) => void,
): Promise<string | undefined> {
  const log = { debug: (m: string) => debug(redact(m)), warning: (m: string) => warn(redact(m)) };
  const octokit = createGitHubClient({ token: ctx.token, baseUrl: ctx.apiUrl, log });
  const body = redact(
    commentBody({
      ok: result.ok,
      headSha: analysis.headSha,
      diagnostics: result.diagnostics,
      plan: result.planText,
      summaryUrl: ctx.runUrl,
    }),
  );
  try {
    const outcome = await upsertStickyComment(octokit, {
      owner: ctx.owner,
      repo: ctx.repo,
      issue: ctx.pull!.number,
      body,
      // A PR that changes no model gets no new comment; an earlier plan comment is still corrected.
      create: analysis.plan.changed || !result.ok,
      headSha: analysis.headSha,
      ...(result.pushed ? { pushedHead: result.pushed } : {}),
    });
    if (outcome.action === "superseded") {
      const why = `the pull request's head is now ${outcome.head.slice(0, 7)}, not ${analysis.headSha.slice(0, 7)}: the plan comment is left to the run for the newer head`;
      info(why);
      return `${why}.`;
    }
    info(
      outcome.action === "skipped"
        ? "no plan comment: the pull request changes no model"
        : `plan comment ${outcome.action}: ${outcome.url}`,
    );
    return undefined;
  } catch (failure) {
    const why = commentFailure(failure);
    warn(redact(`could not post the plan comment: ${why}; the plan is in the job summary`));
    return redact(`The plan comment could not be posted: ${why}.`);
  }
}

/** Why GitHub refused the comment, in words: a rate limit is not a missing permission. */
export function commentFailure(failure: unknown): string {
  const limited = rateLimitFailure(failure);
  if (limited) return limited;
  if ((failure as { status?: unknown }).status === 403)
    return "the token cannot write to this pull request (a fork's read-only token, or no pull-requests: write permission)";
  return describeError(failure);
}

/** `user/suffix` of every model the plan deploys, updates or undeploys on any cluster. */
export function changedModels(plan: Plan): string[] {
  const keys = new Set<string>();
  for (const c of plan.clusters) for (const m of [...c.deploy, ...c.update, ...c.undeploy]) keys.add(m.key);
  return [...keys].sort();
}
