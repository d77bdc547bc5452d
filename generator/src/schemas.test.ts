import { Ajv2020 } from "ajv/dist/2020";
import { readdirSync, readFileSync } from "node:fs";
import { load } from "js-yaml";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import accelerators from "../../schemas/ray-accelerators.json";
import engineArgs from "../../schemas/vllm-engine-args.json";
import { bare, FIXTURES, TEMPLATE_REPO } from "../test-fixtures/helpers";
import { CLUSTER_DEFAULTS, parseCluster } from "./validate-config";
import { validateRepo } from "./validate";
import { AJV_OPTIONS, OUTPUT, validatorsSource } from "../scripts/generate-validators.mjs";
import { isKnownAccelerator, SCHEMA_IDS, schemaErrors, type SchemaName } from "./schemas";

// Every schema in schemas/ compiles under ajv's strict 2020 mode, accepts the template's examples (the frozen
// copy in generator/test-fixtures/template-repo: an adopter replaces the live models/ and clusters/) and
// refuses an invalid fixture (generator/test-fixtures/invalid/<schema>.yaml).

const ROOT = new URL("../../", import.meta.url);
/** The examples' copy, laid out like the repository root: its models/ and clusters/ sit where ROOT's do. */
const TEMPLATE = pathToFileURL(`${TEMPLATE_REPO}/`);
const read = (path: string) => readFileSync(new URL(path, ROOT), "utf8");
const readExample = (path: string) => readFileSync(new URL(path, TEMPLATE), "utf8");
const SCHEMA_FILES = readdirSync(new URL("schemas/", ROOT)).filter((f) => f.endsWith(".schema.json"));
const schema = (file: string) =>
  JSON.parse(read(`schemas/${file}`)) as { $id: string; additionalProperties?: unknown };

function compile(file: string) {
  // ajv's strict mode, with the core's two settings (schemas.ts): union types are allowed on purpose, and
  // strictRequired is off because serving-spec.schema.json's `not: {required: [num_replicas, autoscaling]}`
  // names properties the `not` does not itself define.
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true, strictRequired: false });
  return ajv.compile(schema(file));
}

const examples = (dir: string, pattern: RegExp) =>
  readdirSync(new URL(dir, TEMPLATE), { recursive: true, encoding: "utf8" })
    .filter((f) => pattern.test(f))
    .map((f) => `${dir}${f}`);

const EXAMPLES: Record<string, string[]> = {
  "serving-spec.schema.json": examples("models/", /^[^/]+\/[^/]+\.ya?ml$/),
  "users.schema.json": ["models/users.yaml"],
  "cluster.schema.json": examples("clusters/", /^[^/]+\/cluster\.yaml$/),
};

describe("schemas/", () => {
  it("holds the schemas the core uses", () => {
    expect(SCHEMA_FILES.sort()).toEqual([
      "cluster.schema.json",
      "ray-llm-config.schema.json",
      "ray-serve-config.schema.json",
      "serving-spec.schema.json",
      "users.schema.json",
    ]);
  });

  it.each(SCHEMA_FILES)("%s compiles under ajv 2020 strict, with an $id and closed objects", (file) => {
    expect(() => compile(file)).not.toThrow();
    expect(schema(file).$id).toBe(`https://serve-gitops.dev/schemas/${file}`);
    expect(schema(file).additionalProperties).toBe(false);
  });

  it.each(SCHEMA_FILES.filter((f) => f !== "serving-spec.schema.json"))(
    "%s compiles with strictRequired as well",
    (file) => {
      expect(() =>
        new Ajv2020({ strict: true, allowUnionTypes: true, strictRequired: true }).compile(schema(file)),
      ).not.toThrow();
    },
  );

  it("gives the core the same $ids", () => {
    for (const id of Object.values(SCHEMA_IDS)) expect(SCHEMA_FILES.map((f) => schema(f).$id)).toContain(id);
  });

  it.each(Object.entries(EXAMPLES))("%s accepts the template's examples", (file, paths) => {
    const validate = compile(file);
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths)
      expect(validate(load(readExample(path))), `${path}: ${JSON.stringify(validate.errors)}`).toBe(true);
  });

  it("ray-llm-config accepts every committed fragment's LLMConfig", () => {
    const validate = compile("ray-llm-config.schema.json");
    const fragments = examples("clusters/", /rendered\/.+\.yaml$/);
    expect(fragments.length).toBeGreaterThan(0);
    for (const path of fragments) {
      const fragment = load(readExample(path)) as { llm_config: unknown };
      expect(validate(fragment.llm_config), `${path}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it.each(SCHEMA_FILES)("%s rejects its invalid fixture", (file) => {
    const validate = compile(file);
    const fixture = load(readFileSync(`${FIXTURES}invalid/${file.replace(".schema.json", ".yaml")}`, "utf8"));
    expect(validate(fixture)).toBe(false);
    expect(validate.errors!.length).toBeGreaterThanOrEqual(2);
  });

  it("the core's compiled copies agree with the files", () => {
    expect(schemaErrors("serving-spec", load(readExample("models/alice/qwen-0.5b.yaml")))).toEqual([]);
    expect(
      schemaErrors("serving-spec", load(readFileSync(`${FIXTURES}invalid/serving-spec.yaml`, "utf8"))),
    ).not.toEqual([]);
  });

  it("example files point editors at the schemas", () => {
    for (const [file, paths] of Object.entries(EXAMPLES)) {
      for (const path of paths) {
        const first = readExample(path).split("\n")[0]!;
        const match = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
        expect(match, path).not.toBeNull();
        // Resolved as if the file sat at the same path under the repository root, where the examples ship.
        expect(new URL(match![1]!, new URL(path, ROOT)).href).toBe(new URL(`schemas/${file}`, ROOT).href);
      }
    }
  });
});

describe("cluster.yaml's ray.dashboard_address", () => {
  const cluster = (dashboard_address: string) => ({
    default: true,
    accelerator_type: "H20",
    gpus: 8,
    gpus_per_node: 8,
    ray: { dashboard_address },
    openai: { server_url: "https://x.example", base_url: "/v/" },
  });
  const paths = (address: string) => schemaErrors("cluster", cluster(address)).map((e) => e.instancePath);

  it("refuses credentials in the URL: cluster.yaml is public to every reader of the repository", () => {
    expect(paths("http://admin:pass@ray:8265")).toEqual(["/ray/dashboard_address"]);
    expect(paths("https://token@ray.example")).toEqual(["/ray/dashboard_address"]);
    expect(paths("http://ray:8265")).toEqual([]);
    expect(paths("https://ray.example/dashboard/@team")).toEqual([]);
  });
});

describe("catalogs", () => {
  it("Ray's accelerator list holds the example clusters' types", () => {
    expect(accelerators.accelerators).toEqual(expect.arrayContaining(["H20", "L4", "A100", "H100"]));
  });

  it("accepts the names Ray Serve LLM rewrites (A10 -> A10G), and nothing it would refuse", () => {
    expect(isKnownAccelerator("A10")).toBe(true);
    expect(isKnownAccelerator("A10G")).toBe(true);
    expect(isKnownAccelerator("H2O")).toBe(false);
    // An alias counts only when its target is a known type, and inherited keys are no aliases.
    expect(isKnownAccelerator("constructor")).toBe(false);
    expect(isKnownAccelerator("toString")).toBe(false);
  });

  it("the vLLM engine argument catalog records its vLLM version", () => {
    expect(engineArgs.vllm_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(engineArgs.args)).toEqual(
      expect.arrayContaining(["max_model_len", "gpu_memory_utilization", "tensor_parallel_size"]),
    );
  });
});

describe("vLLM's numeric bounds in the engine argument catalog", () => {
  // Each bound is data taken from vLLM's own config classes (schemas/SOURCES.md says which file at which
  // commit); checkEngineKwargs enforces them. A typo such as `minumum` would silently drop a bound.
  const BOUNDS = ["minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"] as const;
  const BOUND_META = ["bounds_class", "bounds_source", "bounds_when", "bounds_scope"] as const;
  const ENTRY_KEYS = new Set<string>([
    ...["type", "types", "items", "nullable", "enum", "known_values", "python_type", "source_class"],
    ...["deprecated", "private", "suspect", "note"],
    ...BOUNDS,
    ...BOUND_META,
  ]);
  const args = engineArgs.args as unknown as Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  const bounded = Object.keys(args).filter((name) => BOUNDS.some((k) => k in args[name]!));

  it("gives every argument only keys the checker reads", () => {
    const unknown = Object.entries(args).flatMap(([name, entry]) =>
      Object.keys(entry)
        .filter((key) => !ENTRY_KEYS.has(key))
        .map((key) => `${name}.${key}`),
    );
    expect(unknown).toEqual([]);
  });

  it("are finite numbers on numeric arguments, lower below upper, each with vLLM's class and its source", () => {
    for (const [name, entry] of Object.entries(args)) {
      const bounds = BOUNDS.filter((k) => k in entry);
      if (bounds.length === 0) {
        expect(
          BOUND_META.filter((k) => k in entry),
          `${name}: bound metadata without a bound`,
        ).toEqual([]);
        continue;
      }
      expect(["integer", "number"], name).toContain(entry.type);
      for (const k of bounds) expect(Number.isFinite(entry[k]), `${name}.${k}`).toBe(true);
      expect("minimum" in entry && "exclusiveMinimum" in entry, `${name}: two lower bounds`).toBe(false);
      expect("maximum" in entry && "exclusiveMaximum" in entry, `${name}: two upper bounds`).toBe(false);
      const lower = (entry.minimum ?? entry.exclusiveMinimum) as number | undefined;
      const upper = (entry.maximum ?? entry.exclusiveMaximum) as number | undefined;
      if (lower !== undefined && upper !== undefined) {
        const inclusive = "minimum" in entry && "maximum" in entry;
        expect(inclusive ? lower <= upper : lower < upper, `${name}: ${lower} .. ${upper}`).toBe(true);
      }
      expect(entry.bounds_class, name).toMatch(/^[A-Z]\w*Config$/);
      // A path in vLLM's tree at a full commit, then what that file declares.
      expect(entry.bounds_source, name).toMatch(/^vllm\/[\w/]+\.py@[0-9a-f]{40} \S/);
      expect(entry.bounds_source as string, name).toContain(entry.bounds_class as string);
      if ("bounds_when" in entry) {
        const when = entry.bounds_when as Record<string, unknown>;
        expect(Object.keys(when).length, `${name}.bounds_when`).toBeGreaterThan(0);
        for (const key of Object.keys(when)) expect(Object.keys(args), `${name}.bounds_when`).toContain(key);
      }
      if ("bounds_scope" in entry) expect(entry.bounds_scope, name).toMatch(/^for \S/);
    }
  });

  it("hold the bounds vLLM 0.11.1 declares, on these arguments and no others", () => {
    const pick = (name: string) =>
      Object.fromEntries(
        Object.entries(args[name]!).filter(([k]) => (BOUNDS as readonly string[]).includes(k)),
      );
    expect(bounded).toEqual([
      "max_model_len",
      "swap_space",
      "cpu_offload_gb",
      "gpu_memory_utilization",
      "max_num_batched_tokens",
      "max_num_partial_prefills",
      "max_long_partial_prefills",
      "max_num_seqs",
      "mm_processor_cache_gb",
      "mm_shm_cache_max_object_size_mb",
      "video_pruning_rate",
      "max_loras",
      "num_lookahead_slots",
      "mamba_block_size",
    ]);
    expect(pick("gpu_memory_utilization")).toEqual({ exclusiveMinimum: 0, maximum: 1 });
    expect(args.gpu_memory_utilization!.bounds_class).toBe("CacheConfig");
    expect(pick("swap_space")).toEqual({ minimum: 0 });
    expect(pick("max_num_seqs")).toEqual({ minimum: 1 });
    expect(pick("video_pruning_rate")).toEqual({ minimum: 0, exclusiveMaximum: 1 });
    expect(args.max_loras!.bounds_when).toEqual({ enable_lora: true });
  });
});

describe("the generated validators", () => {
  it("are what ajv compiles from schemas/ today (run `npm run generate:validators` when this fails)", () => {
    const committed = readFileSync(OUTPUT, "utf8");
    expect(committed === validatorsSource(), "generator/src/generated/schema-validators.js is stale").toBe(
      true,
    );
  });

  it("report exactly what ajv compiled at run time reports, on every example and invalid fixture", () => {
    const cases: Array<[SchemaName, string, string]> = [
      [
        "serving-spec",
        "serving-spec.schema.json",
        "generator/test-fixtures/template-repo/models/alice/qwen-0.5b.yaml",
      ],
      ["serving-spec", "serving-spec.schema.json", "generator/test-fixtures/invalid/serving-spec.yaml"],
      ["users", "users.schema.json", "generator/test-fixtures/template-repo/models/users.yaml"],
      ["users", "users.schema.json", "generator/test-fixtures/invalid/users.yaml"],
      ["cluster", "cluster.schema.json", "generator/test-fixtures/template-repo/clusters/h1/cluster.yaml"],
      ["cluster", "cluster.schema.json", "generator/test-fixtures/invalid/cluster.yaml"],
    ];
    for (const [name, file, path] of cases) {
      const runtime = new Ajv2020(AJV_OPTIONS).compile(schema(file));
      const value = load(read(path));
      runtime(value);
      expect([path, schemaErrors(name, value)]).toEqual([path, runtime.errors ?? []]);
    }
    // The invalid fixtures do produce errors: the comparison above is not between two empty lists.
    expect(
      schemaErrors("serving-spec", load(read("generator/test-fixtures/invalid/serving-spec.yaml"))),
    ).not.toEqual([]);
  });
});

describe("schema defaults (annotations for editors)", () => {
  interface Node {
    default?: unknown;
    properties?: Record<string, Node>;
  }
  /** Every `default` in a schema, by property path. */
  const annotated = (node: Node, path: string[] = []): Array<[string, unknown]> => [
    ...(node.default !== undefined ? [[path.join("."), node.default] as [string, unknown]] : []),
    ...Object.entries(node.properties ?? {}).flatMap(([key, child]) => annotated(child, [...path, key])),
  ];
  /** The leaves of plain data (an array is a leaf), by path. */
  const leaves = (value: unknown, path: string[] = []): Array<[string, unknown]> =>
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? Object.entries(value).flatMap(([key, child]) => leaves(child, [...path, key]))
      : [[path.join("."), value]];
  const at = (value: unknown, path: string) =>
    path.split(".").reduce<unknown>((v, key) => (v as Record<string, unknown>)[key], value);
  const file = (path: string, text: string) => ({ path, kind: "file" as const, bytes: Buffer.from(text) });

  it("cluster.schema.json states the code's defaults: what a cluster.yaml that leaves a setting out gets", () => {
    const minimal = [
      "default: true",
      "accelerator_type: H20",
      "gpus: 8",
      "gpus_per_node: 8",
      "ray: {dashboard_address: http://ray:8265}",
      "openai: {server_url: https://x.example, base_url: /v/}",
      "",
    ].join("\n");
    const { cluster } = parseCluster("c", file("clusters/c/cluster.yaml", minimal));
    const defaults = annotated(JSON.parse(read("schemas/cluster.schema.json")) as Node);
    for (const [path, value] of defaults) expect(at(cluster, path), path).toEqual(value);
    // Every default the code applies is annotated, and no annotation is missing one.
    expect(defaults.map(([path]) => path).sort()).toEqual(
      leaves(CLUSTER_DEFAULTS)
        .map(([p]) => p)
        .sort(),
    );
    expect(Object.fromEntries(defaults)).toEqual(Object.fromEntries(leaves(CLUSTER_DEFAULTS)));
  });

  it("serving-spec.schema.json states the defaults a spec that leaves a field out gets", () => {
    const spec = "model_id: t\nmodel_source: $HOME/common/hf/t\n";
    const [model] = validateRepo(bare({ "models/alice/t.yaml": spec })).model.models;
    const defaults = annotated(JSON.parse(read("schemas/serving-spec.schema.json")) as Node);
    expect(defaults.map(([path]) => path)).toEqual(["num_replicas", "gpus_per_replica"]);
    for (const [path, value] of defaults) expect(at(model, path), path).toEqual(value);
  });

  it("come with a description on every property of the files people edit", () => {
    const undescribed = (node: Node & { description?: string }, path: string[]): string[] =>
      Object.entries(node.properties ?? {}).flatMap(([key, child]) => [
        ...((child as { description?: string }).description ? [] : [[...path, key].join(".")]),
        ...undescribed(child, [...path, key]),
      ]);
    for (const file of ["cluster.schema.json", "serving-spec.schema.json", "users.schema.json"])
      expect(undescribed(JSON.parse(read(`schemas/${file}`)) as Node, [file])).toEqual([]);
  });

  it("are annotations only: validation never fills them in", () => {
    expect(AJV_OPTIONS).not.toHaveProperty("useDefaults");
    expect(validatorsSource()).not.toMatch(/useDefaults/);
    const value = {
      default: true,
      accelerator_type: "H20",
      gpus: 8,
      gpus_per_node: 8,
      ray: { dashboard_address: "http://ray:8265" },
      openai: { server_url: "https://x.example", base_url: "/v/" },
      sync: {},
    };
    const copy = structuredClone(value);
    expect(schemaErrors("cluster", value)).toEqual([]);
    expect(value).toEqual(copy);
  });
});
