import { describe, expect, it } from "vitest";
import { gitEnvironment, parseAgentOptions, parseDuration, parseListen } from "./agent-options";

const files: Record<string, string> = {
  "/run/secrets/gh": "ghp_file_token\n",
  "/run/secrets/ray": "ray-token",
  "/run/secrets/empty": "  \n",
};
const read = (path: string) => {
  if (!(path in files)) throw Object.assign(new Error("nope"), { code: "ENOENT" });
  return files[path]!;
};
const BASE = [
  "--cluster",
  "h1",
  "--repo",
  "https://github.com/acme/models.git",
  "--github-repo",
  "acme/models",
  "--state-dir",
  "/var/lib/sg",
];

describe("agent options", () => {
  it("reads every flag from its environment variable too, the flag winning", () => {
    const env = {
      SERVE_GITOPS_CLUSTER: "lab",
      SERVE_GITOPS_REPO: "/srv/repo",
      SERVE_GITOPS_GITHUB_REPO: "acme/models",
      SERVE_GITOPS_STATE_DIR: "/state",
      SERVE_GITOPS_INTERVAL: "1s",
      SERVE_GITOPS_ONCE: "true",
      SERVE_GITOPS_LISTEN: "127.0.0.1:9464",
      SERVE_GITOPS_GITHUB_API_URL: "https://ghe.example.com/api/v3",
      GITHUB_TOKEN: "ghp_env",
    };
    const config = parseAgentOptions(["--cluster", "h1"], env, read);
    expect(config).toMatchObject({
      cluster: "h1",
      repo: "/srv/repo",
      stateDir: "/state",
      intervalMs: 1000,
      once: true,
      listen: { host: "127.0.0.1", port: 9464 },
      githubApiUrl: "https://ghe.example.com/api/v3",
      githubToken: "ghp_env",
      branch: "main",
    });
  });

  it("takes secrets from files (or the environment), never from flags", () => {
    const config = parseAgentOptions(
      [...BASE, "--github-token-file", "/run/secrets/gh", "--ray-token-file", "/run/secrets/ray"],
      {},
      read,
    );
    expect(config.githubToken).toBe("ghp_file_token");
    expect(config.rayToken).toBe("ray-token");
    expect(() => parseAgentOptions([...BASE, "--github-token", "ghp_x"], {}, read)).toThrow(
      /secrets are never flags/,
    );
    expect(() =>
      parseAgentOptions([...BASE, "--github-token-file", "/run/secrets/missing"], {}, read),
    ).toThrow(/cannot read --github-token-file .*ENOENT/);
    expect(() => parseAgentOptions([...BASE, "--github-token-file", "/run/secrets/empty"], {}, read)).toThrow(
      /is empty/,
    );
    expect(() => parseAgentOptions(BASE, {}, read)).toThrow(/a GitHub token is required/);
    expect(parseAgentOptions([...BASE, "--dry-run"], {}, read).dryRun).toBe(true);
  });

  it("refuses credentials in URLs", () => {
    expect(() =>
      parseAgentOptions(
        ["--cluster", "h1", "--repo", "https://x:ghp_secret@github.com/a/b.git", "--state-dir", "/s"],
        { GITHUB_TOKEN: "t" },
        read,
      ),
    ).toThrow(/must not carry credentials/);
    expect(
      parseAgentOptions(
        [
          "--cluster",
          "h1",
          "--repo",
          "ssh://git@github.com/a/b.git",
          "--state-dir",
          "/s",
          "--github-repo",
          "a/b",
        ],
        { GITHUB_TOKEN: "t" },
        read,
      ).repo,
    ).toBe("ssh://git@github.com/a/b.git");
    expect(() =>
      parseAgentOptions([...BASE, "--ray-address", "http://u:p@ray:8265"], { GITHUB_TOKEN: "t" }, read),
    ).toThrow(/must not carry credentials/);
  });

  it("puts a git token into git's configuration (http.extraHeader), after any the environment has", () => {
    const env = gitEnvironment(
      {
        GIT_CONFIG_COUNT: "1",
        GIT_CONFIG_KEY_0: "core.askPass",
        GIT_CONFIG_VALUE_0: "",
        HTTPS_PROXY: "http://proxy:3128",
        SECRET: "no",
      },
      "tok",
    );
    expect(env).toEqual({
      GIT_CONFIG_COUNT: "2",
      GIT_CONFIG_KEY_0: "core.askPass",
      GIT_CONFIG_VALUE_0: "",
      GIT_CONFIG_KEY_1: "http.extraHeader",
      GIT_CONFIG_VALUE_1: `Authorization: Basic ${Buffer.from("x-access-token:tok").toString("base64")}`,
      HTTPS_PROXY: "http://proxy:3128",
    });
  });

  it("parses durations and listen addresses", () => {
    expect([
      parseDuration("--i", "500ms"),
      parseDuration("--i", "10s"),
      parseDuration("--i", "5m"),
      parseDuration("--i", "2"),
    ]).toEqual([500, 10_000, 300_000, 2000]);
    expect(() => parseDuration("--interval", "soon")).toThrow(/--interval must be a duration/);
    expect(parseListen(":9464")).toEqual({ host: "0.0.0.0", port: 9464 });
    expect(parseListen("[::1]:9464")).toEqual({ host: "::1", port: 9464 });
    expect(() => parseListen("9464")).toThrow(/host:port/);
  });
});
