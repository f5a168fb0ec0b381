/**
 * Shared inputs for fuzzing the text parsers. Every fuzzed property takes its run count from
 * `fuzzRuns()`: a modest count in the regular test run, XANDER_FUZZ_RUNS in `npm run fuzz`
 * (100,000 per parser). Fuzzed tests carry "fuzzed" in their names so that run can pick them out.
 */
import fc from "fast-check";

const REGULAR_RUNS = 1000;

/** Runs per fuzzed property: XANDER_FUZZ_RUNS when set to a positive integer, else 1,000. */
export function fuzzRuns(): number {
  const fromEnv = Number(process.env.XANDER_FUZZ_RUNS);
  return Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : REGULAR_RUNS;
}

/** Numbers no kernel prints, put where a kernel prints one. */
export const HOSTILE_NUMBERS = [
  "9".repeat(400),
  "18446744073709551616",
  "18446744073709551615",
  "9223372036854775808",
  "-1",
  "-9223372036854775808",
  `-${"9".repeat(400)}`,
  "NaN",
  "Infinity",
  "-Infinity",
  "1e999",
  "1e3",
  "0x10",
  "+1",
  "1.5",
  ".5",
  "5.",
  "00000000000000000000001",
  "",
] as const;

/** One way of damaging a file; `at` in [0, 1) picks where. */
type Mutation = (text: string) => string;

const position = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const at = (text: string, where: number): number => Math.floor(where * (text.length + 1));

function replaceNth(text: string, re: RegExp, where: number, by: string): string {
  const matches = [...text.matchAll(re)];
  const m = matches[Math.floor(where * matches.length)];
  return m?.index === undefined ? text : text.slice(0, m.index) + by + text.slice(m.index + m[0].length);
}

function mapLines(text: string, where: number, f: (lines: string[], i: number) => string[]): string {
  const lines = text.split("\n");
  return f(lines, Math.floor(where * lines.length)).join("\n");
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Truncated: the file, or one line, cut short (a read racing a write, a short read).
  position.map((w): Mutation => (t) => t.slice(0, at(t, w))),
  fc.tuple(position, position).map(([w, cut]): Mutation => (t) => mapLines(t, w, (ls, i) => ls.map((l, j) => (j === i ? l.slice(0, at(l, cut)) : l)))),
  // Extra or missing fields and lines.
  fc.tuple(position, fc.constantFrom("7", "x", "a=1", "=", "avg10=1.00", "total=9")).map(([w, extra]): Mutation => (t) => mapLines(t, w, (ls, i) => ls.map((l, j) => (j === i ? `${l} ${extra}` : l)))),
  position.map((w): Mutation => (t) => mapLines(t, w, (ls, i) => ls.filter((_, j) => j !== i))),
  position.map((w): Mutation => (t) => mapLines(t, w, (ls, i) => [...ls.slice(0, i + 1), ...ls.slice(i)])),
  position.map((w): Mutation => (t) => mapLines(t, w, (ls, i) => ls.map((l, j) => (j === i ? l.replace(/\s+\S+$/, "") : l)))),
  // A number replaced by one no kernel prints.
  fc.tuple(position, fc.constantFrom(...HOSTILE_NUMBERS)).map(([w, n]): Mutation => (t) => replaceNth(t, /\d+(?:\.\d+)?/g, w, n)),
  // Layout: CRLF, tabs, doubled spaces, leading or trailing blanks, no final newline.
  fc.constant<Mutation>((t) => t.replaceAll("\n", "\r\n")),
  position.map((w): Mutation => (t) => replaceNth(t, / /g, w, "\t")),
  position.map((w): Mutation => (t) => replaceNth(t, / /g, w, "  ")),
  fc.constant<Mutation>((t) => `\n ${t}\t\n\n`),
  fc.constant<Mutation>((t) => t.trimEnd()),
  // A stray character anywhere, including NUL, a non-ASCII letter and a lone surrogate.
  fc.tuple(position, fc.constantFrom("\u0000", "ä", "\ud800", "-", ".", ":", "=", "\u00a0", "\v")).map(([w, c]): Mutation => (t) => t.slice(0, at(t, w)) + c + t.slice(at(t, w))),
);

/** A valid file, damaged in one to four ways. */
export function mutated(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([text, ms]) => ms.reduce((t, m) => m(t), text));
}

/** Text with no relation to any file: any string, any bytes read as latin1 (as the readers read). */
export const anyText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString("latin1")),
);

/** What a parser is fuzzed with: unrelated text, damaged valid files, and valid files. */
export function fuzzInput(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof({ arbitrary: anyText, weight: 2 }, { arbitrary: mutated(valid), weight: 5 }, { arbitrary: valid, weight: 1 });
}

/** A whole count of something: finite, integral, never negative. */
export function isCount(n: unknown): boolean {
  return typeof n === "number" && Number.isInteger(n) && n >= 0;
}

/** A measure that may be fractional, finite and never negative (percentages, ratios). */
export function isNonNegative(n: unknown): boolean {
  return typeof n === "number" && Number.isFinite(n) && n >= 0;
}
