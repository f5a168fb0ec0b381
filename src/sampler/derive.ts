import type { PsiTotals, RawCounters } from "../cgroup/types.js";
import { defined } from "../util/object.js";
import type { ContainerSample, NodeSample, Target } from "./types.js";

/** Node-wide PSI totals from /proc/pressure, read at one instant. */
export interface NodePressureTotals {
  readonly monoMs: number;
  readonly wallMs: number;
  readonly cpu?: PsiTotals;
  readonly memory?: PsiTotals;
  readonly io?: PsiTotals;
  /** Busy CPU time of the whole node (/proc/stat), for what processes outside pods take. */
  readonly cpuBusyUsec?: number;
  /** OOM kills on the node so far (/proc/vmstat), whatever cgroup they were in. */
  readonly oomKills?: number;
}

/**
 * The increase of a cumulative counter, or undefined when it cannot be known: a side is missing,
 * or the counter went backwards (the cgroup was recreated under the same path, or the counter wrapped).
 */
export function counterDelta(previous: number | undefined, current: number | undefined): number | undefined {
  if (previous === undefined || current === undefined) return undefined;
  const delta = current - previous;
  return delta >= 0 ? delta : undefined;
}

/** Δstall µs over Δwall µs, clamped to 0..1 (PSI totals and our clock are read a few µs apart). */
function stallShare(previous: number | undefined, current: number | undefined, intervalUsec: number): number | undefined {
  const delta = counterDelta(previous, current);
  return delta === undefined ? undefined : clamp01(delta / intervalUsec);
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

type MutableSample = { -readonly [K in keyof ContainerSample]: ContainerSample[K] };

/** Slow-changing values a read may skip (limits, memory.stat); the sampler carries the latest ones over. */
export type CarriedCounters = Pick<RawCounters, "cpuLimitCores" | "cpuWeight" | "memoryLimitBytes" | "memoryHighBytes" | "memoryInactiveFileBytes">;

const NOTHING_CARRIED: CarriedCounters = {};

/**
 * Turns two consecutive raw reads of one container into the per-interval values the rules use.
 * `carried` stands in for the slow-changing values the current read skipped.
 * Runs for every container every tick, so fields are assigned one by one rather than spread from
 * intermediate objects; an optional field is absent, never present-and-undefined.
 */
export function deriveSample(target: Target, previous: RawCounters, current: RawCounters, tickWallMs: number, carried = NOTHING_CARRIED): ContainerSample {
  const intervalMs = Math.max(current.monoMs - previous.monoMs, 1);
  const intervalUsec = intervalMs * 1000;
  const sample: MutableSample = {
    key: target.key,
    podUid: target.podUid,
    containerId: target.containerId,
    // Every sample of a tick carries the tick's time, which is what lines pods up for attribution.
    wallMs: tickWallMs,
    intervalMs,
    oomKills: counterDelta(previous.oomKills, current.oomKills) ?? 0,
  };
  setCpuFields(sample, previous, current, intervalUsec);
  const cpuLimitCores = current.cpuLimitCores !== undefined ? current.cpuLimitCores : carried.cpuLimitCores;
  if (cpuLimitCores !== undefined) sample.cpuLimitCores = cpuLimitCores;
  setStallFields(sample, previous, current, intervalUsec);
  setMemoryFields(sample, current, carried);
  return sample;
}

function setCpuFields(sample: MutableSample, previous: RawCounters, current: RawCounters, intervalUsec: number): void {
  const usageDelta = counterDelta(previous.cpuUsageUsec, current.cpuUsageUsec);
  const periods = counterDelta(previous.nrPeriods, current.nrPeriods);
  const throttledPeriods = counterDelta(previous.nrThrottled, current.nrThrottled);
  if (usageDelta !== undefined) sample.cpuCores = usageDelta / intervalUsec;
  if (periods !== undefined) sample.periods = periods;
  if (throttledPeriods !== undefined) sample.throttledPeriods = throttledPeriods;
  if (periods !== undefined && throttledPeriods !== undefined) sample.throttleRatio = periods > 0 ? throttledPeriods / periods : 0;
}

function setStallFields(sample: MutableSample, previous: RawCounters, current: RawCounters, intervalUsec: number): void {
  const cpu = someShare(previous.psiCpu, current.psiCpu, intervalUsec);
  const memory = someShare(previous.psiMemory, current.psiMemory, intervalUsec);
  const memoryFull = fullShare(previous.psiMemory, current.psiMemory, intervalUsec);
  const io = someShare(previous.psiIo, current.psiIo, intervalUsec);
  const ioFull = fullShare(previous.psiIo, current.psiIo, intervalUsec);
  if (cpu !== undefined) sample.cpuStallShare = cpu;
  if (memory !== undefined) sample.memoryStallShare = memory;
  if (memoryFull !== undefined) sample.memoryFullStallShare = memoryFull;
  if (io !== undefined) sample.ioStallShare = io;
  if (ioFull !== undefined) sample.ioFullStallShare = ioFull;
}

function someShare(previous: PsiTotals | undefined, current: PsiTotals | undefined, intervalUsec: number): number | undefined {
  return stallShare(previous?.someTotalUsec, current?.someTotalUsec, intervalUsec);
}

function fullShare(previous: PsiTotals | undefined, current: PsiTotals | undefined, intervalUsec: number): number | undefined {
  return stallShare(previous?.fullTotalUsec, current?.fullTotalUsec, intervalUsec);
}

/** Working set = usage - inactive file cache, floored at 0 (what the kubelet evicts on). */
function setMemoryFields(sample: MutableSample, current: RawCounters, carried: CarriedCounters): void {
  const memoryLimitBytes = current.memoryLimitBytes !== undefined ? current.memoryLimitBytes : carried.memoryLimitBytes;
  if (current.memoryUsageBytes === undefined) {
    if (memoryLimitBytes !== undefined) sample.memoryLimitBytes = memoryLimitBytes;
    return;
  }
  const inactiveFileBytes = current.memoryInactiveFileBytes ?? carried.memoryInactiveFileBytes ?? 0;
  const workingSetBytes = Math.max(0, current.memoryUsageBytes - inactiveFileBytes);
  sample.workingSetBytes = workingSetBytes;
  if (memoryLimitBytes === undefined) return;
  sample.memoryLimitBytes = memoryLimitBytes;
  sample.memoryLimitShare = memoryLimitBytes === null ? null : workingSetBytes / memoryLimitBytes;
}

export function deriveNodeSample(previous: NodePressureTotals, current: NodePressureTotals, tickWallMs: number): NodeSample {
  const intervalMs = Math.max(current.monoMs - previous.monoMs, 1);
  const intervalUsec = intervalMs * 1000;
  return {
    wallMs: tickWallMs,
    intervalMs,
    ...defined({
      cpuCores: mapDefined(counterDelta(previous.cpuBusyUsec, current.cpuBusyUsec), (busyUsec) => busyUsec / intervalUsec),
      cpuStallShare: stallShare(previous.cpu?.someTotalUsec, current.cpu?.someTotalUsec, intervalUsec),
      memoryStallShare: stallShare(previous.memory?.someTotalUsec, current.memory?.someTotalUsec, intervalUsec),
      memoryFullStallShare: stallShare(previous.memory?.fullTotalUsec, current.memory?.fullTotalUsec, intervalUsec),
      ioStallShare: stallShare(previous.io?.someTotalUsec, current.io?.someTotalUsec, intervalUsec),
      ioFullStallShare: stallShare(previous.io?.fullTotalUsec, current.io?.fullTotalUsec, intervalUsec),
    }),
  };
}

function mapDefined<T, U>(value: T | undefined, map: (value: T) => U): U | undefined {
  return value === undefined ? undefined : map(value);
}
