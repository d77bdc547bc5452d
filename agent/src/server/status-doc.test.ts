import { describe, expect, it } from "vitest";
import { emptyRecord } from "../model/types";
import { statusDoc } from "./status-doc";

describe("the /status document", () => {
  it("never shows a dashboard address's user info (GET /status needs no credentials)", () => {
    const doc = statusDoc({
      record: emptyRecord("h1"),
      branch: "main",
      dryRun: false,
      suspended: false,
      ray: { address: "http://admin:s3cret@ray:8265", version: "2.52.0" },
      outbox: 0,
    });
    expect(doc.ray).toEqual({ address: "http://***@ray:8265", version: "2.52.0" });
    expect(JSON.stringify(doc)).not.toContain("s3cret");
  });
});
