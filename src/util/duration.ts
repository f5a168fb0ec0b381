import { err, ok, type Result } from "./result.js";

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Number.MAX_SAFE_INTEGER milliseconds, in whole days, for the error message. */
const MAX_DURATION_DAYS = Math.floor(Number.MAX_SAFE_INTEGER / 86_400_000);

/**
 * Parses a duration such as `500ms`, `1s`, `5m`, `12h`, or a compound `1h30m`, into milliseconds.
 * A bare number is rejected: the unit is what makes a duration unambiguous.
 */
export function parseDuration(text: string): Result<number, string> {
  const trimmed = text.trim();
  if (trimmed === "") return err("empty duration (use e.g. 500ms, 1s, 5m, 12h)");
  let rest = trimmed;
  let totalMs = 0;
  while (rest.length > 0) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)/.exec(rest);
    if (!match) return err(`invalid duration "${text}" (use e.g. 500ms, 1s, 5m, 12h)`);
    const [whole, amount, unit] = match as unknown as [string, string, string];
    totalMs += Number(amount) * (UNIT_MS[unit] ?? 0);
    rest = rest.slice(whole.length);
  }
  const ms = Math.round(totalMs);
  // Digits enough to overflow (or to lose whole milliseconds) are a typo, not a duration.
  if (!Number.isSafeInteger(ms)) return err(`duration "${text}" is too long (at most ${MAX_DURATION_DAYS} days)`);
  return ok(ms);
}

/** Like parseDuration but throws; for flags and config already validated by a schema. */
export function durationMs(text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

/** Formats milliseconds the way a person writes them: 1500 -> "1.5s", 90000 -> "1m30s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${trimZeros((ms / 1000).toFixed(1))}s`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return [hours > 0 ? `${hours}h` : "", minutes > 0 ? `${minutes}m` : "", seconds > 0 ? `${seconds}s` : ""].join("") || "0s";
}

function trimZeros(text: string): string {
  return text.replace(/\.0$/, "");
}


/** The same grammar as a JSON-schema pattern, for CRDs and policy validation. */
export const DURATION_SCHEMA_PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$";
