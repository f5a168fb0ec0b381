import type { UsagePoint } from "./types.js";

export const MiB = 1024 * 1024;
/** On a minute boundary, so rolled-up minutes line up with the samples. */
const START_MS = 1_699_999_980_000;

/** One raw 1 s sample; the fields default to a calm container with no limits. */
export function point(index: number, values: Partial<UsagePoint> = {}, intervalMs = 1000): UsagePoint {
  return { wallMs: START_MS + (index + 1) * intervalMs, intervalMs, oomKills: 0, ...values };
}

/** `count` raw samples `intervalMs` apart, each shaped by `at(index)`. */
export function series(count: number, at: (index: number) => Partial<UsagePoint>, intervalMs = 1000): UsagePoint[] {
  return Array.from({ length: count }, (_, index) => point(index, at(index), intervalMs));
}

/** Throttled periods for a 1 s interval at the default 100 ms CFS period. */
export function periods(throttleRatio: number, intervalMs = 1000): Pick<UsagePoint, "periods" | "throttledPeriods"> {
  const elapsed = intervalMs / 100;
  return { periods: elapsed, throttledPeriods: Math.round(elapsed * throttleRatio) };
}

function weightedMean(points: readonly UsagePoint[], pick: (p: UsagePoint) => number | undefined): number | undefined {
  const present = points.filter((p) => pick(p) !== undefined);
  const weight = present.reduce((sum, p) => sum + p.intervalMs, 0);
  if (present.length === 0 || weight === 0) return undefined;
  return present.reduce((sum, p) => sum + (pick(p) ?? 0) * p.intervalMs, 0) / weight;
}

function maxOf(points: readonly UsagePoint[], pick: (p: UsagePoint) => number | undefined): number | undefined {
  const values = points.map(pick).filter((v): v is number => v !== undefined);
  return values.length > 0 ? Math.max(...values) : undefined;
}

/** Rolls raw samples up into 1-minute points the way the store does (src/store/rollup.ts): weighted means, maxima, sums. */
export function rollUp(raw: readonly UsagePoint[]): UsagePoint[] {
  const minutes = new Map<number, UsagePoint[]>();
  for (const p of raw) {
    const minute = Math.floor((p.wallMs - 1) / 60_000);
    minutes.set(minute, [...(minutes.get(minute) ?? []), p]);
  }
  return [...minutes].map(([minute, points]) => ({
    wallMs: (minute + 1) * 60_000,
    intervalMs: points.reduce((sum, p) => sum + p.intervalMs, 0),
    sampleCount: points.length,
    cpuCores: weightedMean(points, (p) => p.cpuCores),
    cpuCoresMax: maxOf(points, (p) => p.cpuCores),
    periods: points.reduce((sum, p) => sum + (p.periods ?? 0), 0),
    throttledPeriods: points.reduce((sum, p) => sum + (p.throttledPeriods ?? 0), 0),
    cpuLimitCores: points[points.length - 1]?.cpuLimitCores,
    workingSetBytes: weightedMean(points, (p) => p.workingSetBytes),
    workingSetBytesMax: maxOf(points, (p) => p.workingSetBytes),
    memoryLimitBytes: points[points.length - 1]?.memoryLimitBytes,
    oomKills: points.reduce((sum, p) => sum + p.oomKills, 0),
  }));
}
