import { describe, expect, it } from "vitest";
import { checkRepo, GENERATOR_VERSION } from "../../../generator/src/index";
import { clusterYaml, specYaml, usersYaml } from "../../testkit/git-fixture";
import { NOW, snapshotOf } from "../../testkit/snapshot";
import { desiredFromSnapshot } from "./desired";

function renderedFiles(): Record<string, string> {
  const files: Record<string, string> = {
    "models/users.yaml": usersYaml({ alice: 64 }),
    "clusters/h1/cluster.yaml": clusterYaml(),
    "models/alice/x.yaml": specYaml("x"),
  };
  const check = checkRepo(snapshotOf(files), { now: NOW });
  for (const [path, text] of check.render!.files) files[path] = text;
  return files;
}

describe("desiredFromSnapshot: a render that is not current", () => {
  it("names the serve-gitops version that rendered the fragments when it is not the agent's", () => {
    const files = renderedFiles();
    const path = Object.keys(files).find((p) => p.includes("/rendered/"))!;
    files[path] = files[path]!.replace(GENERATOR_VERSION, "serve-gitops 0.0.1");
    const result = desiredFromSnapshot(snapshotOf(files), "h1", NOW);
    expect(result.ok).toBe(false);
    // It fits a commit status's description whole.
    expect(!result.ok && result.reason.length).toBeLessThanOrEqual(140);
    const current = GENERATOR_VERSION.replace("serve-gitops ", "");
    expect(!result.ok && result.reason).toBe(
      `not rendered: 1 fragment is out of date, rendered by serve-gitops 0.0.1; this is ${current} (the agent): versions must match`,
    );
  });

  it("keeps the plain message when the same version rendered them", () => {
    const files = renderedFiles();
    files["models/alice/x.yaml"] = specYaml("x", { replicas: 2 });
    const result = desiredFromSnapshot(snapshotOf(files), "h1", NOW);
    expect(!result.ok && result.reason).toBe(
      "not rendered: 1 fragment is out of date; run serve-gitops render",
    );
  });
});

describe("desiredFromSnapshot: one cluster's config", () => {
  it("holds only the models rendered for the agent's cluster", () => {
    const files: Record<string, string> = {
      "models/users.yaml": usersYaml({ alice: 64, bob: 64 }),
      "clusters/h1/cluster.yaml": clusterYaml(),
      "clusters/h2/cluster.yaml": clusterYaml({ name: "h2" }).replace("default: true", "default: false"),
      "models/alice/x.yaml": specYaml("x"),
      "models/bob/y.yaml": `${specYaml("y")}clusters: [h2]\n`,
    };
    const check = checkRepo(snapshotOf(files), { now: NOW });
    expect(check.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    for (const [path, text] of check.render!.files) files[path] = text;
    const keys = (cluster: string) => {
      const result = desiredFromSnapshot(snapshotOf(files), cluster, NOW);
      if (!result.ok) throw new Error(result.reason);
      const ids = result.desired.config.applications.flatMap((a) =>
        (a.args as { llm_configs: { model_loading_config: { model_id: string } }[] }).llm_configs.map(
          (c) => c.model_loading_config.model_id,
        ),
      );
      return { models: [...result.desired.models.keys()], ids };
    };
    expect(keys("h1")).toEqual({ models: ["alice/x"], ids: ["alice-202601061235-x"] });
    expect(keys("h2")).toEqual({ models: ["bob/y"], ids: ["bob-202601061235-y"] });
  });
});
