// Who may trigger POST /sync: a GitHub push webhook signed with the shared secret (X-Hub-Signature-256), or a
// caller holding the sync token (the Action). Anything else is refused. Comparisons are constant-time.
import { createHmac, timingSafeEqual } from "node:crypto";

export type SyncAuth =
  | { readonly ok: true; readonly via: "webhook" | "token" }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

export interface SyncSecrets {
  readonly webhookSecret?: string;
  readonly syncToken?: string;
}

export function authorizeSync(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Buffer,
  secrets: SyncSecrets,
): SyncAuth {
  const signature = header(headers, "x-hub-signature-256");
  const authorization = header(headers, "authorization");
  if (signature !== undefined) {
    if (!secrets.webhookSecret)
      return { ok: false, status: 403, reason: "webhooks are not enabled (no webhook secret)" };
    const expected = `sha256=${createHmac("sha256", secrets.webhookSecret).update(body).digest("hex")}`;
    return same(signature, expected)
      ? { ok: true, via: "webhook" }
      : { ok: false, status: 403, reason: "bad X-Hub-Signature-256" };
  }
  if (authorization !== undefined) {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (!secrets.syncToken)
      return { ok: false, status: 403, reason: "token sync is not enabled (no sync token)" };
    return token !== undefined && same(token, secrets.syncToken)
      ? { ok: true, via: "token" }
      : { ok: false, status: 403, reason: "bad token" };
  }
  return {
    ok: false,
    status: 401,
    reason: "send a signed GitHub push webhook or Authorization: Bearer <sync token>",
  };
}

const header = (
  headers: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
