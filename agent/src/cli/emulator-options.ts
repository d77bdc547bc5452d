// `serve-gitops emulator` flags -> the options of the Ray Serve dashboard emulator. It listens on 127.0.0.1
// only: a simulation is not something other machines should take for a Ray cluster.
import { isAbsolute } from "node:path";
import { parse } from "../../../generator/src/cli/args";
import { UsageError } from "../../../generator/src/cli/errors";
import { parseDuration } from "./agent-options";

export const EMULATOR_DEFAULT_PORT = 8265;
export const EMULATOR_DEFAULT_DEPLOY_DELAY = "5s";

export interface EmulatorCommandOptions {
  readonly port: number;
  readonly deployDelayMs: number;
  /** model_source paths the simulated cluster holds; "/" (every path) unless --existing-path is given */
  readonly existingPaths: readonly string[];
  readonly totalGpus?: number;
}

export function parseEmulatorOptions(argv: string[]): EmulatorCommandOptions {
  if (argv.some((arg) => /^--(host|listen|address|bind)(=|$)/.test(arg)))
    throw new UsageError(
      "the emulator listens on 127.0.0.1 only (a simulated Ray must not be reachable as a cluster): choose the port with --port",
    );
  const { values } = parse(argv, {
    port: { type: "string" },
    "deploy-delay": { type: "string" },
    "existing-path": { type: "string", multiple: true },
    gpus: { type: "string" },
  });
  const port = values.port === undefined ? EMULATOR_DEFAULT_PORT : Number(values.port);
  if (values.port !== undefined && (!/^\d{1,5}$/.test(values.port) || port > 65535))
    throw new UsageError(`--port must be a port number from 0 to 65535 (got "${values.port}")`);
  const existingPaths = values["existing-path"] ?? ["/"];
  for (const path of existingPaths)
    if (!isAbsolute(path)) throw new UsageError(`--existing-path must be an absolute path (got "${path}")`);
  let totalGpus: number | undefined;
  if (values.gpus !== undefined) {
    totalGpus = Number(values.gpus);
    if (!/^\d+$/.test(values.gpus) || totalGpus < 1)
      throw new UsageError(`--gpus must be a whole number of at least 1 (got "${values.gpus}")`);
  }
  return {
    port,
    deployDelayMs: parseDuration("--deploy-delay", values["deploy-delay"] ?? EMULATOR_DEFAULT_DEPLOY_DELAY),
    existingPaths,
    ...(totalGpus !== undefined ? { totalGpus } : {}),
  };
}
