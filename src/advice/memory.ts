import { bytes } from "../analysis/format.js";
import { ceilMiB, changeOf, withinTolerance, type Current } from "./change.js";
import { MAX_BYTES, MEMORY_MARGIN, MEMORY_STEP_BYTES, OOM_BUMP_RATIO, OOM_MIN_BUMP_BYTES } from "./constants.js";
import { weightedQuantile } from "./quantile.js";
import { coverage, type CleanPoint } from "./series.js";
import { memoryAmount, overSpan } from "./text.js";
import type { Confidence, MemoryBasis, MemoryRecommendation, OomKillRecord } from "./types.js";

export interface MemoryAdviceContext {
  readonly basis: MemoryBasis;
  readonly request: Current;
  readonly limit: Current;
  readonly confidence: Confidence;
}

/**
 * The memory numbers of a series. The peak is the largest working set seen, from a rollup its minute's
 * maximum, so rollups and raw samples give the same peak. OOM kills are those counted in the series plus any
 * known from elsewhere; the killed limit is the highest limit in force at a kill.
 */
export function memoryBasis(points: readonly CleanPoint[], extra: OomKillRecord | undefined, currentLimit: number | null): MemoryBasis {
  const withMemory = points.filter((point) => point.workingSetBytes !== undefined || point.workingSetBytesMax !== undefined);
  const peakWorkingSetBytes = withMemory.reduce((peak, point) => Math.max(peak, point.workingSetBytes ?? 0, point.workingSetBytesMax ?? 0), 0);
  const usage = withMemory.map((point) => ({ value: point.workingSetBytes ?? point.workingSetBytesMax ?? 0, weightMs: point.intervalMs }));
  const killedAt = points.filter((point) => point.oomKills > 0);
  const extraCount = extra && Number.isFinite(extra.count) ? Math.max(0, Math.round(extra.count)) : 0;
  const oomKills = killedAt.reduce((sum, point) => sum + point.oomKills, 0) + extraCount;
  const limits = [...killedAt.map((point) => point.memoryLimitBytes), extraCount > 0 ? extra?.memoryLimitBytes : undefined];
  const known = limits.filter((value): value is number => typeof value === "number" && value > 0 && value < MAX_BYTES);
  // A kill recorded without its limit most likely happened at the limit in force now.
  const killedLimitBytes = known.length > 0 ? Math.max(...known) : oomKills > 0 ? currentLimit : null;
  return {
    ...coverage(withMemory),
    peakWorkingSetBytes,
    p95WorkingSetBytes: weightedQuantile(usage, 0.95),
    oomKills,
    killedLimitBytes,
  };
}

function recommendation(kind: "request" | "limit", current: Current, recommended: number | null, reason: string, ctx: MemoryAdviceContext): MemoryRecommendation {
  return {
    resource: "memory",
    kind,
    current: current.value,
    currentSource: current.source,
    recommended,
    change: changeOf(current.value, recommended),
    confidence: ctx.confidence,
    reason,
    basis: ctx.basis,
  };
}

/** Memory request = peak working set + 15 %: krr's simple strategy and VPA's safety margin. Kept when within 10 %. */
export function adviseMemoryRequest(ctx: MemoryAdviceContext): MemoryRecommendation {
  const { basis } = ctx;
  const target = Math.max(MEMORY_STEP_BYTES, ceilMiB(basis.peakWorkingSetBytes * (1 + MEMORY_MARGIN)));
  const current = ctx.request.value;
  const keep = current !== null && basis.sampleCount > 0 && current >= basis.peakWorkingSetBytes && withinTolerance(current, target);
  const reason =
    basis.sampleCount === 0
      ? "no working set recorded"
      : `peak working set ${bytes(basis.peakWorkingSetBytes)} ${overSpan(basis.spanMs)} + ${Math.round(MEMORY_MARGIN * 100)}% margin`;
  return recommendation("request", ctx.request, keep ? current : target, reason, ctx);
}

/** After an OOM kill: at least 1.2 × the killed limit and at least +100 MiB (VPA's OOM bump), never below the request. */
function afterOom(ctx: MemoryAdviceContext, requestBytes: number): { recommended: number | null; reason: string } {
  const { basis } = ctx;
  // Killed with no limit of its own (a pod-level or node limit): bump what it was using instead.
  const base = basis.killedLimitBytes ?? basis.peakWorkingSetBytes;
  const bumped = ceilMiB(Math.max(base * OOM_BUMP_RATIO, base + OOM_MIN_BUMP_BYTES, requestBytes, basis.peakWorkingSetBytes));
  const times = basis.oomKills === 1 ? "OOM-killed once" : `OOM-killed ${basis.oomKills} times`;
  const at = basis.killedLimitBytes === null ? ` with peak working set ${bytes(basis.peakWorkingSetBytes)}` : ` at ${bytes(basis.killedLimitBytes)}`;
  const current = ctx.limit.value;
  if (current !== null && current >= bumped) return { recommended: current, reason: `${times}${at}; the ${bytes(current)} limit now already allows ×${OOM_BUMP_RATIO} and +100 MiB` };
  return { recommended: bumped, reason: `${times}${at}; ×${OOM_BUMP_RATIO} and at least +100 MiB, as VPA bumps after an OOM kill` };
}

/**
 * Memory limit. Raised after an OOM kill, or to the request when the peak came within the margin of it (krr
 * sets limit = request); never lowered, since a lower memory limit can only bring OOM kills closer.
 */
export function adviseMemoryLimit(ctx: MemoryAdviceContext, request: MemoryRecommendation): MemoryRecommendation {
  const { basis } = ctx;
  const requestBytes = request.recommended ?? 0;
  if (basis.oomKills > 0) {
    const verdict = afterOom(ctx, requestBytes);
    return recommendation("limit", ctx.limit, verdict.recommended, verdict.reason, ctx);
  }
  const current = ctx.limit.value;
  const peak = `peak working set ${bytes(basis.peakWorkingSetBytes)}`;
  if (current === null) return recommendation("limit", ctx.limit, null, `no memory limit; ${peak}, no OOM kills`, ctx);
  if (current < requestBytes) {
    return recommendation("limit", ctx.limit, requestBytes, `${peak} leaves less than ${Math.round(MEMORY_MARGIN * 100)}% headroom under ${memoryAmount(current)}`, ctx);
  }
  return recommendation("limit", ctx.limit, current, `${peak} ${overSpan(basis.spanMs)}, no OOM kills`, ctx);
}
