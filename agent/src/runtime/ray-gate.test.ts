import { describe, expect, it } from "vitest";
import { createLogger } from "../log";
import { RayGate } from "./ray-gate";

describe("the Ray gate", () => {
  it("logs the dashboard address without its user info", async () => {
    const lines: string[] = [];
    const log = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
    const target = {
      version: async () => ({ ray_version: "2.52.0" }),
      observe: async () => Promise.reject(new Error("unused")),
      apply: async () => undefined,
    };
    const gate = new RayGate({ override: "http://admin:s3cret@ray:8265", log }, target);
    expect(await gate.ready(undefined)).toBe(true);
    expect(lines.join("")).toContain('"address":"http://***@ray:8265"');
    expect(lines.join("")).not.toContain("s3cret");
  });

  it("says the emulator is a simulation wherever the Ray version is shown (log, /status, serve-gitops status)", async () => {
    const lines: string[] = [];
    const log = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
    const target = {
      version: async () => ({ ray_version: "2.52.0", simulated: true }),
      observe: async () => Promise.reject(new Error("unused")),
      apply: async () => undefined,
    };
    const gate = new RayGate({ override: "http://127.0.0.1:8265", log }, target);
    expect(await gate.ready(undefined)).toBe(true);
    expect(gate.version).toBe("2.52.0 (SIMULATED: the serve-gitops Ray Serve emulator, not a Ray cluster)");
    expect(lines.join("")).toContain("SIMULATED");
  });
});
