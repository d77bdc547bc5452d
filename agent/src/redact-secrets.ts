// The agent's credentials out of text that came from a peer. A proxy's error page or a traceback can quote the
// request it refused, Authorization header included; that text becomes an error message, a log line, a commit
// status (public to every reader of the repository) and GET /status. So each adapter masks its own
// credential in what its peer said, before the text goes anywhere.

/** Replaces every given secret (and the basic-auth form git sends a token in) with `***`. */
export function secretRedactor(secrets: readonly (string | undefined)[]): (text: string) => string {
  // Every length: a short credential masks ordinary words too, which garbles a message but leaks nothing.
  const given = secrets.filter((s): s is string => typeof s === "string" && s.length > 0);
  const list = [
    ...given,
    ...given.map((s) => Buffer.from(`x-access-token:${s}`).toString("base64")),
    // Echoed inside a URL (a login redirect's ?next=, a proxy quoting the query): percent-encoded.
    ...given.map((s) => encodeURIComponent(s)).filter((e) => !given.includes(e)),
  ];
  // Longest first: a secret containing another is masked whole.
  list.sort((a, b) => b.length - a.length);
  return (text) => list.reduce((out, secret) => out.split(secret).join("***"), text);
}

/**
 * The credentials in git's configuration from the environment: each http.extraHeader's credential (the
 * `Authorization: Basic <base64>` the agent builds from --git-token-file, or an operator's `Bearer <token>`)
 * and, for Basic, the password it encodes.
 */
export function gitSecrets(env: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [key, name] of Object.entries(env)) {
    const n = /^GIT_CONFIG_KEY_(\d+)$/.exec(key)?.[1];
    if (n === undefined || !/^http\.(.*\.)?extraheader$/i.test(name)) continue;
    const value = env[`GIT_CONFIG_VALUE_${n}`] ?? "";
    const credential = /^[^:]+:\s*(?:(\S+)\s+)?(\S+)\s*$/.exec(value);
    if (!credential?.[2]) continue;
    out.push(credential[2]);
    if (credential[1]?.toLowerCase() === "basic") {
      const decoded = Buffer.from(credential[2], "base64").toString("utf8");
      out.push(decoded, decoded.slice(decoded.indexOf(":") + 1));
    }
  }
  return out;
}

/**
 * Masks the secrets in an error's message and stack, in place: the error is kept as the `cause` of the
 * agent's own error, whose cause's message is logged.
 */
export function redactError(error: unknown, redact: (text: string) => string): void {
  if (!(error instanceof Error)) return;
  for (const key of ["message", "stack"] as const) {
    const text = error[key];
    const masked = text === undefined ? text : redact(text);
    // Only what holds a secret is touched, as an own property: a DOMException's message is a getter only.
    if (masked !== text)
      Object.defineProperty(error, key, { value: masked, writable: true, configurable: true });
  }
}
