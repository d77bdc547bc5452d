import { describe, expect, it } from "vitest";
import {
  deploymentBaseName,
  deploymentName,
  isManagedAppName,
  placement,
  SERVED_NAME,
  servedName,
} from "./layout";
import { endpointUrl, joinBaseUrl } from "./openai-url";
import type { ClusterConfig, Layout } from "./types";
import { CLUSTER_DEFAULTS } from "./validate-config";

describe("joinBaseUrl (pinned: the seed design's join)", () => {
  it.each([
    [
      "https://dstack.company.com",
      "/access/models/team1/",
      "https://dstack.company.com/access/models/team1/",
    ],
    ["http://localhost:3000", "/access/local/", "http://localhost:3000/access/local/"],
    ["https://dstack.company.com", "https://gateway.example.com", "https://gateway.example.com"],
    ["https://dstack.company.com", "https://gateway.example.com/v1/", "https://gateway.example.com/v1/"],
    ["http://localhost:3000", "http://127.0.0.1:8000/x", "http://127.0.0.1:8000/x"],
    // The path keeps its trailing slash exactly: none stays none.
    ["https://dstack.company.com", "/access/models/team1", "https://dstack.company.com/access/models/team1"],
    ["https://dstack.company.com/", "/access/", "https://dstack.company.com/access/"],
    ["https://dstack.company.com", "access/", "https://dstack.company.com/access/"],
  ])("%s + %s -> %s", (server, base, joined) => {
    expect(joinBaseUrl(server, base)).toBe(joined);
  });
});

function cluster(layout: Layout, base = "/access/models/team1/", routePrefix = "/"): ClusterConfig {
  return {
    name: "h1",
    file: "clusters/h1/cluster.yaml",
    default: true,
    accelerator_type: "H20",
    gpus: 32,
    gpus_per_node: 8,
    ray: { dashboard_address: "http://127.0.0.1:8265" },
    openai: { server_url: "https://dstack.company.com", base_url: base },
    serve: { ...CLUSTER_DEFAULTS.serve, layout, route_prefix: routePrefix },
    sources: CLUSTER_DEFAULTS.sources,
    engine_kwargs: CLUSTER_DEFAULTS.engine_kwargs,
    sync: CLUSTER_DEFAULTS.sync,
  };
}

const SERVED = "alice-202601061235-qwen-0.5b";

describe("endpoints per layout", () => {
  it("per-model: one application per model at /<served name>, base URL <base><served>/v1", () => {
    expect(placement(cluster("per-model"), "alice", SERVED)).toEqual({
      app: SERVED,
      route: `/${SERVED}`,
      endpoint: `https://dstack.company.com/access/models/team1/${SERVED}/v1`,
    });
  });

  it("per-user: one application per user at /<user>", () => {
    expect(placement(cluster("per-user"), "alice", SERVED)).toEqual({
      app: "argus_llm_app-alice",
      route: "/alice",
      endpoint: "https://dstack.company.com/access/models/team1/alice/v1",
    });
  });

  it("single: one application at the route prefix, one base URL for every model", () => {
    const one = placement(cluster("single"), "alice", SERVED);
    const other = placement(cluster("single"), "bob", "bob-202601061235-x");
    expect(one).toEqual({
      app: "argus_llm_app",
      route: "/",
      endpoint: "https://dstack.company.com/access/models/team1/v1",
    });
    expect(other.endpoint).toBe(one.endpoint);
  });

  it("uses an absolute base URL as is", () => {
    expect(placement(cluster("per-model", "https://gateway.example.com/"), "alice", SERVED).endpoint).toBe(
      `https://gateway.example.com/${SERVED}/v1`,
    );
    expect(endpointUrl(cluster("single", "https://gateway.example.com"), "/")).toBe(
      "https://gateway.example.com/v1",
    );
  });

  it("nests routes under a non-root route prefix, which the base URL already stands for", () => {
    const c = cluster("per-user", "/access/llm/", "/llm");
    expect(placement(c, "alice", SERVED)).toMatchObject({
      route: "/llm/alice",
      endpoint: "https://dstack.company.com/access/llm/alice/v1",
    });
    expect(placement(cluster("single", "/access/llm/", "/llm"), "alice", SERVED)).toMatchObject({
      route: "/llm",
      endpoint: "https://dstack.company.com/access/llm/v1",
    });
  });
});

describe("names", () => {
  it("builds <user>-<YYYYMMDDHHMM>-<suffix> and splits it back unambiguously", () => {
    const name = servedName("alice", "202601061235", "qwen-0.5b");
    expect(name).toBe(SERVED);
    expect(SERVED_NAME.exec(name)?.slice(1, 4)).toEqual(["alice", "202601061235", "qwen-0.5b"]);
    expect(SERVED_NAME.test("al-ice-202601061235-x")).toBe(false);
    expect(SERVED_NAME.test("alice-20260106-x")).toBe(false);
  });

  it("names the deployment as Ray does, with the LLMServer: prefix", () => {
    expect(deploymentBaseName(SERVED)).toBe("alice-202601061235-qwen-0_5b");
    expect(deploymentName(SERVED)).toBe("LLMServer:alice-202601061235-qwen-0_5b");
  });

  it("recognises the application names it manages in every layout", () => {
    const c = cluster("per-model");
    expect(isManagedAppName(c, SERVED)).toBe(true);
    expect(isManagedAppName(c, "argus_llm_app")).toBe(true);
    expect(isManagedAppName(c, "argus_llm_app-alice")).toBe(true);
    expect(isManagedAppName(c, "someone-elses-app")).toBe(false);
  });
});
