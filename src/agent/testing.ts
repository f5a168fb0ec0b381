/** Fixtures shared by the agent's unit tests. */
import type { Finding } from "../analysis/types.js";
import { toEffectivePolicy } from "../api/policy.js";
import type { StarvationPolicy } from "../api/types.generated.js";

/** A StarvationPolicy named `name`, at generation 1, with the CRD's defaults under `spec`. */
export function policy(name: string, spec: StarvationPolicy["spec"] = {}): ReturnType<typeof toEffectivePolicy> {
  return toEffectivePolicy({ apiVersion: "xander.io/v1alpha1", kind: "StarvationPolicy", metadata: { name, generation: 1 }, spec });
}

/** shop/orders starved by batch/cruncher. */
export const starvedFinding: Finding = {
  rule: "CPUStarvation",
  severity: "warning",
  policy: "default",
  pod: { uid: "u1", namespace: "shop", name: "orders" },
  container: "api",
  value: 0.62,
  threshold: 0.3,
  windowMs: 5000,
  firstSeenMs: 1_000,
  lastSeenMs: 9_000,
  culprit: { pod: { uid: "u2", namespace: "batch", name: "cruncher" }, score: 0.9, evidence: "batch/cruncher used 1.9 cores" },
  evidence: { ownCores: 0.05 },
  message: "CPU-starved: runnable but waiting 62% of the time",
};
