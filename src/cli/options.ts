import { InvalidArgumentError } from "commander";
import { parseDuration } from "../util/duration.js";

/** commander argument parser for durations such as 500ms, 1s, 5m, 12h. */
export function durationOption(text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new InvalidArgumentError(parsed.error);
  return parsed.value;
}

export function outputOption(text: string): "table" | "json" {
  if (text === "table" || text === "json") return text;
  throw new InvalidArgumentError(`unknown output "${text}" (use table or json)`);
}

/** Prints rows as an aligned table, kubectl style. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join("   ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
