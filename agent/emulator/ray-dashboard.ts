/**
 * Ray Serve dashboard EMULATOR — FOR TESTS, DEMOS AND TRIALS ONLY. It is NOT a Ray cluster, runs no
 * models, and must never be presented as one: every response carries the header
 * `x-emulator: ray-serve-dashboard-emulator`.
 *
 * `serve-gitops emulator` (agent/src/cli/emulator-command.ts) runs it alone, for trying the agent on one's own
 * repository; its banner says what it is.
 *
 * It serves the parts of the Ray dashboard REST API that serve-gitops talks to, on 127.0.0.1 (never another
 * interface) with an ephemeral port or `port`, behaving as the Ray 2.5x source does (see
 * /work/shared/reference/ray-serve.md):
 * - GET /api/ray/version                     (dashboard/modules/serve/serve_head.py get_version)
 * - GET|PUT|DELETE /api/serve/applications/  (serve_head.py; validation in ray-schema.ts,
 *   controller/application state machine in ray-controller.ts, app builders in ray-build.ts)
 * - token auth (RAY_AUTH_MODE=token): python/ray/_private/authentication/http_token_authentication.py
 *   — `Authorization` first, else `X-Ray-Authorization`, else cookie `ray-authentication-token`;
 *   401 "Unauthorized: Missing authentication token", 403 "Forbidden: Invalid authentication token";
 *   it runs before the browser check (dashboard/http_server_head.py middleware order);
 * - browser blocking: python/ray/_private/browser_request_middleware (is_browser_request): a
 *   User-Agent starting with "Mozilla", or any of Referer, Origin, Sec-Fetch-Mode/-Dest/-Site/-User,
 *   Access-Control-Request-Method/-Headers, may only GET/HEAD/OPTIONS; anything else gets
 *   405 "'PUT' method not allowed for browser traffic.". Node's global fetch always sends
 *   `sec-fetch-mode: cors`, so a fetch() PUT is refused; node:http is not.
 * Unknown routes answer like aiohttp: 404 "404: Not Found", wrong method 405 "405: Method Not Allowed".
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_KNOWN_ENGINE_ARGS } from "./ray-llm";
import { ServeController } from "./ray-controller";
import { pyTraceback, randomHex } from "./ray-pyrepr";
import { parseDeployBody } from "./ray-schema";

export const EMULATOR_HEADER = "x-emulator";
export const EMULATOR_HEADER_VALUE = "ray-serve-dashboard-emulator";
export const SERVE_APPLICATIONS_PATH = "/api/serve/applications/";
/**
 * What Ray says on a deployment whose replica of the target version failed its health check
 * (python/ray/serve/_private/deployment_state.py, DeploymentState.check_and_update_replicas): the replica is
 * stopped and replaced, and the deployment is UNHEALTHY "until the replica recovers or a new deploy happens".
 */
export const HEALTH_CHECK_FAILED_MESSAGE =
  "A replica's health check failed. This deployment will be UNHEALTHY until the replica recovers or a new deploy happens.";

export interface RayEmulatorOptions {
  /** default "2.52.0"; GET /api/ray/version returns {version:"4", ray_version, ray_commit, session_name} */
  rayVersion?: string;
  /** when set: RAY_AUTH_MODE=token semantics (401 missing, 403 wrong) */
  token?: string;
  /**
   * Fake filesystem for model_source: absolute paths, or directories/prefixes, that exist. An
   * absolute model_source not covered makes the LLMServer replicas fail at startup (DEPLOY_FAILED).
   * Hub repo ids ("org/name") are always treated as present.
   */
  existingPaths?: Iterable<string>;
  /** time from PUT to RUNNING (half build task, half replica start); default 50 */
  deployDelayMs?: number;
  /** GPUs in the fake cluster; when set, deployments that do not fit stay UPDATING (unscheduled) */
  totalGpus?: number;
  /** vLLM engine argument names accepted in engine_kwargs (default: a built-in subset) */
  knownEngineArgs?: Iterable<string>;
  /** importable user apps: import path ("mod.sub:attr") -> deployment names, first is the ingress */
  importPaths?: Record<string, string[]>;
  /** the port on 127.0.0.1; default 0 (an ephemeral port) */
  port?: number;
  /**
   * Keep at most this many requests in `requests`, dropping the oldest (default: all, for tests); a
   * long-running emulator (`serve-gitops emulator`) keeps only recent ones so hours of polling stay bounded.
   */
  maxRecordedRequests?: number;
  /** called once per answered request (not for the emulator's own internal errors) */
  onResponse?: (response: EmulatorResponse) => void;
}

export interface EmulatorResponse {
  method: string;
  path: string;
  status: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface RayEmulator {
  readonly url: string;
  close(): Promise<void>;
  /** GET/PUT/DELETE on /api/serve/applications/ -> 503 while down */
  setControllerDown(down: boolean): void;
  /** the next `count` (default 1) requests, whatever the route, get this status */
  setFailNext(status: 500 | 503, count?: number): void;
  /**
   * The next `count` (default 1) PUTs that pass validation fail inside the Serve controller's apply_config, as when
   * its GCS KV store write times out (serve/_private/storage/kv_store.py raises KVStoreError; PR ray#25637 gave
   * the KV calls a timeout for GCS fault tolerance): serve_head.py put_all_applications catches the RayTaskError
   * of client.deploy_apps and answers 400 with str(e). Nothing is applied.
   */
  failNextPutInController(count?: number): void;
  setLatencyMs(ms: number): void;
  /**
   * Mark every deployment with this (full) name UNHEALTHY, e.g. "LLMServer:qwen", as a replica failing its
   * health check does (default message: Ray's own, HEALTH_CHECK_FAILED_MESSAGE); recover() is Ray's replacement
   * replica running again: HEALTHY without a new config (common.py DeploymentStatusInfo.handle_transition).
   */
  makeUnhealthy(deploymentName: string, message?: string): void;
  /** undo makeUnhealthy */
  recover(deploymentName: string): void;
  /**
   * How many times the replicas of deployments with this full name were restarted (one per
   * rollout, not per replica): a new code version of the app, or a heavyweight override change.
   * First starts are not restarts (see starts()). Summed over apps unless appName is given.
   */
  restarts(deploymentName: string, appName?: string): number;
  /** how many times a deployment with this name was created from scratch */
  starts(deploymentName: string, appName?: string): number;
  readonly requests: ReadonlyArray<RecordedRequest>;
  /** drift: replace the stored deployed_app_config of an app with a mutated copy */
  tamper(appName: string, mutate: (appConfig: any) => void): void; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** PUT requests received on /api/serve/applications/, whatever their outcome */
  putCount(): number;
  /** PUT requests that were accepted (200) */
  acceptedPutCount(): number;
  /** an application deployed with serve.run (source "imperative"); starts Serve if needed */
  addImperativeApp(name: string, opts?: { routePrefix?: string | null; deployments?: string[] }): void;
  gpus(): { total: number | undefined; used: number };
}

const PUBLIC_PATHS = [
  "/",
  "/api/authentication_mode",
  "/api/authenticate",
  "/api/healthz",
  "/api/gcs_healthz",
  "/api/local_raylet_healthz",
  "/-/healthz",
];
const BROWSER_HEADERS = [
  "referer",
  "origin",
  "sec-fetch-mode",
  "sec-fetch-dest",
  "sec-fetch-site",
  "sec-fetch-user",
  "access-control-request-method",
  "access-control-request-headers",
];

/**
 * str(RayTaskError) of the Serve controller's apply_config failing on its GCS KV store write
 * (python/ray/exceptions.py RayTaskError.__str__: the traceback's "Traceback (most recent call last):" line becomes
 * the task's proctitle, in colorama cyan, with pid, ip and the actor's repr; frames inside ray/_private are
 * dropped).
 */
function controllerTaskError(): string {
  const traceback = pyTraceback(
    [
      ["ray/serve/_private/controller.py", 1032, "apply_config", "self.kv_store.put("],
      ["ray/serve/_private/storage/kv_store.py", 66, "put", "raise KVStoreError(e.code())"],
    ],
    "ray.serve._private.storage.kv_store.KVStoreError: the GCS did not answer in time (emulated)",
  );
  const proctitle =
    `\u001b[36mray::ServeController.apply_config()\u001b[39m (pid=${1000 + Math.floor(Math.random() * 60000)}, ` +
    `ip=127.0.0.1, actor_id=${randomHex(32)}, repr=<ray.serve._private.controller.ServeController object at 0x7f${randomHex(10)}>)`;
  return traceback.replace(/^Traceback \(most recent call last\):/, proctitle);
}

function isBrowserRequest(req: IncomingMessage): boolean {
  return (
    (req.headers["user-agent"] ?? "").startsWith("Mozilla") || BROWSER_HEADERS.some((h) => h in req.headers)
  );
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

export async function startRayEmulator(opts: RayEmulatorOptions = {}): Promise<RayEmulator> {
  const rayVersion = opts.rayVersion ?? "2.52.0";
  const existing = [...(opts.existingPaths ?? [])].map((p) => (p.length > 1 ? p.replace(/\/+$/, "") : p));
  const pathExists = (p: string) => {
    const q = p.length > 1 ? p.replace(/\/+$/, "") : p;
    return existing.some((e) => e === q || q.startsWith(e === "/" ? "/" : e + "/") || e.startsWith(q + "/"));
  };
  const controller = new ServeController({
    deployDelayMs: opts.deployDelayMs ?? 50,
    ...(opts.totalGpus !== undefined ? { totalGpus: opts.totalGpus } : {}),
    build: {
      pathExists,
      knownEngineArgs: new Set(opts.knownEngineArgs ?? DEFAULT_KNOWN_ENGINE_ARGS),
      importPaths: new Map(Object.entries(opts.importPaths ?? {})),
    },
  });
  const session = `session_${new Date().toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15)}_${process.pid}_1`;
  const commit = randomHex(40);
  const requests: RecordedRequest[] = [];
  const maxRecorded = opts.maxRecordedRequests ?? Infinity;
  let down = false;
  let latencyMs = 0;
  const failures: (500 | 503)[] = [];
  let puts = 0;
  let accepted = 0;
  let controllerFailures = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse, body: string): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = (req.method ?? "GET").toUpperCase();
    requests.push({ method, path: url.pathname + url.search, headers: { ...req.headers }, body });
    if (requests.length > maxRecorded) requests.splice(0, requests.length - maxRecorded);
    const send = (
      status: number,
      text: string,
      contentType = "text/plain; charset=utf-8",
      extra: Record<string, string> = {},
    ) => {
      res.writeHead(status, {
        [EMULATOR_HEADER]: EMULATOR_HEADER_VALUE,
        ...(text ? { "content-type": contentType } : {}),
        "content-length": Buffer.byteLength(text),
        ...extra,
      });
      res.end(text);
      opts.onResponse?.({ method, path: url.pathname + url.search, status });
    };
    const json = (v: unknown) => send(200, JSON.stringify(v), "application/json; charset=utf-8");
    const controllerError = () =>
      send(
        503,
        "Failed to get a response from the controller. The GCS may be down, please retry later: " +
          "ray.exceptions.RayTaskError: the Serve controller is unavailable (emulated).",
      );

    if (method === "PUT" && url.pathname === SERVE_APPLICATIONS_PATH) puts++;
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    const injected = failures.shift();
    if (injected === 503) return controllerError();
    if (injected === 500)
      return send(
        500,
        pyTraceback(
          [["ray/dashboard/optional_utils.py", 89, "_handler_route", "return await handler(self, req)"]],
          "RuntimeError: injected failure (emulated)",
        ),
      );

    if (
      opts.token !== undefined &&
      !PUBLIC_PATHS.includes(url.pathname) &&
      !url.pathname.startsWith("/static/")
    ) {
      const h =
        req.headers.authorization ||
        req.headers["x-ray-authorization"] ||
        (cookie(req, "ray-authentication-token") ? `Bearer ${cookie(req, "ray-authentication-token")}` : "");
      const header = Array.isArray(h) ? (h[0] ?? "") : h;
      if (!header) return send(401, "Unauthorized: Missing authentication token");
      if (header !== `Bearer ${opts.token}`) return send(403, "Forbidden: Invalid authentication token");
    }
    if (isBrowserRequest(req) && !["GET", "HEAD", "OPTIONS"].includes(method))
      return send(405, `'${method}' method not allowed for browser traffic.`);

    if (url.pathname === "/api/ray/version") {
      if (method !== "GET") return send(405, "405: Method Not Allowed", undefined, { allow: "GET" });
      return json({ version: "4", ray_version: rayVersion, ray_commit: commit, session_name: session });
    }
    if (url.pathname !== SERVE_APPLICATIONS_PATH) return send(404, "404: Not Found");
    if (method === "GET" || method === "HEAD") {
      const raw = url.searchParams.get("api_type");
      let apiType: "declarative" | "imperative" | undefined;
      if (raw) {
        const lower = raw.toLowerCase();
        if (lower !== "declarative" && lower !== "imperative")
          return send(400, `Invalid 'api_type' value: '${raw}'. Must be one of: imperative, declarative`);
        apiType = lower;
      }
      if (down) return controllerError();
      return json(controller.details(apiType));
    }
    if (method === "DELETE") {
      if (down) return controllerError();
      controller.shutdown();
      return send(200, "");
    }
    if (method === "PUT") {
      // serve_head.py put_all_applications answers 400 only for a validation error or a RayTaskError of
      // deploy_apps; anything else (the controller unreachable) is a 500 from init_ray_and_catch_exceptions.
      // Only GET answers 503.
      if (down)
        return send(
          500,
          pyTraceback(
            [["ray/dashboard/optional_utils.py", 89, "_handler_route", "return await handler(self, req)"]],
            "ray.exceptions.RaySystemError: System error: the Serve controller is unavailable (emulated)",
          ),
        );
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch (e) {
        return send(
          500,
          pyTraceback(
            [
              ["ray/dashboard/optional_utils.py", 89, "_handler_route", "return await handler(self, req)"],
              [
                "ray/dashboard/modules/serve/serve_head.py",
                161,
                "put_all_applications",
                "config: ServeDeploySchema = ServeDeploySchema.parse_obj(await req.json())",
              ],
            ],
            `json.decoder.JSONDecodeError: ${(e as Error).message}`,
          ),
        );
      }
      const r = parseDeployBody(parsed);
      if (!r.ok) return send(400, r.text);
      if (controllerFailures > 0) {
        controllerFailures--;
        return send(400, controllerTaskError());
      }
      controller.apply(r.config);
      accepted++;
      return send(200, "");
    }
    return send(405, "405: Method Not Allowed", undefined, { allow: "DELETE,GET,HEAD,PUT" });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks).toString("utf8")).catch((e: unknown) => {
        if (!res.headersSent)
          res.writeHead(500, {
            [EMULATOR_HEADER]: EMULATOR_HEADER_VALUE,
            "content-type": "text/plain; charset=utf-8",
          });
        res.end(`emulator internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
    setControllerDown: (d) => void (down = d),
    setFailNext: (status, count = 1) => {
      for (let i = 0; i < count; i++) failures.push(status);
    },
    failNextPutInController: (count = 1) => void (controllerFailures += count),
    setLatencyMs: (ms) => void (latencyMs = ms),
    makeUnhealthy: (name, message) => {
      const n = controller.makeUnhealthy(name, message ?? HEALTH_CHECK_FAILED_MESSAGE);
      if (n === 0) throw new Error(`emulator: no deployment named ${name}`);
    },
    recover: (name) => controller.recover(name),
    restarts: (name, app) => controller.restarts(name, app),
    starts: (name, app) => controller.starts(name, app),
    requests,
    tamper: (app, mutate) => controller.tamper(app, mutate),
    putCount: () => puts,
    acceptedPutCount: () => accepted,
    addImperativeApp: (name, o) => controller.addImperativeApp(name, o),
    gpus: () => controller.gpus(),
  };
}
