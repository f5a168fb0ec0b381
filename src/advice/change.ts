import { KEEP_TOLERANCE, MEMORY_STEP_BYTES } from "./constants.js";
import type { Change, CurrentSource } from "./types.js";

/** Cores rounded up to whole millicores; the epsilon keeps 0.1 (100.00000000000001 m in floating point) at 100m. */
export function ceilMillicores(valueCores: number): number {
  return Math.ceil(valueCores * 1000 - 1e-6) / 1000;
}

/** Bytes rounded up to whole MiB. */
export function ceilMiB(valueBytes: number): number {
  return Math.ceil(valueBytes / MEMORY_STEP_BYTES - 1e-9) * MEMORY_STEP_BYTES;
}

export interface Current {
  /** null = unset. */
  readonly value: number | null;
  readonly source: CurrentSource;
}

/**
 * A current request or limit: the Pod spec when it is known (an absent field is unset there), else what the
 * cgroup reported (limits only: a request leaves no trace in the series), else unknown. Spec values are clamped
 * to `max` as the series are (see cleanPoint).
 */
export function currentOf(
  specKnown: boolean,
  specValue: number | undefined,
  cgroupValue: number | null | undefined,
  max: number,
): Current {
  if (specKnown) return { value: specValue !== undefined && Number.isFinite(specValue) ? Math.min(Math.max(specValue, 0), max) : null, source: "spec" };
  if (cgroupValue !== undefined) return { value: cgroupValue, source: "cgroup" };
  return { value: null, source: "unknown" };
}

/** Whether `current` is close enough to `recommended` to leave alone. */
export function withinTolerance(current: number, recommended: number, absoluteTolerance = 0): boolean {
  const diff = Math.abs(current - recommended);
  return diff <= absoluteTolerance || diff <= KEEP_TOLERANCE * recommended;
}

/** The change from `current` to `recommended` (null = unset on either side). */
export function changeOf(current: number | null, recommended: number | null): Change {
  if (recommended === null) return current === null ? "keep" : "remove";
  if (current === null) return "set";
  if (recommended > current) return "raise";
  if (recommended < current) return "lower";
  return "keep";
}
