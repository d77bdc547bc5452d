// URLs for messages, logs and the /status document: never with user info. A URL can carry credentials
// (`https://user:password@host`) even where the agent refuses them (a cluster.yaml written before the schema
// refused them, a git remote), and every message may end up in a log, a commit status or GET /status.

/**
 * A URL, or a text holding URLs (git's "unable to access 'https://…'"), with every user info replaced by
 * `***`. The user info runs to the LAST `@` before the host: a password may hold `@` itself.
 */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/?#\s'"]*@/gi, "$1***@");
}
