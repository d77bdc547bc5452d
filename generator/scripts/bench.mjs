// `npm run bench`: the core's speed and memory on a synthetic repository, measured side by side in one run
// against ajv-cli's schema-only check of the same files (shared/reference/performance.md). Then the Action's
// and the agent's benchmarks, when present. Figures only: nothing here asserts a time.
import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { load, parseEvents } from "js-yaml";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const cli = join(root, "dist/cli.js");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

if (!existsSync(cli)) execFileSync("node", [join(root, "generator/scripts/build.mjs")], { stdio: "inherit" });

/** A synthetic repository: `users` users x `perUser` 7-line specs, one cluster big enough for all of them. */
export function makeRepo(dir, users, perUser) {
  mkdirSync(join(dir, "models"), { recursive: true });
  mkdirSync(join(dir, "clusters/h1"), { recursive: true });
  const names = Array.from({ length: users }, (_, i) => `user${String(i).padStart(4, "0")}`);
  writeFileSync(
    join(dir, "models/users.yaml"),
    `admins: [platform-admin]\nusers:\n${names.map((u) => `  ${u}:\n    github: [gh-${u}]\n    gpu_quota: ${perUser * 2}\n`).join("")}`,
  );
  writeFileSync(
    join(dir, "clusters/h1/cluster.yaml"),
    [
      "default: true",
      "accelerator_type: H20",
      `gpus: ${users * perUser * 2}`,
      "gpus_per_node: 8",
      "ray: {dashboard_address: 'http://127.0.0.1:8265'}",
      "openai: {server_url: 'https://dstack.company.com', base_url: /access/models/h1/}",
      "",
    ].join("\n"),
  );
  for (const user of names) {
    mkdirSync(join(dir, "models", user));
    for (let i = 0; i < perUser; i++) {
      writeFileSync(
        join(dir, "models", user, `model-${i}.yaml`),
        `model_id: model-${i}\nmodel_source: $HOME/common/hf/hub/models--Qwen--Qwen2.5-0.5B-Instruct/snapshots/s${i}\nnum_replicas: 1\ngpus_per_replica: 1\nengine_kwargs:\n  max_model_len: 8192\n  gpu_memory_utilization: 0.9\n`,
      );
    }
  }
}

/**
 * Git for the bench's own set-up: identity by flags (never the global config), and no `gc --auto` that a commit
 * of 20,000 objects would start in the background, to pack them while the next measurement runs.
 */
const benchGit = (dir, ...args) =>
  execFileSync(
    "git",
    ["-c", "user.name=bench", "-c", "user.email=bench@invalid", "-c", "gc.auto=0", ...args],
    {
      cwd: dir,
    },
  );

/** `git init` and one commit of everything, packed as a clone's history is. */
function commitAll(dir) {
  benchGit(dir, "init", "-q");
  benchGit(dir, "add", "-A");
  benchGit(dir, "commit", "-qm", "base");
  benchGit(dir, "repack", "-a", "-d", "-q");
}

/** Run a command RUNS times under /usr/bin/time; median wall seconds and the largest peak RSS (MiB). */
function measure(command, args, cwd, { expectExit = [0] } = {}) {
  const walls = [];
  let rss = 0;
  for (let i = 0; i < RUNS; i++) {
    const result = spawnSync("/usr/bin/time", ["-f", "%e %M", command, ...args], {
      cwd,
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    if (!expectExit.includes(result.status)) {
      throw new Error(
        `${command} ${args.join(" ")} exited ${result.status}: ${result.stdout.slice(-500)}${result.stderr.slice(-500)}`,
      );
    }
    const [wall, kb] = result.stderr.trim().split("\n").at(-1).split(" ").map(Number);
    walls.push(wall);
    rss = Math.max(rss, kb / 1024);
  }
  walls.sort((a, b) => a - b);
  return { wall: walls[Math.floor(walls.length / 2)], rss };
}

function inProcessFloor(dir) {
  const files = [];
  for (const user of readdirSync(join(dir, "models"), { withFileTypes: true })) {
    if (!user.isDirectory()) continue;
    for (const f of readdirSync(join(dir, "models", user.name)))
      files.push(join(dir, "models", user.name, f));
  }
  const best = (fn) => {
    let min = Infinity;
    for (let i = 0; i < RUNS; i++) {
      const t = process.hrtime.bigint();
      fn();
      min = Math.min(min, Number(process.hrtime.bigint() - t) / 1e6);
    }
    return min;
  };
  const texts = files.map((f) => readFileSync(f, "utf8"));
  // What the two commands cannot avoid: validate lists the tree and reads every spec; render also reads every
  // fragment (to know whether it is current).
  const listing = () => {
    const out = [];
    const walk = (d) => {
      for (const e of readdirSync(d, { withFileTypes: true }))
        if (e.isDirectory()) walk(`${d}/${e.name}`);
        else out.push(`${d}/${e.name}`);
    };
    walk(join(dir, "models"));
    walk(join(dir, "clusters"));
    return out;
  };
  const readAll = (paths) => paths.forEach((f) => readFileSync(f));
  return {
    listAndReadSpecs: best(() => readAll(listing().filter((f) => f.includes("/models/")))),
    listAndReadAll: best(() => readAll(listing())),
    readParseEvents: best(() => files.forEach((f) => parseEvents(readFileSync(f, "utf8"), {}))),
    readLoad: best(() => files.forEach((f) => load(readFileSync(f, "utf8")))),
    parseEventsOnly: best(() => texts.forEach((t) => parseEvents(t, {}))),
  };
}

const fmt = (s) => `${(s * 1000).toFixed(0)} ms`;
const work = mkdtempSync(join(tmpdir(), "serve-gitops-bench-"));
const ajvBin = join(root, "node_modules/.bin/ajv");
const schema = join(root, "schemas/serving-spec.schema.json");
const rows = [];
try {
  console.log(
    `serve-gitops core benchmark (median of ${RUNS} runs; machine: ${process.arch}, node ${process.version})\n`,
  );
  for (const users of [250, 500, 1000]) {
    const dir = join(work, `repo-${users}`);
    makeRepo(dir, users, 10);
    const specs = users * 10;
    // First render writes every fragment; the measured render is the steady state a user meets: one changed spec.
    execFileSync("node", [cli, "render", "--repo", dir, "--now", "2026-01-06T12:35:00Z"]);
    // A git work tree, as a user's repository is: the working-tree reader asks its index for submodules.
    commitAll(dir);
    const validate = measure("node", [cli, "validate", "--repo", dir], root);
    const changed = join(dir, "models/user0000/model-0.yaml");
    const original = readFileSync(changed, "utf8");
    const walls = [];
    let renderRss = 0;
    for (let i = 0; i < RUNS; i++) {
      writeFileSync(changed, original.replace(/num_replicas: \d+/, `num_replicas: ${2 + (i % 2)}`));
      const r = measure("node", [cli, "render", "--repo", dir], root);
      walls.push(r.wall);
      renderRss = Math.max(renderRss, r.rss);
    }
    walls.sort((a, b) => a - b);
    const render = { wall: walls[Math.floor(walls.length / 2)], rss: renderRss };
    const ajv = measure(
      ajvBin,
      ["validate", "--spec=draft2020", "--strict=false", "-s", schema, "-d", "models/*/*.yaml"],
      dir,
    );
    const floor = inProcessFloor(dir);
    rows.push({ specs, validate, render, ajv, floor });
    console.log(
      `${String(specs).padStart(6)} specs: validate ${fmt(validate.wall)} (${validate.rss.toFixed(0)} MiB) + render ${fmt(render.wall)} (${render.rss.toFixed(0)} MiB) = ${fmt(validate.wall + render.wall)}` +
        ` | ajv-cli schema-only ${fmt(ajv.wall)} (${ajv.rss.toFixed(0)} MiB)` +
        ` | in-process floor read+parseEvents ${floor.readParseEvents.toFixed(0)} ms, read+load ${floor.readLoad.toFixed(0)} ms`,
    );
  }
  const big = rows.at(-1);
  const both = big.validate.wall + big.render.wall;
  // What a process costs before the first spec: Node's start, loading the CLI, compiling the schemas.
  const emptyDir = join(work, "repo-empty");
  makeRepo(emptyDir, 4, 1);
  commitAll(emptyDir);
  const emptyValidate = measure("node", [cli, "validate", "--repo", emptyDir], root);
  execFileSync("node", [cli, "render", "--repo", emptyDir]);
  const emptyRender = measure("node", [cli, "render", "--repo", emptyDir], root);
  const bareNode = measure("node", ["-e", "0"], root);
  console.log(
    `\n10,000 specs: validate + render = ${fmt(both)} as two processes; ajv-cli = ${fmt(big.ajv.wall)} (ratio ${(both / big.ajv.wall).toFixed(2)})`,
  );
  console.log(
    `  validate alone (schema + every rule) vs ajv-cli (schema only): ${fmt(big.validate.wall)} / ${fmt(big.ajv.wall)} = ${(big.validate.wall / big.ajv.wall).toFixed(2)}`,
  );
  console.log(
    `  fixed cost per process (a repository of four specs): validate ${fmt(emptyValidate.wall)}, render ${fmt(emptyRender.wall)} (bare \`node -e 0\`: ${fmt(bareNode.wall)})`,
  );
  const io = big.floor.listAndReadSpecs + big.floor.listAndReadAll;
  console.log(
    `  the floor of the two processes with no work at all: fixed costs ${fmt(emptyValidate.wall + emptyRender.wall)} + listing and reading (validate: specs ${big.floor.listAndReadSpecs.toFixed(0)} ms; render: specs and fragments ${big.floor.listAndReadAll.toFixed(0)} ms) = ${fmt(emptyValidate.wall + emptyRender.wall + io / 1000)}, against ajv-cli's ${fmt(big.ajv.wall)}`,
  );
  console.log(
    `  one validate process vs the in-process read+parse floor: ${fmt(big.validate.wall)} / ${big.floor.readParseEvents.toFixed(0)} ms = ${((big.validate.wall * 1000) / big.floor.readParseEvents).toFixed(2)}x (includes node start-up)`,
  );
  const perSpec = rows.map((r) => ((r.validate.wall + r.render.wall) * 1e6) / r.specs);
  console.log(
    `  linearity: ${rows.map((r, i) => `${r.specs}: ${perSpec[i].toFixed(0)} us/spec`).join(", ")}`,
  );
  console.log(
    `  peak RSS: validate ${big.validate.rss.toFixed(0)} MiB, render ${big.render.rss.toFixed(0)} MiB, ajv-cli ${big.ajv.rss.toFixed(0)} MiB`,
  );

  // One changed file: the plan of the working tree against HEAD in a git repository of 10,000 specs.
  const gitDir = join(work, "repo-git");
  cpSync(join(work, "repo-1000"), gitDir, { recursive: true });
  // Committed as it stands (the bench changed one spec and rendered it above).
  benchGit(gitDir, "commit", "-qam", "base");
  benchGit(gitDir, "repack", "-a", "-d", "-q");
  writeFileSync(
    join(gitDir, "models/user0001/model-1.yaml"),
    readFileSync(join(gitDir, "models/user0001/model-1.yaml"), "utf8").replace(
      "num_replicas: 1",
      "num_replicas: 2",
    ),
  );
  // A user renders before planning (plan reports a stale render as an error).
  execFileSync("node", [cli, "render", "--repo", gitDir]);
  const plan = measure("node", [cli, "plan", "--repo", gitDir, "--base", "HEAD", "--json"], root);
  console.log(
    `  plan with one changed spec (HEAD vs working tree, 10,000 specs): ${fmt(plan.wall)}, ${plan.rss.toFixed(0)} MiB`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

// The Action's and the agent's own benchmarks.
for (const script of ["actions/check/bench-check.mjs", "agent/bench/run.mjs"]) {
  if (!existsSync(join(root, script))) continue;
  console.log(`\n--- ${script}`);
  const result = spawnSync("node", [join(root, script)], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exitCode = 1;
}
