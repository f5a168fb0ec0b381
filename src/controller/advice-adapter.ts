/**
 * Joins the rightsizing recipes (src/advice) to the read model's advice slots (src/report): the series as
 * agents serve them become the recipes' usage points, and each recommendation becomes an AdviceEntry that
 * carries the numbers it was derived from.
 */
import { adviseContainer, adviseCulprit } from "../advice/index.js";
import type { CpuRecommendation, MemoryRecommendation, UsagePoint } from "../advice/types.js";
import type { SeriesPoint } from "../api/history.js";
import type { AdviceEntry, AdviceInput, CulpritAdviceInput } from "../report/types.js";
import { defined } from "../util/object.js";

export function usagePoint(point: SeriesPoint): UsagePoint {
  return defined({
    wallMs: Date.parse(point.t),
    intervalMs: point.intervalMs,
    cpuCores: point.cpuCores,
    cpuCoresMax: point.cpuCoresMax,
    throttleRatio: point.throttleRatio,
    cpuLimitCores: point.cpuLimitCores,
    workingSetBytes: point.workingSetBytes,
    workingSetBytesMax: point.workingSetBytesMax,
    memoryLimitBytes: point.memoryLimitBytes,
    oomKills: point.oomKills,
  });
}

function entry(r: CpuRecommendation | MemoryRecommendation, lowConfidence: string | undefined): AdviceEntry {
  const basis: Record<string, number | string> = { confidence: r.confidence, currentFrom: r.currentSource };
  for (const [key, value] of Object.entries(r.basis)) {
    if (typeof value === "number" || typeof value === "string") basis[key] = value;
    else if (typeof value === "boolean") basis[key] = String(value);
  }
  if (lowConfidence !== undefined) basis.lowConfidence = lowConfidence;
  return {
    resource: r.resource,
    kind: r.kind,
    current: r.current,
    recommended: r.recommended,
    change: r.change,
    reason: r.reason,
    basis,
  };
}

/** CPU and memory, request and limit, for one container; throttling judged by the threshold its incidents ran at. */
export function adviseEntries(input: AdviceInput): AdviceEntry[] {
  const throttling = input.incidents.find((i) => i.rule === "CPUThrottling");
  // OOM kills the incidents recorded count even where a kill fell between the points read back; the limit in
  // force is the container's latest one (a kill does not change it).
  const oomKills = input.incidents.filter((i) => i.rule === "OOMKill").reduce((sum, i) => sum + Math.max(1, i.peakValue), 0);
  const advice = adviseContainer({
    points: input.points.map(usagePoint),
    ...(throttling ? { throttleThreshold: throttling.threshold, throttlingRecorded: true } : {}),
    ...(oomKills > 0 ? { oomKills: { count: oomKills, memoryLimitBytes: input.memoryLimitBytes } } : {}),
  });
  const low = advice.lowConfidenceReason;
  return [entry(advice.cpu.request, low), entry(advice.cpu.limit, low), entry(advice.memory.request, low), entry(advice.memory.limit, low)];
}

/** What capping a noisy neighbour would give back, from its usage while its victims stalled. */
export function adviseCulpritEntries(input: CulpritAdviceInput): AdviceEntry[] {
  const usageCores = [input.meanCores, input.p95Cores].filter((v): v is number => v !== null);
  const [name = input.workload] = input.pods;
  const advice = adviseCulprit({
    culprit: { pod: { uid: name, namespace: input.namespace, name: name.split("/").pop() ?? name }, usageCores, ...(input.cpuLimitCores === null ? {} : { limitCores: input.cpuLimitCores }) },
    victim: { pod: { uid: input.victims[0] ?? "", name: input.victims.join(", ") }, stallShare: input.victimStallShare },
  });
  if (advice.action === "none") return [];
  const basis: Record<string, number | string> = { action: advice.action, givesBackCores: advice.givesBackCores };
  for (const [key, value] of Object.entries(advice.basis)) if (typeof value === "number") basis[key] = value;
  return [
    {
      resource: "cpu",
      kind: advice.action === "lower-request-or-priority" ? "request" : "limit",
      current: input.cpuLimitCores,
      recommended: advice.limitCores,
      change: advice.limitCores === null ? "keep" : input.cpuLimitCores === null ? "set" : "lower",
      reason: advice.reason,
      basis,
    },
  ];
}
