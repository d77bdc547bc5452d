import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TEMPLATE_REPO } from "../test-fixtures/helpers";

// The README's "Adopting the template" steps, run literally as a platform team would, in a git repository
// holding the template's example content.

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@example.invalid",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@example.invalid",
};
const temporaries: string[] = [];

afterAll(() => {
  for (const dir of temporaries) rmSync(dir, { recursive: true, force: true });
});

describe("README: Adopting the template", () => {
  it("steps 1 and 2 (git rm the examples, git mv the cluster, git rm its old fragments) all succeed", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.slice(
      readme.indexOf("## Adopting the template"),
      readme.indexOf("## Model owner's guide"),
    );
    const commands = [...section.matchAll(/`(git (?:rm|mv) [^`]+)`/g)].map((m) =>
      m[1]!.replaceAll("<cluster>", "gpu1"),
    );
    expect(commands).toEqual([
      "git rm -r models/alice models/bob clusters/lab",
      "git rm -r clusters/h1/rendered",
      "git mv clusters/h1 clusters/gpu1",
    ]);

    const dir = mkdtempSync(join(tmpdir(), "serve-gitops-adopt-"));
    temporaries.push(dir);
    for (const top of ["models", "clusters"])
      cpSync(join(TEMPLATE_REPO, top), join(dir, top), { recursive: true });
    const git = (args: string[]) => execFileSync("git", args, { cwd: dir, env: GIT_ENV, stdio: "pipe" });
    git(["init", "-q", "-b", "main"]);
    git(["add", "-A"]);
    git(["commit", "-qm", "the template"]);

    for (const command of commands) {
      const [, ...args] = command.split(" ");
      const result = spawnSync("git", args, { cwd: dir, env: GIT_ENV, encoding: "utf8" });
      expect({ command, status: result.status, stderr: result.stderr }).toEqual({
        command,
        status: 0,
        stderr: "",
      });
    }
  });
});
