// `serve-gitops demo` as a user runs it: a process of the CLI bundle, which must end by itself.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleCli } from "../../testkit/bundle-cli";

let dir: string;
const kept: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "serve-gitops-demo-"));
  await bundleCli(dir);
}, 60_000);
afterAll(() => {
  for (const path of [dir, ...kept]) rmSync(path, { recursive: true, force: true });
});

describe("serve-gitops demo", () => {
  it("plays the simulation and exits, with --keep sparing only the files (its servers stop)", () => {
    const run = spawnSync(process.execPath, [join(dir, "cli.mjs"), "demo", "--keep"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.error).toBeUndefined(); // a timeout would be an error: the process did not end by itself
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("SIMULATION: serve-gitops demo");
    expect(run.stdout).toContain("END OF THE SIMULATION");
    const [, repo, state] = /\(kept: repository (\S+), state (\S+)\)/.exec(run.stdout) ?? [];
    kept.push(repo!, state!);
    expect(existsSync(repo!)).toBe(true);
    expect(existsSync(state!)).toBe(true);
  }, 40_000);
});
