import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { agentCommand } from "./agent-command";
import { AGENT_ENV, SECRET_ENV } from "./agent-options";

/** The file flag each secret is read from before its environment variables. */
const SECRET_FLAG: Record<keyof typeof SECRET_ENV, keyof typeof AGENT_ENV> = {
  githubToken: "github-token-file",
  rayToken: "ray-token-file",
  gitToken: "git-token-file",
  syncToken: "sync-token-file",
  webhookSecret: "webhook-secret-file",
};

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("agent --help and agent/README.md", () => {
  it("name every environment variable a secret is read from, on the line of its file flag", () => {
    expect(Object.keys(SECRET_FLAG).sort()).toEqual(Object.keys(SECRET_ENV).sort());
    const lines = agentCommand.usage.split("\n");
    for (const [secret, names] of Object.entries(SECRET_ENV)) {
      const flag = SECRET_FLAG[secret as keyof typeof SECRET_ENV];
      const line = lines.find((l) => l.trimStart().startsWith(`--${flag} `)) ?? `(no --${flag} line)`;
      expect(line).toContain(AGENT_ENV[flag]);
      for (const name of names) {
        expect(line).toContain(name);
        expect(README).toContain(`\`${name}\``);
      }
    }
  });

  it("name every flag with its environment variable", () => {
    for (const [flag, name] of Object.entries(AGENT_ENV)) {
      const line = agentCommand.usage.split("\n").find((l) => l.trimStart().startsWith(`--${flag} `));
      expect(line ?? `(no --${flag} line)`).toContain(`[${name}`);
    }
  });
});
