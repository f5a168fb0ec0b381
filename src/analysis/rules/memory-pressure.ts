import type { ContainerRule } from "../rule.js";
import { stallObservation } from "./stall.js";

/** Tasks stall on memory (reclaim, swap-in, refaults): PSI `some` share of wall time. */
export const memoryPressure: ContainerRule<"MemoryPressure"> = {
  name: "MemoryPressure",
  scope: "container",
  defaults: { threshold: 0.2, for: "5s", clearAfter: "30s", severity: "warning" },
  thresholdRange: { min: 0, max: 1, unit: "share of wall time stalled on memory, PSI some (0..1)" },
  evaluate(window, config) {
    return stallObservation("memory", window.memoryStallShare, window.memoryFullStallShare, config.threshold);
  },
};
