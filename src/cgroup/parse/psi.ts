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
  return AVG_RE.test(raw) ? Number(raw) : undefined;
}

/** The cumulative totals the sampler turns into stall shares (Δtotal / Δwall). */
export function psiTotals(p: Pressure): PsiTotals {
  return p.full === undefined ? { someTotalUsec: p.some.totalUsec } : { someTotalUsec: p.some.totalUsec, fullTotalUsec: p.full.totalUsec };
}
