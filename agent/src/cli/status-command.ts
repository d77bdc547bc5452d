import type { Command } from "../../../generator/src/cli/command";

// Placeholder while the command is being built; replaced in the same series of commits.
export const statusCommand: Command = {
  summary: "(in progress)",
  usage: "(in progress)",
  async run() {
    throw new Error("not implemented yet");
  },
};
