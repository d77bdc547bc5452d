import { describe, expect, it } from "vitest";
import { USERS_FILE, type RepoSnapshot } from "../../../generator/src/index";
import { GitHubError } from "../errors";
import { silentLogger } from "../log";
import type { MergedPull, TrailerCommit } from "../ports";
import { PruneApproval } from "./prune-approval";

const sha = (c: string) => c.repeat(40);
const users = (admins: string[]) => `admins: [${admins.join(", ")}]\nusers: {}\n`;

/** users.yaml per commit; GitHub's merged pull request per commit. */
function setup(options: {
  usersAt: Record<string, string>;
  merged: Record<string, MergedPull | Error>;
  reporter?: false;
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
