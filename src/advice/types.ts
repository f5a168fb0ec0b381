import type { PodRef } from "../analysis/types.js";

/**
 * One interval of a container's history, as the store returns it: a raw sample or a 1-minute rollup.
 * `ContainerSample` and `RollupSample` both fit this shape, so callers pass stored points as they are.
 * Rollups carry interval-weighted means in `cpuCores`/`workingSetBytes` and the minute's maxima in the `…Max` fields.
 */
export interface UsagePoint {
  /** End of the interval (wall clock). */
  readonly wallMs: number;
  readonly intervalMs: number;
  /** Raw samples count as one; a rollup says how many raw samples it summarises. */
  readonly sampleCount?: number;
  readonly cpuCores?: number;
  readonly cpuCoresMax?: number;
  readonly periods?: number;
  readonly throttledPeriods?: number;
  /** throttledPeriods / periods; used when the period counts are absent. */
  readonly throttleRatio?: number;
  /** The CFS quota in force; null = unlimited, absent = not reported. */
  readonly cpuLimitCores?: number | null;
  readonly workingSetBytes?: number;
  readonly workingSetBytesMax?: number;
  /** The memory limit in force; null = unlimited, absent = not reported. */
  readonly memoryLimitBytes?: number | null;
  /** OOM kills in this interval. */
  readonly oomKills: number;
}

/** Requests or limits from the Pod spec. An absent field is unset (no request, no limit). */
export interface ResourceAmounts {
  readonly cpuCores?: number;
  readonly memoryBytes?: number;
}

/** The container's resources as the Pod spec states them. */
export interface ContainerResources {
  readonly requests?: ResourceAmounts;
  readonly limits?: ResourceAmounts;
}

/** OOM kills seen outside the series (e.g. from the container's last termination state). */
export interface OomKillRecord {
  readonly count: number;
  /** The memory limit in force when the container was killed; null when it had none. */
  readonly memoryLimitBytes: number | null;
}

/**
 * What to do with a CPU limit on a throttled container:
 * - `fit`: raise it to a limit that would have kept throttling below the threshold (for teams that keep
 *   CPU limits: Guaranteed QoS, static CPU manager, hard tenant caps);
 * - `remove`: drop it, krr's position (its simple strategy never recommends a CPU limit), since a CPU limit
 *   only ever throttles and the request already guarantees the container its share under contention.
 */
export type CpuLimitPolicy = "fit" | "remove";

export interface ContainerAdviceInput {
  /** Oldest first; raw samples or rollups, or a mix. */
  readonly points: readonly UsagePoint[];
  /** From the Pod spec when known; without it limits fall back to what the cgroup reported and requests are unknown. */
  readonly spec?: ContainerResources;
  /** The CPUThrottling threshold in force (share of CFS periods, 0..1); 0.25 by default. */
  readonly throttleThreshold?: number;
  /** OOM kills known besides those counted in `points`. */
  readonly oomKills?: OomKillRecord;
  /**
   * Whether the CPUThrottling rule raised an incident in the span. The rule judged throttling over its own
   * window; averaged over a longer span, or split by a gap in the points, the series alone may not show it.
   */
  readonly throttlingRecorded?: boolean;
  /** `fit` by default. */
  readonly cpuLimitPolicy?: CpuLimitPolicy;
}

export type Change = "raise" | "lower" | "keep" | "remove" | "set";
export type Confidence = "normal" | "low";
/** Where the current value came from; `unknown` when there was no Pod spec and the cgroup does not show it. */
export type CurrentSource = "spec" | "cgroup" | "unknown";

/** The numbers a CPU recommendation was derived from. */
export interface CpuBasis {
  /** Throttled enough to act on: the span's ratio at or above the threshold, or 5 minutes in a row at or above it. */
  readonly throttled: boolean;
  readonly sampleCount: number;
  readonly spanMs: number;
  /** Time the samples cover: the span without gaps. */
  readonly coveredMs: number;
  /** Interval-weighted 95th percentile of measured usage. */
  readonly p95Cores: number;
  readonly peakCores: number;
  /** Throttled periods over periods across the span; null when the host reported no CFS periods. */
  readonly throttleRatio: number | null;
  /** Longest run of consecutive intervals at or above the threshold. */
  readonly longestThrottledMs: number;
  readonly threshold: number;
  /** Interval-weighted p95 of demand: usage, raised where throttled to what the quota hid (see MAX_DEMAND_FACTOR). */
  readonly p95DemandCores: number;
  /** Demand at the percentile a limit is fitted to: p95, or higher for thresholds under 10 %. */
  readonly fitDemandCores: number;
  /** Throttled share of periods within the intervals at or above the threshold; 0 when there were none. */
  readonly throttledIntervalsRatio: number;
  /** The CFS quota the cgroup enforced while throttled (the highest seen); null when never limited. */
  readonly throttledAtLimitCores: number | null;
}

/** The numbers a memory recommendation was derived from. */
export interface MemoryBasis {
  readonly sampleCount: number;
  readonly spanMs: number;
  readonly coveredMs: number;
  readonly peakWorkingSetBytes: number;
  readonly p95WorkingSetBytes: number;
  readonly oomKills: number;
  /** The limit in force at the OOM kill (the highest, if several); null when unknown or unlimited. */
  readonly killedLimitBytes: number | null;
}

interface RecommendationBase {
  readonly kind: "request" | "limit";
  /** null = unset (no request, unlimited). */
  readonly current: number | null;
  readonly currentSource: CurrentSource;
  /** null = unset (for a limit: remove it, or leave it unlimited). */
  readonly recommended: number | null;
  readonly change: Change;
  readonly confidence: Confidence;
  /** One sentence for a person. */
  readonly reason: string;
}

export interface CpuRecommendation extends RecommendationBase {
  readonly resource: "cpu";
  readonly basis: CpuBasis;
}

export interface MemoryRecommendation extends RecommendationBase {
  readonly resource: "memory";
  readonly basis: MemoryBasis;
}

export type Recommendation = CpuRecommendation | MemoryRecommendation;

export interface ContainerAdvice {
  readonly cpu: { readonly request: CpuRecommendation; readonly limit: CpuRecommendation };
  readonly memory: { readonly request: MemoryRecommendation; readonly limit: MemoryRecommendation };
  readonly confidence: Confidence;
  /** Why confidence is low, e.g. "only 120 samples of CPU over 2m (want 10m and 30)"; absent when normal. */
  readonly lowConfidenceReason?: string;
}

/** A noisy neighbour as seen during the victim's incidents. */
export interface CulpritAdviceInput {
  readonly culprit: {
    readonly pod: PodRef;
    /** Cores it used in each interval in which the victim stalled. */
    readonly usageCores: readonly number[];
    readonly requestCores?: number;
    readonly limitCores?: number;
  };
  readonly victim: {
    readonly pod: PodRef;
    /** PSI `some` share of time the victim's tasks waited for CPU during the incidents (0..1). */
    readonly stallShare: number;
  };
}

export type CulpritAction = "limit" | "lower-limit" | "lower-request-or-priority" | "none";

export interface CulpritAdvice {
  readonly action: CulpritAction;
  /** The CPU limit to give the culprit; null when capping is not the advice. */
  readonly limitCores: number | null;
  /** Cores the cap would free, at most what the victim lacked. */
  readonly givesBackCores: number;
  readonly basis: {
    readonly intervals: number;
    readonly meanCores: number;
    readonly p95Cores: number;
    readonly requestCores: number | null;
    readonly limitCores: number | null;
    readonly victimStallShare: number;
    /** Cores the victim lacked, estimated from its stall share (one waiting task per stalled moment). */
    readonly victimShortCores: number;
  };
  readonly reason: string;
}
