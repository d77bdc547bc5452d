// Ownership must see what a merge really changes, however the branch's history is shaped. After criss-cross
// merges a PR head has two merge bases with main, and `git diff main...head` silently diffs from one of them:
// a users.yaml edit that one side made and the other side reverted, kept by an "evil" re-merge, hid from the
// check (found by a security probe). Real git history, the committed bundle, the strict API test server.
import { describe, expect, it } from "vitest";
import {
  checkoutMerge,
  edit,
  git,
  scaleQwen,
  TOKENS,
  useGitHubServer,
  type Fixture,
} from "./testing/harness";

const gh = useGitHubServer({ [TOKENS.workflow]: { login: "github-actions[bot]" } });

/** alice adds herself to bob's logins: the escalation the check must catch. */
const grantAlice = (dir: string) =>
  edit(dir, "models/users.yaml", (text) =>
    text.replace("github: [bob, bob-bot]", "github: [bob, bob-bot, alice]"),
  );

const commit = (fx: Fixture, message: string, date: string) => {
  git(fx, fx.seed, ["add", "-A"], date);
  git(fx, fx.seed, ["commit", "-q", "--allow-empty", "-m", message], date);
  return git(fx, fx.seed, ["rev-parse", "HEAD"]);
};

/**
 * main0 -> Z (grants alice) -> C1 (alice scales her model) and C2 (reverts users.yaml); PR #1 = merge(C1, C2)
 * touches only alice's folder and lands as main1. PR #2 re-merges C1 and C2 keeping Z's users.yaml: its merge
 * bases with main1 are C1 and C2, and from C1 users.yaml looks unchanged.
 */
function crissCross(): { fx: Fixture; main1: string; head: string } {
  const fx = gh.fixture({});
  const main0 = fx.baseSha;
  git(fx, fx.seed, ["checkout", "-q", "-B", "z", main0]);
  grantAlice(fx.seed);
  const z = commit(fx, "Z", "2026-02-01T00:00:00Z");
  git(fx, fx.seed, ["checkout", "-q", "-B", "c2", z]);
  git(fx, fx.seed, ["checkout", "-q", main0, "--", "models/users.yaml"]);
  const c2 = commit(fx, "C2: revert users.yaml", "2026-02-01T01:00:00Z");
  git(fx, fx.seed, ["checkout", "-q", "-B", "c1", z]);
  scaleQwen(2)(fx.seed);
  const c1 = commit(fx, "C1: alice scales", "2026-02-01T02:00:00Z");
  git(fx, fx.seed, ["merge", "-q", "--no-ff", "--no-edit", "-m", "M1", c2], "2026-02-01T03:00:00Z");
  const m1 = git(fx, fx.seed, ["rev-parse", "HEAD"]);
  git(fx, fx.seed, ["checkout", "-q", "-B", "main", main0]);
  git(fx, fx.seed, ["merge", "-q", "--no-ff", "--no-edit", "-m", "Merge PR #1", m1], "2026-02-02T00:00:00Z");
  const main1 = git(fx, fx.seed, ["rev-parse", "HEAD"]);
  git(fx, fx.seed, ["checkout", "-q", "-B", "pr2", c1]);
  git(fx, fx.seed, ["merge", "-q", "--no-ff", "--no-edit", "-m", "M2", c2], "2026-02-03T00:00:00Z");
  grantAlice(fx.seed);
  const head = commit(fx, "M2 keeps the grant", "2026-02-03T01:00:00Z");
  git(fx, fx.seed, ["push", "-q", "--force", "origin", "main", "pr2:feature"]);
  const bases = git(fx, fx.seed, ["merge-base", "--all", main1, head]).split("\n");
  expect(bases.sort()).toEqual([c1, c2].sort());
  // PR #2's base is main after PR #1.
  return { fx: { ...fx, baseSha: main1, headSha: head }, main1, head };
}

describe("ownership after criss-cross merges", () => {
  it("blames the users.yaml change a re-merge keeps, judged on GitHub's merge commit", async () => {
    const { fx } = crissCross();
    checkoutMerge(fx);
    const run = await gh.pullRequest(fx, { author: "alice", number: 2 });
    expect(run.code).toBe(1);
    const ownership = run.annotations.filter((a) => a.properties.title === "E403 ownership");
    expect(ownership.map((a) => a.properties.file)).toContain("models/users.yaml");
  });

  it("blames it too when the checkout is the PR head itself, from every merge base", async () => {
    const { fx, head } = crissCross();
    git(fx, fx.workspace, ["fetch", "-q", "origin"]);
    git(fx, fx.workspace, ["checkout", "-q", "--detach", head]);
    const run = await gh.pullRequest(fx, { author: "alice", number: 3 });
    expect(run.code).toBe(1);
    const ownership = run.annotations.filter((a) => a.properties.title === "E403 ownership");
    expect(ownership.map((a) => a.properties.file)).toContain("models/users.yaml");
  });
});
