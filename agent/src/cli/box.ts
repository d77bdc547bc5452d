/** Lines framed in `#`, for the banners that say a run is a simulation (`demo`, `emulator`). */
export function box(lines: readonly string[]): string {
  const width = Math.max(...lines.map((l) => l.length));
  const rule = "#".repeat(width + 6);
  return [rule, ...lines.map((l) => `#  ${l.padEnd(width)}  #`), rule].join("\n");
}
