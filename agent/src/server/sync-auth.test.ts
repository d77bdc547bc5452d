import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { authorizeSync } from "./sync-auth";

const body = Buffer.from(JSON.stringify({ ref: "refs/heads/main" }));
const sign = (secret: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

describe("authorizeSync", () => {
  it("refuses a signed webhook when no webhook secret is set, an empty one included", () => {
    // An empty secret would make the signature anyone's to compute.
    for (const webhookSecret of [undefined, ""])
      expect(authorizeSync({ "x-hub-signature-256": sign("") }, body, { webhookSecret })).toEqual({
        ok: false,
        status: 403,
        reason: "webhooks are not enabled (no webhook secret)",
      });
    expect(authorizeSync({ "x-hub-signature-256": sign("s") }, body, { webhookSecret: "s" })).toEqual({
      ok: true,
      via: "webhook",
    });
  });

  it("refuses a bearer token when no sync token is set", () => {
    for (const syncToken of [undefined, ""])
      expect(authorizeSync({ authorization: "Bearer anything" }, body, { syncToken })).toEqual({
        ok: false,
        status: 403,
        reason: "token sync is not enabled (no sync token)",
      });
    expect(authorizeSync({ authorization: "bearer t0k" }, body, { syncToken: "t0k" })).toEqual({
      ok: true,
      via: "token",
    });
  });
});
