import type { ContainerRule } from "../rule.js";
import { stallObservation } from "./stall.js";

/** Tasks wait on block IO: PSI `some` share of wall time. */
export const ioPressure: ContainerRule<"IOPressure"> = {
  name: "IOPressure",
  scope: "container",
  defaults: { threshold: 0.3, for: "5s", clearAfter: "30s", severity: "warning" },
  thresholdRange: { min: 0, max: 1, unit: "share of wall time stalled on IO, PSI some (0..1)" },
  evaluate(window, config) {
    return stallObservation("IO", window.ioStallShare, window.ioFullStallShare, config.threshold);
  },
};
