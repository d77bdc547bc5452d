import { describe, expect, it } from "vitest";
import { salvageAdmins, USERS_FILE } from "./validate-config";
import { MAX_FILE_BYTES } from "./yaml-source";

const file = (text: string) => ({ path: USERS_FILE, kind: "file" as const, bytes: Buffer.from(text) });

describe("salvageAdmins", () => {
  it("keeps a sound admins list of a users.yaml that is invalid elsewhere", () => {
    expect(
      salvageAdmins(
        file("admins:\n  - platform-admin\nusers:\n  bob:\n    github: [bob]\n    gpu_quota: four\n"),
      ),
    ).toEqual(["platform-admin"]);
  });

  it("reads a users.yaml beyond a spec's 64 KiB", () => {
    const padding = `# ${"x".repeat(MAX_FILE_BYTES)}\n`;
    expect(salvageAdmins(file(`admins: [platform-admin]\nusers: 1\n${padding}`))).toEqual(["platform-admin"]);
  });

  it("keeps nothing when the list itself is malformed or the YAML does not parse", () => {
    expect(salvageAdmins(file("admins: platform-admin\nusers: {}\n"))).toBeUndefined();
    expect(salvageAdmins(file("admins:\n  - not a login\nusers: {}\n"))).toBeUndefined();
    expect(salvageAdmins(file("users: {}\n"))).toBeUndefined();
    expect(salvageAdmins(file("admins: [a\n"))).toBeUndefined();
  });
});
