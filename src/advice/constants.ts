/**
 * The numbers the advice is built from, each with where it comes from. Changing one changes every
 * recommendation, so they live in one place.
 */

/** CPU request percentile. krr's simple strategy (`cpu_percentile`, default 95); VPA's recommender targets p90. */
export const CPU_REQUEST_PERCENTILE = 0.95;

/** Safety margin on the peak working set for a memory request: krr's `memory_buffer_percentage` (15) and
 * VPA's `--recommendation-margin-fraction` (0.15). */
export const MEMORY_MARGIN = 0.15;

/** After an OOM kill the limit grows by at least this factor and this many bytes: VPA recommender's
 * `DefaultOOMBumpUpRatio` (1.2) and `DefaultOOMMinBumpUp` (100 MiB), `model/aggregations_config.go`. */
export const OOM_BUMP_RATIO = 1.2;
export const OOM_MIN_BUMP_BYTES = 100 * 1024 * 1024;

/** Smallest CPU request worth writing: krr's `cpu_min_value` (10 millicores). */
export const MIN_CPU_CORES = 0.01;

/** Memory recommendations are rounded up to whole MiB, the unit people write requests in. */
export const MEMORY_STEP_BYTES = 1024 * 1024;

/** The CPUThrottling rule's default (kubernetes-mixin's CPUThrottlingHigh alerts at 25 % of periods). */
export const DEFAULT_THROTTLE_THRESHOLD = 0.25;

/** Throttling at or above the threshold for this long in a row counts even when the whole span's ratio is
 * below it: a 5-minute stall is an incident however calm the rest of the day was. Our choice, not a cited one. */
export const SUSTAINED_THROTTLING_MS = 5 * 60_000;

/**
 * Demand hidden by a CFS quota is estimated as usage ÷ (1 − throttled share), which assumes the container
 * wanted in throttled periods what it got in the others. As the share nears 1 that estimate diverges, so it
 * is capped at this factor: a bounded step, re-checked after the change, like VPA's bounded OOM bump.
 */
export const MAX_DEMAND_FACTOR = 2;

/** Less than this much history, or fewer samples, makes a recommendation tentative. */
export const MIN_CONFIDENT_SPAN_MS = 10 * 60_000;
export const MIN_CONFIDENT_SAMPLES = 30;

/** A change smaller than this (relative, or for CPU absolute) is noise, not worth a rollout. Our choice. */
export const KEEP_TOLERANCE = 0.1;
export const KEEP_TOLERANCE_CORES = 0.005;

/** The kernel's default CFS period (`cpu.cfs_period_us`, 100 ms; Documentation/scheduler/sched-bwc.rst):
 * turns an interval into periods when a point has a ratio but no period counts. */
export const CFS_PERIOD_MS = 100;

/** Inputs are clamped to these so products stay finite: no node has a million cores, and the kernel
 * reports "unlimited" memory as values at or above 2^62. */
export const MAX_CORES = 2 ** 20;
export const MAX_BYTES = 2 ** 62;
