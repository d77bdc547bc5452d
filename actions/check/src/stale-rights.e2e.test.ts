// Rights are read "from users.yaml on the repository's default branch" (README). When the checkout is not
// GitHub's merge commit of the head (the PR head itself, which criss-cross.e2e.test.ts supports, or a merge
// commit GitHub has not rebuilt for this head), the check falls back to the payload's base.sha, which lags
// behind the branch: it is the base as the PR last recorded it, not the default branch's tip.
import { describe, expect, it } from "vitest";
import { codeownersOf } from "../../../generator/src";
import { readWorkingTree } from "../../../generator/src/io/working-tree";
import {
  edit,
  fileErrors as errors,
  git,
  renderInto,
  TOKENS,
  useGitHubServer,
  write,
} from "./testing/harness";

const gh = useGitHubServer({ [TOKENS.workflow]: { login: "github-actions[bot]" } });

const setAdmins = (dir: string, admins: string[]) => {
  edit(dir, "models/users.yaml", (text) =>
    text.replace(/admins:\n( {2}- .*\n)+/, `admins:\n${admins.map((a) => `  - ${a}\n`).join("")}`),
  );
  write(dir, ".github/CODEOWNERS", codeownersOf(readWorkingTree(dir)).text!);
};

describe("rights on a checkout that is not the merge commit of the head", () => {
  it("are main's current ones: an admin removed from users.yaml on main no longer has them", async () => {
    // alice was an admin when she branched and changed bob's model.
    const fx = gh.fixture({
      base: (dir) => setAdmins(dir, ["platform-admin", "alice"]),
      head: (dir) => {
        edit(dir, "models/bob/qwen-7b.yaml", (t) => t.replace("max_num_seqs: 128", "max_num_seqs: 1"));
        renderInto(dir);
      },
    });
    // Since then the platform admin has revoked her admin rights on main.
    git(fx, fx.seed, ["checkout", "-q", "main"]);
    setAdmins(fx.seed, ["platform-admin"]);
    git(fx, fx.seed, ["commit", "-q", "-am", "revoke alice"]);
    git(fx, fx.seed, ["push", "-q", "origin", "main", "feature"]);
    git(fx, fx.seed, ["checkout", "-q", "feature"]);
    // The runner's checkout is the PR head (no merge commit of it); origin/main is the revoking commit.
    git(fx, fx.workspace, ["fetch", "-q", "origin"]);
    git(fx, fx.workspace, ["checkout", "-q", "--detach", fx.headSha]);
    expect(git(fx, fx.workspace, ["show", "origin/main:models/users.yaml"])).not.toContain("- alice");

    // GitHub's payload still names the base the PR recorded (fx.baseSha: before the revocation).
    const run = await gh.pullRequest(
      fx,
      { author: "alice", number: 91 },
      { sha: fx.headSha, inputs: { comment: "false" } },
    );
    expect(run.code).toBe(1);
    expect(errors(run).map((a) => `${a.properties.title} ${a.properties.file}`)).toContain(
      "E403 ownership models/bob/qwen-7b.yaml",
    );
  });
});
