// `serve-gitops emulator`: the Ray Serve dashboard EMULATOR alone, on 127.0.0.1, until SIGINT/SIGTERM, so the
// agent can be tried on one's own repository with `--ray-address`. A SIMULATION: no Ray, no model, no GPU; the
// banner says so, and every response carries the emulator's `x-emulator` header.
import type { Command } from "../../../generator/src/cli/command";
import {
  EMULATOR_HEADER,
  EMULATOR_HEADER_VALUE,
  startRayEmulator,
  type EmulatorResponse,
  type RayEmulator,
} from "../../emulator/ray-dashboard";
import { box } from "./box";
import {
  EMULATOR_DEFAULT_DEPLOY_DELAY,
  EMULATOR_DEFAULT_PORT,
  parseEmulatorOptions,
  type EmulatorCommandOptions,
} from "./emulator-options";

export const emulatorCommand: Command = {
  summary:
    "Run a SIMULATED Ray Serve dashboard (serve-gitops' emulator) on 127.0.0.1, to try the agent on your own repository.",
  usage: `Usage: serve-gitops emulator [--port N] [--deploy-delay D] [--existing-path PATH]... [--gpus N]

Serves the Ray dashboard REST API the agent uses (GET /api/ray/version, GET|PUT|DELETE /api/serve/applications/)
on 127.0.0.1 until Ctrl-C (SIGINT) or SIGTERM. It is NOT a Ray cluster: no model is loaded and no GPU is used;
applications turn RUNNING after the deploy delay, and every response carries the header
${EMULATOR_HEADER}: ${EMULATOR_HEADER_VALUE}. Its state lives in memory and ends with it.
Point the agent at it: serve-gitops agent ... --ray-address http://127.0.0.1:${EMULATOR_DEFAULT_PORT} (see agent/README.md).
  --port N              the port on 127.0.0.1 (default ${EMULATOR_DEFAULT_PORT}, Ray's dashboard port; 0: any free port).
                        It never listens on another interface
  --deploy-delay D      simulated time from a PUT to RUNNING (default ${EMULATOR_DEFAULT_DEPLOY_DELAY}; 500ms, 10s, 1m)
  --existing-path PATH  a model_source path the simulated cluster holds (repeatable; default: every path).
                        An absolute model_source outside them fails to start, as in Ray (DEPLOY_FAILED)
  --gpus N              GPUs of the simulated cluster: replicas that do not fit stay UPDATING (default: no limit)

Exit: 0 after SIGINT/SIGTERM, 1 the port cannot be listened on (in use), 2 usage error.`,
  async run(argv) {
    const options = parseEmulatorOptions(argv);
    const out = (line: string) => process.stdout.write(`${line}\n`);
    let emulator: RayEmulator;
    try {
      emulator = await startRayEmulator({
        port: options.port,
        deployDelayMs: options.deployDelayMs,
        existingPaths: options.existingPaths,
        ...(options.totalGpus !== undefined ? { totalGpus: options.totalGpus } : {}),
        // Nothing reads the request log here: keep it from growing over hours of polling.
        maxRecordedRequests: 100,
        onResponse: (response) => {
          const line = responseLine(response);
          if (line) out(line);
        },
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      process.stderr.write(
        `serve-gitops emulator: cannot listen on 127.0.0.1:${options.port}: ${
          code === "EADDRINUSE"
            ? "the port is in use (a Ray dashboard or another emulator?): choose another with --port"
            : error instanceof Error
              ? error.message
              : String(error)
        }\n`,
      );
      return 1;
    }
    const stopped = untilSignal(); // listening before the banner, which tells a caller it may signal
    out(banner(emulator.url, options));
    const signal = await stopped;
    await emulator.close();
    out(`serve-gitops emulator: stopped (${signal}); the simulated applications are gone with it`);
    return 0;
  },
};

function banner(url: string, options: EmulatorCommandOptions): string {
  const paths = options.existingPaths.join(" ") === "/" ? "every path" : options.existingPaths.join(", ");
  return [
    box([
      "SIMULATED Ray Serve dashboard: serve-gitops' emulator (agent/emulator)",
      "This is NOT a Ray cluster: no model is loaded and no GPU is used.",
      `Applications turn RUNNING ${seconds(options.deployDelayMs)} after a PUT; model_source present: ${paths};`,
      `GPUs: ${options.totalGpus ?? "no limit"}. Every response carries ${EMULATOR_HEADER}: ${EMULATOR_HEADER_VALUE}.`,
      "State is kept in memory only and ends with this process.",
    ]),
    `listening on ${url} (127.0.0.1 only); Ctrl-C stops it`,
    `try: serve-gitops agent --ray-address ${url} ... (agent/README.md, "Trying it on your own repository")`,
  ].join("\n");
}

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

/** What the emulator changed, and what it refused: PUT and DELETE, and any answer that is not 2xx. */
function responseLine({ method, path, status }: EmulatorResponse): string | undefined {
  if (status < 300 && (method === "GET" || method === "HEAD")) return undefined;
  return `${new Date().toISOString()} ${method} ${path} -> ${status}`;
}

/** Resolves with the first SIGINT or SIGTERM, and stops listening for both. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      resolve(signal);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}
