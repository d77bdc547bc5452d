// --listen: GET /healthz, /readyz, /metrics, /status and POST /sync, on node:http.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { safeError } from "../errors";
import type { Logger } from "../log";
import type { StatusDoc } from "./status-doc";
import { authorizeSync, type SyncSecrets } from "./sync-auth";

export interface Health {
  readonly live: boolean;
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

export interface ServerDeps extends SyncSecrets {
  readonly host: string;
  readonly port: number;
  readonly branch: string;
  readonly registry: Registry;
  readonly status: () => StatusDoc;
  readonly health: () => Health;
  readonly onSync: (via: "webhook" | "token") => void;
  readonly log: Logger;
}

export interface AgentServer {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY = 5 * 1024 * 1024;

export async function startServer(deps: ServerDeps): Promise<AgentServer> {
  const server: Server = createServer((req, res) => {
    handle(deps, req, res).catch((error: unknown) => {
      deps.log.error({ err: safeError(error), path: req.url }, "status server error");
      if (!res.headersSent) send(res, 500, { error: "internal error" });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(deps.port, deps.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? "/", "http://agent").pathname;
  const method = req.method ?? "GET";
  const get = method === "GET" || method === "HEAD";
  if (path === "/healthz" && get) {
    const h = deps.health();
    return send(res, h.live ? 200 : 503, h.live ? "ok\n" : "the agent loop has stopped\n");
  }
  if (path === "/readyz" && get) {
    const h = deps.health();
    return send(res, h.ready ? 200 : 503, h.ready ? { ready: true } : { ready: false, reasons: h.reasons });
  }
  if (path === "/metrics" && get) {
    const text = await deps.registry.metrics();
    res.writeHead(200, { "content-type": deps.registry.contentType });
    res.end(text);
    return;
  }
  if (path === "/status" && get) return send(res, 200, deps.status());
  if (path === "/sync") {
    if (method !== "POST") return send(res, 405, { error: "POST only" }, { allow: "POST" });
    const body = await readBody(req);
    if (!body) return send(res, 413, { error: "body too large" });
    const auth = authorizeSync(req.headers, body, deps);
    if (!auth.ok) {
      deps.log.warn({ status: auth.status, reason: auth.reason }, "POST /sync refused");
      return send(res, auth.status, { error: auth.reason });
    }
    if (auth.via === "webhook") {
      const event = req.headers["x-github-event"];
      if (event === "ping") return send(res, 200, { pong: true });
      if (event !== "push")
        return send(res, 400, { error: `event ${String(event)} is not handled: subscribe to push only` });
      const ref = parseRef(body);
      if (ref !== undefined && ref !== `refs/heads/${deps.branch}`)
        return send(res, 200, { ignored: `push to ${ref}` });
    }
    deps.onSync(auth.via);
    return send(res, 202, { queued: true });
  }
  return send(res, 404, { error: "not found: /healthz /readyz /metrics /status POST /sync" });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === "string" ? body : `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    "content-type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/json",
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseRef(body: Buffer): string | undefined {
  try {
    const ref = (JSON.parse(body.toString("utf8")) as { ref?: unknown }).ref;
    return typeof ref === "string" ? ref : undefined;
  } catch {
    return undefined;
  }
}
