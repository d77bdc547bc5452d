// ServeTarget over the Ray dashboard REST API (dashboard/modules/serve/serve_head.py).
import type { ServeConfig } from "../../../generator/src/index";
import { GENERATOR_VERSION } from "../../../generator/src/index";
import { RayError, UnsupportedRayError } from "../errors";
import { isServeDetails, parseServeDetails } from "../model/observed";
import type { Observed } from "../model/types";
import type { RayVersion, ServeTarget } from "../ports";
import { secretRedactor } from "../redact-secrets";
import { redactUrl } from "../redact-url";
import { send, type HttpResponse } from "./ray-http";

export const SERVE_PATH = "/api/serve/applications/";
export const VERSION_PATH = "/api/ray/version";

/**
 * Ray Serve LLM's `build_openai_app` with `LLMServer:<name>` deployment names and per-deployment overrides
 * of them: Ray 2.46 and later (older Ray named them LLMDeployment:<id> behind an LLMRouter).
 */
export const MIN_RAY_VERSION = "2.46.0";

export interface RayTargetOptions {
  /** The dashboard address (the cluster's, or --ray-address). */
  readonly address: () => string;
  readonly token?: string;
  readonly timeoutMs: number;
  /** Every request's outcome, for metrics: an HTTP status, or "unreachable". */
  readonly onResponse?: (method: string, path: string, status: number | "unreachable") => void;
}

export class RayServeTarget implements ServeTarget {
  /** Masks the token in what Ray (or a proxy before it) answers: a traceback can quote the request's headers. */
  private readonly redact: (text: string) => string;

  constructor(private readonly options: RayTargetOptions) {
    this.redact = secretRedactor([options.token]);
  }

  async version(): Promise<RayVersion> {
    const res = await this.call("GET", VERSION_PATH);
    const body = this.parse("GET", VERSION_PATH, res);
    const version =
      typeof body === "object" && body !== null ? (body as Record<string, unknown>).ray_version : undefined;
    if (typeof version !== "string")
      throw new UnsupportedRayError(
        `${redactUrl(this.base())}${VERSION_PATH} did not name a ray_version: is this a Ray dashboard?`,
      );
    const api = (body as Record<string, unknown>).version;
    return {
      ray_version: version,
      version: typeof api === "string" ? api : "",
      ...(res.emulator !== undefined ? { simulated: true } : {}),
    };
  }

  async observe(): Promise<Observed> {
    const body = await this.json("GET", SERVE_PATH);
    if (!isServeDetails(body))
      throw new RayError(
        `GET ${redactUrl(this.base())}${SERVE_PATH} answered with JSON that is not Ray Serve's ServeInstanceDetails (no "applications" object): is a proxy answering for Ray?`,
        { kind: "transient" },
      );
    return parseServeDetails(body);
  }

  async apply(config: ServeConfig): Promise<void> {
    await this.call("PUT", SERVE_PATH, JSON.stringify(config));
  }

  private base(): string {
    return this.options.address().replace(/\/+$/, "");
  }

  private async json(method: "GET", path: string): Promise<unknown> {
    return this.parse(method, path, await this.call(method, path));
  }

  private parse(method: "GET", path: string, res: HttpResponse): unknown {
    try {
      return JSON.parse(res.text) as unknown;
    } catch (error) {
      throw new RayError(`${method} ${path} answered ${res.status} with something that is not JSON`, {
        kind: "transient",
        status: res.status,
        cause: error,
      });
    }
  }

  private async call(method: "GET" | "PUT", path: string, body?: string): Promise<HttpResponse> {
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": `${GENERATOR_VERSION} agent`,
    };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let res: HttpResponse;
    const url = `${this.base()}${path}`;
    // Messages (logs, commit statuses, /status) name the URL without user info.
    const where = redactUrl(url);
    try {
      res = await send({
        method,
        url,
        headers,
        ...(body !== undefined ? { body } : {}),
        timeoutMs: this.options.timeoutMs,
      });
    } catch (error) {
      this.options.onResponse?.(method, path, "unreachable");
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new RayError(`Ray dashboard ${where} is unreachable (${code})`, {
        kind: "transient",
        cause: error,
      });
    }
    this.options.onResponse?.(method, path, res.status);
    // Before the answer becomes a message, a commit status (Ray's own text is quoted there) or a log line.
    res = { ...res, text: this.redact(res.text) };
    if (res.status >= 200 && res.status < 300) return res;
    throw rayError(method, where, res);
  }
}

function rayError(method: string, where: string, res: HttpResponse): RayError {
  const { status, text } = res;
  const options = { status, body: text };
  const said = text.trim().split("\n").filter(Boolean).pop() ?? "";
  if (status === 401 || status === 403) {
    return new RayError(
      `Ray refused the token for ${method} ${where} (${status} ${said}): check --ray-token-file`,
      { kind: "terminal", ...options },
    );
  }
  if (status === 405) {
    return new RayError(
      `Ray refused ${method} ${where} (405 ${said}): something between the agent and Ray adds browser headers (Origin, Referer, Sec-Fetch-*)`,
      { kind: "terminal", ...options },
    );
  }
  if (status === 400 && isControllerTaskError(text))
    return new RayError(`Ray's Serve controller failed ${method} ${where} (400): ${said}`, {
      kind: "transient",
      controllerTask: true,
      ...options,
    });
  if (status === 400)
    return new RayError(`Ray rejected the config (400): ${said}`, { kind: "terminal", ...options });
  if (status === 404)
    return new RayError(`${where} does not exist (404): is this the dashboard port (8265)?`, {
      kind: "terminal",
      ...options,
    });
  if (status === 501)
    return new RayError(`Ray Serve is not installed on the cluster (501)`, { kind: "terminal", ...options });
  return new RayError(`${method} ${where} failed (${status}): ${said.slice(0, 300)}`, {
    kind: "transient",
    ...options,
  });
}

/**
 * serve_head.py put_all_applications answers 400 for two things: repr() of the pydantic ValidationError of a config
 * (the config's fault, for good), and str() of the RayTaskError that client.deploy_apps raises when the Serve
 * controller's apply_config fails (controller.py: its GCS KV store reads and writes, which time out while the GCS
 * is down or slow, kv_store.py KVStoreError, ray#25637; rarely the config, a runtime_env Ray cannot use). A
 * RayTaskError's text starts with the task's proctitle where the traceback said "Traceback (most recent call
 * last):" (python/ray/exceptions.py RayTaskError.__str__), in colorama cyan:
 * "ray::ServeController.apply_config() (pid=..., ip=..., ...)". A validation error never starts so.
 */
// eslint-disable-next-line no-control-regex -- the ANSI colour codes RayTaskError.__str__ puts around the proctitle
const CONTROLLER_TASK = /^(?:\u001b\[[0-9;]*m)*ray::ServeController\.\w+\(\)(?:\u001b\[[0-9;]*m)* \(pid=/;

export const isControllerTaskError = (body: string): boolean => CONTROLLER_TASK.test(body.trimStart());

/** Refuse a Ray the agent cannot drive. */
export function checkRayVersion(version: string): void {
  const parse = (v: string) => (/^(\d+)\.(\d+)\.(\d+)/.exec(v) ?? []).slice(1, 4).map(Number);
  const have = parse(version);
  const need = parse(MIN_RAY_VERSION);
  if (have.length !== 3)
    throw new UnsupportedRayError(`Ray reports version "${version}", which serve-gitops cannot read`);
  for (let i = 0; i < 3; i++) {
    if (have[i]! > need[i]!) return;
    if (have[i]! < need[i]!) {
      throw new UnsupportedRayError(
        `Ray ${version} is not supported: serve-gitops needs Ray >= ${MIN_RAY_VERSION} (Ray Serve LLM's build_openai_app with LLMServer:<name> deployments)`,
      );
    }
  }
}
