/** One CLI command: loaded lazily by the dispatcher in main.ts. */
export interface Command {
  readonly summary: string;
  readonly usage: string;
  /** Returns the exit code: 0 ok, 1 findings, 2 usage or internal error. Throw UsageError for bad flags. */
  run(argv: string[]): Promise<number>;
}
