import { bytes } from "../format.js";
import type { ContainerRule } from "../rule.js";

/** The kernel OOM-killed a task in the container within the window. Raised at once. */
export const oomKill: ContainerRule<"OOMKill"> = {
  name: "OOMKill",
  scope: "container",
  defaults: { threshold: 1, for: "0s", clearAfter: "5m", severity: "critical" },
  thresholdRange: { min: 1, max: 1000, unit: "OOM kills within the window (a count)", wholeNumber: true },
  evaluate(window, config) {
    if (window.oomKills < config.threshold) return undefined;
    const limit = window.memoryLimitBytes === null ? "" : ` at its ${bytes(window.memoryLimitBytes)} memory limit`;
    const times = window.oomKills === 1 ? "once" : `${window.oomKills} times`;
    return {
      value: window.oomKills,
      message: `OOM-killed ${times}${limit}`,
      evidence: { oomKills: window.oomKills },
    };
  },
};
