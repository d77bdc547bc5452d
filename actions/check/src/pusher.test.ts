import { describe, expect, it } from "vitest";
import type { PullRequestInfo } from "./context";
import { needsRunsLookup, unknownPusherMessage, whomToJudge } from "./pusher";

const HEAD = "b".repeat(40);
const pull = (action: string, sender: string | undefined, bot = false): PullRequestInfo => ({
  number: 5,
  author: "alice",
  action,
  sender: sender === undefined ? undefined : { login: sender, bot },
  baseSha: "a".repeat(40),
  baseRef: "main",
  defaultBranch: "main",
  headSha: HEAD,
  headRef: "feature",
  fork: false,
});
const people = (p: PullRequestInfo, found?: string) => {
  const judged = whomToJudge(p, found);
  return { people: judged.people.map((x) => x.login), pusher: judged.pusher, unknown: judged.unknown };
};

describe("whomToJudge", () => {
  it("judges the sender of a push", () => {
    expect(people(pull("synchronize", "mallory"))).toEqual({
      people: ["mallory"],
      pusher: "mallory",
      unknown: undefined,
    });
    expect(people(pull("synchronize", "alice"))).toEqual({ people: [], pusher: "alice", unknown: undefined });
  });

  it("judges the pusher the workflow runs name when the author edits the PR afterwards", () => {
    expect(people(pull("edited", "alice"), "mallory")).toEqual({
      people: ["mallory"],
      pusher: "mallory",
      unknown: undefined,
    });
    expect(people(pull("reopened", "ci[bot]", true), "mallory").people).toEqual(["mallory"]);
  });

  it("judges everyone the activity log shows putting the head on the branch, not only the first", () => {
    const judged = whomToJudge(pull("edited", "alice"), ["bob", "mallory", "alice"]);
    expect(judged.people.map((p) => `${p.login} ${p.role}`)).toEqual([
      "bob who pushed",
      "mallory who pushed",
    ]);
    expect(judged.pusher).toBe("bob");
  });

  it("cannot tell who pushed when the workflow runs do not say", () => {
    expect(people(pull("edited", "alice")).unknown).toBe("no run");
    // A person who edited is judged all the same.
    expect(people(pull("edited", "mallory"))).toEqual({
      people: ["mallory"],
      pusher: undefined,
      unknown: "no run",
    });
  });

  it("judges a bot that pushes like anyone, unless the runs name whom its render is for", () => {
    expect(people(pull("synchronize", "other-app[bot]", true)).people).toEqual(["other-app[bot]"]);
    expect(people(pull("synchronize", "serve-app[bot]", true), "bob")).toEqual({
      people: ["bob"],
      pusher: "bob",
      unknown: undefined,
    });
    // A person's push is the person's, whatever anything else says.
    expect(people(pull("synchronize", "mallory"), "alice").people).toEqual(["mallory"]);
  });

  it("fails closed on a push without a sender", () => {
    expect(people(pull("synchronize", undefined)).unknown).toBe("the event names no sender");
  });
});

describe("the workflow runs", () => {
  it("are read on a run that is not a push, and on a bot's push, only", () => {
    expect(needsRunsLookup(pull("edited", "alice"))).toBe(true);
    expect(needsRunsLookup(pull("reopened", "alice"))).toBe(true);
    expect(needsRunsLookup(pull("synchronize", "serve-app[bot]", true))).toBe(true);
    expect(needsRunsLookup(pull("synchronize", "alice"))).toBe(false);
    expect(needsRunsLookup(pull("opened", "alice"))).toBe(false);
  });
});

describe("unknownPusherMessage", () => {
  it("says why and how to proceed: push again, or re-run the push's run", () => {
    expect(unknownPusherMessage(pull("edited", "alice"), "no run", "this is the first run")).toBe(
      "cannot tell who pushed bbbbbbb: this run was started by `edited` (@alice), which does not say who pushed bbbbbbb, and the workflow runs of the head do not tell either: this is the first run. The author's rights do not cover commits someone else pushes, so the check fails closed: push to the branch again, or re-run the check's run for the push (the `synchronize` run: a re-run keeps its event's sender) so the pusher is judged.",
    );
  });
});
