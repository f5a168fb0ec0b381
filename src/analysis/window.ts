import type { ContainerSample, NodeSample } from "../sampler/types.js";
import type { ContainerWindow, NodeWindow, PodRef } from "./types.js";

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
      const firstInside = series.findIndex((s) => s.wallMs > startMs);
      if (firstInside === -1) this.containers.delete(key);
      else if (firstInside > 0) series.splice(0, firstInside);
    }
    const firstNode = this.nodeSamples.findIndex((s) => s.wallMs > startMs);
    this.nodeSamples = firstNode === -1 ? [] : this.nodeSamples.slice(firstNode);
  }
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

function latest<T, V>(samples: readonly T[], pick: (sample: T) => V | undefined): V | undefined {
  for (let i = samples.length - 1; i >= 0; i--) {
    const value = pick(samples[i] as T);
    if (value !== undefined) return value;
  }
  return undefined;
}

export function summarizeContainer(key: string, samples: readonly ContainerSample[], names: TargetNames): ContainerWindow {
  const first = samples[0];
  const spanMs = sum(samples, (s) => s.intervalMs);
  return {
    key,
    pod: names.pod,
    containerId: first?.containerId ?? key.split("/")[1] ?? key,
    ...(names.containerName === undefined ? {} : { containerName: names.containerName }),
    samples,
    spanMs,
    cpuCores: weightedMean(samples, (s) => s.cpuCores) ?? 0,
    periods: sum(samples, (s) => s.periods),
    throttledPeriods: sum(samples, (s) => s.throttledPeriods),
    cpuLimitCores: latest(samples, (s) => s.cpuLimitCores) ?? null,
    cpuStallShare: weightedMean(samples, (s) => s.cpuStallShare),
    memoryStallShare: weightedMean(samples, (s) => s.memoryStallShare),
    memoryFullStallShare: weightedMean(samples, (s) => s.memoryFullStallShare),
    ioStallShare: weightedMean(samples, (s) => s.ioStallShare),
    ioFullStallShare: weightedMean(samples, (s) => s.ioFullStallShare),
    workingSetBytes: latest(samples, (s) => s.workingSetBytes),
    memoryLimitBytes: latest(samples, (s) => s.memoryLimitBytes) ?? null,
    memoryLimitShare: latest(samples, (s) => s.memoryLimitShare) ?? null,
    oomKills: sum(samples, (s) => s.oomKills),
  };
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
