import { describe, expect, it } from "vitest";
import { fetchFailure } from "./fetch-failure";

describe("fetchFailure", () => {
  it("reads an AggregateError cause (one error per address tried), a timeout and URLs with user info", () => {
    const aggregate = Object.assign(
      new AggregateError(
        [new Error("connect ECONNREFUSED ::1:9464"), new Error("connect ECONNREFUSED 127.0.0.1:9464")],
        "",
      ),
      { code: "ECONNREFUSED" },
    );
    expect(fetchFailure(new TypeError("fetch failed", { cause: aggregate }))).toBe(
      "fetch failed: connect ECONNREFUSED ::1:9464",
    );
    const coded = Object.assign(new AggregateError([], ""), { code: "ECONNREFUSED" });
    expect(fetchFailure(new TypeError("fetch failed", { cause: coded }))).toBe("fetch failed: ECONNREFUSED");
    expect(fetchFailure(new DOMException("The operation was aborted due to timeout", "TimeoutError"))).toBe(
      "no answer before the timeout",
    );
    expect(fetchFailure(new TypeError("cannot use https://u:tok@host/x"))).toBe(
      "cannot use https://***@host/x",
    );
  });
});
