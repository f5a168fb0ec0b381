/**
 * Parser for PSI files (Documentation/accounting/psi.rst): `<cgroup>/{cpu,memory,io}.pressure`
 * and `/proc/pressure/{cpu,memory,io}` share one format:
 *   some avg10=0.00 avg60=0.00 avg300=0.00 total=0
 *   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
 */
import type { PsiTotals } from "../types.js";
import { err, ok, parseError, type ParseError, type Result } from "../../util/result.js";
import { clip, parseCounter, scanLines } from "./common.js";

export interface PsiLine {
  /** Percentages (0..100) averaged over 10 s, 60 s and 300 s; they lag, prefer `totalUsec` deltas. */
  readonly avg10: number;
  readonly avg60: number;
  readonly avg300: number;
  readonly totalUsec: number;
}

export interface Pressure {
  readonly some: PsiLine;
  /** Absent in /proc/pressure/cpu before Linux 5.13. */
  readonly full?: PsiLine;
}

const AVG_RE = /^\d+(?:\.\d+)?$/;

/** The general parser: any spacing, key order and line kinds. The sampler reads through `parsePressureTotals`. */
export function parsePressure(text: string, file = "pressure"): Result<Pressure, ParseError> {
  let some: PsiLine | undefined;
  let full: PsiLine | undefined;
  let bad: ParseError | undefined;
  scanLines(text, (t, line) => {
    const kind = t[0];
    // Tolerate future line kinds; only `some` and `full` are defined today.
    if (kind !== "some" && kind !== "full") return true;
    const parsed = parsePsiPairs(t);
    if (typeof parsed === "string") {
      bad = parseError(file, `${kind}: ${parsed}`, line);
      return false;
    }
    if (kind === "some") some = parsed;
    else full = parsed;
    return true;
  });
  if (bad) return err(bad);
  if (some === undefined) return err(parseError(file, `missing "some" line`));
  return ok(full === undefined ? { some } : { some, full });
}

/** `avg10=.. avg60=.. avg300=.. total=..` (tokens after the first); unknown keys are ignored. */
function parsePsiPairs(t: readonly string[]): PsiLine | string {
  let avg10: number | undefined;
  let avg60: number | undefined;
  let avg300: number | undefined;
  let totalUsec: number | undefined;
  for (let i = 1; i < t.length; i++) {
    const pair = t[i] ?? "";
    const eq = pair.indexOf("=");
    if (eq <= 0) return `expected key=value, got "${clip(pair)}"`;
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    if (key === "total") totalUsec = parseCounter(raw);
    else if (key === "avg10") avg10 = decimal(raw);
    else if (key === "avg60") avg60 = decimal(raw);
    else if (key === "avg300") avg300 = decimal(raw);
  }
  if (totalUsec === undefined) return `"total" missing or not a non-negative integer`;
  if (avg10 === undefined || avg60 === undefined || avg300 === undefined) return `avg10, avg60 or avg300 missing or not a decimal`;
  return { avg10, avg60, avg300, totalUsec };
}

function decimal(raw: string): number | undefined {
  if (!AVG_RE.test(raw)) return undefined;
  const value = Number(raw);
  // Hundreds of digits pass the pattern but overflow to Infinity.
  return Number.isFinite(value) ? value : undefined;
}

/**
 * The totals of `parsePressure(text, file)`, as `psiTotals` gives them, and its error otherwise. What the sampler
 * reads of three files per container per tick: on the kernel's own text the averages are checked but not kept,
 * so nothing is allocated but the totals and the result.
 */
export function parsePressureTotals(text: string, file = "pressure"): Result<PsiTotals, ParseError> {
  const totals = kernelPressureTotals(text);
  if (totals !== undefined) return ok(totals);
  const parsed = parsePressure(text, file);
  return parsed.ok ? ok(psiTotals(parsed.value)) : parsed;
}

/**
 * The totals alone, fast, from text exactly as the kernel prints it (psi_show: `some` then optionally `full`,
 * "%s avg10=%lu.%02lu avg60=%lu.%02lu avg300=%lu.%02lu total=%llu\n"). Three of these files are
 * parsed per container per tick; scanning character codes instead of tokenising measured about
 * three times faster, and keeping only the totals allocates nothing but them. Anything else — other spacing, key
 * order, line kinds, numbers too long to convert exactly here — is undefined and takes the general
 * path, which gives the same values for the same text.
 */
function kernelPressureTotals(text: string): PsiTotals | undefined {
  if (!text.startsWith("some", 0)) return undefined;
  at.pos = 4;
  const some = kernelPsiTotal(text);
  if (some === undefined) return undefined;
  if (at.pos === text.length) return { someTotalUsec: some };
  if (!text.startsWith("full", at.pos)) return undefined;
  at.pos += 4;
  const full = kernelPsiTotal(text);
  if (full === undefined || at.pos !== text.length) return undefined;
  return { someTotalUsec: some, fullTotalUsec: full };
}

/** Where the kernel-shaped parse is in its text; module state, as parsing is synchronous (see `scanned`). */
const at = { pos: 0 };

/** ` avg10=D avg60=D avg300=D total=N` and a newline (or the end), from `at.pos`, advancing it past the line: its total. */
function kernelPsiTotal(text: string): number | undefined {
  if (kernelField(text, " avg10=", true) === undefined || kernelField(text, " avg60=", true) === undefined || kernelField(text, " avg300=", true) === undefined) return undefined;
  const totalUsec = kernelField(text, " total=", false);
  return totalUsec !== undefined && kernelLineEnd(text) ? totalUsec : undefined;
}

/** A newline (stepped over) or the end of the text at `at.pos`. */
function kernelLineEnd(text: string): boolean {
  if (at.pos >= text.length) return true;
  if (text.charCodeAt(at.pos) !== NEWLINE) return false;
  at.pos++;
  return true;
}

const NEWLINE = 10;
const DOT = 46;
/** Digits that always convert exactly: the value then equals Number() of the same text. */
const EXACT_DIGITS = 15;
/** Exact powers of ten up to the most fraction digits EXACT_DIGITS allows. */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15] as const;

/**
 * `prefix` then digits (with one optional `.digits` part when `decimal`), ending at a space, a
 * newline or the end of the text. The value is the digits as an integer divided by the power of
 * ten of the fraction: both are exact doubles, so the division rounds to the same double as
 * Number() of the text.
 */
function kernelField(text: string, prefix: string, decimal: boolean): number | undefined {
  if (!text.startsWith(prefix, at.pos)) return undefined;
  let end = scanDigits(text, at.pos + prefix.length, 0, 0);
  const integerDigits = scanned.digits;
  let fractionDigits = 0;
  if (decimal && text.charCodeAt(end) === DOT) {
    end = scanDigits(text, end + 1, scanned.value, integerDigits);
    fractionDigits = scanned.digits - integerDigits;
    // "5." is not a decimal; the general path reports it.
    if (fractionDigits === 0) return undefined;
  }
  if (integerDigits === 0 || scanned.digits > EXACT_DIGITS || !endsToken(text, end)) return undefined;
  at.pos = end;
  return fractionDigits > 0 ? scanned.value / (POW10[fractionDigits] ?? 10 ** fractionDigits) : scanned.value;
}

/** What scanDigits found; module state, as parsing is synchronous and this runs ~1000 times a tick. */
const scanned = { value: 0, digits: 0 };

/** Continues a decimal integer over the digits from `from`; returns the index after them. */
function scanDigits(text: string, from: number, value: number, digits: number): number {
  let i = from;
  for (; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    value = value * 10 + d;
    digits++;
  }
  scanned.value = value;
  scanned.digits = digits;
  return i;
}

function endsToken(text: string, i: number): boolean {
  if (i >= text.length) return true;
  const c = text.charCodeAt(i);
  return c === 32 || c === NEWLINE;
}

/** The cumulative totals the sampler turns into stall shares (Δtotal / Δwall). */
export function psiTotals(p: Pressure): PsiTotals {
  return p.full === undefined ? { someTotalUsec: p.some.totalUsec } : { someTotalUsec: p.some.totalUsec, fullTotalUsec: p.full.totalUsec };
}
