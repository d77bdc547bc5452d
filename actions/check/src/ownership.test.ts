import { describe, expect, it } from "vitest";
import type { UsersConfig } from "../../../generator/src";
import { checkOwnership, mayChange, userFolderOf } from "./ownership";

const USERS: UsersConfig = {
  admins: ["platform-admin"],
  users: new Map([
    ["alice", { github: ["alice"], gpu_quota: 8 }],
    ["bob", { github: ["bob", "bob-bot"], gpu_quota: 4 }],
  ]),
};
const files = (author: string, changed: string[], users: UsersConfig | undefined = USERS) =>
  checkOwnership(author, changed, users).map((d) => `${d.code} ${d.rule} ${d.file}:${d.line}`);

describe("checkOwnership", () => {
  it("lets a user change their own specs and rendered fragments", () => {
    expect(
      files("alice", [
        "models/alice/x.yaml",
        "clusters/h1/rendered/alice/x.yaml",
        "clusters/lab/rendered/alice/x.yaml",
      ]),
    ).toEqual([]);
  });

  it("matches any of a user's logins, case-insensitively", () => {
    expect(files("Bob-Bot", ["models/bob/x.yaml"])).toEqual([]);
  });

  it("matches an admin's login case-insensitively", () => {
    expect(files("Platform-Admin", ["models/users.yaml", "models/bob/x.yaml"])).toEqual([]);
  });

  it("rejects another user's folder and its fragments with E403", () => {
    expect(files("alice", ["models/bob/x.yaml", "clusters/h1/rendered/bob/x.yaml"])).toEqual([
      "E403 ownership models/bob/x.yaml:1",
      "E403 ownership clusters/h1/rendered/bob/x.yaml:1",
    ]);
  });

  it("needs an admin for users.yaml, cluster.yaml, loose fragments and every tool path", () => {
    const admin = [
      "models/users.yaml",
      "clusters/h1/cluster.yaml",
      "clusters/h1/rendered/x.yaml",
      "generator/src/validate.ts",
      "actions/check/dist/index.js",
      "agent/src/x.ts",
      "schemas/serving-spec.schema.json",
      ".github/workflows/serving-specs.yml",
      ".github/CODEOWNERS",
      ".ci/x",
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "README.md",
    ];
    expect(files("alice", admin)).toHaveLength(admin.length);
    expect(files("platform-admin", admin)).toEqual([]);
  });

  it("treats a folder of a user missing from the base's users.yaml as an admin path", () => {
    const [d] = checkOwnership("carol", ["models/carol/x.yaml"], USERS);
    expect(d!.message).toBe(
      "carol is not a user in models/users.yaml on the base branch; @carol is not listed in models/users.yaml on the base branch. This change needs an admin (@platform-admin).",
    );
  });

  it("denies everything when the base has no valid users.yaml, and names the way out", () => {
    const [d] = checkOwnership("alice", ["models/alice/x.yaml"], undefined);
    expect(d!.message).toBe(
      "models/users.yaml on the base branch is missing or invalid, its admins list too, so no one's rights can be established; @alice is not listed in models/users.yaml on the base branch. No one is entitled until it is fixed: an admin must fix models/users.yaml on the base branch bypassing branch protection (a repository administrator merging the fix without the required check).",
    );
  });

  it("keeps the admins' rights for every path when only the rest of users.yaml is broken", () => {
    const salvaged: UsersConfig = { admins: ["platform-admin"], users: new Map() };
    expect(checkOwnership("platform-admin", ["models/users.yaml"], salvaged, { broken: true })).toEqual([]);
    const [d] = checkOwnership("alice", ["models/alice/x.yaml"], salvaged, { broken: true });
    expect(d!.message).toBe(
      "models/users.yaml on the base branch is invalid: until it is fixed only its admins keep their rights, for every path; @alice is not one of them. This change needs an admin (@platform-admin).",
    );
  });

  it("says so when users.yaml lists no admin", () => {
    const [d] = checkOwnership("carol", ["generator/x.ts"], { admins: [], users: new Map() });
    expect(d!.message).toMatch(
      /This change needs an admin, and models\/users\.yaml on the base branch lists none\.$/,
    );
  });
});

describe("userFolderOf", () => {
  it("knows user folders only", () => {
    expect(userFolderOf("models/alice/x.yaml")).toBe("alice");
    expect(userFolderOf("clusters/h1/rendered/alice/x.yaml")).toBe("alice");
    expect(userFolderOf("models/users.yaml")).toBeUndefined();
    expect(userFolderOf("clusters/h1/cluster.yaml")).toBeUndefined();
    expect(userFolderOf("clusters/h1/rendered/x.yaml")).toBeUndefined();
    // Only rendered fragments are a user's under clusters/.
    expect(userFolderOf("clusters/h1/templates/alice/serve.yaml")).toBeUndefined();
    expect(files("alice", ["clusters/h1/templates/alice/serve.yaml"])).toEqual([
      "E403 ownership clusters/h1/templates/alice/serve.yaml:1",
    ]);
  });
});

describe("mayChange", () => {
  it("lets an admin (any case) change any path, a user their own folders only, and no one without users.yaml", () => {
    const admin = mayChange("PLATFORM-ADMIN", USERS);
    expect(["models/users.yaml", "clusters/h1/rendered/bob/x.yaml"].map(admin)).toEqual([true, true]);
    const bob = mayChange("Bob-Bot", USERS);
    expect(
      [
        "clusters/h1/rendered/bob/x.yaml",
        "models/bob/x.yaml",
        "clusters/h1/rendered/alice/x.yaml",
        "models/users.yaml",
      ].map(bob),
    ).toEqual([true, true, false, false]);
    expect(mayChange("carol", USERS)("models/carol/x.yaml")).toBe(false);
    expect(mayChange("platform-admin", undefined)("models/users.yaml")).toBe(false);
  });
});
