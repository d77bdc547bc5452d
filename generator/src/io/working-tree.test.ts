import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateRepo } from "../validate";
import { emptySnapshot, readWorkingTree } from "./working-tree";

const dirs: string[] = [];
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "serve-gitops-tree-"));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("readWorkingTree", () => {
  it("reads only models/ and clusters/, with /-separated relative paths", () => {
    const dir = tree({
      "models/alice/a.yaml": "a",
      "clusters/h1/cluster.yaml": "c",
      "README.md": "r",
      "other/x.yaml": "x",
    });
    const snapshot = readWorkingTree(dir);
    expect(snapshot.label).toBe("working tree");
    expect([...snapshot.files.keys()].sort()).toEqual(["clusters/h1/cluster.yaml", "models/alice/a.yaml"]);
    expect(Buffer.from(snapshot.files.get("models/alice/a.yaml")!.bytes).toString()).toBe("a");
  });

  it("tolerates a missing models/ or clusters/", () => {
    expect(readWorkingTree(tree({ "clusters/h1/cluster.yaml": "c" })).files.size).toBe(1);
    expect(readWorkingTree(tree({})).files.size).toBe(0);
  });

  it("records symlinks as symlinks and never follows them, not even to a folder", () => {
    const outside = tree({ "secret/model.yaml": "model_id: model\nmodel_source: /etc/shadow\n" });
    const dir = tree({ "models/users.yaml": "admins: []\nusers: {}\n" });
    symlinkSync(join(outside, "secret"), join(dir, "models/alice"));
    symlinkSync("users.yaml", join(dir, "models/users-link.yaml"));
    const snapshot = readWorkingTree(dir);
    expect([...snapshot.files.values()].map((f) => [f.path, f.kind]).sort()).toEqual([
      ["models/alice", "symlink"],
      ["models/users-link.yaml", "symlink"],
      ["models/users.yaml", "file"],
    ]);
    expect(Buffer.from(snapshot.files.get("models/alice")!.bytes).toString()).toBe(join(outside, "secret"));
    const rules = validateRepo(snapshot).diagnostics.map((d) => `${d.file} ${d.rule}`);
    expect(rules).toEqual(["models/alice symlink", "models/users-link.yaml symlink"]);
  });

  it("records a top-level models or clusters that is a symlink as a symlink, and reads nothing through it", () => {
    const outside = tree({
      "models/users.yaml": "admins: []\nusers: {}\n",
      "models/alice/a.yaml": "model_id: a\nmodel_source: /etc/shadow\n",
      "clusters/h1/cluster.yaml": "default: true\n",
    });
    const dir = tree({});
    symlinkSync(join(outside, "models"), join(dir, "models"));
    symlinkSync(join(outside, "clusters"), join(dir, "clusters"));
    const snapshot = readWorkingTree(dir);
    expect([...snapshot.files.values()].map((f) => [f.path, f.kind]).sort()).toEqual([
      ["clusters", "symlink"],
      ["models", "symlink"],
    ]);
    const found = validateRepo(snapshot).diagnostics.map((d) => `${d.file} ${d.code} ${d.rule} ${d.message}`);
    expect(found).toEqual([
      "clusters E403 symlink clusters is a symlink: commit the folder itself",
      "models E403 symlink models is a symlink: commit the folder itself",
    ]);
  });

  it("reports a models/ that is a file, as a commit's snapshot does, and still checks clusters/", () => {
    const dir = tree({ models: "not a folder", "clusters/h1/cluster.yaml": "default: [" });
    const snapshot = readWorkingTree(dir);
    expect(snapshot.files.get("models")?.kind).toBe("file");
    const found = validateRepo(snapshot).diagnostics.map((d) => `${d.file} ${d.rule} ${d.message}`);
    expect(found).toContain("models spec-location models is a file; it must be a folder");
    expect(found.some((d) => d.startsWith("clusters/h1/cluster.yaml yaml-syntax"))).toBe(true);
  });

  it("has an empty snapshot for planning against nothing", () => {
    expect(emptySnapshot()).toEqual({ files: new Map(), label: "empty" });
  });
});

describe("readWorkingTree reads bytes on first use", () => {
  it("lists every file at once and opens one only when its bytes are asked for", () => {
    const dir = tree({ "models/alice/a.yaml": "before", "clusters/h1/rendered/alice/a.yaml": "fragment" });
    const snapshot = readWorkingTree(dir);
    writeFileSync(join(dir, "models/alice/a.yaml"), "after");
    rmSync(join(dir, "clusters/h1/rendered/alice/a.yaml"));
    expect(Buffer.from(snapshot.files.get("models/alice/a.yaml")!.bytes).toString()).toBe("after");
    // Read once, then kept: a later change on disk does not change what this snapshot saw.
    writeFileSync(join(dir, "models/alice/a.yaml"), "later");
    expect(Buffer.from(snapshot.files.get("models/alice/a.yaml")!.bytes).toString()).toBe("after");
    expect(() => snapshot.files.get("clusters/h1/rendered/alice/a.yaml")!.bytes).toThrow(
      "clusters/h1/rendered/alice/a.yaml was removed while serve-gitops read the repository: run it again",
    );
  });
});

describe("readWorkingTree reads files of any size whole", () => {
  it.each([0, 1, 65_535, 65_536, 65_537, 300_000])("a file of %i bytes", (size) => {
    const text = Array.from({ length: size }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");
    const dir = tree({ "models/users.yaml": text });
    const bytes = readWorkingTree(dir).files.get("models/users.yaml")!.bytes;
    expect(bytes.length).toBe(size);
    expect(Buffer.from(bytes).toString()).toBe(text);
  });
});
