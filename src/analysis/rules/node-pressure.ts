import { pct } from "../format.js";
import type { NodeRule, NodeWindow } from "../rule.js";

type Resource = "cpu" | "memory" | "io";

/** Node-wide PSI from /proc/pressure: the worst of cpu, memory and io `some` stall shares. */
export const nodePressure: NodeRule<"NodePressure"> = {
  name: "NodePressure",
  scope: "node",
  defaults: { threshold: 0.4, for: "10s", clearAfter: "30s", severity: "warning" },
  thresholdRange: { min: 0, max: 1, unit: "node-level PSI stall share, the worst of cpu/memory/io (0..1)" },
  evaluate(window, config) {
    const worst = worstResource(window);
    if (!worst || worst.share < config.threshold) return undefined;
    return {
      value: worst.share,
      message: `node tasks stalled on ${worst.resource} ${pct(worst.share)} of the time`,
      evidence: {
        resource: worst.resource,
        ...(window.cpuStallShare === undefined ? {} : { cpuShare: window.cpuStallShare }),
        ...(window.memoryStallShare === undefined ? {} : { memoryShare: window.memoryStallShare }),
        ...(window.ioStallShare === undefined ? {} : { ioShare: window.ioStallShare }),
      },
    };
  },
};

function worstResource(window: NodeWindow): { resource: Resource; share: number } | undefined {
  const candidates: { resource: Resource; share: number | undefined }[] = [
    { resource: "cpu", share: window.cpuStallShare },
    { resource: "memory", share: window.memoryStallShare },
    { resource: "io", share: window.ioStallShare },
  ];
  let worst: { resource: Resource; share: number } | undefined;
  for (const { resource, share } of candidates) {
    if (share !== undefined && (!worst || share > worst.share)) worst = { resource, share };
  }
  return worst;
}
