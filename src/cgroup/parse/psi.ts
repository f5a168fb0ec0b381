/**
 * Parser for PSI files (Documentation/accounting/psi.rst): `<cgroup>/{cpu,memory,io}.pressure`
 * and `/proc/pressure/{cpu,memory,io}` share one format:
 *   some avg10=0.00 avg60=0.00 avg300=0.00 total=0
 *   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
 */
import type { PsiTotals } from "../types.js";
import { err, ok, parseError, type ParseError, type Result } from "../../util/result.js";
import { clip, lines, parseCounter, tokens } from "./common.js";

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
  for (const l of lines(text)) {
    const [kind, ...pairs] = tokens(l.text);
    // Tolerate future line kinds; only `some` and `full` are defined today.
    if (kind !== "some" && kind !== "full") continue;
    const parsed = parsePsiPairs(pairs);
    if (typeof parsed === "string") return err(parseError(file, `${kind}: ${parsed}`, l.line));
    if (kind === "some") some = parsed;
    else full = parsed;
  }
  if (some === undefined) return err(parseError(file, `missing "some" line`));
  return ok(full === undefined ? { some } : { some, full });
}

function parsePsiPairs(pairs: readonly string[]): PsiLine | string {
  const v = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) return `expected key=value, got "${clip(pair)}"`;
    v.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const totalUsec = parseCounter(v.get("total") ?? "");
  if (totalUsec === undefined) return `"total" missing or not a non-negative integer`;
  const avgs: number[] = [];
  for (const key of ["avg10", "avg60", "avg300"]) {
    const raw = v.get(key) ?? "";
    if (!AVG_RE.test(raw)) return `"${key}" missing or not a decimal: "${clip(raw)}"`;
    avgs.push(Number(raw));
  }
  return { avg10: avgs[0] ?? 0, avg60: avgs[1] ?? 0, avg300: avgs[2] ?? 0, totalUsec };
}

/** The cumulative totals the sampler turns into stall shares (Δtotal / Δwall). */
export function psiTotals(p: Pressure): PsiTotals {
  return p.full === undefined ? { someTotalUsec: p.some.totalUsec } : { someTotalUsec: p.some.totalUsec, fullTotalUsec: p.full.totalUsec };
}
