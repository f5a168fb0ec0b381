import { cores, pct } from "../format.js";
import type { ContainerRule } from "../rule.js";

/** The container hits its own CFS quota: throttled periods over elapsed periods in the window. */
export const cpuThrottling: ContainerRule<"CPUThrottling"> = {
  name: "CPUThrottling",
  scope: "container",
  // kubernetes-mixin's CPUThrottlingHigh alerts at 25% of periods throttled.
  defaults: { threshold: 0.25, for: "5s", clearAfter: "30s", severity: "warning" },
  thresholdRange: { min: 0, max: 1, unit: "share of CFS periods throttled (0..1)" },
  evaluate(window, config) {
    if (window.periods === 0) return undefined;
    const throttleRatio = window.throttledPeriods / window.periods;
    if (throttleRatio < config.threshold) return undefined;
    const limit = window.cpuLimitCores === null ? "" : ` (limit ${cores(window.cpuLimitCores)} cores, using ${cores(window.cpuCores)})`;
    return {
      value: throttleRatio,
      message: `throttled in ${pct(throttleRatio)} of CFS periods${limit}`,
      evidence: { throttledPeriods: window.throttledPeriods, periods: window.periods, usageCores: round(window.cpuCores) },
    };
  },
};

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
