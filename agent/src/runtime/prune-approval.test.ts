import { afterEach, describe, expect, it } from "vitest";
import { USERS_FILE, type RepoSnapshot } from "../../../generator/src/index";
import {
  startGitHubApiServer,
  testOctokitOptions,
  type GitHubApiServer,
} from "../../../generator/testkit/github-api-server";
import { GitHubReporter } from "../adapters/github-reporter";
import { createOctokit } from "../adapters/octokit";
import { GitHubError } from "../errors";
import { silentLogger } from "../log";
import type { MergedPull, StatusReporter, TrailerCommit } from "../ports";
import { PruneApproval } from "./prune-approval";

const sha = (c: string) => c.repeat(40);
const users = (admins: string[]) => `admins: [${admins.join(", ")}]\nusers: {}\n`;

/** users.yaml per commit; GitHub's merged pull request per commit. */
function setup(options: {
  usersAt: Record<string, string>;
  merged: Record<string, MergedPull | Error>;
  reporter?: false | Pick<StatusReporter, "mergedAs">;
}) {
  let now = 0;
  const asked: string[] = [];
  const approval = new PruneApproval({
    source: {
      snapshot: async (at: string): Promise<RepoSnapshot> => {
        const text = options.usersAt[at];
        const files = new Map(
          text === undefined
            ? []
            : [[USERS_FILE, { path: USERS_FILE, kind: "file" as const, bytes: Buffer.from(text) }]],
        );
        return { files, label: at };
      },
    },
    reporter:
      options.reporter === false
        ? undefined
        : options.reporter
          ? options.reporter
          : {
              mergedAs: async (at: string) => {
                asked.push(at);
                const answer = options.merged[at];
                if (answer instanceof Error) throw answer;
                return answer;
              },
            },
    branch: "main",
    log: silentLogger(),
    now: () => now,
  });
  return { approval, asked, tick: (ms: number) => (now += ms) };
}

const pull = (extra: Partial<MergedPull> = {}): MergedPull => ({
  number: 8,
  base_ref: "main",
  merged_by: "platform-admin",
  title: "alice: tweak",
  body: "",
  messages: ["alice: c"],
  commits: 1,
  merged_at: "2026-01-06T12:40:00Z",
  body_edited_at: undefined,
  renamed: [],
  renames: 0,
  ...extra,
});
const trailer = (c: string, value: string, parent = sha("0")): TrailerCommit => ({
  sha: sha(c),
  parent,
  values: [value],
});
const admins = { [sha("0")]: users(["platform-admin"]) };

describe("the prune approval", () => {
  it("honours a trailer on a pull request an admin merged (login case-insensitive), and asks once", async () => {
    const { approval, asked } = setup({
      usersAt: admins,
      merged: { [sha("a")]: pull({ merged_by: "Platform-Admin" }) },
    });
    expect(await approval.allowance([trailer("a", "6")], 6)).toBe(6);
    expect(await approval.allowance([trailer("a", "6")], 6)).toBe(6);
    expect(asked).toEqual([sha("a")]);
  });

  it("asks GitHub only about trailers that would lift the guard", async () => {
    const { approval, asked } = setup({ usersAt: admins, merged: { [sha("a")]: pull() } });
    expect(await approval.allowance([trailer("a", "3")], 6)).toBe(0);
    expect(asked).toEqual([]);
  });

  it("refuses a merge by someone who is not an admin", async () => {
    const { approval } = setup({ usersAt: admins, merged: { [sha("a")]: pull({ merged_by: "alice" }) } });
    expect(await approval.allowance([trailer("a", "6")], 6)).toBe(0);
  });

  it("reads the admins before the merge: a pull request cannot make its own merger an admin", async () => {
    const { approval } = setup({
      usersAt: { ...admins, [sha("a")]: users(["platform-admin", "alice"]) },
      merged: { [sha("a")]: pull({ merged_by: "alice" }) },
    });
    expect(await approval.allowance([trailer("a", "6")], 6)).toBe(0);
  });

  it("refuses a trailer the pull request's own commits carry (squash or rebase), or commits GitHub did not list", async () => {
    const { approval } = setup({
      usersAt: admins,
      merged: {
        [sha("a")]: pull({ messages: ["alice: c\n\nserve-gitops-allow-prune: 6"] }),
        [sha("b")]: pull({ commits: 300, messages: ["alice: c"] }),
        [sha("c")]: pull({ base_ref: "dev" }),
      },
    });
    const commits = [trailer("a", "6"), trailer("b", "6"), trailer("c", "6")];
    expect(await approval.allowance(commits, 6)).toBe(0);
  });

  it("refuses a trailer the author put in the title or description (GitHub's default merge message copies them)", async () => {
    // The probe's repro: "Merge pull request #5 from alice/tweak\n\nServe-Gitops-Allow-Prune: 40", alice's
    // commit without the trailer, merged by an admin with the default message. Any case or spacing counts.
    const texts = [
      { title: "Serve-Gitops-Allow-Prune: 40" },
      { body: "Tidy up.\n\nserve-gitops-allow-prune: 60" },
      { body: "SERVE-GITOPS-ALLOW-PRUNE : 40" },
      { body: "see `Serve-Gitops-Allow-Prune`" },
    ];
    const merged = Object.fromEntries(texts.map((t, i) => [sha(String(i + 1)), pull(t)]));
    const { approval, asked } = setup({ usersAt: admins, merged });
    for (const i of texts.keys())
      expect(await approval.allowance([trailer(String(i + 1), "60")], 40)).toBe(0);
    expect(asked).toHaveLength(texts.length);
    // A title and description that do not name the key leave the admin's trailer standing.
    const clean = setup({ usersAt: admins, merged: { [sha("a")]: pull({ body: "Retire bob's models." }) } });
    expect(await clean.approval.allowance([trailer("a", "40")], 40)).toBe(40);
  });

  it("judges the title and description as they stood at the merge: refuses a description edited at or after it", async () => {
    // The attack: alice's description carries the trailer, an admin merges with GitHub's default message (which
    // copies it), then alice edits the description before the agent asks: its current text is clean.
    const merged = {
      [sha("1")]: pull({ body: "Tidy up.", body_edited_at: "2026-01-06T12:41:00Z" }),
      [sha("2")]: pull({ body: "Tidy up.", body_edited_at: "2026-01-06T12:40:00Z" }),
      [sha("3")]: pull({ body: "Tidy up.", body_edited_at: "not a time" }),
      // Edited before the merge (the author removed the trailer, as the README tells her): it stands.
      [sha("4")]: pull({ body: "Tidy up.", body_edited_at: "2026-01-06T12:39:59Z" }),
    };
    const { approval } = setup({ usersAt: admins, merged });
    for (const c of ["1", "2", "3"]) expect(await approval.allowance([trailer(c, "40")], 40), c).toBe(0);
    expect(await approval.allowance([trailer("4", "40")], 40)).toBe(40);
  });

  it("refuses a trailer any title the pull request ever had mentions, or when GitHub does not list every rename", async () => {
    const renamed = [{ from: "Serve-Gitops-Allow-Prune: 40", to: "alice: tweak" }];
    const { approval } = setup({
      usersAt: admins,
      merged: {
        // Renamed after the merge, or before it while the admin's merge dialog still showed the old title.
        [sha("1")]: pull({ renamed, renames: 1 }),
        [sha("2")]: pull({ renamed: [{ from: "a", to: "b" }], renames: 2 }),
        [sha("3")]: pull({ renamed: [{ from: "alice: tweek", to: "alice: tweak" }], renames: 1 }),
      },
    });
    expect(await approval.allowance([trailer("1", "40")], 40)).toBe(0);
    expect(await approval.allowance([trailer("2", "40")], 40)).toBe(0);
    expect(await approval.allowance([trailer("3", "40")], 40)).toBe(40);
  });

  it("refuses a direct push, a root commit and a dry run (no GitHub to ask)", async () => {
    const { approval } = setup({ usersAt: admins, merged: {} });
    expect(await approval.allowance([trailer("a", "6")], 6)).toBe(0);
    const root = setup({ usersAt: admins, merged: { [sha("a")]: pull() } });
    expect(await root.approval.allowance([{ sha: sha("a"), values: ["6"] }], 6)).toBe(0);
    const dry = setup({ usersAt: admins, merged: { [sha("a")]: pull() }, reporter: false });
    expect(await dry.approval.allowance([trailer("a", "6")], 6)).toBe(0);
  });

  it("asks again, a minute apart, about a merge GitHub may not list yet, and after a GitHub failure", async () => {
    const merged: Record<string, MergedPull | Error> = {
      [sha("a")]: new GitHubError("GitHub GET commit pulls failed (502)", { kind: "transient" }),
    };
    const { approval, asked, tick } = setup({ usersAt: admins, merged });
    expect(await approval.allowance([trailer("a", "6")], 6)).toBe(0);
    tick(30_000);
    expect(await approval.allowance([trailer("a", "6")], 6)).toBe(0);
    expect(asked).toHaveLength(1);
    delete merged[sha("a")];
    tick(30_000);
    expect(await approval.allowance([trailer("a", "6")], 6)).toBe(0);
    expect(asked).toHaveLength(2);
    merged[sha("a")] = pull();
    tick(60_000);
    expect(await approval.allowance([trailer("a", "6")], 6)).toBe(6);
    expect(asked).toHaveLength(3);
  });

  it("stops asking about a commit GitHub has not listed as a merge ten minutes after the first answer", async () => {
    const { approval, asked, tick } = setup({ usersAt: admins, merged: {} });
    for (let minute = 0; minute <= 15; minute++) {
      expect(await approval.allowance([trailer("a", "6")], 6)).toBe(0);
      tick(60_000);
    }
    expect(asked).toHaveLength(11);
    tick(24 * 3600_000);
    expect(await approval.allowance([trailer("a", "6")], 6)).toBe(0);
    expect(asked).toHaveLength(11);
  });
});

describe("the prune approval against GitHub's API (octokit and the test GitHub server)", () => {
  let github: GitHubApiServer | undefined;
  afterEach(async () => {
    if (!github) return;
    expect(github.unexpected).toEqual([]);
    await github.close();
    github = undefined;
  });

  async function viaGitHub() {
    const server = await startGitHubApiServer({ tokens: { t: { login: "serve-gitops[bot]" } } });
    github = server;
    const octokit = createOctokit({
      baseUrl: server.url,
      token: "t",
      log: silentLogger(),
      tuning: testOctokitOptions({ msPerSecond: 1 }),
    });
    const merge = (n: number, at: string, text: { title: string; body: string }) => {
      server.setCommitPulls(sha(at), [
        {
          number: n,
          ...text,
          state: "closed",
          merged_at: "2026-01-06T12:40:00Z",
          merge_commit_sha: sha(at),
          head: { sha: sha("f"), ref: `alice/${n}` },
          base: { ref: "main" },
          user: { login: "alice" },
          merged_by: { login: "platform-admin" },
          commits: 1,
        },
      ]);
      server.setPullCommits(n, [{ sha: sha("f"), message: "alice: tweak" }]);
    };
    const reporter = new GitHubReporter(octokit, "acme/models");
    return { server, merge, ...setup({ usersAt: admins, merged: {}, reporter }) };
  }

  it("refuses a trailer whose description or title the author changed after the admin merged with GitHub's default message", async () => {
    const { server, merge, approval } = await viaGitHub();
    const text = { title: "alice: tweak", body: "Tidy up.\n\nServe-Gitops-Allow-Prune: 40" };
    merge(5, "a", text);
    server.editPull(5, { body: "Tidy up.", actor: "alice", at: "2026-01-06T12:41:00Z" });
    merge(6, "b", { ...text, title: "Serve-Gitops-Allow-Prune: 40", body: "" });
    server.editPull(6, { title: "alice: tweak", actor: "alice", at: "2026-01-06T12:41:00Z" });
    // The author's clean pull request whose description she fixed before the merge: the admin's trailer counts.
    merge(7, "c", text);
    server.editPull(7, { body: "Tidy up.", actor: "alice", at: "2026-01-06T12:30:00Z" });
    expect(await approval.allowance([trailer("a", "40")], 40)).toBe(0);
    expect(await approval.allowance([trailer("b", "40")], 40)).toBe(0);
    expect(await approval.allowance([trailer("c", "40")], 40)).toBe(40);
  });

  it("stays closed while GitHub cannot say how the pull request stood at the merge, and asks again a minute later", async () => {
    const { server, merge, approval, tick } = await viaGitHub();
    merge(5, "a", { title: "alice: tweak", body: "Tidy up." });
    // plugin-retry's three retries included.
    server.failNext({ status: 502, route: /^\/graphql$/, count: 4 });
    expect(await approval.allowance([trailer("a", "40")], 40)).toBe(0);
    const asked = () => server.requests.filter((r) => r.path === "/graphql" && r.status === 200).length;
    expect(asked()).toBe(0);
    tick(30_000);
    expect(await approval.allowance([trailer("a", "40")], 40)).toBe(0);
    tick(30_000);
    expect(await approval.allowance([trailer("a", "40")], 40)).toBe(40);
    expect(asked()).toBe(1);
  });
});
