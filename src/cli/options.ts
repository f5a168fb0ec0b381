import { InvalidArgumentError, Option } from "commander";
import { parseDuration } from "../util/duration.js";

/** commander argument parser for durations such as 500ms, 1s, 5m, 12h. */
export function durationOption(text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new InvalidArgumentError(parsed.error);
  return parsed.value;
}

/** A duration flag whose help shows its default as a person writes it ("24h", not 86400000). */
export function durationFlag(flags: string, description: string, fallback: string): Option {
  return new Option(flags, description).argParser(durationOption).default(durationOption(fallback), fallback);
}

export function outputOption(text: string): "table" | "json" {
  if (text === "table" || text === "json") return text;
  throw new InvalidArgumentError(`unknown output "${text}" (use table or json)`);
}

export { formatTable } from "../util/table.js";
