import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createGit } from "../../../generator/src/io/git";
import type { CheckContext } from "./context";

/**
 * Why the check will not push the render itself, or undefined when it may. Pushes made with the
 * workflow's own token start no workflow run, so the required check would never report on the new head
 * and the PR could not merge: only a token passed in (a GitHub App's) can push and retrigger checks.
 */
export function pushRefusal(ctx: CheckContext): string | undefined {
  if (!ctx.pull) return "commit-rendered works on pull requests only";
  if (ctx.pull.fork) return "the pull request comes from a fork, which the check cannot push to";
  if (ctx.token === "") return "github-token is empty";
  if (ctx.workflowToken === undefined) {
    return "cannot tell whether github-token is the workflow's own token (the workflow-token input is empty)";
  }
  if (ctx.token === ctx.workflowToken) {
    return (
      "github-token is the workflow's own token: a push made with it starts no workflow run, so the required " +
      "check would never run on the new commit. Pass a GitHub App token (actions/create-github-app-token) as github-token"
    );
  }
  return undefined;
}

export interface PushRenderOptions {
  readonly workspace: string;
  /** The PR head commit the render commit goes on top of. */
  readonly headSha: string;
  /** The PR branch. */
  readonly headRef: string;
  /** path -> content, or null to delete. */
  readonly changes: ReadonlyMap<string, string | null>;
  readonly token: string;
  readonly serverUrl: string;
  /** Called with every value derived from the token, so the runner masks it too. */
  readonly mask: (secret: string) => void;
}

const IDENTITY = {
  GIT_AUTHOR_NAME: "serve-gitops",
  GIT_AUTHOR_EMAIL: "serve-gitops@users.noreply.github.com",
  GIT_COMMITTER_NAME: "serve-gitops",
  GIT_COMMITTER_EMAIL: "serve-gitops@users.noreply.github.com",
};

/**
 * Commit the render on top of the PR head in a separate worktree (the checkout, a merge commit, stays
 * untouched) and push it to the PR branch. A plain push: if the author pushed meanwhile it is rejected
 * rather than overwriting their work.
 */
export async function pushRender(options: PushRenderOptions): Promise<string> {
  const basic = Buffer.from(`x-access-token:${options.token}`).toString("base64");
  options.mask(basic);
  // The credential travels in the environment (git reads GIT_CONFIG_*), never on a command line or in a URL.
  // The empty value first clears any extraheader actions/checkout persisted for the workflow token.
  const key = `http.${options.serverUrl}/.extraheader`;
  const auth = {
    GIT_CONFIG_COUNT: "2",
    GIT_CONFIG_KEY_0: key,
    GIT_CONFIG_VALUE_0: "",
    GIT_CONFIG_KEY_1: key,
    GIT_CONFIG_VALUE_1: `AUTHORIZATION: basic ${basic}`,
  };
  const tree = mkdtempSync(join(tmpdir(), "serve-gitops-render-"));
  const main = createGit(options.workspace);
  await main.raw(["worktree", "add", "--detach", tree, options.headSha]);
  try {
    for (const [path, content] of options.changes) {
      const target = join(tree, path);
      if (content === null) rmSync(target, { force: true });
      else {
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, content);
      }
    }
    const git = createGit(tree, { env: { ...IDENTITY, ...auth } });
    await git.raw(["add", "-A", "--", "clusters"]);
    await git.raw([
      "commit",
      "--no-verify",
      "-q",
      "-m",
      "Render serving specs\n\nPushed by the serving-specs check (commit-rendered: true).",
    ]);
    const sha = (await git.raw(["rev-parse", "HEAD"])).trim();
    await git.raw(["push", "--no-verify", "origin", `HEAD:refs/heads/${options.headRef}`]);
    return sha;
  } finally {
    await main
      .raw(["worktree", "remove", "--force", tree])
      .catch(() => rmSync(tree, { recursive: true, force: true }));
  }
}
