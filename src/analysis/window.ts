import type { ContainerSample, NodeSample } from "../sampler/types.js";
import type { ContainerWindow, NodeWindow, PodRef } from "./rule.js";

/** Names the agent knows for a target; the node engine alone only knows UIDs and IDs. */
export interface TargetNames {
  readonly pod: PodRef;
  readonly containerName?: string;
}

/**
 * Rolling windows kept in memory, one per container plus one for the node, so a tick never
 * needs a database round trip. After a restart they are refilled from the store with `seed`.
 */
export class RollingWindows {
  private readonly containers = new Map<string, ContainerSample[]>();
  private nodeSamples: NodeSample[] = [];

  constructor(private windowMs: number) {}

  setWindowMs(windowMs: number): void {
    this.windowMs = windowMs;
  }

  get lengthMs(): number {
    return this.windowMs;
  }

  add(samples: readonly ContainerSample[], node: NodeSample | undefined, nowMs: number): void {
    for (const sample of samples) {
      const series = this.containers.get(sample.key);
      if (series) series.push(sample);
      else this.containers.set(sample.key, [sample]);
    }
    if (node) this.nodeSamples.push(node);
    this.trim(nowMs);
  }

  /** Refill from history, e.g. `store.latestWindow(now - window)`, oldest first. */
  seed(samples: readonly ContainerSample[], nodeSamples: readonly NodeSample[], nowMs: number): void {
    this.add(samples, undefined, nowMs);
    this.nodeSamples.push(...nodeSamples);
    this.trim(nowMs);
  }

  forget(key: string): void {
    this.containers.delete(key);
  }

  has(key: string): boolean {
    return this.containers.has(key);
  }

  /** Containers with a window. */
  get size(): number {
    return this.containers.size;
  }

  keys(): IterableIterator<string> {
    return this.containers.keys();
  }

  samples(key: string): readonly ContainerSample[] {
    return this.containers.get(key) ?? [];
  }

  node(): NodeWindow {
    return summarizeNode(this.nodeSamples);
  }

  private trim(nowMs: number): void {
    // A sample belongs to the window when its interval ends after the window's start.
    const startMs = nowMs - this.windowMs;
    for (const [key, series] of this.containers) {
      const firstInside = firstAfter(series, startMs);
      if (firstInside === -1) this.containers.delete(key);
      else if (firstInside > 0) series.splice(0, firstInside);
    }
    const firstNode = this.nodeSamples.findIndex((s) => s.wallMs > startMs);
    this.nodeSamples = firstNode === -1 ? [] : this.nodeSamples.slice(firstNode);
  }
}

/** Index of the first sample whose interval ends after `startMs`, or -1; a loop, as this runs for every container every tick. */
function firstAfter(series: readonly ContainerSample[], startMs: number): number {
  for (let i = 0; i < series.length; i++) if ((series[i] as ContainerSample).wallMs > startMs) return i;
  return -1;
}

/** Time-weighted mean of an optional per-interval share; undefined when no sample carries it. */
export function weightedMean<T extends { readonly intervalMs: number }>(
  samples: readonly T[],
  pick: (sample: T) => number | undefined,
): number | undefined {
  let weighted = 0;
  let totalMs = 0;
  for (const sample of samples) {
    const value = pick(sample);
    if (value === undefined || !Number.isFinite(value)) continue;
    weighted += value * sample.intervalMs;
    totalMs += sample.intervalMs;
  }
  return totalMs > 0 ? weighted / totalMs : undefined;
}

function sum<T>(samples: readonly T[], pick: (sample: T) => number | undefined): number {
  return samples.reduce((total, sample) => total + (pick(sample) ?? 0), 0);
}

/**
 * Running time-weighted means for summarizeContainer, in one flat array so one pass over the
 * samples serves every field without a closure per field. Slot 2i holds Σ value × intervalMs and
 * slot 2i+1 Σ intervalMs of field i (see `addMeans`); the sums are taken in sample order, exactly
 * as `weightedMean` takes them.
 */
const meanSums = new Float64Array(6 * 2);

/** The latest value of each "latest" field; null is a value (unlimited), only undefined is skipped. */
interface Latest {
  cpuLimitCores: number | null | undefined;
  workingSetBytes: number | undefined;
  memoryLimitBytes: number | null | undefined;
  memoryLimitShare: number | null | undefined;
}

/** One container's window: every aggregate in a single pass over its samples (this runs for every container every tick). */
export function summarizeContainer(key: string, samples: readonly ContainerSample[], names: TargetNames): ContainerWindow {
  meanSums.fill(0);
  const latest: Latest = { cpuLimitCores: undefined, workingSetBytes: undefined, memoryLimitBytes: undefined, memoryLimitShare: undefined };
  let spanMs = 0;
  let periods = 0;
  let throttledPeriods = 0;
  let oomKills = 0;
  for (const sample of samples) {
    spanMs += sample.intervalMs;
    periods += sample.periods ?? 0;
    throttledPeriods += sample.throttledPeriods ?? 0;
    oomKills += sample.oomKills;
    addMeans(sample);
    takeLatest(latest, sample);
  }
  const window: ContainerWindow & { containerName?: string } = {
    key,
    pod: names.pod,
    containerId: samples[0]?.containerId ?? key.split("/")[1] ?? key,
    samples,
    spanMs,
    cpuCores: meanOf(0) ?? 0,
    periods,
    throttledPeriods,
    cpuLimitCores: latest.cpuLimitCores ?? null,
    cpuStallShare: meanOf(1),
    memoryStallShare: meanOf(2),
    memoryFullStallShare: meanOf(3),
    ioStallShare: meanOf(4),
    ioFullStallShare: meanOf(5),
    workingSetBytes: latest.workingSetBytes,
    memoryLimitBytes: latest.memoryLimitBytes ?? null,
    memoryLimitShare: latest.memoryLimitShare ?? null,
    oomKills,
  };
  if (names.containerName !== undefined) window.containerName = names.containerName;
  return window;
}

function addMeans(sample: ContainerSample): void {
  addToMean(0, sample.cpuCores, sample.intervalMs);
  addToMean(1, sample.cpuStallShare, sample.intervalMs);
  addToMean(2, sample.memoryStallShare, sample.intervalMs);
  addToMean(3, sample.memoryFullStallShare, sample.intervalMs);
  addToMean(4, sample.ioStallShare, sample.intervalMs);
  addToMean(5, sample.ioFullStallShare, sample.intervalMs);
}

function addToMean(field: number, value: number | undefined, intervalMs: number): void {
  if (value === undefined || !Number.isFinite(value)) return;
  meanSums[2 * field] = (meanSums[2 * field] ?? 0) + value * intervalMs;
  meanSums[2 * field + 1] = (meanSums[2 * field + 1] ?? 0) + intervalMs;
}

function meanOf(field: number): number | undefined {
  const totalMs = meanSums[2 * field + 1] ?? 0;
  return totalMs > 0 ? (meanSums[2 * field] ?? 0) / totalMs : undefined;
}

function takeLatest(latest: Latest, sample: ContainerSample): void {
  if (sample.cpuLimitCores !== undefined) latest.cpuLimitCores = sample.cpuLimitCores;
  if (sample.workingSetBytes !== undefined) latest.workingSetBytes = sample.workingSetBytes;
  if (sample.memoryLimitBytes !== undefined) latest.memoryLimitBytes = sample.memoryLimitBytes;
  if (sample.memoryLimitShare !== undefined) latest.memoryLimitShare = sample.memoryLimitShare;
}

export function summarizeNode(samples: readonly NodeSample[]): NodeWindow {
  return {
    samples,
    spanMs: sum(samples, (s) => s.intervalMs),
    cpuStallShare: weightedMean(samples, (s) => s.cpuStallShare),
    memoryStallShare: weightedMean(samples, (s) => s.memoryStallShare),
    memoryFullStallShare: weightedMean(samples, (s) => s.memoryFullStallShare),
    ioStallShare: weightedMean(samples, (s) => s.ioStallShare),
    ioFullStallShare: weightedMean(samples, (s) => s.ioFullStallShare),
  };
}
