// The deployment artifacts cannot be run here (no Kubernetes, no Docker daemon, no systemd as init): check what
// can be checked — the manifest against a compact schema of the fields it uses, the unit's syntax (and
// `systemd-analyze verify` where it exists), the Dockerfile's instructions.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020";
import { loadAll } from "js-yaml";
import { describe, expect, it } from "vitest";
import { AGENT_ENV, SECRET_ENV } from "../src/cli/agent-options";

const here = join(import.meta.dirname, ".");
const read = (name: string) => readFileSync(join(here, name), "utf8");
const KNOWN_ENV = new Set<string>([...Object.values(AGENT_ENV), ...Object.values(SECRET_ENV).flat()]);

interface Doc {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}
interface Container {
  name: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: { httpGet: { path: string; port: string | number } };
  livenessProbe?: { httpGet: { path: string; port: string | number } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  containers: Container[];
  volumes?: Array<{
    name: string;
    secret?: { secretName: string; items?: Array<{ key: string; path: string }> };
  }>;
}

describe("kubernetes.yaml", () => {
  const docs = loadAll(read("kubernetes.yaml")) as Doc[];
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);

  it("matches the compact schema of the fields it uses (a misspelt field fails)", () => {
    const validate = new Ajv2020({
      allErrors: true,
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
    }).compile(JSON.parse(read("manifest.schema.json")) as object);
    for (const doc of docs)
      expect(validate(doc) ? [] : validate.errors, `${doc.kind} ${doc.metadata.name}`).toEqual([]);
    const typo = structuredClone(byKind("Deployment")[0]!) as unknown as {
      spec: { template: { spec: { containers: Array<Record<string, unknown>> } } };
    };
    typo.spec.template.spec.containers[0]!.readinesProbe = {};
    expect(validate(typo)).toBe(false);
  });

  it("runs one agent beside a RayCluster head, never a RayService", () => {
    expect(docs.map((d) => d.kind).sort()).toEqual([
      "Deployment",
      "PersistentVolumeClaim",
      "RayCluster",
      "Service",
      "ServiceAccount",
    ]);
    const deployment = byKind("Deployment")[0]!.spec as {
      replicas: number;
      strategy: { type: string };
      template: { spec: PodSpec };
    };
    expect(deployment.replicas).toBe(1);
    expect(deployment.strategy.type).toBe("Recreate");
    const agent = deployment.template.spec.containers[0]!;
    const env = new Map(agent.env!.map((e) => [e.name, e.value]));
    const ray = byKind("RayCluster")[0]!;
    expect(env.get("SERVE_GITOPS_RAY_ADDRESS")).toBe(`http://${ray.metadata.name}-head-svc:8265`);
    for (const name of env.keys()) expect(KNOWN_ENV, `${name} is an agent variable`).toContain(name);
    expect(agent.readinessProbe!.httpGet.path).toBe("/readyz");
    expect(agent.livenessProbe!.httpGet.path).toBe("/healthz");
    const port = agent.ports!.find((p) => p.name === agent.readinessProbe!.httpGet.port)!;
    expect(env.get("SERVE_GITOPS_LISTEN")).toBe(`0.0.0.0:${port.containerPort}`);
    const state = agent.volumeMounts!.find((m) => m.name === "state")!;
    expect(env.get("SERVE_GITOPS_STATE_DIR")).toBe(state.mountPath);
  });

  it("reads secrets from mounted files that the Secret provides, and holds no secret itself", () => {
    const pod = (byKind("Deployment")[0]!.spec as { template: { spec: PodSpec } }).template.spec;
    const agent = pod.containers[0]!;
    const secrets = pod.volumes!.find((v) => v.secret)!;
    const mount = agent.volumeMounts!.find((m) => m.name === secrets.name)!;
    const files = agent.env!.filter((e) => e.name.endsWith("_FILE")).map((e) => e.value!);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files)
      expect(secrets.secret!.items!.map((i) => `${mount.mountPath}/${i.path}`)).toContain(file);
    expect(agent.env!.some((e) => /TOKEN$|SECRET$/.test(e.name))).toBe(false);
    expect(read("kubernetes.yaml")).not.toMatch(/gh[pousr]_[A-Za-z0-9]{20,}|hf_[A-Za-z0-9]{20,}/);
  });
});

describe("serve-gitops-agent.service", () => {
  const text = read("serve-gitops-agent.service");
  const KNOWN: Record<string, string[]> = {
    Unit: ["Description", "Documentation", "After", "Wants"],
    Service: [
      "Type",
      "User",
      "Group",
      "EnvironmentFile",
      "Environment",
      "LoadCredential",
      "ExecStart",
      "StateDirectory",
      "StateDirectoryMode",
      "Restart",
      "RestartSec",
      "KillSignal",
      "TimeoutStopSec",
      "NoNewPrivileges",
      "ProtectSystem",
      "ProtectHome",
      "PrivateTmp",
      "PrivateDevices",
      "ProtectKernelTunables",
      "ProtectControlGroups",
      "RestrictSUIDSGID",
      "LockPersonality",
    ],
    Install: ["WantedBy"],
  };

  it("is well-formed: known sections, Key=Value lines with keys each section takes", () => {
    let section = "";
    const seen: string[] = [];
    for (const [i, raw] of text.split("\n").entries()) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
      const header = /^\[([A-Za-z]+)\]$/.exec(line);
      if (header) {
        section = header[1]!;
        seen.push(section);
        expect(Object.keys(KNOWN), `line ${i + 1}`).toContain(section);
        continue;
      }
      const pair = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
      expect(pair, `line ${i + 1}: ${line}`).not.toBeNull();
      expect(KNOWN[section], `line ${i + 1}: ${pair![1]} in [${section}]`).toContain(pair![1]);
    }
    expect(seen).toEqual(["Unit", "Service", "Install"]);
    expect(text).toMatch(
      /^ExecStart=\/usr\/bin\/node \/opt\/serve-gitops\/dist\/cli\.js agent --github-token-file \$\{CREDENTIALS_DIRECTORY\}\/github-token$/m,
    );
    expect(text).toMatch(/^Restart=on-failure$/m);
    expect(text).toMatch(/^KillSignal=SIGTERM$/m);
  });

  it("passes systemd-analyze verify where systemd is installed", () => {
    const probe = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
    if (probe.status !== 0) return;
    const result = spawnSync(
      "systemd-analyze",
      ["verify", "--man=no", join(here, "serve-gitops-agent.service")],
      { encoding: "utf8" },
    );
    const complaints = result.stderr
      .split("\n")
      .filter(
        (l) =>
          l.includes("serve-gitops-agent.service") &&
          !/Failed to (resolve|load) (user|group)|does not exist|No such file/.test(l),
      );
    expect(complaints).toEqual([]);
  });
});

describe("Dockerfile", () => {
  const lines = read("Dockerfile")
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"));
  const instructions = lines.filter((l) => !/^\s/.test(l)).map((l) => l.split(/\s+/)[0]!);

  it("uses known instructions, builds the CLI, runs it as a non-root user with `agent` as the command", () => {
    const KNOWN = [
      "FROM",
      "WORKDIR",
      "COPY",
      "RUN",
      "USER",
      "ENV",
      "VOLUME",
      "EXPOSE",
      "STOPSIGNAL",
      "HEALTHCHECK",
      "ENTRYPOINT",
      "CMD",
    ];
    for (const i of instructions) expect(KNOWN).toContain(i);
    expect(instructions[0]).toBe("FROM");
    expect(read("Dockerfile")).toMatch(/^RUN node generator\/scripts\/build\.mjs$/m);
    expect(read("Dockerfile")).toMatch(/^USER node$/m);
    expect(read("Dockerfile")).toMatch(/^ENTRYPOINT \["node", "\/opt\/serve-gitops\/dist\/cli\.js"\]$/m);
    expect(read("Dockerfile")).toMatch(/^CMD \["agent"\]$/m);
    expect(read("Dockerfile")).toMatch(/^STOPSIGNAL SIGTERM$/m);
  });

  it("copies only what exists in the repository", () => {
    const root = join(here, "../..");
    for (const line of lines.filter((l) => l.startsWith("COPY ") && !l.includes("--from"))) {
      const parts = line.split(/\s+/).slice(1, -1);
      for (const part of parts) expect(existsSync(join(root, part)), part).toBe(true);
    }
    expect(existsSync(join(root, "generator/scripts/build.mjs"))).toBe(true);
  });
});
