import { parseArgs, type ParseArgsConfig } from "node:util";
import { utcDate } from "../render";
import { UsageError } from "./errors";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** node:util parseArgs, with its errors turned into usage errors (exit 2). */
export function parse<T extends Options>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

// YYYY-MM-DDTHH:MM[:SS[.fff]] and a required offset: without one, JavaScript reads the time in the
// machine's time zone, and a served name would depend on where render ran.
const ISO_TIME =
  /^(?<y>\d{4})-(?<mo>\d{2})-(?<d>\d{2})T(?<h>\d{2}):(?<mi>\d{2})(?::(?<s>\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](?<oh>\d{2}):?(?<om>\d{2}))$/i;
const UNZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;

/**
 * `--now`: an ISO 8601 time with `Z` or a UTC offset, or the clock when absent. A time without an offset
 * and an impossible date (February 30th, hour 25) are usage errors, rather than read in the local time
 * zone or rolled over into the next month.
 */
export function parseNow(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const refuse = (why: string) =>
    new UsageError(
      `--now must be an ISO 8601 time with Z or an offset, such as 2026-01-06T12:35:00Z or 2026-01-06T13:35:00+01:00 (got "${value}": ${why})`,
    );
  const parts = ISO_TIME.exec(value)?.groups;
  if (!parts)
    throw refuse(
      UNZONED.test(value)
        ? "no Z or offset, so it would depend on this machine's time zone"
        : "not that form",
    );
  const n = (key: string) => Number(parts[key] ?? 0);
  const daysInMonth = utcDate(n("y"), n("mo"), 0).getUTCDate();
  if (n("mo") < 1 || n("mo") > 12 || n("d") < 1 || n("d") > daysInMonth) throw refuse("no such date");
  if (n("h") > 23 || n("mi") > 59 || n("s") > 59) throw refuse("no such time of day");
  if (n("oh") > 23 || n("om") > 59) throw refuse("no such UTC offset");
  const at = new Date(value);
  // A served name carries YYYYMMDDHHMM in UTC: an offset must not carry the time past year 9999 (or before 0).
  const year = at.getUTCFullYear();
  if (year < 0 || year > 9999) throw refuse("outside the years 0000-9999 in UTC");
  return at;
}
