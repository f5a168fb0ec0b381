import { formatDuration } from "../util/duration.js";
import { currentOf } from "./change.js";
import { DEFAULT_THROTTLE_THRESHOLD, MAX_BYTES, MAX_CORES, MIN_CONFIDENT_SAMPLES, MIN_CONFIDENT_SPAN_MS } from "./constants.js";
import { cpuBasis } from "./cpu-basis.js";
import { adviseCpuLimit, adviseCpuRequest } from "./cpu.js";
import { adviseMemoryLimit, adviseMemoryRequest, memoryBasis } from "./memory.js";
import { cleanSeries, latestLimit, type Coverage } from "./series.js";
import { overSpan } from "./text.js";
import type { Confidence, ContainerAdvice, ContainerAdviceInput, CpuBasis } from "./types.js";

/** Why a resource's history is too thin to trust, or undefined when it is enough. */
function thinHistory(resource: string, history: Coverage): string | undefined {
  if (history.sampleCount === 0) return `no ${resource} samples`;
  if (history.coveredMs >= MIN_CONFIDENT_SPAN_MS && history.sampleCount >= MIN_CONFIDENT_SAMPLES) return undefined;
  const samples = history.sampleCount === 1 ? "1 sample" : `${history.sampleCount} samples`;
  return `only ${samples} of ${resource} ${overSpan(history.spanMs)} (want ${formatDuration(MIN_CONFIDENT_SPAN_MS)} and ${MIN_CONFIDENT_SAMPLES})`;
}

function confidenceOf(reason: string | undefined): Confidence {
  return reason === undefined ? "normal" : "low";
}

function thresholdOf(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : DEFAULT_THROTTLE_THRESHOLD;
}

/** The rule judged throttling over its own window; a recorded incident counts even where the span's average hides it. */
function withRecordedThrottling(basis: CpuBasis, recorded: boolean | undefined): CpuBasis {
  return recorded === true && !basis.throttled ? { ...basis, throttled: true } : basis;
}

/**
 * Rightsizing advice for one container from its stored history and, when known, its Pod spec. Data in, data
 * out: the caller reads the store and the API. Every figure comes with the numbers it was derived from; with
 * too little history the figures are still given, marked low confidence.
 */
export function adviseContainer(input: ContainerAdviceInput): ContainerAdvice {
  const points = cleanSeries(input.points);
  const specKnown = input.spec !== undefined;
  const threshold = thresholdOf(input.throttleThreshold);

  const cpu = withRecordedThrottling(cpuBasis(points, threshold), input.throttlingRecorded);
  const cpuThin = thinHistory("CPU", cpu);
  const cpuCtx = {
    basis: cpu,
    request: currentOf(specKnown, input.spec?.requests?.cpuCores, undefined, MAX_CORES),
    limit: currentOf(specKnown, input.spec?.limits?.cpuCores, latestLimit(points, (point) => point.cpuLimitCores), MAX_CORES),
    policy: input.cpuLimitPolicy ?? "fit",
    confidence: confidenceOf(cpuThin),
  };
  const cpuRequest = adviseCpuRequest(cpuCtx);
  const cpuLimit = adviseCpuLimit(cpuCtx, cpuRequest);

  const memoryLimit = currentOf(specKnown, input.spec?.limits?.memoryBytes, latestLimit(points, (point) => point.memoryLimitBytes), MAX_BYTES);
  const basis = memoryBasis(points, input.oomKills, memoryLimit.value);
  const memoryThin = thinHistory("memory", basis);
  const memoryCtx = {
    basis,
    request: currentOf(specKnown, input.spec?.requests?.memoryBytes, undefined, MAX_BYTES),
    limit: memoryLimit,
    confidence: confidenceOf(memoryThin),
  };
  const memoryRequest = adviseMemoryRequest(memoryCtx);

  const lowConfidenceReason = [cpuThin, memoryThin].filter((reason) => reason !== undefined).join("; ");
  return {
    cpu: { request: cpuRequest, limit: cpuLimit },
    memory: { request: memoryRequest, limit: adviseMemoryLimit(memoryCtx, memoryRequest) },
    confidence: lowConfidenceReason === "" ? "normal" : "low",
    ...(lowConfidenceReason === "" ? {} : { lowConfidenceReason }),
  };
}
