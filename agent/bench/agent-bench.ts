/**
 * The agent's bench: run with `node agent/bench/run.mjs [--models 1000] [--k 50] [--cycles 1000] [--trials 5]`
 * (the root `npm run bench` calls it). The agent runs as a real child process (agent/testkit/child-agent.ts),
 * measured from outside through /proc and its /metrics and /status; the Ray Serve emulator and the GitHub test
 * server run in this process, so their CPU never counts as the agent's. A SIMULATION: no real Ray or GitHub.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { AgentConfig } from "../src/runtime/run-agent";
import type { StatusDoc } from "../src/server/status-doc";
import { clusterYaml, specYaml } from "../testkit/git-fixture";
import { createHarness, type Harness } from "../testkit/harness";

const SYNC_TOKEN = "bench-sync-token";

interface Child {
  readonly process: ChildProcess;
  readonly url: string;
  readonly exit: Promise<number | null>;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: "string" },
      k: { type: "string" },
      cycles: { type: "string" },
      trials: { type: "string" },
    },
  });
  const models = Number(values.models ?? 1000);
  const k = Math.min(Number(values.k ?? 50), 50, models);
  const cycles = Number(values.cycles ?? 1000);
  const trials = Number(values.trials ?? 5);
  const users = Math.ceil(models / 10);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `serve-gitops agent bench (SIMULATION: Ray Serve emulator + GitHub test server on this machine): ${models} models, k=${k}, ${cycles} idle cycles`,
  );

  const quotas = Object.fromEntries(
    Array.from({ length: users }, (_, u) => [`u${String(u).padStart(3, "0")}`, 20]),
  );
  const h = await createHarness({ emulator: { deployDelayMs: 20 } });
  try {
    h.repo.write("models/users.yaml", usersYaml(quotas));
    h.repo.write("clusters/h1/cluster.yaml", clusterYaml({ gpus: models * 4 }));
    const keys: string[] = [];
    for (let i = 0; i < models; i++) {
      const key = `u${String(Math.floor(i / 10)).padStart(3, "0")}/m${i % 10}`;
      keys.push(key);
      h.repo.write(`models/${key}.yaml`, specYaml(`m${i % 10}`));
    }
    let t = Date.now();
    h.repo.ship(`${models} models`);
    out(`  repository: ${models} specs rendered and pushed in ${Date.now() - t} ms`);
    h.repo.pack();

    // Phase 1: bring-up, idle cycles, a commit changing k models, RSS over the cycles.
    const a = await startChild(h, { intervalMs: 5, watchIntervalMs: 20 });
    t = Date.now();
    await waitReported(a, h.repo.head(), 300_000);
    out(`  initial sync of ${models} models (PUT, deploy, summary statuses): ${Date.now() - t} ms`);

    const idle = Math.min(200, cycles);
    const before = await sample(h, a);
    await waitCycles(a, before.cycles + idle);
    const after = await sample(h, a);
    const n = after.cycles - before.cycles;
    const per = (x: number, y: number) => ((y - x) / n).toFixed(3);
    out(`  idle cycle (${n} cycles, interval 5 ms):`);
    out(`    GitHub requests per idle cycle      ${per(before.github, after.github)}`);
    out(
      `    git ref queries (ls-remote) / cycle ${per(before.lsRemote, after.lsRemote)}; other git processes / cycle ${per(before.otherGit, after.otherGit)}`,
    );
    out(
      `    Ray requests per idle cycle         ${per(before.rayGets, after.rayGets)} GET (${after.rayGets - before.rayGets} in ${n} cycles, ±1: the emulator's count is read a moment after the agent's cycle count), ${per(before.puts, after.puts)} PUT`,
    );
    out(
      `    agent CPU per idle cycle            ${((after.cpuMs - before.cpuMs) / n).toFixed(2)} ms (user+system from /proc; parsing Ray's GET of ${models} applications is the largest part)`,
    );

    for (let i = 0; i < k; i++)
      h.repo.write(
        `models/${keys[i * Math.floor(models / k)]!}.yaml`,
        specYaml(`m${(i * Math.floor(models / k)) % 10}`, { replicas: 2 }),
      );
    const puts = h.ray.acceptedPutCount();
    const posts = statusPosts(h);
    const sha = h.repo.ship(`scale ${k} models`);
    await waitReported(a, sha, 120_000);
    const writes = statusPosts(h) - posts;
    out(
      `  a commit changing ${k} of ${models} models: ${writes} status writes (bound 2(k+1) = ${2 * (k + 1)}), ${h.ray.acceptedPutCount() - puts} PUT, ${h.github.statuses(sha).length} statuses on the commit`,
    );

    const start = (await sample(h, a)).cycles;
    const checkpoints = [100, 250, 500, 750, cycles].filter(
      (c, i, all) => c <= cycles && all.indexOf(c) === i,
    );
    const rss: string[] = [];
    for (const c of checkpoints) {
      await waitCycles(a, start + c);
      rss.push(`${c}: ${(rssKb(a.process.pid!) / 1024).toFixed(1)} MiB`);
    }
    out(`  agent RSS over ${cycles} idle cycles against the emulator: ${rss.join(", ")}`);
    a.process.kill("SIGTERM");
    out(`  SIGTERM -> exit ${await a.exit}`);

    // Phase 2: merge-to-PUT latency, polling every 1 s, and with POST /sync.
    const b = await startChild(h, { intervalMs: 1000, watchIntervalMs: 50 });
    await waitReported(b, h.repo.head(), 60_000);
    const polled = await latencies(h, b, trials, keys, false);
    b.process.kill("SIGTERM");
    await b.exit;
    const c = await startChild(h, { intervalMs: 60_000, watchIntervalMs: 50, syncToken: SYNC_TOKEN });
    await waitReported(c, h.repo.head(), 60_000);
    const synced = await latencies(h, c, trials, keys, true);
    c.process.kill("SIGTERM");
    await c.exit;
    out(
      `  merge-to-PUT, --interval 1s: ${summary(polled)} (a new commit re-validates only the specs it changed; the rest of the ${models} come from the previous commit)`,
    );
    out(`  merge-to-PUT, POST /sync:     ${summary(synced)}`);
    return 0;
  } finally {
    await h.close();
  }
}

function usersYaml(quotas: Record<string, number>): string {
  return [
    "admins: [platform-admin]",
    "users:",
    ...Object.entries(quotas).flatMap(([u, q]) => [`  ${u}:`, `    github: [${u}]`, `    gpu_quota: ${q}`]),
    "",
  ].join("\n");
}

async function startChild(h: Harness, extra: Partial<AgentConfig>): Promise<Child> {
  const config = h.config({ listen: { host: "127.0.0.1", port: 0 }, logLevel: "warn", ...extra });
  // Pick a free port ourselves so the bench knows where /metrics is.
  const port = await freePort();
  const child = spawn(process.execPath, [process.env.SERVE_GITOPS_BENCH_CHILD!], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      CHILD_AGENT_CONFIG: JSON.stringify({ ...config, listen: { host: "127.0.0.1", port } }),
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true, 30_000);
  return { process: child, url, exit };
}

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function until(check: () => Promise<boolean> | boolean, ms: number, pause = 5): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("bench: timed out waiting");
    await new Promise((r) => setTimeout(r, pause));
  }
}

const status = async (child: Child) => (await (await fetch(`${child.url}/status`)).json()) as StatusDoc;
const waitReported = (child: Child, sha: string, ms: number) =>
  until(async () => (await status(child)).marks.reported?.sha === sha, ms, 20);

const scrape = async (child: Child) => (await fetch(`${child.url}/metrics`)).text();

async function metric(child: Child | string, name: string, labels = ""): Promise<number> {
  const text = typeof child === "string" ? child : await scrape(child);
  let total = 0;
  for (const line of text.split("\n"))
    if (line.startsWith(name) && line.includes(labels) && !line.startsWith(`${name}_`))
      total += Number(line.split(" ").pop());
  return total;
}

const waitCycles = (child: Child, target: number) =>
  until(
    async () => (await metric(child, "serve_gitops_cycle_duration_seconds_count")) >= target,
    600_000,
    50,
  );

interface Sample {
  cycles: number;
  github: number;
  lsRemote: number;
  otherGit: number;
  rayGets: number;
  puts: number;
  cpuMs: number;
}

async function sample(h: Harness, child: Child): Promise<Sample> {
  // One scrape, so the counters agree with each other (the agent keeps cycling meanwhile).
  const text = await scrape(child);
  const git = await metric(text, "serve_gitops_git_commands_total");
  const lsRemote = await metric(text, "serve_gitops_git_commands_total", 'command="ls-remote"');
  return {
    cycles: await metric(text, "serve_gitops_cycle_duration_seconds_count"),
    github: h.github.requests.length,
    lsRemote,
    otherGit: git - lsRemote,
    rayGets: h.ray.requests.filter((r) => r.method === "GET").length,
    puts: h.ray.acceptedPutCount(),
    cpuMs: cpuMs(child.process.pid!),
  };
}

const statusPosts = (h: Harness) =>
  h.github.requests.filter((r) => r.method === "POST" && r.path.includes("/statuses/")).length;

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
}

async function latencies(
  h: Harness,
  child: Child,
  trials: number,
  keys: readonly string[],
  sync: boolean,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < trials; i++) {
    await new Promise((r) => setTimeout(r, Math.random() * 1000));
    const key = keys[(i * 7 + (sync ? 3 : 1)) % keys.length]!;
    h.repo.write(
      `models/${key}.yaml`,
      specYaml(key.split("/")[1]!, { maxModelLen: 4096 + i + (sync ? 100 : 0) }),
    );
    h.repo.render();
    const sha = h.repo.commit(`tune ${key}`);
    const puts = h.ray.acceptedPutCount();
    h.repo.push();
    const merged = performance.now();
    if (sync)
      await fetch(`${child.url}/sync`, {
        method: "POST",
        headers: { authorization: `Bearer ${SYNC_TOKEN}` },
      });
    await until(() => h.ray.acceptedPutCount() > puts, 30_000, 1);
    out.push(performance.now() - merged);
    await waitReported(child, sha, 60_000);
  }
  return out;
}

function summary(list: number[]): string {
  const sorted = [...list].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  return `median ${median.toFixed(0)} ms, min ${sorted[0]?.toFixed(0)} ms, max ${sorted.at(-1)?.toFixed(0)} ms over ${list.length} merges`;
}
