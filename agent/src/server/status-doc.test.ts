import { describe, expect, it } from "vitest";
import { statusTable } from "../cli/status-table";
import { emptyRecord } from "../model/types";
import { statusDoc } from "./status-doc";

const LOST = "177e2a6144ff84374b072fe4e8e3aebf770613bd";

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

  it("shows the last applied commit git no longer has, and the models the guards count against", () => {
    const input = {
      branch: "main",
      dryRun: false,
      suspended: false,
      ray: { address: "http://ray:8265", version: "2.52.0" },
      outbox: 0,
    };
    const record = {
      ...emptyRecord("h1"),
      marks: { accepted: { sha: LOST, at: "2026-01-06T12:35:00.000Z" } },
      unreadable: { sha: LOST, models: ["alice/a", "bob/b"] },
    };
    const doc = statusDoc({ ...input, record });
    expect(doc.unreadable).toEqual({ sha: LOST, models: ["alice/a", "bob/b"] });
    // serve-gitops status: an operator sees it without reading the JSON.
    expect(statusTable(doc)).toContain(
      "\nunreadable: 177e2a6 cannot be read from git (force-pushed away?): the guards count what a commit drops against Ray and its 2 models (alice/a, bob/b)\n",
    );
    const { unreadable: _, ...readable } = record;
    expect(statusTable(statusDoc({ ...input, record: readable }))).not.toContain("unreadable");
  });
});
