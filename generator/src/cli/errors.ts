/** A mistake in how the command was called: exit 2 with the message and a pointer to --help. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The command ran and found problems it already printed: exit 1. */
export class FindingsError extends Error {
  override name = "FindingsError";
}
