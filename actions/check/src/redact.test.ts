import { describe, expect, it } from "vitest";
import { createRedactor } from "./redact";

describe("createRedactor", () => {
  it("masks every token given, also in the basic-auth form git sends it in", () => {
    const token = "ghs_short1";
    const redact = createRedactor([token, undefined, "ghp_0123456789abcdefghijklmnopqrstuvwxyz"]);
    const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
    expect(redact(`token ${token}; header Authorization: Basic ${basic}`)).toBe(
      "token ***; header Authorization: Basic ***",
    );
    expect(redact("ghp_0123456789abcdefghijklmnopqrstuvwxyz")).toBe("***");
  });

  it("ignores values too short to be a secret, which would mask ordinary text", () => {
    const redact = createRedactor(["", "a", "abc"]);
    expect(redact("a cabbage abc")).toBe("a cabbage abc");
  });
});
