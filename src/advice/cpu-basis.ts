import { CPU_REQUEST_PERCENTILE, MAX_DEMAND_FACTOR, SUSTAINED_THROTTLING_MS } from "./constants.js";
import { weightedQuantile, type Weighted } from "./quantile.js";
import { coverage, periodsOf, type CleanPoint } from "./series.js";
import type { CpuBasis } from "./types.js";

/**
 * What an interval wanted. Under a CFS quota measured usage stops at the limit, so demand is hidden; the
 * throttled share of periods says how often it was cut off. usage ÷ (1 − share) assumes it wanted in the
 * throttled periods what it got in the free ones, capped at MAX_DEMAND_FACTOR × usage. From a rollup this uses
 * the minute's mean usage and summed periods, a smoother picture than its raw samples. Throttling under the
 * threshold is what the policy accepts, so there usage is taken as the demand: otherwise a container the rule
 * calls calm would be told its request exceeds its limit.
 */
export function demandCores(point: CleanPoint, threshold: number): number {
  const usage = point.cpuCores ?? point.cpuCoresMax ?? 0;
  const share = point.throttleRatio ?? 0;
  if (share <= 0 || share < threshold) return usage;
  return usage * Math.min(1 / (1 - share), MAX_DEMAND_FACTOR);
}

/** A limit fitted to demand at this percentile leaves at most 1 − p of the time throttled: p95 unless the
 * threshold asks for fewer than 5 %. */
export function fitPercentile(threshold: number): number {
  return Math.max(CPU_REQUEST_PERCENTILE, 1 - threshold / 2);
}

/** An interval throttled at or above the threshold (and at all, so a threshold of 0 does not make every interval hot). */
function isHot(counts: { readonly periods: number; readonly throttledPeriods: number }, threshold: number): boolean {
  return counts.periods > 0 && counts.throttledPeriods > 0 && counts.throttledPeriods >= threshold * counts.periods;
}

function throttling(points: readonly CleanPoint[], threshold: number): Pick<CpuBasis, "throttleRatio" | "longestThrottledMs" | "throttledAtLimitCores" | "throttledIntervalsRatio"> {
  let periods = 0;
  let throttled = 0;
  let seen = false;
  let run = 0;
  let longest = 0;
  let atLimit: number | null = null;
  let hotPeriods = 0;
  let hotThrottled = 0;
  for (const point of points) {
    const counts = periodsOf(point);
    const hot = counts !== undefined && isHot(counts, threshold);
    run = hot ? run + point.intervalMs : 0;
    longest = Math.max(longest, run);
    if (!counts) continue;
    seen = true;
    periods += counts.periods;
    throttled += counts.throttledPeriods;
    if (!hot) continue;
    hotPeriods += counts.periods;
    hotThrottled += counts.throttledPeriods;
    if (typeof point.cpuLimitCores === "number") atLimit = Math.max(atLimit ?? 0, point.cpuLimitCores);
  }
  return {
    throttleRatio: seen ? (periods > 0 ? Math.min(throttled / periods, 1) : 0) : null,
    longestThrottledMs: longest,
    throttledAtLimitCores: atLimit,
    throttledIntervalsRatio: hotPeriods > 0 ? Math.min(hotThrottled / hotPeriods, 1) : 0,
  };
}

/** The CPU numbers of a series: usage percentiles and peak, throttling, and demand estimated past the quota. */
export function cpuBasis(points: readonly CleanPoint[], threshold: number): CpuBasis {
  const withUsage = points.filter((point) => point.cpuCores !== undefined || point.cpuCoresMax !== undefined);
  const usage: Weighted[] = withUsage.map((point) => ({ value: point.cpuCores ?? point.cpuCoresMax ?? 0, weightMs: point.intervalMs }));
  const demand: Weighted[] = withUsage.map((point) => ({ value: demandCores(point, threshold), weightMs: point.intervalMs }));
  const peakCores = withUsage.reduce((peak, point) => Math.max(peak, point.cpuCores ?? 0, point.cpuCoresMax ?? 0), 0);
  const throttle = throttling(points, threshold);
  const ratio = throttle.throttleRatio ?? 0;
  return {
    ...coverage(withUsage),
    throttled: ratio > 0 && (ratio >= threshold || throttle.longestThrottledMs >= SUSTAINED_THROTTLING_MS),
    p95Cores: weightedQuantile(usage, CPU_REQUEST_PERCENTILE),
    peakCores,
    threshold,
    p95DemandCores: weightedQuantile(demand, CPU_REQUEST_PERCENTILE),
    fitDemandCores: weightedQuantile(demand, fitPercentile(threshold)),
    ...throttle,
  };
}
