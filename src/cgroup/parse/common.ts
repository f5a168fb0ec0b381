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

/** A non-negative decimal integer of any size as bigint, or undefined if the token is not one. */
export function parseUintBig(token: string): bigint | undefined {
  return UINT_RE.test(token) ? BigInt(token) : undefined;
}

/**
 * A cumulative counter as a Number. Counters past 2^53 lose precision in the last digits, which is
 * irrelevant for rates; parsing through BigInt keeps the conversion correctly rounded.
 */
export function parseCounter(token: string): number | undefined {
  if (!UINT_RE.test(token)) return undefined;
  return token.length <= SAFE_DIGITS ? Number(token) : Number(BigInt(token));
}

/** A signed decimal integer as a Number (memory.stat keys are not all counters). */
export function parseInteger(token: string): number | undefined {
  if (!INT_RE.test(token)) return undefined;
  return token.length <= SAFE_DIGITS ? Number(token) : Number(BigInt(token));
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

/** Non-empty lines with surrounding whitespace removed, numbered from 1 as in the file. */
export function lines(text: string): { readonly line: number; readonly text: string }[] {
  const out: { line: number; text: string }[] = [];
  const raw = text.split("\n");
  for (let i = 0; i < raw.length; i++) {
    const t = (raw[i] ?? "").trim();
    if (t !== "") out.push({ line: i + 1, text: t });
  }
  return out;
}

export function tokens(line: string): string[] {
  return line.split(WS_RE);
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
  for (const l of lines(text)) {
    const t = tokens(l.text);
    const key = t[0];
    const value = t[1];
    if (t.length !== 2 || key === undefined || value === undefined) {
      return err(parseError(file, `expected "<key> <value>", got "${clip(l.text)}"`, l.line));
    }
    fields.set(key, value);
  }
  if (fields.size === 0) return err(parseError(file, "empty file"));
  return ok(fields);
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
  for (const l of lines(text)) {
    const t = tokens(l.text);
    const value = t.length === 2 && t[0] !== undefined && t[1] !== undefined ? parseInteger(t[1]) : undefined;
    if (value === undefined) return err(parseError(file, `expected "<key> <integer>", got "${clip(l.text)}"`, l.line));
    out.set(t[0] ?? "", value);
  }
  if (out.size === 0) return err(parseError(file, "empty file"));
  return ok(out);
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
