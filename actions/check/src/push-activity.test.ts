import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { isBotLogin, pushersOfActivities, type Activity } from "./push-activity";

const HEAD = "b".repeat(40);
const OTHER = "c".repeat(40);
const target = { branch: "feature", headSha: HEAD };
const activity = (actor: string | null, extra: Partial<Activity> = {}): Activity => ({
  after: HEAD,
  ref: "refs/heads/feature",
  timestamp: "2026-03-01T00:00:00Z",
  activity_type: "push",
  actor: actor === null ? null : { login: actor },
  ...extra,
});

describe("GitHub's repository activity, as @octokit/openapi-types describes it", () => {
  // The facts push-activity.ts builds on, read from the installed description so an update that changes them fails here.
  const types = readFileSync(
    createRequire(import.meta.url).resolve("@octokit/openapi-types/types.d.ts"),
    "utf8",
  );
  const schema = types.slice(
    types.indexOf("    activity: {"),
    types.indexOf("};", types.indexOf("    activity: {")),
  );
  const start = types.indexOf('  "repos/list-activities": {');
  // The operation runs up to the next one, GitHub's "List assignees".
  const operation = types.slice(start, types.indexOf('  "issues/list-assignees": {', start));

  it("is listed at GET /repos/{owner}/{repo}/activity", () => {
    expect(types).toMatch(
      /"\/repos\/\{owner\}\/\{repo\}\/activity": \{[^}]*get: operations\["repos\/list-activities"\];/,
    );
  });

  it("has before, after, ref as refs/heads/<branch>, a timestamp, its type and a nullable actor", () => {
    expect(schema).toContain("@description The SHA of the commit before the activity.");
    expect(schema).toMatch(/before: string;/);
    expect(schema).toContain("@description The SHA of the commit after the activity.");
    expect(schema).toMatch(/after: string;/);
    expect(schema).toContain("@description The full Git reference, formatted as `refs/heads/<branch name>`.");
    expect(schema).toMatch(/ref: string;/);
    expect(schema).toMatch(/timestamp: string;/);
    expect(schema).toMatch(
      /activity_type:\s+\| "push"\s+\| "force_push"\s+\| "branch_deletion"\s+\| "branch_creation"\s+\| "pr_merge"\s+\| "merge_queue_merge";/,
    );
    expect(schema).toContain('actor: components["schemas"]["nullable-simple-user"];');
  });

  it("filters by ref (full or short), one activity type and actor, and pages by before/after cursors", () => {
    expect(operation).toContain(
      "The `ref` for a branch can be formatted either as `refs/heads/BRANCH_NAME` or `BRANCH_NAME`",
    );
    expect(operation).toMatch(/ref\?: string;/);
    expect(operation).toMatch(/actor\?: string;/);
    expect(operation).toMatch(/activity_type\?:\s+\| "push"/);
    expect(operation).toContain('before?: components["parameters"]["pagination-before"];');
    expect(operation).toContain('after?: components["parameters"]["pagination-after"];');
    expect(operation).toContain('per_page?: components["parameters"]["per-page"];');
    expect(operation).not.toContain('page?: components["parameters"]["page"];');
    expect(operation).toContain('"application/json": components["schemas"]["activity"][];');
    expect(operation).toMatch(/Link: components\["headers"\]\["link"\];/);
  });
});

describe("pushersOfActivities", () => {
  it("names the actor of the push that left the head on the branch", () => {
    expect(pushersOfActivities([activity("alice")], target)).toEqual({
      pushers: ["alice"],
      from: "the repository's activity log (push by @alice at 2026-03-01T00:00:00Z)",
    });
  });

  it("names everyone who put the head there: a force push back, a branch creation", () => {
    const found = pushersOfActivities(
      [
        activity("bob", { activity_type: "force_push" }),
        activity("carol", { after: OTHER }),
        activity("alice", { activity_type: "branch_creation" }),
        activity("Bob"),
      ],
      target,
    );
    expect(found).toMatchObject({ pushers: ["bob", "alice"] });
  });

  it("ignores other branches, other commits and activities that do not push", () => {
    const found = pushersOfActivities(
      [
        activity("mallory", { ref: "refs/heads/other" }),
        activity("mallory", { after: OTHER }),
        activity("mallory", { activity_type: "pr_merge" }),
        activity("mallory", { activity_type: "branch_deletion" }),
      ],
      target,
    );
    expect(found).toEqual({ fallback: "the repository's activity log lists no push of bbbbbbb to feature" });
  });

  it("compares commits case-insensitively", () => {
    expect(pushersOfActivities([activity("alice", { after: HEAD.toUpperCase() })], target)).toMatchObject({
      pushers: ["alice"],
    });
  });

  it("fails closed when a push of the head names no actor", () => {
    expect("why" in pushersOfActivities([activity("alice"), activity(null)], target)).toBe(true);
  });
});

describe("isBotLogin", () => {
  it("is a GitHub App's bot account ([bot], any case), never a user's login", () => {
    expect(isBotLogin("serve-gitops-app[bot]")).toBe(true);
    expect(isBotLogin("Dependabot[BOT]")).toBe(true);
    expect(isBotLogin("alice")).toBe(false);
    expect(isBotLogin("bot")).toBe(false);
  });
});
