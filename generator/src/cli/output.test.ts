import { afterEach, describe, expect, it, vi } from "vitest";
import { diagnostic } from "../rules";
import { formatDiagnostics } from "./output";

const list = [
  diagnostic(
    "model-source-other-user",
    "models/alice/a.yaml",
    { line: 2, column: 15 },
    "points into bob's folder",
  ),
  diagnostic("packing", "clusters/h1/cluster.yaml", { line: 1, column: 1 }, "cannot be packed"),
];
const stream = (isTTY: boolean) => ({ isTTY }) as unknown as NodeJS.WriteStream;

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("formatDiagnostics", () => {
  it("escapes control characters of file names and messages, so no line of output is the input's", () => {
    const hostile = diagnostic(
      "spec-location",
      "models/x\n::error file=a::pwned.yaml",
      { line: 1, column: 1 },
      "value \u001b[31mred\u202e and \r carriage",
    );
    const text = formatDiagnostics([hostile], stream(false));
    expect(text.split("\n").filter((l) => l.startsWith("::"))).toEqual([]);
    expect(text).toContain("models/x\\u000a::error file=a::pwned.yaml:1:1  E400 spec-location");
    expect(text).toContain("value \\u001b[31mred\\u202e and \\u000d carriage");
  });

  it("prints file:line:column  code rule  message, grouped by file, with a summary", () => {
    expect(formatDiagnostics(list, stream(false))).toBe(
      [
        "models/alice/a.yaml",
        "models/alice/a.yaml:2:15  E403 model-source-other-user  points into bob's folder",
        "",
        "clusters/h1/cluster.yaml",
        "clusters/h1/cluster.yaml:1:1  warning E422 packing  cannot be packed",
        "",
        "1 error, 1 warning",
        "",
      ].join("\n"),
    );
  });

  it("colours on a TTY only, and never with NO_COLOR", () => {
    vi.stubEnv("NO_COLOR", "");
    expect(formatDiagnostics(list, stream(true))).toContain("\u001b[31mE403\u001b[0m");
    expect(formatDiagnostics(list, stream(false))).not.toContain("\u001b[");
    vi.stubEnv("NO_COLOR", "1");
    expect(formatDiagnostics(list, stream(true))).not.toContain("\u001b[");
  });

  it("prints nothing for no diagnostics", () => {
    expect(formatDiagnostics([], stream(true))).toBe("");
  });
});
