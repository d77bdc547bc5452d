import { describe, expect, it } from "vitest";
import { parseNow } from "./args";
import { UsageError } from "./errors";

describe("parseNow", () => {
  it("reads a time with Z or a UTC offset as that instant", () => {
    expect(parseNow("2026-01-06T12:35:00Z").toISOString()).toBe("2026-01-06T12:35:00.000Z");
    expect(parseNow("2026-01-06T12:35Z").toISOString()).toBe("2026-01-06T12:35:00.000Z");
    expect(parseNow("2026-02-01T10:00:00-05:00").toISOString()).toBe("2026-02-01T15:00:00.000Z");
    expect(parseNow("2026-02-01T10:00+0530").toISOString()).toBe("2026-02-01T04:30:00.000Z");
    expect(parseNow("2028-02-29T23:59:59.999Z").toISOString()).toBe("2028-02-29T23:59:59.999Z");
  });

  it("refuses a time without Z or an offset, which would depend on the machine's time zone", () => {
    expect(() => parseNow("2026-02-01T10:00")).toThrow(UsageError);
    expect(() => parseNow("2026-02-01T10:00:00")).toThrow("would depend on this machine's time zone");
  });

  it.each([
    "2026-02-30T00:00:00Z",
    "2027-02-29T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-00-10T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-01-06T24:00:00Z",
    "2026-01-06T12:60:00Z",
    "2026-01-06T12:35:61Z",
    "2026-01-06T12:35:00+24:00",
  ])("refuses the impossible %s instead of rolling it over", (value) => {
    expect(() => parseNow(value)).toThrow(UsageError);
  });

  it("refuses a time an offset carries past year 9999 in UTC (a served name has four year digits)", () => {
    expect(() => parseNow("9999-12-31T23:59:00-01:00")).toThrow("outside the years 0000-9999 in UTC");
    expect(parseNow("9999-12-31T22:59:00-01:00").toISOString()).toBe("9999-12-31T23:59:00.000Z");
  });

  it("knows February 29th of the years 0-99 as those years, not 1900-1999", () => {
    expect(parseNow("0000-02-29T00:00:00Z").toISOString()).toBe("0000-02-29T00:00:00.000Z");
    expect(parseNow("0004-02-29T00:00:00Z").toISOString()).toBe("0004-02-29T00:00:00.000Z");
    expect(() => parseNow("1900-02-29T00:00:00Z")).toThrow("no such date");
    expect(() => parseNow("0100-02-29T00:00:00Z")).toThrow("no such date");
  });

  it("refuses what is not an ISO 8601 time", () => {
    expect(() => parseNow("yesterday")).toThrow("--now must be an ISO 8601 time");
    expect(() => parseNow("2026-01-06")).toThrow(UsageError);
  });

  it("is the clock without a value", () => {
    const before = Date.now();
    expect(parseNow(undefined).getTime()).toBeGreaterThanOrEqual(before);
  });
});
