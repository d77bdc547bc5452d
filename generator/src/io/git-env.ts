/** Environment for every git process: git's output is parsed, so it must be in a known language. */
export const GIT_ENV: Readonly<Record<string, string>> = {
  LANG: "C.UTF-8",
  LC_ALL: "C.UTF-8",
  GIT_TERMINAL_PROMPT: "0",
  // No prompt, and no shared connection left behind (a ControlPersist master would hold git's pipes open).
  GIT_SSH_COMMAND: "ssh -o BatchMode=yes -o ControlMaster=no -o ControlPath=none",
};

/**
 * The whole environment of a git process: what it needs from ours (never GIT_DIR or the like, which would
 * point it at another repository), GIT_ENV, then the caller's extras.
 */
export function gitEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "TMPDIR", "GIT_EXEC_PATH", "SSH_AUTH_SOCK"]) {
    const value = process.env[key];
    if (value !== undefined) out[key] = value;
  }
  return { ...out, ...GIT_ENV, ...extra };
}
