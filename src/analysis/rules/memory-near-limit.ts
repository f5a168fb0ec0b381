import { bytes, pct } from "../format.js";
import type { ContainerRule } from "../rule.js";

/** Working set (usage minus inactive file cache) close to the memory limit: the next step is an OOM kill. */
export const memoryNearLimit: ContainerRule<"MemoryNearLimit"> = {
  name: "MemoryNearLimit",
  scope: "container",
  defaults: { threshold: 0.9, for: "5s", clearAfter: "30s", severity: "warning" },
  thresholdRange: { min: 0, max: 1, unit: "working set as a share of the memory limit (0..1)" },
  evaluate(window, config) {
    const limitShare = window.memoryLimitShare;
    if (limitShare === null || limitShare < config.threshold) return undefined;
    const workingSet = window.workingSetBytes ?? 0;
    const limit = window.memoryLimitBytes ?? 0;
    return {
      value: limitShare,
      message: `working set ${bytes(workingSet)} is ${pct(limitShare)} of its ${bytes(limit)} limit`,
      evidence: { workingSetBytes: workingSet, limitBytes: limit },
    };
  },
};
