import { describe, expect, it } from "vitest";
import { backoffMs } from "./backoff";

describe("backoffMs", () => {
  const middle = () => 0.5;

  it("doubles from the base with each attempt, up to the cap", () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, 1000, 60_000, middle))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffMs(0, 1000, 60_000, middle)).toBe(1000);
    expect(backoffMs(30, 1000, 5000, middle)).toBe(5000);
  });

  it("spreads retries by 25% either way, so agents do not retry in step", () => {
    expect(backoffMs(3, 1000, 60_000, () => 0)).toBe(3000);
    expect(backoffMs(3, 1000, 60_000, () => 0.9999)).toBe(5000);
    // The cap is applied before the jitter: a capped wait is spread too.
    expect(backoffMs(30, 1000, 4000, () => 0)).toBe(3000);
  });

  it("never waits less than a millisecond", () => {
    expect(backoffMs(1, 0, 60_000, middle)).toBe(1);
  });
});
