import { cores, pct } from "../analysis/format.js";
import { ceilMillicores, changeOf, withinTolerance, type Current } from "./change.js";
import { KEEP_TOLERANCE_CORES, MIN_CPU_CORES } from "./constants.js";
import { millicores, overSpan } from "./text.js";
import type { Confidence, CpuBasis, CpuLimitPolicy, CpuRecommendation } from "./types.js";

export interface CpuAdviceContext {
  readonly basis: CpuBasis;
  readonly request: Current;
  readonly limit: Current;
  readonly policy: CpuLimitPolicy;
  readonly confidence: Confidence;
}

type Verdict = Pick<CpuRecommendation, "recommended" | "reason"> & { readonly keep?: boolean };

function recommendation(kind: "request" | "limit", current: Current, verdict: Verdict, ctx: CpuAdviceContext): CpuRecommendation {
  const recommended = verdict.keep ? current.value : verdict.recommended;
  return {
    resource: "cpu",
    kind,
    current: current.value,
    currentSource: current.source,
    recommended,
    change: changeOf(current.value, recommended),
    confidence: ctx.confidence,
    reason: verdict.reason,
    basis: ctx.basis,
  };
}

function throttleText(basis: CpuBasis): string {
  const at = basis.throttledAtLimitCores === null ? "" : ` at ${millicores(basis.throttledAtLimitCores)}`;
  return `throttled in ${pct(basis.throttleRatio ?? 0)} of periods${at} ${overSpan(basis.spanMs)}`;
}

/**
 * CPU request ≈ p95 of usage, krr's simple strategy (VPA's recommender targets p90 plus a 15 % margin, which
 * lands close), floored at krr's 10m. Where the container was throttled its measured usage stopped at the
 * quota, so the percentile is taken over estimated demand instead; elsewhere the two are the same.
 */
export function adviseCpuRequest(ctx: CpuAdviceContext): CpuRecommendation {
  const { basis } = ctx;
  const { throttled } = basis;
  const recommended = Math.max(MIN_CPU_CORES, ceilMillicores(basis.p95DemandCores));
  const floor = recommended > ceilMillicores(basis.p95DemandCores) ? ` (${millicores(MIN_CPU_CORES)} floor)` : "";
  const reason =
    basis.sampleCount === 0
      ? `no CPU usage recorded; ${millicores(MIN_CPU_CORES)} is the smallest request worth setting`
      : throttled
        ? `p95 usage ${cores(basis.p95Cores)} cores, ~${cores(basis.p95DemandCores)} wanted once throttling is allowed for, ${overSpan(basis.spanMs)}${floor}`
        : `p95 usage ${cores(basis.p95Cores)} cores ${overSpan(basis.spanMs)}, peak ${cores(basis.peakCores)}${floor}`;
  const current = ctx.request.value;
  const keep = current !== null && basis.sampleCount > 0 && withinTolerance(current, recommended, KEEP_TOLERANCE_CORES);
  return recommendation("request", ctx.request, { recommended, reason, keep }, ctx);
}

/**
 * A limit that would have kept throttling under the threshold: demand at the fit percentile, never below the
 * observed peak, and, since usage pinned at a quota hides how much more was wanted, at least the quota × (1 +
 * the throttled share while throttled). Always strictly above the quota it was throttled at.
 */
function fittedLimit(basis: CpuBasis, quotaCores: number, requestCores: number): number {
  const bumped = quotaCores * (1 + basis.throttledIntervalsRatio);
  const fitted = ceilMillicores(Math.max(basis.fitDemandCores, basis.peakCores, bumped, requestCores));
  // One millicore more, in whole millicores so the sum carries no floating-point tail.
  return fitted > quotaCores ? fitted : (Math.round(ceilMillicores(quotaCores) * 1000) + 1) / 1000;
}

function throttledLimit(ctx: CpuAdviceContext, requestCores: number): Verdict {
  const { basis } = ctx;
  const current = ctx.limit.value;
  const what = throttleText(basis);
  if (current === null) return { recommended: null, reason: `${what}; no CPU limit now` };
  if (ctx.policy === "remove") {
    return { recommended: null, reason: `${what}; a CPU limit only throttles and the ${millicores(requestCores)} request keeps its share (krr sets none)` };
  }
  const quota = basis.throttledAtLimitCores ?? current;
  const fitted = fittedLimit(basis, quota, requestCores);
  if (current >= fitted) return { recommended: current, reason: `${what}; the ${millicores(current)} limit now is above the ~${cores(fitted)} cores it wanted` };
  return {
    recommended: fitted,
    reason: `${what}; p95 usage ${cores(basis.p95Cores)} cores, ~${cores(basis.fitDemandCores)} wanted (hidden above a quota, so check again after the change, or drop the limit as krr does)`,
  };
}

function calmLimit(ctx: CpuAdviceContext, requestCores: number): Verdict {
  const { basis } = ctx;
  const current = ctx.limit.value;
  const seen =
    basis.throttleRatio === null ? "no throttling data" : `throttled in ${pct(basis.throttleRatio)} of periods, under the ${pct(basis.threshold)} threshold`;
  if (current === null) return { recommended: null, reason: `no CPU limit; ${seen}` };
  if (ctx.policy === "remove") return { recommended: null, reason: `${seen}; a CPU limit only throttles (krr sets none)` };
  // The API rejects a limit below the request, and a limit below what it already used would only throttle.
  const floor = ceilMillicores(Math.max(requestCores, basis.peakCores));
  if (current < floor) return { recommended: floor, reason: `${seen}; peak ${cores(basis.peakCores)} cores and a ${millicores(requestCores)} request need at least ${millicores(floor)}` };
  return { recommended: current, reason: `${seen} ${overSpan(basis.spanMs)}; peak ${cores(basis.peakCores)} cores` };
}

/** CPU limit: fitted or dropped when throttled (see CpuLimitPolicy), otherwise kept, raised only to the request or the peak. */
export function adviseCpuLimit(ctx: CpuAdviceContext, request: CpuRecommendation): CpuRecommendation {
  const requestCores = request.recommended ?? 0;
  const verdict = ctx.basis.throttled ? throttledLimit(ctx, requestCores) : calmLimit(ctx, requestCores);
  return recommendation("limit", ctx.limit, verdict, ctx);
}
