import { FindingsError, UsageError } from "./errors";

import type { Command } from "./command";

// One thin dispatcher; each command is loaded only when called, so `validate` never loads git or HTTP clients.
const COMMANDS: Record<string, () => Promise<Command>> = {
  validate: async () => (await import("./validate-command")).validateCommand,
  render: async () => (await import("./render-command")).renderCommand,
  assemble: async () => (await import("./assemble-command")).assembleCommand,
  plan: async () => (await import("./plan-command")).planCommand,
  new: async () => (await import("./new-command")).newCommand,
  codeowners: async () => (await import("./codeowners-command")).codeownersCommand,
  agent: async () => (await import("../../../agent/src/cli/agent-command")).agentCommand,
  status: async () => (await import("../../../agent/src/cli/status-command")).statusCommand,
  demo: async () => (await import("../../../agent/src/demo/demo-command")).demoCommand,
  emulator: async () => (await import("../../../agent/src/cli/emulator-command")).emulatorCommand,
};

const HELP = `serve-gitops: GitOps for self-service LLM serving on Ray Serve

Usage: serve-gitops <command> [options]     (serve-gitops <command> --help for details)

Commands:
  validate    check specs, users.yaml and cluster.yaml; print diagnostics
  render      write clusters/<cluster>/rendered/ fragments (--check: verify only)
  assemble    print the Ray Serve config of one cluster
  plan        what a change deploys, updates and undeploys on each cluster
  new         scaffold a ServingSpec
  codeowners  render .github/CODEOWNERS from models/users.yaml
  agent       run the sync agent beside a Ray cluster
  status      print a sync agent's per-model status
  demo        the whole loop on this machine against a SIMULATED Ray cluster and GitHub
  emulator    a SIMULATED Ray Serve dashboard on 127.0.0.1, to try the agent on your own repository
`;

/**
 * A reader that stops early (`serve-gitops plan | head -1`) closes the pipe, and Node reports the next write
 * as an 'error' event that, unhandled, crashes with a stack trace. Output nobody reads is dropped instead:
 * the command finishes quietly and exits with its own code.
 */
export function ignoreClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") return;
    throw error;
  });
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version") {
    process.stdout.write(`${(await import("../render")).GENERATOR_VERSION}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`serve-gitops: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  const command = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${command.summary}\n\n${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`serve-gitops ${name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    if (error instanceof FindingsError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    process.stderr.write(`serve-gitops ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}
