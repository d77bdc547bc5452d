// Why a fetch() failed, in one line an operator can act on. Node's fetch throws TypeError("fetch failed") and
// keeps the reason (ECONNREFUSED, ENOTFOUND, a certificate error, "bad port") in `cause`, sometimes as an
// AggregateError with an empty message (one error per address tried). URLs in the text lose their user info,
// so a credential never reaches the terminal or a CI log.
import { redactUrl } from "../redact-url";

export function fetchFailure(error: unknown, port?: string): string {
  if (!(error instanceof Error)) return redactUrl(String(error));
  if (error.name === "TimeoutError") return "no answer before the timeout";
  const reason = causeText(error.cause);
  // The Fetch standard blocks some ports (9, 21, 25, 6000, ...) without trying to connect.
  const hint =
    reason === "bad port" && port ? ` (fetch refuses port ${port}: use another --listen port)` : "";
  return redactUrl(reason ? `${error.message}: ${reason}${hint}` : error.message);
}

function causeText(cause: unknown): string {
  if (!(cause instanceof Error)) return "";
  const code = (cause as NodeJS.ErrnoException).code;
  const first = cause instanceof AggregateError ? (cause.errors[0] as unknown) : undefined;
  const message = cause.message || (first instanceof Error ? first.message : "");
  if (code && !message.includes(code)) return message ? `${code} (${message})` : code;
  return message || cause.name;
}
