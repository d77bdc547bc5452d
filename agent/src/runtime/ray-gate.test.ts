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
});
