// URLs for messages, logs and the /status document: never with user info. A URL can carry credentials
// (`https://user:password@host`) even where the agent refuses them (a cluster.yaml written before the schema
// refused them, a git remote), and every message may end up in a log, a commit status or GET /status.

/** The URL with any user info replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#\s]*@/i, "$1***@");
}
