// Secrets never reach logs, errors, commit statuses, GET /status or the state directory — not even when a peer
// echoes the agent's credential back in its answer (a proxy, a traceback quoting the request's headers).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { gitEnvironment } from "../src/cli/agent-options";
import { createLogger, type Logger } from "../src/log";
import { specYaml } from "../testkit/git-fixture";
import { createHarness, type Harness } from "../testkit/harness";

const RAY_TOKEN = "ray_tok_SECRET_7f3a9c";
const GIT_TOKEN = "ghs_gitTokenSECRET_91bd2e";
const GITHUB_TOKEN = "ghp_githubTokenSECRET_44c1e0";

let h: Harness;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await h.close();
});

/** A pino logger at every level, and the text it wrote. */
function capture(): { log: Logger; text: () => string } {
  let out = "";
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out += chunk.toString();
      done();
    },
  });
  return { log: createLogger({ level: "trace", destination }), text: () => out };
}

/** Every file of the state directory but the bare clone, as one text. */
function stateFiles(dir: string): string {
  let out = "";
  for (const name of readdirSync(dir)) {
    if (name === "repo.git") continue;
    const path = join(dir, name);
    out += statSync(path).isDirectory() ? stateFiles(path) : `${path}\n${readFileSync(path, "utf8")}\n`;
  }
  return out;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A peer that refuses every request with `status`, quoting the Authorization header it was sent. */
const echoing = (status: number) =>
  listen((req, res) => {
    res.writeHead(status, { "content-type": "text/plain" });
    res.end(`refused: the request carried Authorization: ${req.headers.authorization ?? "(none)"}\n`);
  });

/** Every place a secret must not reach, by name. */
function leaks(secrets: readonly string[], places: Record<string, string>): string[] {
  return Object.entries(places).flatMap(([where, text]) =>
    secrets.filter((s) => text.includes(s)).map((s) => `${s} in ${where}`),
  );
}

describe("a peer echoing the agent's credential", () => {
  it("Ray failing the PUT with the Authorization header in its traceback: no status, state file, log or /status shows the Ray token", async () => {
    h = await createHarness({
      files: { "models/alice/x.yaml": specYaml("x") },
      emulator: { token: RAY_TOKEN },
    });
    // Ray behind a proxy whose PUTs fail with a 500 quoting the request (GETs reach the emulator).
    const ray = await listen((req, res) => {
      if (req.method === "PUT") {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(
          `Traceback (most recent call last):\nValueError: cannot handle request, headers={'Authorization': '${req.headers.authorization}'}`,
        );
        return;
      }
      const upstream = new URL(h.ray.url);
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(forward);
    });
    const { log, text } = capture();
    const sha = h.repo.ship("initial");
    const agent = await h.start(
      { rayAddress: ray, rayToken: RAY_TOKEN, listen: { host: "127.0.0.1", port: 0 } },
      { log },
    );
    let faults = "";
    for (let i = 0; i < 6; i++) {
      const report = await agent.agent.cycle({ checkHead: i === 0 });
      faults += JSON.stringify(report.faults);
    }
    await agent.agent.flush();
    const statuses = h.github.statuses(sha);
    // The failure is reported, with what Ray said.
    expect(statuses.map((s) => s.description ?? "").join("\n")).toContain(
      "ValueError: cannot handle request",
    );
    expect(
      leaks([RAY_TOKEN], {
        "commit statuses": JSON.stringify(statuses),
        "the state directory": stateFiles(h.stateDir),
        "the log": text(),
        "the cycle's faults": faults,
        "GET /status": await (await fetch(`${agent.server!.url}/status`)).text(),
      }),
    ).toEqual([]);
  });

  it("a git remote answering with the extraHeader it was sent: no log line or fault shows the git token", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    const remote = await echoing(403);
    const { log, text } = capture();
    const agent = await h.start(
      { repo: `${remote}/acme/models.git`, gitEnv: gitEnvironment({}, GIT_TOKEN) },
      { log },
    );
    const report = await agent.agent.cycle({ checkHead: true });
    // The fault is reported, with what the remote said.
    expect(report.faults.map((f) => f.message).join("\n")).toContain("refused: the request carried");
    const basic = Buffer.from(`x-access-token:${GIT_TOKEN}`).toString("base64");
    expect(
      leaks([GIT_TOKEN, basic], { "the log": text(), "the cycle's faults": JSON.stringify(report.faults) }),
    ).toEqual([]);
  });

  it("a proxy in front of GitHub answering 502 with the token: no log line or fault shows the GitHub token", async () => {
    h = await createHarness({ files: { "models/alice/x.yaml": specYaml("x") } });
    const github = await echoing(502);
    const { log, text } = capture();
    h.repo.ship("initial");
    const agent = await h.start(
      { githubApiUrl: github, githubToken: GITHUB_TOKEN, githubTimeoutMs: 3_000, githubWaitMs: 3_000 },
      { log },
    );
    let faults = "";
    for (let i = 0; i < 4; i++) {
      const report = await agent.agent.cycle({ checkHead: i === 0 });
      faults += JSON.stringify(report.faults);
    }
    await agent.agent.flush();
    // GitHub's refusals are logged, with what the proxy said.
    expect(text()).toContain("refused: the request carried");
    expect(
      leaks([GITHUB_TOKEN], {
        "the log": text(),
        "the cycle's faults": faults,
        "the state directory": stateFiles(h.stateDir),
      }),
    ).toEqual([]);
  });
});
