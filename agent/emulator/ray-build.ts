/**
 * TEST/DEMO ONLY. The "build task" of the Ray Serve dashboard emulator (ray-dashboard.ts): what
 * `build_serve_application` (python/ray/serve/_private/application_state.py) produces for an
 * application's import_path + args, i.e. the list of deployments and the options their code set.
 * `ray.serve.llm:build_openai_app` lives in ray-llm.ts; other import paths must be declared to the
 * emulator (option importPaths) or they fail to import, like a module missing from the cluster.
 * Failures read "Deploying app '<app>' failed with exception:\n<traceback>"
 * (application_state.py _reconcile_build_app_task). Line numbers in tracebacks are illustrative.
 */
import type { Frame } from "./ray-pyrepr";
import { buildFailure, buildOpenAiApp } from "./ray-llm";
import type { ParsedApp } from "./ray-schema";

/** One deployment as built from code (before the config's per-deployment overrides). */
export interface BuiltDeployment {
  name: string;
  ingress: boolean;
  /** DeploymentConfig-level options the code set (num_replicas, autoscaling_config, ...) */
  options: Record<string, unknown>;
  /** ReplicaConfig-level options (heavyweight: a change restarts replicas) */
  replica: Record<string, unknown>;
  gpusPerReplica: number;
  /** set when every replica of this deployment fails in its constructor */
  startupError?: string;
}
export type BuildResult = { ok: true; deployments: BuiltDeployment[] } | { ok: false; message: string };

export interface BuildContext {
  pathExists(path: string): boolean;
  knownEngineArgs: ReadonlySet<string>;
  /** importable user applications: import path -> deployment names (first = ingress) */
  importPaths: ReadonlyMap<string, readonly string[]>;
}

function normalizeImportPath(p: string): string {
  if (p.includes(":")) return p;
  const i = p.lastIndexOf(".");
  return `${p.slice(0, i)}:${p.slice(i + 1)}`;
}

export function buildApplication(app: ParsedApp, ctx: BuildContext): BuildResult {
  const path = normalizeImportPath(app.importPath);
  const fail = (message: string): BuildResult => ({
    ok: false,
    message: `Deploying app '${app.name}' failed with exception:\n${message}`,
  });
  if (path === "ray.serve.llm:build_openai_app") {
    const r = buildOpenAiApp(app.args, ctx, app.runtimeEnv);
    return "failure" in r ? fail(r.failure) : { ok: true, deployments: r.deployments };
  }
  const names = ctx.importPaths.get(path) ?? ctx.importPaths.get(app.importPath);
  if (names) {
    return {
      ok: true,
      deployments: names.map((name, i) => ({
        name,
        ingress: i === 0,
        options: {},
        replica: {},
        gpusPerReplica: 0,
      })),
    };
  }
  const [mod = "", attr = ""] = path.split(":");
  const importFrames: Frame[] = [
    ["ray/_common/utils.py", 112, "import_attr", "module = importlib.import_module(module_name)"],
    [
      "/home/ray/anaconda3/lib/python3.11/importlib/__init__.py",
      126,
      "import_module",
      "return _bootstrap._gcd_import(name[level:], package, level)",
    ],
  ];
  if (mod === "ray.serve.llm")
    return fail(
      buildFailure([importFrames[0]!], `AttributeError: module 'ray.serve.llm' has no attribute '${attr}'`),
    );
  return fail(buildFailure(importFrames, `ModuleNotFoundError: No module named '${mod.split(".")[0]}'`));
}
