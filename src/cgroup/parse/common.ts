import { err, ok, parseError, type ParseError, type Result } from "../../util/result.js";

/**
 * Limits at or above 2^62 mean "no limit". cgroup v1 prints PAGE_COUNTER_MAX pages in bytes
 * (9223372036854771712 with 4 KiB pages, just under 2^63); no real limit comes near 2^62.
 */
export const UNLIMITED_AT = 2n ** 62n;

const UINT_RE = /^\d+$/;
const INT_RE = /^-?\d+$/;
const WS_RE = /\s+/;

/** Up to 15 decimal digits always fit exactly in a double, so Number() is safe and cheaper than BigInt. */
const SAFE_DIGITS = 15;

/** The widest counter a kernel file prints (u64); anything larger is garbage, and may not even be a finite double. */
const U64_MAX = 2n ** 64n - 1n;

/** A decimal integer in 0..2^64-1 as bigint, or undefined if the token is not one. */
export function parseUintBig(token: string): bigint | undefined {
  if (!UINT_RE.test(token)) return undefined;
  const value = BigInt(token);
  return value <= U64_MAX ? value : undefined;
}

/**
 * Digits of `s` as a number, or -1 if `s` is empty or not all digits. Only for ≤ 15 digits.
 * A char-code loop: these run for every line of every file each tick, and beat a regex plus Number().
 */
function smallUint(s: string): number {
  if (s.length === 0) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * A cumulative counter (u64) as a Number. Counters past 2^53 lose precision in the last digits, which is
 * irrelevant for rates; parsing through BigInt keeps the conversion correctly rounded.
 */
export function parseCounter(token: string): number | undefined {
  if (token.length <= SAFE_DIGITS) {
    const v = smallUint(token);
    return v < 0 ? undefined : v;
  }
  const value = parseUintBig(token);
  return value === undefined ? undefined : Number(value);
}

/** A signed decimal integer as a Number (memory.stat keys are not all counters). */
export function parseInteger(token: string): number | undefined {
  if (token.startsWith("-")) {
    const v = parseCounter(token.slice(1));
    return v === undefined ? undefined : -v;
  }
  return parseCounter(token);
}

/**
 * A limit: `max`, any negative number (v1 `-1`) and values ≥ 2^62 are unlimited (null).
 * Compared as bigint so that 2^62 - 1 is not rounded up into "unlimited".
 */
export function parseLimit(token: string): number | null | undefined {
  if (token === "max") return null;
  if (!INT_RE.test(token)) return undefined;
  if (token.startsWith("-")) return null;
  if (token.length <= SAFE_DIGITS) return Number(token);
  const big = BigInt(token);
  return big >= UNLIMITED_AT ? null : Number(big);
}

/** Nanoseconds (v1 cpuacct.usage, throttled_time) to whole microseconds without losing precision. */
export function parseNsAsUsec(token: string): number | undefined {
  const ns = parseUintBig(token);
  return ns === undefined ? undefined : Number(ns / 1000n);
}

/** ASCII whitespace as the kernel prints it (space, tab) plus what editors add (CR, VT, FF). */
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12;
}

/**
 * Calls `visit` with the whitespace-separated tokens of each non-empty line and its 1-based
 * number; `visit` returns false to stop early.
 */
export function scanLines(text: string, visit: (tokens: readonly string[], line: number) => boolean): void {
  const n = text.length;
  let line = 0;
  for (let pos = 0; pos <= n; ) {
    let end = text.indexOf("\n", pos);
    if (end === -1) end = n;
    line++;
    const toks = lineTokens(text, pos, end);
    if (toks.length > 0 && !visit(toks, line)) return;
    pos = end + 1;
  }
}

function lineTokens(text: string, from: number, to: number): string[] {
  const toks: string[] = [];
  let i = from;
  for (;;) {
    while (i < to && isSpace(text.charCodeAt(i))) i++;
    if (i >= to) return toks;
    const start = i;
    while (i < to && !isSpace(text.charCodeAt(i))) i++;
    toks.push(text.slice(start, i));
  }
}

/** Whitespace other than space and newline; kernel files never contain it. */
const OTHER_SPACE_RE = /[\t\r\v\f]/;

/**
 * Calls `visit(key, value, line)` for each non-empty line of a flat-keyed file and returns 0, or
 * the number of the first line that is not exactly two tokens. memory.stat alone is ~60 lines and
 * is parsed for every container every tick, so kernel-shaped lines (`key value`, one space) take a
 * path of native indexOf/slice, measured about twice as fast as tokenising each line.
 */
export function scanPairs(text: string, visit: (key: string, value: string, line: number) => boolean): number {
  const plain = !OTHER_SPACE_RE.test(text);
  let line = 0;
  for (let pos = 0; pos <= text.length; ) {
    let end = text.indexOf("\n", pos);
    if (end === -1) end = text.length;
    line++;
    const sp = plain ? singleSpace(text, pos, end) : -1;
    const toks = sp >= 0 ? [text.slice(pos, sp), text.slice(sp + 1, end)] : lineTokens(text, pos, end);
    if (toks.length !== 0 && toks.length !== 2) return line;
    if (toks.length === 2 && !visit(toks[0] ?? "", toks[1] ?? "", line)) return 0;
    pos = end + 1;
  }
  return 0;
}

/** The index of the only space in text[from, to), if it separates two non-empty tokens; else -1. */
function singleSpace(text: string, from: number, to: number): number {
  const sp = text.indexOf(" ", from);
  return sp > from && sp < to - 1 && text.lastIndexOf(" ", to - 1) === sp ? sp : -1;
}

export function tokens(line: string): string[] {
  const out: string[] = [];
  scanLines(line, (t) => {
    out.push(...t);
    return true;
  });
  return out;
}

/** The single value of a one-value file (`memory.current`, `cpu.shares`, ...). */
export function singleToken(text: string, file: string): Result<string, ParseError> {
  const t = text.trim();
  if (t === "") return err(parseError(file, "empty file"));
  if (WS_RE.test(t)) return err(parseError(file, `expected a single value, got "${clip(t)}"`));
  return ok(t);
}

/**
 * A "flat keyed" file (`<key> <value>` per line; cgroup-v2.rst "Interface Files"). Keys are
 * kept as raw tokens; unknown keys are the caller's to ignore. Malformed lines are errors, because
 * every kernel flat-keyed file holds exactly two tokens per line.
 */
export function flatKeyed(text: string, file: string): Result<Map<string, string>, ParseError> {
  const fields = new Map<string, string>();
  const bad = scanPairs(text, (key, value) => {
    fields.set(key, value);
    return true;
  });
  if (bad !== 0) return err(parseError(file, `expected "<key> <value>", got "${clip(lineAt(text, bad))}"`, bad));
  if (fields.size === 0) return err(parseError(file, "empty file"));
  return ok(fields);
}

/** The trimmed text of a 1-based line, for error messages. */
function lineAt(text: string, line: number): string {
  return (text.split("\n")[line - 1] ?? "").trim();
}

type Picked<R extends string, O extends string> = { [K in R]: number } & { [K in O]?: number };

/**
 * Reads counters out of flat-keyed fields: `required` keys must be present, `optional` ones may be
 * absent (older kernels, controllers not enabled). Other keys are ignored.
 */
export function pickCounters<R extends string, O extends string = never>(
  fields: ReadonlyMap<string, string>,
  file: string,
  required: readonly R[],
  optional: readonly O[] = [],
): Result<Picked<R, O>, ParseError> {
  const out: Record<string, number> = {};
  for (const key of required) {
    const raw = fields.get(key);
    if (raw === undefined) return err(parseError(file, `missing key "${key}"`));
    const value = parseCounter(raw);
    if (value === undefined) return err(parseError(file, `"${key}" is not a non-negative integer: "${clip(raw)}"`));
    out[key] = value;
  }
  for (const key of optional) {
    const raw = fields.get(key);
    if (raw === undefined) continue;
    const value = parseCounter(raw);
    if (value === undefined) return err(parseError(file, `"${key}" is not a non-negative integer: "${clip(raw)}"`));
    out[key] = value;
  }
  return ok(out as Picked<R, O>);
}

/** Keeps error messages short when a file is garbage. */
export function clip(s: string, max = 40): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

/** Every `<key> <integer>` line of a flat-keyed file, as numbers. */
export function integerFields(text: string, file: string): Result<Map<string, number>, ParseError> {
  const out = new Map<string, number>();
  let badValueLine = 0;
  const badShapeLine = scanPairs(text, (key, raw, line) => {
    const value = parseInteger(raw);
    if (value === undefined) {
      badValueLine = line;
      return false;
    }
    out.set(key, value);
    return true;
  });
  const bad = badShapeLine || badValueLine;
  if (bad !== 0) return err(parseError(file, `expected "<key> <integer>", got "${clip(lineAt(text, bad))}"`, bad));
  if (out.size === 0) return err(parseError(file, "empty file"));
  return ok(out);
}

/** `memory.stat` of either version: every key, and `inactive_file`, which must be present. */
export function memoryStatFields(text: string): Result<{ readonly inactiveFileBytes: number; readonly fields: ReadonlyMap<string, number> }, ParseError> {
  const file = "memory.stat";
  const all = integerFields(text, file);
  if (!all.ok) return all;
  const inactiveFileBytes = all.value.get("inactive_file");
  if (inactiveFileBytes === undefined) return err(parseError(file, `missing key "inactive_file"`));
  // The kernel clamps per-CPU sums at 0 before printing; a negative size would inflate the working set.
  if (inactiveFileBytes < 0) return err(parseError(file, `"inactive_file" is negative: ${inactiveFileBytes}`));
  return ok({ inactiveFileBytes, fields: all.value });
}

const KERNEL_FLAT_RE = /^(?:[a-z0-9_]+ \d{1,19}\n)+$/;

/**
 * Whether flat-keyed text is exactly as the kernel prints it: lowercase keys, one space, digits, a
 * newline after every line. Up to 19 digits, so every value is a valid u64 as `integerFields` requires
 * (the rare 20-digit counter takes the general path). Such text can be searched for a key (`kernelFlatValue`) instead of
 * parsed whole: a reader that needs one or two of memory.stat's ~60 keys skips the map of every
 * key (~5 -> ~1 us per file). Other text takes the general path.
 */
export function isKernelFlat(text: string): boolean {
  return KERNEL_FLAT_RE.test(text);
}

/** The last value of `key` in text that `isKernelFlat` accepts, exactly as `integerFields` gives it; undefined when the key is absent. */
export function kernelFlatValue(text: string, key: string): number | undefined {
  // Keys hold no newline, so "\n<key> " starts exactly the lines of that key.
  const last = text.lastIndexOf(`\n${key} `);
  const at = last >= 0 ? last + 1 : text.startsWith(`${key} `) ? 0 : -1;
  if (at < 0) return undefined;
  const from = at + key.length + 1;
  return parseCounter(text.slice(from, text.indexOf("\n", from)));
}

export function singleCounter(text: string, file: string): Result<number, ParseError> {
  const t = singleToken(text, file);
  if (!t.ok) return t;
  const value = parseCounter(t.value);
  return value === undefined ? err(parseError(file, `not a non-negative integer: "${clip(t.value)}"`)) : ok(value);
}

export function singleLimit(text: string, file: string): Result<number | null, ParseError> {
  const t = singleToken(text, file);
  if (!t.ok) return t;
  const value = parseLimit(t.value);
  return value === undefined ? err(parseError(file, `not an integer or "max": "${clip(t.value)}"`)) : ok(value);
}
