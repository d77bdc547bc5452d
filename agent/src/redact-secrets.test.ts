import { describe, expect, it } from "vitest";
import { gitEnvironment } from "./cli/agent-options";
import { gitSecrets, redactError, secretRedactor } from "./redact-secrets";

describe("secretRedactor", () => {
  it("masks each secret and the basic-auth form git sends a token in, ignoring empty values", () => {
    const redact = secretRedactor(["tok_SECRET", undefined, ""]);
    const basic = Buffer.from("x-access-token:tok_SECRET").toString("base64");
    expect(redact(`Bearer tok_SECRET, Basic ${basic}, abc`)).toBe("Bearer ***, Basic ***, abc");
  });
});

describe("gitSecrets", () => {
  it("finds the credential of --git-token-file's header and of an operator's own extraHeader", () => {
    const env = gitEnvironment(
      {
        GIT_CONFIG_COUNT: "2",
        GIT_CONFIG_KEY_0: "http.https://github.com/.extraHeader",
        GIT_CONFIG_VALUE_0: "Authorization: Bearer op_TOKEN_1",
        GIT_CONFIG_KEY_1: "core.askPass",
        GIT_CONFIG_VALUE_1: "/bin/false",
      },
      "file_TOKEN_2",
    );
    const basic = Buffer.from("x-access-token:file_TOKEN_2").toString("base64");
    expect(gitSecrets(env)).toEqual(["op_TOKEN_1", basic, "x-access-token:file_TOKEN_2", "file_TOKEN_2"]);
  });
});

describe("redactError", () => {
  it("masks the message and stack in place, and leaves an error without the secret as it was", () => {
    const redact = secretRedactor(["tok_SECRET"]);
    const error = new Error("proxy said: token tok_SECRET");
    redactError(error, redact);
    expect(error.message).toBe("proxy said: token ***");
    expect(error.stack).not.toContain("tok_SECRET");
    // A DOMException's message is a getter only: assigning it would throw instead of the error itself.
    const abort = new DOMException("This operation was aborted", "AbortError");
    redactError(abort, redact);
    expect(abort.name).toBe("AbortError");
  });
});

describe("secretRedactor: forms a peer can echo a credential in (review)", () => {
  it("masks a token a peer echoes percent-encoded (a login redirect's ?next=, a proxy quoting the query)", () => {
    // Operator-chosen Ray tokens are often base64 ("+", "/", "="); an echo inside a URL carries them encoded.
    const token = "r4y+T0k/en==";
    const redact = secretRedactor([token]);
    const echoed = `302 to https://sso.example/login?next=%2Fapi%3Ftoken%3D${encodeURIComponent(token)}`;
    expect(redact(echoed)).not.toContain(encodeURIComponent(token));
  });

  it("masks a credential shorter than 4 characters too (README: the agent's credential is masked as ***)", () => {
    const redact = secretRedactor(["k3y"]);
    expect(redact("proxy: bad Authorization: Bearer k3y")).not.toContain("k3y");
  });
});
