import { describe, expect, it } from "vitest";
import { PLAN_MARKER } from "../../../generator/src";
import type { PullRequestInfo } from "./context";
import { parseRecord, recordLine, whomToJudge } from "./push-record";

const HEAD = "b".repeat(40);
const OTHER = "c".repeat(40);
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
const people = (p: PullRequestInfo, record?: { pusher: string; head: string }) => {
  const judged = whomToJudge(p, record);
  return { people: judged.people.map((x) => x.login), pusher: judged.pusher, unknown: judged.unknown };
};

describe("the push record", () => {
  it("is read back from the line after the marker, and only from there", () => {
    const line = recordLine({ pusher: "serve-app[bot]", head: HEAD });
    expect(parseRecord(`${PLAN_MARKER}\n${line}\n### plan`)).toEqual({
      pusher: "serve-app[bot]",
      head: HEAD,
    });
    expect(parseRecord(`${PLAN_MARKER}\n### plan\n${line}`)).toBeUndefined();
    expect(parseRecord(`${PLAN_MARKER}\n<!-- serve-gitops:pushed-by=a b head=${HEAD} -->`)).toBeUndefined();
  });
});

describe("whomToJudge", () => {
  it("judges the sender of a push, and records them", () => {
    expect(people(pull("synchronize", "mallory"))).toEqual({
      people: ["mallory"],
      pusher: "mallory",
      unknown: undefined,
    });
    expect(people(pull("synchronize", "alice"))).toEqual({ people: [], pusher: "alice", unknown: undefined });
  });

  it("judges the pusher recorded for the head when the author edits the PR afterwards", () => {
    expect(people(pull("edited", "alice"), { pusher: "mallory", head: HEAD })).toEqual({
      people: ["mallory"],
      pusher: "mallory",
      unknown: undefined,
    });
    expect(people(pull("reopened", "ci[bot]", true), { pusher: "mallory", head: HEAD }).people).toEqual([
      "mallory",
    ]);
  });

  it("cannot tell who pushed when the record is missing or for another head", () => {
    expect(people(pull("edited", "alice")).unknown).toBe("no record");
    expect(people(pull("reopened", "alice"), { pusher: "alice", head: OTHER }).unknown).toBe("no record");
  });

  it("judges a bot that pushes like anyone, unless the check recorded the head it pushed itself", () => {
    expect(people(pull("synchronize", "other-app[bot]", true)).people).toEqual(["other-app[bot]"]);
    expect(
      people(pull("synchronize", "other-app[bot]", true), { pusher: "alice", head: OTHER }).people,
    ).toEqual(["other-app[bot]"]);
    expect(people(pull("synchronize", "serve-app[bot]", true), { pusher: "bob", head: HEAD })).toEqual({
      people: ["bob"],
      pusher: "bob",
      unknown: undefined,
    });
  });

  it("fails closed on a push without a sender", () => {
    expect(people(pull("synchronize", undefined)).unknown).toBe("the event names no sender");
  });
});
