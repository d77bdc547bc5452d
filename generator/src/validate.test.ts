import { describe, expect, it } from "vitest";
import {
  bare,
  clusterText,
  fixtureRepo,
  specText,
  where,
  withFiles,
  type FileChange,
} from "../test-fixtures/helpers";
import type { RepoSnapshot, Validation } from "./types";
import { classifyPath } from "./paths";
import { validateRepo } from "./validate";
import { PATTERN_WORDS } from "./schema-diagnostics";
import { MAX_CONFIG_BYTES, MAX_FILE_BYTES } from "./yaml-source";
import specSchema from "../../schemas/serving-spec.schema.json";
import usersSchema from "../../schemas/users.schema.json";
import clusterSchema from "../../schemas/cluster.schema.json";

const SMALL = clusterText({ default: true, gpus: 8, gpus_per_node: 4 });
const ROOMY_USERS =
  "admins: [root]\nusers:\n  alice: {github: [alice], gpu_quota: 1000}\n  bob: {github: [bob], gpu_quota: 4}\n";

describe("validateRepo on the fixture repository", () => {
  it("accepts it and resolves the spec with its defaults", () => {
    const result = validateRepo(fixtureRepo());
    expect(result.diagnostics).toEqual([]);
    expect(result.ok).toBe(true);
    const [spec] = result.model.models;
    expect(spec).toMatchObject({
      user: "alice",
      suffix: "qwen",
      file: "models/alice/qwen.yaml",
      source: "$HOME/common/hf/qwen",
      resolvedSource: "/private/hf/qwen",
      num_replicas: 1,
      gpus_per_replica: 1,
      clusters: ["h1"],
      engine_kwargs: { max_model_len: 8192 },
    });
    expect(spec!.digest).toMatch(/^[0-9a-f]{64}$/);
    expect([...result.model.clusters.keys()]).toEqual(["h1", "lab"]);
    expect(result.model.clusters.get("lab")!.serve).toEqual({
      layout: "per-user",
      application_name: "argus_llm_app",
      route_prefix: "/",
    });
  });

  it("expands $HOME to the owner's folder", () => {
    const result = validateRepo(
      bare({ "models/bob/ft.yaml": specText("ft", { model_source: "$HOME/checkpoints/ft" }) }),
    );
    expect(result.model.models[0]!.resolvedSource).toBe("/private/users/bob/checkpoints/ft");
  });

  it("accepts a hub repo id on a cluster that allows hub sources", () => {
    const result = validateRepo(
      bare({ "models/bob/q.yaml": specText("q", { model_source: "Qwen/Qwen3-8B", clusters: ["lab"] }) }),
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.model.models[0]!.resolvedSource).toBe("Qwen/Qwen3-8B");
  });

  it("honours a cluster's own roots", () => {
    const roots = clusterText({
      default: true,
      sources: { roots: { shared: ["/data/models"], user: "/home/{user}/models" } },
    });
    const ok = validateRepo(
      bare({
        "clusters/h1/cluster.yaml": roots,
        "models/alice/a.yaml": specText("a", { model_source: "/data/models/a" }),
      }),
    );
    expect(ok.diagnostics).toEqual([]);
    const other = validateRepo(
      bare({
        "clusters/h1/cluster.yaml": roots,
        "models/alice/a.yaml": specText("a", { model_source: "/home/bob/models/a" }),
      }),
    );
    expect(other.diagnostics.map((d) => d.rule)).toEqual(["model-source-other-user"]);
    const old = validateRepo(
      bare({ "clusters/h1/cluster.yaml": roots, "models/alice/a.yaml": specText("a") }),
    );
    expect(old.diagnostics.map((d) => d.rule)).toEqual(["model-source-outside-roots"]);
  });

  it("refuses an engine argument's integer beyond 2^53 on its value, rather than render a different number", () => {
    // 9007199254740993 reads as 9007199254740992, and 99999999999999999999999 as 1e+23: a float to Ray.
    const spec = `${specText("a")}engine_kwargs:\n  max_model_len: 9007199254740993\n  max_num_seqs: 99999999999999999999999\n`;
    const result = validateRepo(bare({ "models/alice/a.yaml": spec }));
    expect(result.diagnostics.map((d) => [where(d), d.message.split(":")[0]])).toEqual([
      [
        { file: "models/alice/a.yaml", line: 4, column: 18, code: "E400", rule: "engine-kwarg-type" },
        "engine_kwargs.max_model_len is too large to carry exactly",
      ],
      [
        { file: "models/alice/a.yaml", line: 5, column: 17, code: "E400", rule: "engine-kwarg-type" },
        "engine_kwargs.max_num_seqs is too large to carry exactly",
      ],
    ]);
  });

  it("refuses an engine argument outside vLLM's own bounds on its value, and still applies the cluster's cap", () => {
    const spec = `${specText("a")}engine_kwargs:\n  gpu_memory_utilization: 5\n  swap_space: -1\n  max_num_seqs: 256\n  mm_processor_cache_gb: 32\n`;
    const result = validateRepo(bare({ "models/alice/a.yaml": spec }));
    expect(result.diagnostics.map((d) => [where(d), d.message])).toEqual([
      [
        { file: "models/alice/a.yaml", line: 4, column: 27, code: "E400", rule: "engine-kwarg-range" },
        "engine_kwargs.gpu_memory_utilization must be greater than 0 and at most 1 (vLLM 0.11.1 CacheConfig refuses 5 when the replica starts)",
      ],
      [
        { file: "models/alice/a.yaml", line: 5, column: 15, code: "E400", rule: "engine-kwarg-range" },
        "engine_kwargs.swap_space must be at least 0 (vLLM 0.11.1 CacheConfig refuses -1 when the replica starts)",
      ],
      [
        { file: "models/alice/a.yaml", line: 7, column: 26, code: "E400", rule: "invalid-value" },
        expect.stringContaining("engine_kwargs.mm_processor_cache_gb may be at most 16 (GiB) on cluster h1"),
      ],
    ]);
    const ok = `${specText("a")}engine_kwargs:\n  gpu_memory_utilization: 1\n  swap_space: 0\n`;
    expect(validateRepo(bare({ "models/alice/a.yaml": ok })).diagnostics).toEqual([]);
  });

  it("refuses two engine arguments vLLM checks against each other, on the value of the later one", () => {
    const spec = `${specText("a")}engine_kwargs:\n  enable_lora: true\n  max_loras: 4\n  max_cpu_loras: 2\n  max_num_seqs: 256\n  max_num_batched_tokens: 128\n`;
    const result = validateRepo(bare({ "models/alice/a.yaml": spec }));
    expect(result.diagnostics.map((d) => [where(d), d.message])).toEqual([
      [
        { file: "models/alice/a.yaml", line: 6, column: 18, code: "E400", rule: "engine-kwarg-relation" },
        "engine_kwargs.max_cpu_loras (2) must be at least max_loras (4) with enable_lora: true (vLLM 0.11.1 LoRAConfig refuses it when the replica starts)",
      ],
      [
        { file: "models/alice/a.yaml", line: 8, column: 27, code: "E400", rule: "engine-kwarg-relation" },
        "engine_kwargs.max_num_batched_tokens (128) must be at least max_num_seqs (256) (vLLM 0.11.1 SchedulerConfig refuses it when the replica starts)",
      ],
    ]);
    const ok = `${specText("a")}engine_kwargs:\n  enable_lora: true\n  max_loras: 4\n  max_cpu_loras: 4\n  max_num_seqs: 256\n  max_num_batched_tokens: 256\n`;
    expect(validateRepo(bare({ "models/alice/a.yaml": ok })).diagnostics).toEqual([]);
  });

  it("refuses an engine argument vLLM checks against a value the platform sets, on its value, per cluster", () => {
    const a = `${specText("a", { gpus_per_replica: 4, clusters: ["h1", "lab"] })}engine_kwargs:\n  decode_context_parallel_size: 3\n  async_scheduling: true\n`;
    const b = `${specText("b")}engine_kwargs:\n  enable_expert_parallel: true\n  enable_eplb: true\n`;
    const result = validateRepo(bare({ "models/alice/a.yaml": a, "models/alice/b.yaml": b }));
    const refuses = (who: string) => `(vLLM 0.11.1 ${who} refuses it when the replica starts)`;
    expect(result.diagnostics.map((d) => [where(d), d.message])).toEqual([
      [
        { file: "models/alice/a.yaml", line: 8, column: 33, code: "E400", rule: "engine-kwarg-relation" },
        `engine_kwargs.decode_context_parallel_size (3) must divide tensor_parallel_size, which the platform sets from gpus_per_replica (4): use 1, 2 or 4 ${refuses("EngineArgs")}`,
      ],
      [
        { file: "models/alice/a.yaml", line: 9, column: 21, code: "E400", rule: "engine-kwarg-relation" },
        `engine_kwargs.async_scheduling: true needs distributed_executor_backend mp, uni or external_launcher, but on cluster h1 Ray Serve LLM sets it to "ray" (accelerator_type H20): remove async_scheduling ${refuses("EngineArgs")}`,
      ],
      [
        { file: "models/alice/a.yaml", line: 9, column: 21, code: "E400", rule: "engine-kwarg-relation" },
        `engine_kwargs.async_scheduling: true needs distributed_executor_backend mp, uni or external_launcher, but on cluster lab Ray Serve LLM sets it to "ray" (accelerator_type L4): remove async_scheduling ${refuses("EngineArgs")}`,
      ],
      [
        { file: "models/alice/b.yaml", line: 5, column: 16, code: "E400", rule: "engine-kwarg-relation" },
        `engine_kwargs.enable_eplb: true needs tensor_parallel_size above 1, which the platform sets from gpus_per_replica (1, its default): raise gpus_per_replica ${refuses("ParallelConfig")}`,
      ],
    ]);
    const ok = `${specText("a", { gpus_per_replica: 4 })}engine_kwargs:\n  decode_context_parallel_size: 4\n  enable_expert_parallel: true\n  enable_eplb: true\n`;
    expect(validateRepo(bare({ "models/alice/a.yaml": ok })).diagnostics).toEqual([]);
    // An invalid gpus_per_replica is reported as what it is, not compared with.
    const bad = `${specText("a", { gpus_per_replica: 2.5 })}engine_kwargs:\n  decode_context_parallel_size: 3\n`;
    expect(validateRepo(bare({ "models/alice/a.yaml": bad })).diagnostics.map((d) => d.rule)).toEqual([
      "wrong-type",
    ]);
  });

  it("says how to write a list, and that a required text or list may not be empty, in words", () => {
    const messages = (fields: Record<string, unknown>) =>
      validateRepo(bare({ "models/alice/a.yaml": specText("a", fields) })).diagnostics.map(
        (d) => `${d.line}:${d.column} ${d.rule} ${d.message}`,
      );
    expect(messages({ clusters: "h1" })).toEqual([
      "3:11 wrong-type `clusters` must be an array: write a list, e.g. `clusters: [h1]`",
    ]);
    expect(messages({ clusters: [] })).toEqual(["3:11 invalid-value `clusters` must not be empty"]);
    expect(messages({ model_source: "" })).toEqual(["2:15 invalid-value `model_source` must not be empty"]);
  });

  it("gives a list suggestion that, written as suggested, YAML reads as a list of text", () => {
    // `clusters: "true"` (or "1.10") was quoted to be text; the suggestion `clusters: [true]` is a list of a
    // boolean (and `[1.10]` of the number 1.1): following it only trades one wrong-type for another.
    const validate = (text: string) => validateRepo(bare({ "models/alice/a.yaml": text })).diagnostics;
    for (const written of ['"true"', '"1.10"', '"null"']) {
      const spec = `${specText("a")}clusters: ${written}\n`;
      const hint = validate(spec).find((d) => d.rule === "wrong-type")!;
      const suggested = /e\.g\. `(clusters: .*)`$/.exec(hint.message)?.[1];
      expect(suggested, hint.message).toBeDefined();
      const followed = validate(`${specText("a")}${suggested!}\n`);
      expect(
        followed.filter((d) => d.rule === "wrong-type").map((d) => d.message),
        `following "${suggested!}"`,
      ).toEqual([]);
    }
  });

  it("adds a cluster's own deny list to the built-in one, which it never replaces", () => {
    const lab = clusterText({ default: true, engine_kwargs: { deny: ["enforce_eager"] } });
    const result = validateRepo(
      bare({
        "clusters/h1/cluster.yaml": lab,
        "models/alice/a.yaml": specText("a", {
          engine_kwargs: { trust_remote_code: true, enforce_eager: true, worker_extension_cls: "evil.Mod" },
        }),
      }),
    );
    expect(result.diagnostics.map((d) => [d.rule, d.line, d.message.split(":")[0]])).toEqual([
      ["engine-kwarg-denied", 4, "engine_kwargs.trust_remote_code is not allowed on cluster h1"],
      ["engine-kwarg-denied", 5, "engine_kwargs.enforce_eager is not allowed on cluster h1"],
      ["engine-kwarg-denied", 6, "engine_kwargs.worker_extension_cls is not allowed on cluster h1"],
    ]);
  });

  it("lifts a built-in denial only where a cluster.yaml allows it by name", () => {
    const h1 = clusterText({ default: true, engine_kwargs: { allow: ["trust_remote_code"] } });
    const spec = specText("a", {
      clusters: ["h1", "lab"],
      engine_kwargs: { trust_remote_code: true, worker_extension_cls: "evil.Mod" },
    });
    const result = validateRepo(bare({ "clusters/h1/cluster.yaml": h1, "models/alice/a.yaml": spec }));
    expect(result.diagnostics.map((d) => d.message.split(":")[0])).toEqual([
      "engine_kwargs.trust_remote_code is not allowed on cluster lab",
      "engine_kwargs.worker_extension_cls is not allowed on cluster h1",
      "engine_kwargs.worker_extension_cls is not allowed on cluster lab",
    ]);
    const allowed = validateRepo(
      bare({
        "clusters/h1/cluster.yaml": h1,
        "models/alice/a.yaml": specText("a", { engine_kwargs: { trust_remote_code: true } }),
      }),
    );
    expect(allowed.diagnostics).toEqual([]);
  });

  it("warns about an allow entry that lifts nothing", () => {
    const h1 = clusterText({
      default: true,
      engine_kwargs: { deny: ["download_dir"], allow: ["trust_remote_cod", "enforce_eager", "download_dir"] },
    });
    const result = validateRepo(bare({ "clusters/h1/cluster.yaml": h1 }));
    expect(result.ok).toBe(true);
    expect(result.diagnostics.map((d) => [d.severity, d.rule, d.message])).toEqual([
      [
        "warning",
        "engine-kwarg-allow-unused",
        "engine_kwargs.allow lists `trust_remote_cod`, which is neither on the built-in deny list nor capped, so it lifts nothing: did you mean `trust_remote_code`?",
      ],
      [
        "warning",
        "engine-kwarg-allow-unused",
        "engine_kwargs.allow lists `enforce_eager`, which is neither on the built-in deny list nor capped, so it lifts nothing (arguments not denied need no allow; the README's cluster settings list the built-in denials and caps)",
      ],
      [
        "warning",
        "engine-kwarg-allow-unused",
        "engine_kwargs.allow lists `download_dir`, which engine_kwargs.deny lists too: it stays denied",
      ],
    ]);
  });

  it("reports a spec on every cluster it names, once per rule", () => {
    const result = validateRepo(
      bare({ "models/alice/a.yaml": specText("a", { model_source: "/etc/a", clusters: ["h1", "lab"] }) }),
    );
    expect(result.diagnostics.map((d) => d.rule)).toEqual(["model-source-outside-roots"]);
    expect(result.diagnostics[0]!.message).toContain("(cluster h1)");
  });
});

describe("global rules", () => {
  it("refuses models over a cluster's capacity, counting max_replicas when autoscaling", () => {
    const fits = validateRepo(
      bare({
        "clusters/h1/cluster.yaml": SMALL,
        "models/alice/a.yaml": specText("a", { autoscaling: { min_replicas: 1, max_replicas: 8 } }),
      }),
    );
    expect(fits.diagnostics).toEqual([]);
    const over = validateRepo(
      bare({
        "models/users.yaml": ROOMY_USERS,
        "clusters/h1/cluster.yaml": SMALL,
        "models/alice/a.yaml": specText("a", { autoscaling: { min_replicas: 0, max_replicas: 9 } }),
      }),
    );
    expect(over.diagnostics.map(where)).toEqual([
      { file: "clusters/h1/cluster.yaml", line: 3, column: 7, code: "E422", rule: "cluster-capacity" },
    ]);
    expect(over.diagnostics[0]!.message).toBe(
      "cluster h1 has 8 GPUs; its models would need 9 (alice 9), 1 too many: reduce replicas (num_replicas, autoscaling.max_replicas) or gpus_per_replica, or deploy to another cluster (clusters:)",
    );
  });

  it("accepts autoscaling whose min_replicas equals max_replicas, and refuses min above max", () => {
    const scaling = (min_replicas: number, max_replicas: number) =>
      validateRepo(
        bare({ "models/alice/a.yaml": specText("a", { autoscaling: { min_replicas, max_replicas } }) }),
      ).diagnostics;
    expect(scaling(2, 2)).toEqual([]);
    expect(scaling(3, 2).map(where)).toEqual([
      { file: "models/alice/a.yaml", line: 4, column: 17, code: "E422", rule: "autoscaling-range" },
    ]);
  });

  it("sums capacity over every user's models on the cluster", () => {
    const result = validateRepo(
      bare({
        "clusters/h1/cluster.yaml": SMALL,
        "models/alice/a.yaml": specText("a", { num_replicas: 3, gpus_per_replica: 2 }),
        "models/bob/b.yaml": specText("b", { num_replicas: 3 }),
      }),
    );
    expect(result.diagnostics.map((d) => d.rule)).toEqual(["cluster-capacity"]);
    expect(result.diagnostics[0]!.message).toContain("would need 9 (alice 6, bob 3), 1 too many");
  });

  it("puts capacity problems on the touched specs when blamed", () => {
    const snapshot = bare({
      "clusters/h1/cluster.yaml": SMALL,
      "models/alice/a.yaml": specText("a", { num_replicas: 3, gpus_per_replica: 2 }),
      "models/bob/b.yaml": specText("b", { num_replicas: 3 }),
    });
    const result = validateRepo(snapshot, { blame: new Set(["models/bob/b.yaml"]) });
    // On the line that sets the model's size.
    expect(result.diagnostics.map(where)).toEqual([
      { file: "models/bob/b.yaml", line: 3, column: 1, code: "E422", rule: "cluster-capacity" },
    ]);
  });

  it("keeps capacity problems on cluster.yaml when the change touches it, not on every spec as well", () => {
    const snapshot = bare({
      "clusters/h1/cluster.yaml": SMALL,
      "models/alice/a.yaml": specText("a", { num_replicas: 3, gpus_per_replica: 2 }),
      "models/bob/b.yaml": specText("b", { num_replicas: 3 }),
    });
    const result = validateRepo(snapshot, {
      blame: new Set(["models/bob/b.yaml", "clusters/h1/cluster.yaml"]),
    });
    expect(result.diagnostics.map(where)).toEqual([
      { file: "clusters/h1/cluster.yaml", line: 3, column: 7, code: "E422", rule: "cluster-capacity" },
    ]);
  });

  it("refuses a user over their quota on one cluster, counting max_replicas", () => {
    const result = validateRepo(
      bare({ "models/bob/b.yaml": specText("b", { autoscaling: { min_replicas: 1, max_replicas: 5 } }) }),
    );
    expect(result.diagnostics.map(where)).toEqual([
      { file: "models/bob/b.yaml", line: 5, column: 3, code: "E422", rule: "user-quota" },
    ]);
    expect(result.diagnostics[0]!.message).toBe(
      "bob would hold 5 GPUs on cluster h1 (this model: 5); the quota is 4 (autoscaling counts max_replicas). To fit, reduce autoscaling.max_replicas or gpus_per_replica of bob's models on h1 (or undeploy one), or ask an admin to raise bob's gpu_quota in models/users.yaml",
    );
  });

  it("counts quota per cluster, not across clusters", () => {
    const result = validateRepo(
      bare({
        "models/bob/b.yaml": specText("b", { num_replicas: 3 }),
        "models/bob/c.yaml": specText("c", { num_replicas: 3, clusters: ["lab"] }),
      }),
    );
    expect(result.diagnostics).toEqual([]);
  });

  it("points budget problems at the line that sets the model's size", () => {
    const result = validateRepo(
      bare({
        "models/bob/r.yaml": specText("r", { num_replicas: 3 }),
        "models/bob/g.yaml": specText("g", { gpus_per_replica: 2 }),
        "models/bob/m.yaml": specText("m"),
      }),
    );
    expect(result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.rule}`)).toEqual([
      "models/bob/g.yaml:3:1 user-quota",
      "models/bob/m.yaml:1:1 user-quota",
      "models/bob/r.yaml:3:1 user-quota",
    ]);
  });

  it("reports quota on every model of the user, or only the touched ones when blamed", () => {
    const snapshot = bare({
      "models/bob/b.yaml": specText("b", { num_replicas: 3 }),
      "models/bob/c.yaml": specText("c", { num_replicas: 2 }),
    });
    expect(validateRepo(snapshot).diagnostics.map((d) => `${d.file} ${d.rule}`)).toEqual([
      "models/bob/b.yaml user-quota",
      "models/bob/c.yaml user-quota",
    ]);
    const blamed = validateRepo(snapshot, { blame: new Set(["models/bob/c.yaml"]) });
    expect(blamed.diagnostics.map((d) => `${d.file} ${d.rule}`)).toEqual(["models/bob/c.yaml user-quota"]);
  });

  it("warns, without failing, when replicas fit the total but not whole nodes", () => {
    const result = validateRepo(
      bare({
        "models/users.yaml": ROOMY_USERS,
        "clusters/h1/cluster.yaml": clusterText({ default: true, gpus: 16, gpus_per_node: 8 }),
        "models/alice/a.yaml": specText("a", { num_replicas: 3, gpus_per_replica: 5 }),
      }),
    );
    expect(result.ok).toBe(true);
    expect(result.diagnostics.map((d) => [d.file, d.severity, d.code, d.rule])).toEqual([
      ["clusters/h1/cluster.yaml", "warning", "E422", "packing"],
    ]);
    expect(result.diagnostics[0]!.message).toContain("cannot be packed onto whole nodes of 8 GPUs");
  });

  it("does not warn when mixed replica sizes pack exactly", () => {
    const result = validateRepo(
      bare({
        "models/users.yaml": ROOMY_USERS,
        "clusters/h1/cluster.yaml": clusterText({ default: true, gpus: 16, gpus_per_node: 8 }),
        "models/alice/a.yaml": specText("a", { num_replicas: 2, gpus_per_replica: 5 }),
        "models/alice/b.yaml": specText("b", { num_replicas: 2, gpus_per_replica: 3 }),
      }),
    );
    expect(result.diagnostics).toEqual([]);
  });

  it("counts a gpus that is no multiple of gpus_per_node as whole nodes and one smaller node", () => {
    const cluster = (gpus: number) => clusterText({ default: true, gpus, gpus_per_node: 8 });
    // 10 GPUs: a node of 8 and a node of 2, which holds b's two 1-GPU replicas.
    const fits = validateRepo(
      bare({
        "models/users.yaml": ROOMY_USERS,
        "clusters/h1/cluster.yaml": cluster(10),
        "models/alice/a.yaml": specText("a", { gpus_per_replica: 8 }),
        "models/alice/b.yaml": specText("b", { num_replicas: 2 }),
      }),
    );
    expect(fits.diagnostics).toEqual([]);
    // 12 GPUs: a node of 8 and a node of 4; the second 6-GPU replica fits neither.
    const pending = validateRepo(
      bare({
        "models/users.yaml": ROOMY_USERS,
        "clusters/h1/cluster.yaml": cluster(12),
        "models/alice/a.yaml": specText("a", { num_replicas: 2, gpus_per_replica: 6 }),
      }),
    );
    expect(pending.diagnostics.map((d) => d.message)).toEqual([
      "the 12 GPUs fit cluster h1's 12, but the replicas cannot be packed onto whole nodes of 8 GPUs (and one node of 4): some may stay pending",
    ]);
  });

  it("does not warn when the replicas pack, also where best-fit decreasing would not find it", () => {
    // Two nodes of 12: 5+4+3 on each. Best fit puts 5+5 on one node, then 4+4+3 on the other, and the
    // last 3 fits nowhere.
    const cluster = clusterText({ default: true, gpus: 24, gpus_per_node: 12 });
    const specs = (sizes: readonly number[]) =>
      Object.fromEntries(
        sizes.map((gpus, i) => [`models/alice/m${i}.yaml`, specText(`m${i}`, { gpus_per_replica: gpus })]),
      );
    const fits = validateRepo(
      bare({
        "models/users.yaml": ROOMY_USERS,
        "clusters/h1/cluster.yaml": cluster,
        ...specs([5, 5, 4, 4, 3, 3]),
      }),
    );
    expect(fits.diagnostics).toEqual([]);
    // 7+5 and 7+5 would fit; 7, 7, 6, 4 (24 GPUs) cannot: 7 shares a node with at most 5.
    const pending = validateRepo(
      bare({ "models/users.yaml": ROOMY_USERS, "clusters/h1/cluster.yaml": cluster, ...specs([7, 7, 6, 4]) }),
    );
    expect(pending.diagnostics.map((d) => d.rule)).toEqual(["packing"]);
  });

  it("packs autoscaling replicas by max_replicas", () => {
    // 3 replicas of 5 GPUs: 15 of 16 GPUs, but only two nodes of 8.
    const result = validateRepo(
      bare({
        "models/users.yaml": ROOMY_USERS,
        "clusters/h1/cluster.yaml": clusterText({ default: true, gpus: 16, gpus_per_node: 8 }),
        "models/alice/a.yaml": specText("a", {
          gpus_per_replica: 5,
          autoscaling: { min_replicas: 1, max_replicas: 3 },
        }),
      }),
    );
    expect(result.diagnostics.map(where)).toEqual([
      { file: "clusters/h1/cluster.yaml", line: 3, column: 7, code: "E422", rule: "packing" },
    ]);
    expect(result.diagnostics[0]!.message).toBe(
      "the 15 GPUs fit cluster h1's 16, but the replicas cannot be packed onto whole nodes of 8 GPUs: some may stay pending",
    );
  });

  it("refuses gpus_per_node above the cluster's gpus", () => {
    const result = validateRepo(
      bare({ "clusters/h1/cluster.yaml": clusterText({ default: true, gpus: 4, gpus_per_node: 8 }) }),
    );
    expect(result.diagnostics.map(where)).toEqual([
      { file: "clusters/h1/cluster.yaml", line: 4, column: 16, code: "E422", rule: "gpus-per-node" },
    ]);
  });

  it("checks gpus_per_replica against every named cluster's node size", () => {
    const result = validateRepo(
      bare({ "models/alice/a.yaml": specText("a", { gpus_per_replica: 6, clusters: ["h1", "lab"] }) }),
    );
    expect(result.diagnostics.map((d) => d.message)).toEqual([
      "gpus_per_replica (6) exceeds the 4 GPUs of one node on cluster lab: one replica must fit on one node",
    ]);
  });

  it("refuses two default clusters on both files, and does not blame specs as well", () => {
    const result = validateRepo(withFiles({ "clusters/lab/cluster.yaml": clusterText({ default: true }) }));
    expect(result.diagnostics.map((d) => `${d.file} ${d.code} ${d.rule}`)).toEqual([
      "clusters/h1/cluster.yaml E409 multiple-default-clusters",
      "clusters/lab/cluster.yaml E409 multiple-default-clusters",
    ]);
  });

  it("refuses an unknown cluster name and lists the known ones", () => {
    const result = validateRepo(bare({ "models/alice/a.yaml": specText("a", { clusters: ["lab", "h9"] }) }));
    expect(result.diagnostics.map(where)).toEqual([
      { file: "models/alice/a.yaml", line: 5, column: 5, code: "E400", rule: "unknown-cluster" },
    ]);
    expect(result.diagnostics[0]!.message).toBe('unknown cluster "h9": known clusters are h1, lab');
  });

  it("refuses an accelerator_type that is not in Ray's list", () => {
    const result = validateRepo(
      bare({ "clusters/lab/cluster.yaml": clusterText({ accelerator_type: "RTX-9090" }) }),
    );
    expect(result.diagnostics.map(where)).toEqual([
      { file: "clusters/lab/cluster.yaml", line: 2, column: 19, code: "E400", rule: "accelerator-unknown" },
    ]);
    expect(result.diagnostics[0]!.message).toContain("Ray's accelerator list");
  });

  it("does not blame specs that name a broken cluster for it", () => {
    const result = validateRepo(
      bare({
        "clusters/lab/cluster.yaml": "default: false\n",
        "models/alice/a.yaml": specText("a", { clusters: ["lab"] }),
      }),
    );
    expect(new Set(result.diagnostics.map((d) => d.file))).toEqual(new Set(["clusters/lab/cluster.yaml"]));
  });
});

describe("one bad file never hides another's diagnostics", () => {
  const bad =
    "model_id: a\nmodel_source: $HOME/../bob\nnum_replica: 1\nengine_kwargs:\n  max_model_lenght: 1\n";
  const expected = [
    "models/alice/a.yaml:2:15 model-source-traversal",
    "models/alice/a.yaml:3:1 unknown-field",
    "models/alice/a.yaml:5:3 engine-kwarg-unknown",
  ];
  const lines = (s: RepoSnapshot, file: string) =>
    validateRepo(s)
      .diagnostics.filter((d) => d.file === file)
      .map((d) => `${d.file}:${d.line}:${d.column} ${d.rule}`);

  it("reports every broken file of the tree", () => {
    const result = validateRepo(
      bare({
        "models/alice/a.yaml": bad,
        "models/alice/b.yaml": "model_id: b\nmodel_source: &x $HOME/x\n",
        "models/bob/c.yaml": new Uint8Array([0xff]),
        "models/carol/d.yaml": specText("d"),
        "clusters/lab/cluster.yaml": clusterText({ accelerator_type: "nope" }),
        "models/bob/ok.yaml": specText("ok"),
      }),
    );
    expect([...new Set(result.diagnostics.map((d) => d.file))]).toEqual([
      "clusters/lab/cluster.yaml",
      "models/alice/a.yaml",
      "models/alice/b.yaml",
      "models/bob/c.yaml",
      "models/carol/d.yaml",
    ]);
    expect(result.model.models.map((m) => m.file)).toEqual(["models/bob/ok.yaml"]);
  });

  it("still checks a spec whose default cluster.yaml is broken", () => {
    expect(
      lines(
        bare({ "clusters/h1/cluster.yaml": "default: true\ngpus: x\n", "models/alice/a.yaml": bad }),
        "models/alice/a.yaml",
      ),
    ).toEqual(expected);
  });

  it("still checks a spec when models/users.yaml is broken", () => {
    const found = lines(
      bare({ "models/users.yaml": "admins: 1\n", "models/alice/a.yaml": bad }),
      "models/alice/a.yaml",
    );
    expect(found).toEqual(["models/alice/a.yaml:1:1 unregistered-user", ...expected]);
  });

  it("checks specs against what a broken cluster.yaml still validly says", () => {
    const broken = clusterText({
      default: true,
      gpus_per_node: 4,
      ray: { dashboard_address: "ray-head:8265" },
      sources: { allow_hub: false },
    });
    const result = validateRepo(
      bare({
        "clusters/h1/cluster.yaml": broken,
        "models/alice/t.yaml": `${specText("t", { gpus_per_replica: 8 })}engine_kwargs:\n  trust_remote_code: true\n`,
        "models/alice/hub.yaml": "model_id: hub\nmodel_source: Qwen/Qwen2.5-0.5B\n",
      }),
    );
    expect(result.diagnostics.map((d) => `${d.file} ${d.rule}`)).toEqual([
      "clusters/h1/cluster.yaml invalid-value",
      "models/alice/hub.yaml model-source-hub-not-allowed",
      "models/alice/t.yaml gpus-per-node",
      "models/alice/t.yaml engine-kwarg-denied",
    ]);
    // Nothing of such a cluster is rendered: no model survives.
    expect(result.model.models).toEqual([]);
  });

  it("does not invent quota errors when models/users.yaml is missing", () => {
    const result = validateRepo(bare({ "models/users.yaml": null, "models/alice/a.yaml": specText("a") }));
    // The missing registry is said once, on its own path; the folder cannot be checked without it.
    expect(result.diagnostics.map((d) => `${d.file} ${d.rule}`)).toEqual([
      "models/alice/a.yaml unregistered-user",
      "models/users.yaml missing-file",
    ]);
    expect(result.diagnostics[0]!.message).toContain("models/users.yaml is missing or invalid");
  });
});

describe("validation never throws", () => {
  // A deterministic generator, so a failure reproduces.
  function random(seed: number) {
    let s = seed >>> 0;
    return () => {
      s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
      s ^= s >>> 13;
      return s / 2 ** 32;
    };
  }
  const PIECES = [
    "model_id: f\n",
    "model_source: $HOME/x\n",
    "num_replicas: ",
    "autoscaling:\n  ",
    "engine_kwargs:\n  ",
    "clusters: [",
    "&a ",
    "*a",
    "!!binary ",
    "? ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    ": ",
    '"',
    "'",
    "\\u2028",
    "#",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "__proto__: ",
    "constructor: ",
    "toString: ",
    "<<: ",
    "\t",
    "\n",
    "  ",
    "0",
    "-1",
    "1e999",
    ".nan",
    "~",
    "null",
    "true",
    "%2e%2e/",
    "../",
    "\u0000",
    "\uFEFF",
    "\u2028",
    "é",
    "😀",
    "max_model_len: ",
    "x".repeat(300),
  ];

  it("survives 200 random byte strings and YAML snippets", () => {
    const next = random(20260106);
    for (let i = 0; i < 200; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = Uint8Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256));
      } else {
        const parts = Array.from(
          { length: 1 + Math.floor(next() * 25) },
          () => PIECES[Math.floor(next() * PIECES.length)]!,
        );
        bytes = new TextEncoder().encode(parts.join(""));
      }
      const target = ["models/alice/f.yaml", "models/users.yaml", "clusters/h1/cluster.yaml"][i % 3]!;
      let result: Validation | undefined;
      expect(
        () => {
          result = validateRepo(withFiles({ [target]: bytes }));
        },
        `input ${i}: ${Buffer.from(bytes).toString("base64")}`,
      ).not.toThrow();
      for (const d of result!.diagnostics) {
        expect(d.line).toBeGreaterThanOrEqual(1);
        expect(d.column).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it("survives odd values in every field of a parsed spec", () => {
    const values = [
      null,
      0,
      -1,
      1.5,
      "",
      "x",
      true,
      [],
      [null],
      {},
      { a: { b: [] } },
      "1e999",
      Number.MAX_SAFE_INTEGER,
    ];
    for (const field of [
      "model_id",
      "model_source",
      "num_replicas",
      "gpus_per_replica",
      "autoscaling",
      "engine_kwargs",
      "clusters",
      "labels",
      "description",
    ]) {
      for (const value of values) {
        const text = JSON.stringify({ model_id: "f", model_source: "$HOME/x", [field]: value });
        expect(() => validateRepo(withFiles({ "models/alice/f.yaml": text }))).not.toThrow();
      }
    }
  });
});

describe("classifyPath", () => {
  it.each([
    ["models/users.yaml", { role: "users" }],
    ["models/alice/x.yaml", { role: "spec", user: "alice", suffix: "x" }],
    ["models/alice/x.yml", { role: "spec", user: "alice", suffix: "x" }],
    ["models/alice/.gitkeep", { role: "other" }],
    [
      "models/alice/README.md",
      { role: "misplaced", reason: "only ServingSpec files (.yaml or .yml) belong in a user's folder" },
    ],
    ["models", { role: "misplaced", reason: "models is a file; it must be a folder" }],
    [
      "models/x.yaml",
      {
        role: "misplaced",
        reason: "specs live at models/<user_id>/<model_id>.yaml, not directly under models/",
      },
    ],
    [
      "models/a/b/x.yaml",
      {
        role: "misplaced",
        reason: "specs live exactly at models/<user_id>/<model_id>.yaml: no nested folders",
      },
    ],
    ["clusters/h1/cluster.yaml", { role: "cluster", cluster: "h1" }],
    ["clusters/h1/rendered/alice/x.yaml", { role: "rendered", cluster: "h1", user: "alice", suffix: "x" }],
    ["clusters/h1/rendered/notes.txt", { role: "rendered", cluster: "h1" }],
    // render writes .yaml only: a .yml there is no fragment (and names no model).
    ["clusters/h1/rendered/alice/x.yml", { role: "rendered", cluster: "h1" }],
    ["clusters/h1/serve.hbs", { role: "cluster-file", cluster: "h1" }],
    ["README.md", { role: "other" }],
  ])("%s", (path, role) => {
    expect(classifyPath(path)).toEqual(role);
  });

  it("refuses files other than specs in a user's folder, and non-regular files anywhere under models/", () => {
    const result = validateRepo(
      bare({
        "models/alice/notes.txt": "hi",
        "models/alice/.gitkeep": "",
        "models/alice/dev": { path: "models/alice/dev", kind: "other", bytes: new Uint8Array() },
      }),
    );
    expect(result.diagnostics.map((d) => `${d.file} ${d.code} ${d.rule}`)).toEqual([
      "models/alice/dev E403 special-file",
      "models/alice/notes.txt E400 spec-location",
    ]);
  });

  it("refuses a symlinked cluster.yaml instead of silently dropping the cluster", () => {
    const link = "clusters/lab/cluster.yaml";
    const result = validateRepo(
      withFiles({ [link]: { path: link, kind: "symlink", bytes: new TextEncoder().encode("/etc/passwd") } }),
    );
    expect(result.diagnostics.filter((d) => d.file === link).map((d) => `${d.code} ${d.rule}`)).toEqual([
      "E403 symlink",
    ]);
  });
});

describe("schema problems point at the offending key or item", () => {
  const at = (result: Validation) =>
    result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.message}`);

  it("names every key that breaks propertyNames, on its own line", () => {
    const users =
      "admins: [root]\nusers:\n  alice: {github: [alice], gpu_quota: 8}\n  Carol-X: {github: [c], gpu_quota: 1}\n  Dan-Y: {github: [d], gpu_quota: 1}\n";
    const result = validateRepo(withFiles({ "models/users.yaml": users }));
    expect(at(result).filter((m) => m.startsWith("models/users.yaml"))).toEqual([
      "models/users.yaml:4:3 key `Carol-X` in `users` must be a user id: 1 to 32 lowercase letters, digits or `_`, starting with a letter (e.g. `alice` or `bob_2`)",
      "models/users.yaml:5:3 key `Dan-Y` in `users` must be a user id: 1 to 32 lowercase letters, digits or `_`, starting with a letter (e.g. `alice` or `bob_2`)",
    ]);
  });

  it("names a label whose key holds a `/` as the owner wrote it, not JSON-pointer-escaped", () => {
    // Label keys may hold `/` (`team.example.com/owner`, the schema's propertyNames pattern).
    const result = validateRepo(
      bare({
        "models/alice/t.yaml":
          "model_id: t\nmodel_source: $HOME/common/hf/t\nlabels:\n  team.example.com/owner: 5\n",
      }),
    );
    expect(at(result)).toEqual([
      "models/alice/t.yaml:4:27 `labels.team.example.com/owner` must be a string: YAML read 5 as a number; put the value in quotes to make it text",
    ]);
  });

  it("says a pattern in words with an example, never as a regex", () => {
    const result = validateRepo(
      bare({
        "models/users.yaml": "admins: [root, 'ops@corp']\nusers:\n  alice: {github: [alice], gpu_quota: 8}\n",
        "models/alice/Qwen_7B.yaml": "model_id: Qwen_7B\nmodel_source: $HOME/common/hf/t\n",
      }),
    );
    const messages = at(result);
    expect(messages).toContain(
      "models/users.yaml:1:16 `admins.1` must be a GitHub login: 1 to 39 letters, digits or `-`, not starting with `-`, no `@` (e.g. `alice-smith`; a bot's ends in `[bot]`, e.g. `renovate[bot]`)",
    );
    expect(messages).toContain(
      "models/alice/Qwen_7B.yaml:1:11 `model_id` must be 1 to 64 lowercase letters, digits, `.`, `_` or `-`, starting and ending with a letter or digit (e.g. `qwen2.5-7b-instruct`)",
    );
    expect(messages.join("\n")).not.toContain("must match pattern");
  });

  it("says cluster.yaml's problems in words too: credentials in the dashboard address, the allowed layouts", () => {
    // agent/README.md: ray.dashboard_address "refuses credentials outright"; the admin should be told that,
    // not shown a regex, and an unknown serve.layout should name the layouts there are.
    const result = validateRepo(
      bare({
        "clusters/h1/cluster.yaml": clusterText({
          default: true,
          ray: { dashboard_address: "http://admin:secret@ray-head:8265" },
          serve: { layout: "permodel" },
        }),
      }),
    );
    const messages = at(result).filter((m) => m.startsWith("clusters/h1/cluster.yaml"));
    expect(messages).toHaveLength(2);
    expect(messages.join("\n")).not.toContain("must match pattern");
    expect(messages.join("\n")).toMatch(/credential/);
    expect(messages.join("\n")).not.toContain("must be equal to one of the allowed values");
    expect(messages.join("\n")).toContain("per-model");
  });

  it("puts every pattern of the schemas into words", () => {
    const patterns = new Set<string>();
    const walk = (node: unknown): void => {
      if (typeof node !== "object" || node === null) return;
      for (const [key, value] of Object.entries(node)) {
        if (key === "pattern" && typeof value === "string") patterns.add(value);
        else walk(value);
      }
    };
    for (const schema of [specSchema, usersSchema, clusterSchema]) walk(schema);
    for (const pattern of patterns) expect(Object.keys(PATTERN_WORDS), pattern).toContain(pattern);
  });

  it("suggests the field a prefix-less name means: `replicas` is num_replicas", () => {
    const result = validateRepo(
      bare({ "models/alice/t.yaml": "model_id: t\nmodel_source: $HOME/common/hf/t\nreplicas: 2\n" }),
    );
    expect(at(result)).toEqual([
      "models/alice/t.yaml:3:1 unknown field `replicas` at the top level: did you mean `num_replicas`?",
    ]);
  });

  it("reports every missing field, the repeated item and too many labels where they are", () => {
    const labels = Array.from({ length: 33 }, (_, i) => `  l${i}: x\n`).join("");
    const result = validateRepo(
      bare({
        "models/alice/t.yaml": `model_id: t\nmodel_source: $HOME/common/hf/t\nautoscaling: {}\nclusters: [h1, h1]\nlabels:\n${labels}`,
      }),
    );
    expect(at(result)).toEqual([
      "models/alice/t.yaml:3:1 missing required field `min_replicas` in `autoscaling`",
      "models/alice/t.yaml:3:1 missing required field `max_replicas` in `autoscaling`",
      "models/alice/t.yaml:4:16 `clusters` lists the same value twice (items 1 and 2): keep one",
      "models/alice/t.yaml:5:1 `labels` must NOT have more than 32 properties",
    ]);
  });
});

describe("denied engine arguments name the cluster and where its denial comes from", () => {
  const kwargs = "engine_kwargs:\n  trust_remote_code: true\n";
  it("the platform's built-in list", () => {
    const result = validateRepo(bare({ "models/alice/t.yaml": specText("t") + kwargs }));
    expect(result.diagnostics.map((d) => d.message)).toEqual([
      "engine_kwargs.trust_remote_code is not allowed on cluster h1: it is on the platform's built-in deny list because it runs the Python code shipped with the model (code execution); only an admin can lift it, with engine_kwargs.allow in clusters/h1/cluster.yaml",
    ]);
  });

  it("the cluster's own list", () => {
    const result = validateRepo(
      bare({
        "clusters/h1/cluster.yaml": clusterText({
          default: true,
          engine_kwargs: { deny: ["enforce_eager"] },
        }),
        "models/alice/t.yaml": specText("t") + "engine_kwargs:\n  enforce_eager: true\n",
      }),
    );
    expect(result.diagnostics.map((d) => d.message)).toEqual([
      "engine_kwargs.enforce_eager is not allowed on cluster h1: clusters/h1/cluster.yaml denies it (engine_kwargs.deny)",
    ]);
  });

  it("a built-in denial that the cluster both allows and denies: still denied, saying both", () => {
    const result = validateRepo(
      bare({
        "clusters/h1/cluster.yaml": clusterText({
          default: true,
          engine_kwargs: { deny: ["trust_remote_code"], allow: ["trust_remote_code"] },
        }),
        "models/alice/t.yaml": specText("t") + kwargs,
      }),
    );
    expect(result.diagnostics.filter((d) => d.file === "models/alice/t.yaml").map((d) => d.message)).toEqual([
      "engine_kwargs.trust_remote_code is not allowed on cluster h1: it is on the platform's built-in deny list because it runs the Python code shipped with the model (code execution), and clusters/h1/cluster.yaml denies it too",
    ]);
  });

  it("a cluster.yaml with errors: its valid deny list adds to the built-in one, an invalid allow lifts nothing", () => {
    const broken = (engine_kwargs: Record<string, unknown>) =>
      validateRepo(
        bare({
          "clusters/h1/cluster.yaml": clusterText({ default: true, gpus: "many", engine_kwargs }),
          "models/alice/t.yaml":
            specText("t") + "engine_kwargs:\n  trust_remote_code: true\n  enforce_eager: true\n",
        }),
      ).diagnostics.filter((d) => d.rule === "engine-kwarg-denied");
    expect(broken({ deny: ["enforce_eager"] }).map((d) => d.line)).toEqual([4, 5]);
    expect(broken({ allow: ["trust_remote_code"] }).map((d) => d.line)).toEqual([]);
    expect(broken({ allow: "trust_remote_code" }).map((d) => d.line)).toEqual([4]);
  });
});

describe("a cluster folder without cluster.yaml", () => {
  const missing = (changes: Record<string, FileChange>) =>
    validateRepo(bare(changes)).diagnostics.map((d) => `${d.file} ${d.severity} ${d.rule}: ${d.message}`);

  it("is reported once, on the cluster.yaml it lacks, whatever it holds: fragments, a README, settings", () => {
    const fragment = "clusters/x/rendered/alice/qwen-0.5b.yaml";
    expect(missing({ [fragment]: "served_name: alice-202601061235-qwen-0.5b\n" })).toEqual([
      "clusters/x/cluster.yaml error missing-file: clusters/x/ has no cluster.yaml, so nothing in it is used (it holds rendered/): add a cluster's settings as clusters/x/cluster.yaml, or remove the folder (`git rm -r clusters/x`)",
    ]);
    expect(
      missing({
        [fragment]: "served_name: alice-202601061235-qwen-0.5b\n",
        "clusters/x/README.md": "notes\n",
        "clusters/x/cluster.yml": clusterText(),
        "clusters/x/rendered/bob/b.yaml": "x\n",
      }),
    ).toEqual([
      "clusters/x/cluster.yaml error missing-file: clusters/x/ has no cluster.yaml, so nothing in it is used (it holds README.md, cluster.yml, rendered/): add a cluster's settings as clusters/x/cluster.yaml, or remove the folder (`git rm -r clusters/x`)",
    ]);
  });

  it("is not reported when cluster.yaml exists, even when it is itself refused", () => {
    expect(missing({ "clusters/h1/README.md": "notes\n" })).toEqual([]);
    const link = "clusters/lab/cluster.yaml";
    expect(
      missing({
        [link]: { path: link, kind: "symlink", bytes: new TextEncoder().encode("../h1/cluster.yaml") },
      }).map((line) => line.split(":")[0]),
    ).toEqual(["clusters/lab/cluster.yaml error symlink"]);
  });
});

describe("cluster.yaml source roots", () => {
  it.each([
    [{ shared: ["/private/hf/../users"] }],
    [{ shared: ["/private/./hf"] }],
    [{ user: "/private/users/../{user}" }],
    [{ user: "/private/users" }],
    [{ user: "/private/users/{user}/{user}" }],
    [{ shared: ["/private"] }],
    [{ shared: ["/private/users"] }],
    [{ shared: ["/private/users/alice/models"] }],
    // The default shared root (/private/hf) overlaps a user root set alone just the same.
    [{ user: "/private/hf/users/{user}" }],
    [{ user: "/private/{user}" }],
  ])("refuses %j: a root must be a plain absolute path", (roots) => {
    const result = validateRepo(
      withFiles({ "clusters/lab/cluster.yaml": clusterText({ sources: { roots } }) }),
    );
    expect(result.diagnostics.map((d) => `${d.file} ${d.rule}`)).toEqual([
      "clusters/lab/cluster.yaml invalid-value",
    ]);
  });
});

describe("a cluster folder's name", () => {
  it.each(["H1", "lab_2", "-lab", "a".repeat(64)])("refuses clusters/%s/: no spec could name it", (name) => {
    const path = `clusters/${name}/cluster.yaml`;
    const result = validateRepo(withFiles({ [path]: clusterText() }));
    expect(result.diagnostics.map((d) => `${d.file} ${d.code} ${d.rule}`)).toEqual([
      `${path} E400 spec-location`,
    ]);
    expect(result.diagnostics[0]!.message).toContain("no spec's clusters: list could name it");
  });

  it("accepts the names a spec's clusters: list accepts", () => {
    for (const name of ["x9", "lab-2", "a".repeat(63)])
      expect(
        validateRepo(withFiles({ [`clusters/${name}/cluster.yaml`]: clusterText() })).diagnostics,
      ).toEqual([]);
  });
});

describe("a number where text belongs", () => {
  it("says YAML read it as a number and how to keep it text", () => {
    const result = validateRepo(
      bare({ "models/alice/123.yaml": "model_id: 123\nmodel_source: $HOME/common/hf/x\n" }),
    );
    expect(result.diagnostics.map((d) => `${d.line}:${d.column} ${d.rule} ${d.message}`)).toEqual([
      "1:11 wrong-type `model_id` must be a string: YAML read 123 as a number; put the value in quotes to make it text",
    ]);
  });
});

describe("a symlinked models/users.yaml", () => {
  it("is refused as a symlink and not also parsed as the link's target text", () => {
    const link = "models/users.yaml";
    const result = validateRepo(
      withFiles({ [link]: { path: link, kind: "symlink", bytes: new TextEncoder().encode("/etc/passwd") } }),
    );
    expect(result.diagnostics.filter((d) => d.file === link).map((d) => d.rule)).toEqual(["symlink"]);
  });
});

describe("cluster.yaml OpenAI URLs", () => {
  it.each([
    [{ server_url: "https://dstack.company.com", base_url: "/access?team=1" }],
    [{ server_url: "https://dstack.company.com", base_url: "/access/models#x" }],
    [{ server_url: "https://dstack.company.com", base_url: "/access models/" }],
    [{ server_url: "https://dstack.company.com?x=1", base_url: "/access/" }],
    [{ server_url: "https://dstack.company.com", base_url: "//evil.example/x/" }],
    [{ server_url: "https://dstack.company.com", base_url: "/access/../h1/" }],
    [{ server_url: "https://dstack.company.com", base_url: "/%2e%2e/" }],
  ])("refuses %j: routes and /v1 are appended to the base URL", (openai) => {
    const result = validateRepo(withFiles({ "clusters/lab/cluster.yaml": clusterText({ openai }) }));
    expect(result.diagnostics.map((d) => `${d.file} ${d.rule}`)).toEqual([
      "clusters/lab/cluster.yaml invalid-value",
    ]);
  });
});

describe("a cluster.yaml whose user root is invalid", () => {
  it("does not let its specs use that root: they are checked against the platform's default", () => {
    const result = validateRepo(
      bare({
        "clusters/h1/cluster.yaml": clusterText({
          default: true,
          sources: { roots: { user: "/home x/{user}" } },
        }),
        "models/alice/t.yaml": "model_id: t\nmodel_source: /home x/alice/m\n",
      }),
    );
    expect(result.diagnostics.map((d) => `${d.file} ${d.rule}`)).toEqual([
      "clusters/h1/cluster.yaml invalid-value",
      "models/alice/t.yaml model-source-outside-roots",
    ]);
  });
});

describe("a cluster.yaml with errors still confines its specs", () => {
  const dashboard = { ray: { dashboard_address: "ray-head:8265" } };
  it("to the platform's shared root when its own shared root is invalid", () => {
    const result = validateRepo(
      bare({
        "clusters/h1/cluster.yaml": clusterText({
          default: true,
          sources: { roots: { shared: ["/data models"] } },
        }),
        "models/alice/t.yaml": "model_id: t\nmodel_source: /data models/m\n",
      }),
    );
    expect(result.diagnostics.map(where)).toEqual([
      { file: "clusters/h1/cluster.yaml", line: 13, column: 9, code: "E400", rule: "invalid-value" },
      { file: "models/alice/t.yaml", line: 2, column: 15, code: "E403", rule: "model-source-outside-roots" },
    ]);
  });

  it("to paths when it leaves allow_hub out (the default is false)", () => {
    const result = validateRepo(
      bare({
        "clusters/h1/cluster.yaml": clusterText({ default: true, ...dashboard }),
        "models/alice/hub.yaml": "model_id: hub\nmodel_source: Qwen/Qwen2.5-0.5B\n",
      }),
    );
    expect(result.diagnostics.map((d) => `${d.file} ${d.rule}`)).toEqual([
      "clusters/h1/cluster.yaml invalid-value",
      "models/alice/hub.yaml model-source-hub-not-allowed",
    ]);
  });
});

describe("models/users.yaml and cluster.yaml grow with the organisation", () => {
  const manyUsers = (count: number) =>
    "admins: [platform-admin]\nusers:\n" +
    Array.from({ length: count }, (_, i) => `  u${i}:\n    github: [u${i}]\n    gpu_quota: 1\n`).join("");

  it("are read beyond a spec's 64 KiB", () => {
    const users = manyUsers(3000);
    const cluster = `${clusterText({ default: true })}# ${"x".repeat(MAX_FILE_BYTES)}\n`;
    expect(users.length).toBeGreaterThan(MAX_FILE_BYTES);
    const result = validateRepo(bare({ "models/users.yaml": users, "clusters/h1/cluster.yaml": cluster }));
    expect(result.diagnostics).toEqual([]);
    expect(result.model.users?.users.size).toBe(3000);
    expect(result.model.clusters.get("h1")?.default).toBe(true);
  });

  it("up to their own limit: a users.yaml of exactly that size is read, one byte more is refused", () => {
    const users = manyUsers(1);
    const sized = (bytes: number) =>
      validateRepo(bare({ "models/users.yaml": `${users}# ${"x".repeat(bytes - users.length - 3)}\n` }));
    expect(sized(MAX_CONFIG_BYTES).diagnostics).toEqual([]);
    const over = sized(MAX_CONFIG_BYTES + 1);
    expect(over.diagnostics.map(where)).toEqual([
      { file: "models/users.yaml", line: 1, column: 1, code: "E400", rule: "file-too-large" },
    ]);
    expect(over.diagnostics[0]!.message).toBe(
      `file is ${MAX_CONFIG_BYTES + 1} bytes; the limit is ${MAX_CONFIG_BYTES} bytes`,
    );
  });
});
