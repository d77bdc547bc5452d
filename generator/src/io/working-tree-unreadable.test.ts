import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { validateRepo } from "../validate";
import { readWorkingTree } from "./working-tree";

// Tests run as root here, and root lists any folder whatever its mode: the refusal is injected instead.
const refused = vi.hoisted(() => new Set<string>());
vi.mock("node:fs", async (original) => {
  const fs = await original<typeof import("node:fs")>();
  const readdirSync = ((path: string, options: never) => {
    if ([...refused].some((end) => path.endsWith(end)))
      throw Object.assign(new Error(`EACCES: permission denied, scandir '${path}'`), { code: "EACCES" });
    return fs.readdirSync(path, options);
  }) as typeof fs.readdirSync;
  return { ...fs, readdirSync };
});

const dir = mkdtempSync(join(tmpdir(), "serve-gitops-unreadable-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("readWorkingTree with a folder it may not list", () => {
  it("reports the folder with the reason and the fix, and still reads its neighbours", () => {
    for (const [path, text] of Object.entries({
      "models/users.yaml":
        "admins: []\nusers:\n  alice: {github: [alice], gpu_quota: 1}\n  bob: {github: [bob], gpu_quota: 1}\n",
      "models/alice/a.yaml": "model_id: a\n",
      "models/bob/b.yaml": "model_id: b\n",
    })) {
      mkdirSync(join(dir, path, ".."), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    refused.add("/models/alice");
    const snapshot = readWorkingTree(dir);
    expect(snapshot.files.get("models/alice")?.kind).toBe("unreadable");
    expect(snapshot.files.has("models/bob/b.yaml")).toBe(true);
    const found = validateRepo(snapshot).diagnostics.map((d) => `${d.file} ${d.code} ${d.rule} ${d.message}`);
    expect(found).toContain(
      "models/alice E400 file-unreadable cannot list models/alice/: EACCES: check its permissions",
    );
    // bob's spec was read and checked: it lacks model_source.
    expect(found.some((d) => d.startsWith("models/bob/b.yaml E400"))).toBe(true);
  });

  it("reports a top-level folder it may not list rather than stopping", () => {
    refused.add("/clusters");
    mkdirSync(join(dir, "clusters/h1"), { recursive: true });
    const found = validateRepo(readWorkingTree(dir)).diagnostics.map((d) => `${d.file} ${d.rule}`);
    expect(found).toContain("clusters file-unreadable");
  });
});
