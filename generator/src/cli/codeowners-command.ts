import type { Command } from "./command";

// Placeholder while the command is being built; replaced in the same series of commits.
export const codeownersCommand: Command = {
  summary: "(in progress)",
  usage: "(in progress)",
  async run() {
    throw new Error("not implemented yet");
  },
};
