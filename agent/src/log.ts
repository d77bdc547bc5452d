import { pino, type Logger, type DestinationStream } from "pino";
import { safeError } from "./errors";

export type { Logger } from "pino";

/**
 * Structured JSON logs. Errors are logged through safeError(), never as objects; the redaction below is a
 * second line of defence in case a header or token ever reaches a log call.
 */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      name: "serve-gitops-agent",
      level: options.level ?? "info",
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // `err` is always safeError()'s plain object: pino's own error serializer would take it for an Error,
      // fold the cause's message into the message and log an empty stack ("\ncaused by: "), dropping the cause.
      serializers: { err: (value: unknown) => (value instanceof Error ? safeError(value) : value) },
      redact: {
        paths: [
          "token",
          "*.token",
          "authorization",
          "*.authorization",
          "headers.authorization",
          "*.headers.authorization",
          "request",
          "*.request",
        ],
        censor: "[redacted]",
      },
    },
    options.destination,
  );
}

/** A logger that writes nothing (tests, the demo's in-process agent). */
export const silentLogger = (): Logger => pino({ level: "silent" });
