/** A pod's stored series in the wire shape of src/api/history.ts: what agents serve and `report --db` reads. */
import type { ContainerHistory, PodHistory, SeriesPoint } from "../api/history.js";
import type { ContainerSample } from "../sampler/types.js";
import type { PodSeries, RollupSample } from "../store/index.js";
import { defined } from "../util/object.js";

export function podHistoryOf(node: string, pod: PodHistory["pod"], series: PodSeries, sinceMs: number): PodHistory {
  return { node, pod, resolution: series.resolution, since: new Date(sinceMs).toISOString(), containers: containersOf(series) };
}

function containersOf(series: PodSeries): ContainerHistory[] {
  if (series.resolution === "raw") {
    return series.containers.map((c) => ({ ...nameOf(c.target), containerId: c.target.containerId, points: c.points.map((p) => point(p)) }));
  }
  return series.containers.map((c) => ({ ...nameOf(c.target), containerId: c.target.containerId, points: c.points.map((p) => point(p, p)) }));
}

function nameOf(target: { readonly containerName?: string }): { name?: string } {
  return target.containerName === undefined ? {} : { name: target.containerName };
}

function point(sample: ContainerSample, rollup?: RollupSample): SeriesPoint {
  return defined({
    t: new Date(sample.wallMs).toISOString(),
    intervalMs: sample.intervalMs,
    cpuCores: sample.cpuCores,
    cpuCoresMax: rollup ? rollup.cpuCoresMax : sample.cpuCores,
    cpuLimitCores: sample.cpuLimitCores,
    throttleRatio: sample.throttleRatio ?? (sample.periods ? (sample.throttledPeriods ?? 0) / sample.periods : undefined),
    cpuStallShare: sample.cpuStallShare,
    memoryStallShare: sample.memoryStallShare,
    ioStallShare: sample.ioStallShare,
    workingSetBytes: sample.workingSetBytes,
    workingSetBytesMax: rollup ? rollup.workingSetBytesMax : sample.workingSetBytes,
    memoryLimitBytes: sample.memoryLimitBytes,
    oomKills: sample.oomKills,
  });
}

