import { attributeStarvation } from "../attribution.js";
import { cores, pct, podLabel } from "../format.js";
import type { ContainerRule } from "../rule.js";

/**
 * Runnable but waiting for a CPU (PSI cpu `some`) while NOT throttled by its own quota, and while
 * neighbours took at least as much CPU as the pod itself. A throttled pod also shows high CPU PSI,
 * but that is self-inflicted and belongs to CPUThrottling.
 */
export const cpuStarvation: ContainerRule<"CPUStarvation"> = {
  name: "CPUStarvation",
  scope: "container",
  defaults: { threshold: 0.3, for: "5s", clearAfter: "30s", severity: "warning" },
  thresholdRange: { min: 0, max: 1, unit: "share of wall time stalled on CPU, PSI some (0..1)" },
  evaluate(window, config, context) {
    const stallShare = window.cpuStallShare;
    if (stallShare === undefined || stallShare < config.threshold) return undefined;
    const throttleRatio = window.periods > 0 ? window.throttledPeriods / window.periods : 0;
    const throttling = context.configs.CPUThrottling;
    if (throttling !== undefined && throttleRatio >= throttling.threshold) return undefined;

    const attribution = attributeStarvation(window, context.windows, config.threshold, context.node);
    // Its own threads outnumber the cores it gets: contention with itself, not with a neighbour.
    if (attribution.neighbourCoresDuringStall < attribution.ownCoresDuringStall) return undefined;

    const culprit = attribution.culprit;
    const blame = culprit
      ? `; ${podLabel(culprit.pod)} took ${cores(attribution.ranked[0]?.usageCoresDuringStall ?? 0)} cores meanwhile`
      : attribution.outsidePodsCoresDuringStall >= attribution.neighbourCoresDuringStall / 2
        ? `; processes outside pods took ${cores(attribution.outsidePodsCoresDuringStall)} cores meanwhile`
        : `; neighbours took ${cores(attribution.neighbourCoresDuringStall)} cores meanwhile`;
    return {
      value: stallShare,
      message: `CPU-starved: runnable but waiting ${pct(stallShare)} of the time while using ${cores(attribution.ownCoresDuringStall)} cores${blame}`,
      evidence: {
        ownCores: round(attribution.ownCoresDuringStall),
        neighbourCores: round(attribution.neighbourCoresDuringStall),
        outsidePodsCores: round(attribution.outsidePodsCoresDuringStall),
        throttleRatio: round(throttleRatio),
        stalledIntervals: attribution.stalledIntervals,
      },
      ...(culprit ? { culprit } : {}),
    };
  },
};

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
