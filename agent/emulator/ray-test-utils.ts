/**
 * TEST ONLY. Small clients for the Ray Serve dashboard emulator's own tests (and for other
 * tests that want to drive it directly). PUT goes through node:http, which, unlike the global
 * fetch, sends no Sec-Fetch-* header and so is not refused as browser traffic.
 */
import { request } from "node:http";

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function httpRequest(
  method: string,
  url: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, headers: body !== undefined ? { "content-type": "application/json", ...headers } : headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export function putApps(
  baseUrl: string,
  config: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return httpRequest("PUT", `${baseUrl}/api/serve/applications/`, JSON.stringify(config), headers);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function getApps(baseUrl: string, headers: Record<string, string> = {}): Promise<any> {
  const r = await httpRequest("GET", `${baseUrl}/api/serve/applications/`, undefined, headers);
  if (r.status !== 200) throw new Error(`GET ${r.status}: ${r.body}`);
  return JSON.parse(r.body);
}

/** Poll until `check` returns a truthy value (returned), or fail after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs = 2000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${String(last)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const llmConfig = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model_loading_config: { model_id: id, model_source: `org/${id}` },
  deployment_config: { name: id, num_replicas: 1 },
  engine_kwargs: { tensor_parallel_size: 1, max_model_len: 8192 },
  ...extra,
});

export const llmApp = (
  name: string,
  configs: unknown[],
  deployments: Record<string, unknown>[] = [],
): Record<string, unknown> => ({
  name,
  route_prefix: `/${name}`,
  import_path: "ray.serve.llm:build_openai_app",
  args: { llm_configs: configs },
  ...(deployments.length ? { deployments } : {}),
});
