import { defined } from "../util/object.js";
import { CFS_PERIOD_MS, MAX_BYTES, MAX_CORES } from "./constants.js";
import type { UsagePoint } from "./types.js";

/**
 * A usage point with every number checked: finite, not negative, clamped to what a machine can have.
 * Whatever a caller or a garbled row passes in, nothing downstream sees NaN, Infinity or a negative.
 */
export interface CleanPoint {
  readonly wallMs: number;
  readonly intervalMs: number;
  readonly sampleCount: number;
  readonly cpuCores?: number;
  readonly cpuCoresMax?: number;
  /** Throttled share of CFS periods in this interval (0..1), when known. */
  readonly throttleRatio?: number;
  readonly periods?: number;
  readonly throttledPeriods?: number;
  readonly cpuLimitCores?: number | null;
  readonly workingSetBytes?: number;
  readonly workingSetBytesMax?: number;
  readonly memoryLimitBytes?: number | null;
  readonly oomKills: number;
}

/** How much history there is: span from the first interval's start to the last one's end, and time covered. */
export interface Coverage {
  readonly sampleCount: number;
  readonly spanMs: number;
  readonly coveredMs: number;
}

function amount(value: number | undefined, max: number): number | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  return Math.min(Math.max(value, 0), max);
}

/** A limit: null stays unlimited, and so does anything at or above `max` (the kernel's "max"). */
function limit(value: number | null | undefined, max: number): number | null | undefined {
  if (value === null) return null;
  if (value === undefined || Number.isNaN(value)) return undefined;
  if (value >= max) return null;
  return Math.max(value, 0);
}

function ratioOf(point: UsagePoint): number | undefined {
  const periods = amount(point.periods, Number.MAX_SAFE_INTEGER);
  const throttled = amount(point.throttledPeriods, Number.MAX_SAFE_INTEGER);
  if (periods !== undefined && throttled !== undefined && periods > 0) return Math.min(throttled / periods, 1);
  return amount(point.throttleRatio, 1);
}

export function cleanPoint(point: UsagePoint): CleanPoint {
  const periods = amount(point.periods, Number.MAX_SAFE_INTEGER);
  const throttledPeriods = amount(point.throttledPeriods, Number.MAX_SAFE_INTEGER);
  const counted = periods !== undefined && throttledPeriods !== undefined && periods > 0;
  return defined({
    wallMs: point.wallMs,
    intervalMs: amount(point.intervalMs, Number.MAX_SAFE_INTEGER) ?? 0,
    sampleCount: Math.max(1, Math.round(amount(point.sampleCount, Number.MAX_SAFE_INTEGER) ?? 1)),
    cpuCores: amount(point.cpuCores, MAX_CORES),
    cpuCoresMax: amount(point.cpuCoresMax, MAX_CORES),
    throttleRatio: ratioOf(point),
    periods: counted ? periods : undefined,
    throttledPeriods: counted ? Math.min(throttledPeriods, periods) : undefined,
    cpuLimitCores: limit(point.cpuLimitCores, MAX_CORES),
    workingSetBytes: amount(point.workingSetBytes, MAX_BYTES),
    workingSetBytesMax: amount(point.workingSetBytesMax, MAX_BYTES),
    memoryLimitBytes: limit(point.memoryLimitBytes, MAX_BYTES),
    oomKills: Math.round(amount(point.oomKills, Number.MAX_SAFE_INTEGER) ?? 0),
  });
}

/** Clean points, oldest first; points without a finite wall clock cannot be placed and are dropped. */
export function cleanSeries(points: readonly UsagePoint[]): CleanPoint[] {
  return points
    .filter((point) => Number.isFinite(point.wallMs))
    .map(cleanPoint)
    .sort((a, b) => a.wallMs - b.wallMs);
}

export function coverage(points: readonly CleanPoint[]): Coverage {
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return { sampleCount: 0, spanMs: 0, coveredMs: 0 };
  const spanMs = Math.max(0, last.wallMs - (first.wallMs - first.intervalMs));
  const coveredMs = points.reduce((sum, point) => sum + point.intervalMs, 0);
  return {
    sampleCount: points.reduce((sum, point) => sum + point.sampleCount, 0),
    spanMs: Number.isFinite(spanMs) ? spanMs : 0,
    coveredMs: Math.min(coveredMs, Number.isFinite(spanMs) && spanMs > 0 ? spanMs : coveredMs),
  };
}

/**
 * Throttled and elapsed periods of one point. Without period counts (a ratio only), the interval is turned into
 * periods at the kernel's default CFS period, so the span's ratio weighs points by time, as the rule does.
 */
export function periodsOf(point: CleanPoint): { readonly periods: number; readonly throttledPeriods: number } | undefined {
  if (point.periods !== undefined && point.throttledPeriods !== undefined) return { periods: point.periods, throttledPeriods: point.throttledPeriods };
  if (point.throttleRatio === undefined) return undefined;
  const periods = point.intervalMs / CFS_PERIOD_MS;
  return { periods, throttledPeriods: periods * point.throttleRatio };
}

/** The newest reported value of a limit; undefined when no point reported it. */
export function latestLimit(points: readonly CleanPoint[], pick: (point: CleanPoint) => number | null | undefined): number | null | undefined {
  for (let index = points.length - 1; index >= 0; index--) {
    const point = points[index];
    const value = point ? pick(point) : undefined;
    if (value !== undefined) return value;
  }
  return undefined;
}
