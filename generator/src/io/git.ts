import { spawn } from "node:child_process";
import { GitError, simpleGit, type SimpleGit } from "simple-git";
import type { RepoSnapshot, SnapshotFile } from "../types";
import { gitEnv } from "./git-env";
import { gitlinkNote, SNAPSHOT_ROOTS } from "./working-tree";

export { GIT_ENV } from "./git-env";

export interface GitOptions {
  /** Extra environment, e.g. GIT_CONFIG_* carrying an http.extraHeader for a private remote. */
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** Kills the git processes under way, and refuses new ones, once aborted (the agent's shutdown). */
  readonly signal?: AbortSignal;
}

/** The one place simple-git is created. */
export function createGit(baseDir: string, options: GitOptions = {}): SimpleGit {
  const env = gitEnv(options.env);
  const git = simpleGit({
    baseDir,
    timeout: { block: options.timeoutMs ?? 60_000 },
    // Settle when git's output is all read (the pipes closed), never a fixed 50 ms after it exits, simple-git's
    // default (its docs name close-only as the coming default): a listing still in the pipe was cut short on a
    // loaded machine. GIT_ENV's ssh keeps no control master that could hold a pipe open.
    completion: { onClose: true, onExit: false },
    ...(options.signal ? { abort: options.signal } : {}),
    // simple-git fails a call only on a non-zero exit with stderr (its own timeout and abort aside). A git killed
    // from outside (the OOM killer, an operator) has no exit code and often no message: its output, cut short,
    // must not read as the answer. A quiet non-zero exit still answers: `rev-parse --verify --quiet` relies on it.
    errors: (error, result) =>
      error ??
      (result.exitCode === null
        ? new GitError(undefined, "git was killed by a signal: its output is incomplete")
        : undefined),
    // simple-git guards GIT_* variables; the ones we pass are ours (BatchMode ssh, no prompt, extraHeader
    // config from the agent's environment), so they are allowed by name, and nothing else.
    allowEnvironment: Object.keys(env).filter((key) => key.toUpperCase().startsWith("GIT_")),
    // GIT_CONFIG_COUNT/KEY_n/VALUE_n is how GitOptions.env carries an http.extraHeader: allow it too.
    unsafe: { allowUnsafeSshCommand: true, allowUnsafeConfigEnvCount: true },
  }).env(env);
  const signal = options.signal;
  if (!signal) return git;
  // Aborted, git is killed, but a helper it started (git-remote-http waiting on a silent server) can keep its
  // pipes open, and the call above settles only when they close: an aborted call settles at once instead.
  const raw = git.raw.bind(git) as (commands: string[]) => Promise<string>;
  const abortable = (commands: string[]) =>
    new Promise<string>((resolve, reject) => {
      const aborted = () => reject(new GitError(undefined, "git call aborted"));
      if (signal.aborted) return aborted();
      signal.addEventListener("abort", aborted, { once: true });
      raw(commands)
        .then(resolve, reject)
        .finally(() => signal.removeEventListener("abort", aborted));
    });
  return Object.assign(git, { raw: abortable });
}

/** A full object id, SHA-1 or SHA-256. */
export const OBJECT_ID = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

/** A revision that names no commit in the repository: the caller's mistake, not git's failure. */
export class UnknownRevisionError extends Error {
  override name = "UnknownRevisionError";
}

/**
 * Read models/ and clusters/ at a commit without a checkout: one `ls-tree` and one batched `cat-file`,
 * keeping file modes so a symlink is seen as one.
 *
 * The snapshot is the commit's tree under `directory`, which may be a subfolder of the git repository (a
 * monorepo): `ls-tree` without `--full-tree` lists, and names, paths relative to the directory it runs in.
 * A commit without that subfolder reads as empty. At the repository's root, and in a bare clone (the
 * agent), this is the whole tree.
 */
export async function readCommitSnapshot(
  directory: string,
  ref: string,
  options: GitOptions = {},
): Promise<RepoSnapshot> {
  const git = createGit(directory, options);
  const unknown = () => new UnknownRevisionError(`${ref} does not exist or is not a commit`);
  /** A name is resolved to its commit; a full id (the agent's and the check's reads) is taken as it is. */
  const resolve = async () => {
    // --verify --quiet prints nothing and fails for a name that is no object; a missing repository still fails
    // loudly (simple-git resolves a failure that printed nothing, hence the check of the answer). A name for an
    // object that is no commit (a tree) makes git say so despite --quiet.
    const out = await git.raw(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]).catch((error) => {
      throw /expected commit type/.test(String(error)) ? unknown() : error;
    });
    if (!OBJECT_ID.test(out.trim())) throw unknown();
    return out.trim();
  };
  const sha = OBJECT_ID.test(ref) ? ref : await resolve();
  // ls-tree peels the id to its commit and fails for anything else: a full id needs no rev-parse, one git process
  // fewer per read. Its failure for an id that is no commit is told from others (a missing repository) by git's
  // words, in GIT_ENV's fixed locale.
  const listing = await git
    .raw(["ls-tree", "-r", "-z", `${sha}^{commit}`, "--", ...SNAPSHOT_ROOTS])
    .catch((error) => {
      throw /fatal: Not a valid object name/.test(String(error)) ? unknown() : error;
    });
  const entries: Array<{ path: string; mode: string; object: string; type: string }> = [];
  for (const record of listing.split("\0")) {
    if (!record) continue;
    const tab = record.indexOf("\t");
    const [mode = "", type = "", object = ""] = record.slice(0, tab).split(" ");
    entries.push({ path: record.slice(tab + 1), mode, object, type });
  }
  const blobs = entries.filter((e) => e.type === "blob");
  const contents = await catFileBatch(
    directory,
    blobs.map((e) => e.object),
    options,
  );
  const files = new Map<string, SnapshotFile>();
  for (const entry of entries) {
    const kind = entry.mode === "120000" ? "symlink" : entry.type === "blob" ? "file" : "other";
    // A gitlink (submodule) has no blob: its bytes say what it is, for the message.
    const bytes =
      kind === "other"
        ? Buffer.from(gitlinkNote(entry.object))
        : (contents.get(entry.object) ?? new Uint8Array());
    files.set(entry.path, { path: entry.path, kind, bytes });
  }
  return { files, label: sha };
}

/**
 * `git cat-file --batch`: every object in one process. All of them or an error: a cat-file that stopped early
 * (killed, or failing before it read its list) must not turn files into empty ones.
 */
export function catFileBatch(
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
      env: gitEnv(options.env),
      stdio: ["pipe", "pipe", "pipe"],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const chunks: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    // A git that exits before it has read the whole list breaks the pipe (EPIPE): its exit code and the objects
    // it did not answer say what went wrong. Unlistened, the error would end the process.
    child.stdin.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") reject(error);
    });
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`git cat-file --batch exited ${code}: ${stderr.trim()}`));
      const data = Buffer.concat(chunks);
      const cut = () =>
        new Error(`git cat-file --batch answered ${out.size} objects with ${data.length} bytes, cut short`);
      let at = 0;
      while (at < data.length) {
        const eol = data.indexOf(10, at);
        if (eol < 0) return reject(cut());
        const header = data.subarray(at, eol).toString();
        const [object = "", , size = "0"] = header.split(" ");
        if (header.endsWith(" missing")) return reject(new Error(`git object ${object} is missing`));
        const length = Number(size);
        if (eol + 1 + length >= data.length) return reject(cut());
        out.set(object, data.subarray(eol + 1, eol + 1 + length));
        at = eol + 1 + length + 1;
      }
      if (out.size !== unique.length)
        return reject(new Error(`git cat-file --batch answered ${out.size} of ${unique.length} objects`));
      resolve(out);
    });
    child.stdin.end(unique.join("\n") + "\n");
  });
}
