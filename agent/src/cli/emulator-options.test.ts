import { describe, expect, it } from "vitest";
import { UsageError } from "../../../generator/src/cli/errors";
import { parseEmulatorOptions } from "./emulator-options";

describe("serve-gitops emulator flags", () => {
  it("default to Ray's dashboard port, a 5 s deploy, every model_source present and no GPU limit", () => {
    expect(parseEmulatorOptions([])).toEqual({ port: 8265, deployDelayMs: 5000, existingPaths: ["/"] });
  });

  it("read the port, the deploy delay, the paths the cluster holds and its GPUs", () => {
    expect(
      parseEmulatorOptions([
        "--port=0",
        "--deploy-delay",
        "750ms",
        "--existing-path",
        "/private/hf",
        "--existing-path=/private/users",
        "--gpus",
        "16",
      ]),
    ).toEqual({
      port: 0,
      deployDelayMs: 750,
      existingPaths: ["/private/hf", "/private/users"],
      totalGpus: 16,
    });
  });

  it.each([
    [["--port", "65536"], "--port must be a port number from 0 to 65535"],
    [["--port", "-1"], "--port"],
    [["--port", "8265x"], "--port must be a port number"],
    [["--deploy-delay", "soon"], "--deploy-delay must be a duration"],
    [["--existing-path", "private/hf"], "--existing-path must be an absolute path"],
    [["--gpus", "0"], "--gpus must be a whole number of at least 1"],
    [["--gpus", "1.5"], "--gpus must be a whole number"],
    [["--host", "0.0.0.0"], "listens on 127.0.0.1 only"],
    [["--listen=0.0.0.0:8265"], "listens on 127.0.0.1 only"],
    [["--verbose"], "Unknown option '--verbose'"],
  ])("refuse %j as a usage error", (argv, message) => {
    expect(() => parseEmulatorOptions(argv)).toThrow(UsageError);
    expect(() => parseEmulatorOptions(argv)).toThrow(message);
  });
});
