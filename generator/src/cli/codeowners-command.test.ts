import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { codeownersCommand } from "./codeowners-command";

let dir: string | undefined;
afterEach(() => {
  vi.restoreAllMocks();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function repo(users: string): string {
  dir = mkdtempSync(join(tmpdir(), "serve-gitops-codeowners-"));
  mkdirSync(join(dir, "models"));
  writeFileSync(join(dir, "models/users.yaml"), users);
  return dir;
}

async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const code = await codeownersCommand.run(args);
  vi.restoreAllMocks();
  return { code, out };
}

const USERS = "admins: [root]\nusers:\n  alice:\n    github: [alice]\n    gpu_quota: 1\n";

describe("serve-gitops codeowners", () => {
  it("writes .github/CODEOWNERS, then --check passes", async () => {
    const root = repo(USERS);
    expect(await run(["--repo", root, "--check"])).toEqual({
      code: 1,
      out: ".github/CODEOWNERS is missing: run `npx serve-gitops codeowners` and commit it\n",
    });
    expect(await run(["--repo", root])).toEqual({ code: 0, out: "wrote .github/CODEOWNERS\n" });
    expect(readFileSync(join(root, ".github/CODEOWNERS"), "utf8")).toContain("* @root\n");
    expect(await run(["--repo", root, "--check"])).toEqual({
      code: 0,
      out: ".github/CODEOWNERS is current\n",
    });
  });

  it("finds a file checked out with CRLF (core.autocrlf) current, and does not rewrite it", async () => {
    const root = repo(USERS);
    await run(["--repo", root]);
    const target = join(root, ".github/CODEOWNERS");
    const windows = readFileSync(target, "utf8").replace(/\n/g, "\r\n");
    writeFileSync(target, windows);
    expect(await run(["--repo", root, "--check"])).toEqual({
      code: 0,
      out: ".github/CODEOWNERS is current\n",
    });
    expect(await run(["--repo", root])).toEqual({ code: 0, out: ".github/CODEOWNERS is current\n" });
    expect(readFileSync(target, "utf8")).toBe(windows);
  });

  it("reports a stale file with --check and an invalid users.yaml without writing", async () => {
    const root = repo(USERS);
    await run(["--repo", root]);
    writeFileSync(join(root, "models/users.yaml"), USERS.replace("[root]", "[root, ops]"));
    expect((await run(["--repo", root, "--check"])).out).toContain("is out of date");
    writeFileSync(join(root, "models/users.yaml"), "admins: root\n");
    const invalid = await run(["--repo", root]);
    expect(invalid.code).toBe(1);
    expect(invalid.out).toContain(".github/CODEOWNERS not rendered: models/users.yaml is invalid");
  });
});
