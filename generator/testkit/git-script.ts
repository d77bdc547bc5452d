/**
 * TEST ONLY. What the agent's and the Action's git fixtures share to set up their repositories cheaply.
 */
import { execFileSync } from "node:child_process";

/**
 * For a fixture's own repositories only (the developer's clone, the bare remote standing in for GitHub): no
 * automatic housekeeping after each commit, fetch and push (`git maintenance run --auto`, `gc --auto`), two git
 * processes per step that none of these short-lived repositories needs. The code under test runs git as it is.
 */
export const NO_HOUSEKEEPING_ENV: Readonly<Record<string, string>> = {
  GIT_CONFIG_COUNT: "3",
  GIT_CONFIG_KEY_0: "maintenance.auto",
  GIT_CONFIG_VALUE_0: "false",
  GIT_CONFIG_KEY_1: "gc.auto",
  GIT_CONFIG_VALUE_1: "0",
  // receive-pack starts `gc --auto` after every push whatever gc.auto says; this keeps it from starting.
  GIT_CONFIG_KEY_2: "receive.autogc",
  GIT_CONFIG_VALUE_2: "false",
};

export const shellQuote = (arg: string): string => `'${arg.replaceAll("'", "'\\''")}'`;

/** A step of a gitScript: git's arguments, or a line of shell for what one git command cannot say. */
export type GitStep = readonly string[] | { readonly sh: string };

/**
 * Git commands that always go together, as one shell script: one fork of the (large) test process instead of
 * one per command, which is most of what a fixture costs. Stops at the first that fails (and throws); returns
 * the last line of output (the fixtures end with the `rev-parse` they need).
 */
export function gitScript(cwd: string, env: NodeJS.ProcessEnv, commands: readonly GitStep[]): string {
  const script = commands
    .map((step) => ("sh" in step ? `{ ${step.sh}; }` : ["git", ...step].map(shellQuote).join(" ")))
    .join(" && ");
  const out = execFileSync("sh", ["-c", script], {
    cwd,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return out.trim().split("\n").at(-1) ?? "";
}
