import { spawn } from "node:child_process";
import { simpleGit, type SimpleGit } from "simple-git";
import type { RepoSnapshot, SnapshotFile } from "../types";
import { SNAPSHOT_ROOTS } from "./working-tree";

/** Environment for every git process: git's output is parsed, so it must be in a known language. */
export const GIT_ENV: Readonly<Record<string, string>> = {
  LANG: "C.UTF-8",
  LC_ALL: "C.UTF-8",
  GIT_TERMINAL_PROMPT: "0",
  GIT_SSH_COMMAND: "ssh -o BatchMode=yes",
};

export interface GitOptions {
  /** Extra environment, e.g. GIT_CONFIG_* carrying an http.extraHeader for a private remote. */
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/** The one place simple-git is created. */
export function createGit(baseDir: string, options: GitOptions = {}): SimpleGit {
  const env = { ...pickEnv(), ...GIT_ENV, ...options.env };
  return simpleGit({
    baseDir,
    timeout: { block: options.timeoutMs ?? 60_000 },
    // simple-git guards GIT_* variables; the ones we pass are ours (BatchMode ssh, no prompt, extraHeader
    // config from the agent's environment), so they are allowed by name, and nothing else.
    allowEnvironment: Object.keys(env).filter((key) => key.toUpperCase().startsWith("GIT_")),
    // GIT_CONFIG_COUNT/KEY_n/VALUE_n is how GitOptions.env carries an http.extraHeader: allow it too.
    unsafe: { allowUnsafeSshCommand: true, allowUnsafeConfigEnvCount: true },
  }).env(env);
}

function pickEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "TMPDIR", "GIT_EXEC_PATH", "SSH_AUTH_SOCK"]) {
    const value = process.env[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * Read models/ and clusters/ at a commit without a checkout: one `ls-tree` and one batched `cat-file`,
 * keeping file modes so a symlink is seen as one.
 */
export async function readCommitSnapshot(
  gitDir: string,
  ref: string,
  options: GitOptions = {},
): Promise<RepoSnapshot> {
  const git = createGit(gitDir, options);
  const sha = (await git.revparse([`${ref}^{commit}`])).trim();
  const listing = await git.raw(["ls-tree", "-r", "-z", "--full-tree", sha, "--", ...SNAPSHOT_ROOTS]);
  const entries: Array<{ path: string; mode: string; object: string; type: string }> = [];
  for (const record of listing.split("\0")) {
    if (!record) continue;
    const tab = record.indexOf("\t");
    const [mode = "", type = "", object = ""] = record.slice(0, tab).split(" ");
    entries.push({ path: record.slice(tab + 1), mode, object, type });
  }
  const blobs = entries.filter((e) => e.type === "blob");
  const contents = await catFileBatch(
    gitDir,
    blobs.map((e) => e.object),
    options,
  );
  const files = new Map<string, SnapshotFile>();
  for (const entry of entries) {
    const bytes = contents.get(entry.object) ?? new Uint8Array();
    const kind = entry.mode === "120000" ? "symlink" : entry.type === "blob" ? "file" : "other";
    files.set(entry.path, { path: entry.path, kind, bytes });
  }
  return { files, label: sha };
}

/** `git cat-file --batch`: every object in one process. */
function catFileBatch(
  gitDir: string,
  objects: readonly string[],
  options: GitOptions,
): Promise<Map<string, Uint8Array>> {
  const unique = [...new Set(objects)];
  const out = new Map<string, Uint8Array>();
  if (unique.length === 0) return Promise.resolve(out);
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["cat-file", "--batch"], {
      cwd: gitDir,
      env: { ...pickEnv(), ...GIT_ENV, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const chunks: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`git cat-file --batch exited ${code}: ${stderr.trim()}`));
      const data = Buffer.concat(chunks);
      let at = 0;
      while (at < data.length) {
        const eol = data.indexOf(10, at);
        const header = data.subarray(at, eol).toString();
        const [object = "", , size = "0"] = header.split(" ");
        if (header.endsWith(" missing")) return reject(new Error(`git object ${object} is missing`));
        const length = Number(size);
        out.set(object, data.subarray(eol + 1, eol + 1 + length));
        at = eol + 1 + length + 1;
      }
      resolve(out);
    });
    child.stdin.end(unique.join("\n") + "\n");
  });
}
