// A minimal HTTP client for the Ray dashboard on node:http. Not fetch(): Node's global fetch always sends
// `Sec-Fetch-Mode: cors`, and Ray refuses a PUT carrying Sec-Fetch-* headers as browser traffic (405).
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

export interface HttpResponse {
  readonly status: number;
  readonly text: string;
  /** The serve-gitops Ray Serve emulator's `x-emulator` header, when the answer carried one. */
  readonly emulator?: string;
}

export interface HttpRequest {
  readonly method: "GET" | "PUT";
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
}

const agents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: 4 }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: 4 }),
};

/** Resolves with any HTTP status; rejects only when there was no response (refused, reset, timed out). */
export function send(req: HttpRequest): Promise<HttpResponse> {
  const url = new URL(req.url);
  const secure = url.protocol === "https:";
  const request = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers["content-length"] = String(Buffer.byteLength(req.body));
    const call = request(
      url,
      { method: req.method, headers, agent: secure ? agents.https : agents.http },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          clearTimeout(deadline);
          const emulator = res.headers["x-emulator"];
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
            ...(typeof emulator === "string" ? { emulator } : {}),
          });
        });
        res.on("error", (error) => {
          clearTimeout(deadline);
          reject(error);
        });
      },
    );
    // One deadline for the whole exchange: a slow dashboard that trickles bytes still times out.
    const deadline = setTimeout(
      () => call.destroy(new TimeoutError(`no answer within ${req.timeoutMs} ms`)),
      req.timeoutMs,
    );
    call.on("error", (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    if (req.body !== undefined) call.write(req.body);
    call.end();
  });
}

export class TimeoutError extends Error {
  override name = "TimeoutError";
  readonly code = "ETIMEDOUT";
}
