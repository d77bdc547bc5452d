import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import packageJson from "../../package.json";
import { describe, expect, it } from "vitest";
import { TEMPLATE_REPO } from "../test-fixtures/helpers";
import { checkRepo, CODEOWNERS_FILE, codeownersOf } from "./index";
import { readWorkingTree } from "./io/working-tree";

// The only tests that read this repository's live models/, clusters/ and .github/CODEOWNERS. They assert
// nothing about what those hold (a team that adopts the template replaces the examples with its own), only
// what `npm start` and the serving-specs check require of any content: it validates, its committed render is
// current, and CODEOWNERS is what users.yaml renders. Tests that need the examples themselves read the frozen
// copy in generator/test-fixtures/template-repo, which is held to the same checks so it never goes stale.

const ROOT = join(import.meta.dirname, "../..");

describe.each([
  ["this repository's own content", ROOT],
  ["the template's frozen examples (generator/test-fixtures/template-repo)", TEMPLATE_REPO],
])("%s", (_, root) => {
  const snapshot = readWorkingTree(root);

  it("validates, and its committed render is current (`serve-gitops validate` and `render --check`)", () => {
    const result = checkRepo(snapshot, { now: new Date() });
    expect(result.ok, JSON.stringify(result.diagnostics, null, 2)).toBe(true);
    expect(result.renderDiff).toMatchObject({ stale: [], missing: [], extra: [] });
  });

  it("has a committed .github/CODEOWNERS that is what models/users.yaml renders (`codeowners --check`)", () => {
    const rendered = codeownersOf(snapshot);
    expect(rendered.diagnostics).toEqual([]);
    expect(rendered.text).toBeDefined();
    const path = join(root, CODEOWNERS_FILE);
    expect(existsSync(path), `${CODEOWNERS_FILE} is missing: run \`npx serve-gitops codeowners\``).toBe(true);
    expect(readFileSync(path, "utf8")).toBe(rendered.text);
  });
});

describe("npm start", () => {
  // README: the live-repo checks (it validates, its render is current, CODEOWNERS is what users.yaml renders)
  // are "the same checks `npm start` and the PR check make". An admin who edits users.yaml and runs npm start
  // must see CODEOWNERS go stale there, not first in the PR check.
  it("runs the same three checks: validate, render --check and codeowners --check", () => {
    const start = packageJson.scripts.start;
    expect(start).toContain("validate");
    expect(start).toContain("render --check");
    expect(start).toContain("codeowners --check");
  });
});
