/**
 * A container's usage from its series points: what advice is computed from and what people read first.
 * Points may be raw samples or 1-minute rollups, or a mix; each counts for the time it covers. Pure.
 */
import type { ContainerHistory, PodHistory, SeriesPoint } from "../api/history.js";
import type { ContainerStats } from "./types.js";

/** Points of one container, with where they came from. */
export interface ContainerSeries {
  readonly container: string;
  readonly pods: readonly string[];
  readonly nodes: readonly string[];
  /** Oldest first. */
  readonly points: readonly SeriesPoint[];
}

export function containerName(c: ContainerHistory): string {
  return c.name ?? c.containerId;
}

/**
 * Histories grouped by container name, points merged oldest first: replicas of one workload, or one pod
 * seen by two agents (it moved), read as one container. Sorted by name.
 */
export function seriesByContainer(histories: readonly PodHistory[]): ContainerSeries[] {
  const groups = new Map<string, { pods: Set<string>; nodes: Set<string>; points: { atMs: number; point: SeriesPoint }[] }>();
  for (const h of histories) {
    for (const c of h.containers) {
      const name = containerName(c);
      const group = groups.get(name) ?? { pods: new Set(), nodes: new Set(), points: [] };
      group.pods.add(`${h.pod.namespace}/${h.pod.name}`);
      group.nodes.add(h.node);
      for (const point of c.points) group.points.push({ atMs: Date.parse(point.t), point });
      groups.set(name, group);
    }
  }
  return [...groups]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([container, g]) => ({
      container,
      pods: [...g.pods].sort(),
      nodes: [...g.nodes].sort(),
      points: g.points.sort((a, b) => a.atMs - b.atMs).map((p) => p.point),
    }));
}

/** The q-quantile of values, each weighted by the time it covers; null without values. */
export function weightedQuantile(values: readonly { readonly value: number; readonly weight: number }[], q: number): number | null {
  const sorted = values.filter((v) => Number.isFinite(v.value) && v.weight > 0).sort((a, b) => a.value - b.value);
  const total = sorted.reduce((sum, v) => sum + v.weight, 0);
  if (total === 0) return null;
  let seen = 0;
  for (const v of sorted) {
    seen += v.weight;
    if (seen >= q * total) return v.value;
  }
  return sorted[sorted.length - 1]?.value ?? null;
}

function peak(points: readonly SeriesPoint[], pick: (p: SeriesPoint) => number | undefined): number | null {
  let best: number | null = null;
  for (const p of points) {
    const v = pick(p);
    if (v !== undefined && Number.isFinite(v) && (best === null || v > best)) best = v;
  }
  return best;
}

/** The latest value reported; null when the latest report says unlimited. */
function latest(points: readonly SeriesPoint[], pick: (p: SeriesPoint) => number | null | undefined): number | null {
  for (let k = points.length - 1; k >= 0; k--) {
    const point = points[k];
    const v = point === undefined ? undefined : pick(point);
    if (v !== undefined) return v;
  }
  return null;
}

function weighted(points: readonly SeriesPoint[], pick: (p: SeriesPoint) => number | undefined): { value: number; weight: number }[] {
  return points.flatMap((p) => {
    const value = pick(p);
    return value === undefined ? [] : [{ value, weight: Math.max(p.intervalMs, 1) }];
  });
}

function mean(values: readonly { readonly value: number; readonly weight: number }[]): number | null {
  const weight = values.reduce((sum, v) => sum + v.weight, 0);
  return weight === 0 ? null : values.reduce((sum, v) => sum + v.value * v.weight, 0) / weight;
}

export function containerStats(series: ContainerSeries): ContainerStats {
  const { points } = series;
  const cores = weighted(points, (p) => p.cpuCores);
  const throttle = weighted(points, (p) => p.throttleRatio);
  return {
    container: series.container,
    pods: series.pods,
    nodes: series.nodes,
    pointCount: points.length,
    coveredMs: points.reduce((sum, p) => sum + p.intervalMs, 0),
    fromTime: points[0]?.t ?? null,
    toTime: points[points.length - 1]?.t ?? null,
    meanCores: mean(cores),
    p95Cores: weightedQuantile(cores, 0.95),
    peakCores: peak(points, (p) => p.cpuCoresMax ?? p.cpuCores),
    cpuLimitCores: latest(points, (p) => p.cpuLimitCores),
    p95ThrottleRatio: weightedQuantile(throttle, 0.95),
    peakThrottleRatio: peak(points, (p) => p.throttleRatio),
    peakCpuStallShare: peak(points, (p) => p.cpuStallShare),
    peakMemoryStallShare: peak(points, (p) => p.memoryStallShare),
    peakIoStallShare: peak(points, (p) => p.ioStallShare),
    peakWorkingSetBytes: peak(points, (p) => p.workingSetBytesMax ?? p.workingSetBytes),
    memoryLimitBytes: latest(points, (p) => p.memoryLimitBytes),
    oomKills: points.reduce((sum, p) => sum + p.oomKills, 0),
  };
}

/** Points whose interval overlaps any of `intervals` (a point's time is the end of its interval). */
export function pointsWithin(points: readonly SeriesPoint[], intervals: readonly { readonly startMs: number; readonly endMs: number }[]): SeriesPoint[] {
  return points.filter((p) => {
    const endMs = Date.parse(p.t);
    const startMs = endMs - p.intervalMs;
    return intervals.some((i) => startMs < i.endMs && endMs > i.startMs);
  });
}
