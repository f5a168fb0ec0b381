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

/** Turns two consecutive raw reads of one container into the per-interval values the rules use. */
export function deriveSample(target: Target, previous: RawCounters, current: RawCounters, tickWallMs: number): ContainerSample {
  const intervalMs = Math.max(current.monoMs - previous.monoMs, 1);
  const intervalUsec = intervalMs * 1000;
  return {
    key: target.key,
    podUid: target.podUid,
    containerId: target.containerId,
    // Every sample of a tick carries the tick's time, which is what lines pods up for attribution.
    wallMs: tickWallMs,
    intervalMs,
    oomKills: counterDelta(previous.oomKills, current.oomKills) ?? 0,
    ...cpuFields(previous, current, intervalUsec),
    ...stallFields(previous, current, intervalUsec),
    ...memoryFields(current),
  };
}

function cpuFields(previous: RawCounters, current: RawCounters, intervalUsec: number): Partial<ContainerSample> {
  const usageDelta = counterDelta(previous.cpuUsageUsec, current.cpuUsageUsec);
  const periods = counterDelta(previous.nrPeriods, current.nrPeriods);
  const throttledPeriods = counterDelta(previous.nrThrottled, current.nrThrottled);
  const throttleRatio = periods === undefined || throttledPeriods === undefined ? undefined : periods > 0 ? throttledPeriods / periods : 0;
  return defined({
    cpuCores: usageDelta === undefined ? undefined : usageDelta / intervalUsec,
    periods,
    throttledPeriods,
    throttleRatio,
    cpuLimitCores: current.cpuLimitCores,
  });
}

function stallFields(previous: RawCounters, current: RawCounters, intervalUsec: number): Partial<ContainerSample> {
  return defined({
    cpuStallShare: stallShare(previous.psiCpu?.someTotalUsec, current.psiCpu?.someTotalUsec, intervalUsec),
    memoryStallShare: stallShare(previous.psiMemory?.someTotalUsec, current.psiMemory?.someTotalUsec, intervalUsec),
    memoryFullStallShare: stallShare(previous.psiMemory?.fullTotalUsec, current.psiMemory?.fullTotalUsec, intervalUsec),
    ioStallShare: stallShare(previous.psiIo?.someTotalUsec, current.psiIo?.someTotalUsec, intervalUsec),
    ioFullStallShare: stallShare(previous.psiIo?.fullTotalUsec, current.psiIo?.fullTotalUsec, intervalUsec),
  });
}

/** Working set = usage - inactive file cache, floored at 0 (what the kubelet evicts on). */
function memoryFields(current: RawCounters): Partial<ContainerSample> {
  if (current.memoryUsageBytes === undefined) return defined({ memoryLimitBytes: current.memoryLimitBytes });
  const workingSetBytes = Math.max(0, current.memoryUsageBytes - (current.memoryInactiveFileBytes ?? 0));
  const memoryLimitBytes = current.memoryLimitBytes;
  const memoryLimitShare = memoryLimitBytes === undefined ? undefined : memoryLimitBytes === null ? null : workingSetBytes / memoryLimitBytes;
  return defined({ workingSetBytes, memoryLimitBytes, memoryLimitShare });
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
