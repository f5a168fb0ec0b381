import { bytes } from "../analysis/format.js";
import { formatDuration } from "../util/duration.js";

/** 0.1 -> "100m", 1.5 -> "1500m": the way a CPU request or limit is written in a Pod spec. */
export function millicores(valueCores: number): string {
  return `${Math.round(valueCores * 1000)}m`;
}

/** A CPU request or limit, or "none" when unset. */
export function cpuAmount(valueCores: number | null): string {
  return valueCores === null ? "none" : millicores(valueCores);
}

/** A memory request or limit, or "none" when unset. */
export function memoryAmount(valueBytes: number | null): string {
  return valueBytes === null ? "none" : bytes(valueBytes);
}

/** "over 2h", "over 4m30s": the span a figure was drawn from. */
export function overSpan(spanMs: number): string {
  return `over ${formatDuration(spanMs)}`;
}
