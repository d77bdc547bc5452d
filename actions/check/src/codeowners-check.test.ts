import { describe, expect, it } from "vitest";
import {
  CODEOWNERS_COMMAND,
  CODEOWNERS_FILE,
  codeownersOf,
  USERS_FILE,
  type RepoSnapshot,
} from "../../../generator/src";
import { codeownersDiagnostics, judgeCodeowners, type CodeownersAt } from "./codeowners-check";

const users = (extra = "") =>
  `admins: [platform-admin]\nusers:\n  alice:\n    github: [alice]\n    gpu_quota: 8\n${extra}`;
const snapshot = (text: string): RepoSnapshot => ({
  files: new Map([[USERS_FILE, { path: USERS_FILE, kind: "file", bytes: Buffer.from(text) }]]),
  label: "test",
});
const CAROL = "  carol:\n    github: [carol]\n    gpu_quota: 2\n";
// main added carol without regenerating: its CODEOWNERS is what the users before carol render.
const current = codeownersOf(snapshot(users())).text!;
const base = { snapshot: snapshot(users(CAROL)), committed: current };
const judge = (head: CodeownersAt) =>
  judgeCodeowners(codeownersDiagnostics(head.snapshot, head.committed), head, base, "main");
const levels = (found: ReturnType<typeof judgeCodeowners>) => found.map((d) => `${d.file} ${d.severity}`);

describe("judgeCodeowners", () => {
  it("warns when the change leaves the base's stale CODEOWNERS exactly as it was", () => {
    const found = judge({ ...base });
    expect(levels(found)).toEqual([`${CODEOWNERS_FILE} warning`]);
    expect(found[0]!.message).toContain("The base branch main already has it so");
  });

  it("is an error when the change edits the committed file, even into another stale text", () => {
    const head = { snapshot: base.snapshot, committed: `${current}# edited\n` };
    expect(levels(judge(head))).toEqual([`${CODEOWNERS_FILE} error`]);
  });

  it("is an error when the change alters what CODEOWNERS should say", () => {
    const head = {
      snapshot: snapshot(users(`${CAROL}  dave:\n    github: [dave]\n    gpu_quota: 2\n`)),
      committed: current,
    };
    expect(levels(judge(head))).toEqual([`${CODEOWNERS_FILE} error`]);
  });

  it("is an error when the head has no CODEOWNERS at all, on users.yaml", () => {
    const found = codeownersDiagnostics(base.snapshot, undefined);
    expect(found.map((d) => `${d.file}:${d.line} ${d.severity} ${d.message}`)).toEqual([
      `${USERS_FILE}:1 error ${CODEOWNERS_FILE} is missing: run \`${CODEOWNERS_COMMAND}\` and commit ${CODEOWNERS_FILE}`,
    ]);
    // Deleted by the change: the base had one, so it is the change's doing.
    expect(levels(judge({ snapshot: base.snapshot, committed: undefined }))).toEqual([`${USERS_FILE} error`]);
  });

  it("says nothing when the head's CODEOWNERS is current", () => {
    const head = { snapshot: base.snapshot, committed: codeownersOf(base.snapshot).text };
    expect(judge(head)).toEqual([]);
  });
});
