import { pino, type Logger } from "pino";

export type { Logger };

/** JSON logs to stderr, so stdout stays free for command output (tables, JSON reports). */
export function createLogger(name: string, level: string = process.env.XANDER_LOG_LEVEL ?? "info"): Logger {
  return pino({ name, level, base: { component: name } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything, for tests and library callers that do not care. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
