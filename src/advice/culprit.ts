import { cores, pct, podLabel } from "../analysis/format.js";
import { ceilMillicores } from "./change.js";
import { MAX_CORES, MIN_CPU_CORES } from "./constants.js";
import { weightedQuantile } from "./quantile.js";
import type { CulpritAdvice, CulpritAdviceInput } from "./types.js";

/** Below this a neighbour took too little CPU for a cap to give anything back (the attribution's own floor). */
const MIN_CULPRIT_CORES = 0.1;

function finiteCores(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? Math.min(Math.max(value, 0), MAX_CORES) : null;
}

/**
 * What capping a noisy neighbour would give back to the pod it starved. The victim's PSI `some` share is the
 * time at least one of its tasks waited for a CPU, so it lacked at least that many cores (one task per stalled
 * moment; more if several waited). The cap takes that much off what the culprit used during the stalls, but
 * never goes below the culprit's request: CFS weights promise every pod its request under contention, so a
 * neighbour within its request is not taking anyone's share, and the fix is its request or priority (or a
 * larger request for the victim) rather than a limit.
 */
export function adviseCulprit(input: CulpritAdviceInput): CulpritAdvice {
  const usage = input.culprit.usageCores.filter(Number.isFinite).map((value) => Math.min(Math.max(value, 0), MAX_CORES));
  const meanCores = usage.length > 0 ? usage.reduce((sum, value) => sum + value, 0) / usage.length : 0;
  const p95Cores = weightedQuantile(usage.map((value) => ({ value, weightMs: 1 })), 0.95);
  const requestCores = finiteCores(input.culprit.requestCores);
  const limitCores = finiteCores(input.culprit.limitCores);
  const victimStallShare = Number.isFinite(input.victim.stallShare) ? Math.min(Math.max(input.victim.stallShare, 0), 1) : 0;
  const victimShortCores = victimStallShare;
  const basis = { intervals: usage.length, meanCores, p95Cores, requestCores, limitCores, victimStallShare, victimShortCores };

  const culprit = podLabel(input.culprit.pod);
  const victim = podLabel(input.victim.pod);
  const used = `it used ${cores(meanCores)} cores during the stalls (p95 ${cores(p95Cores)}${requestCores === null ? ", no request" : `, request ${cores(requestCores)}`})`;
  const stalled = `${victim} stalled ${pct(victimStallShare)} of the time`;

  if (meanCores < MIN_CULPRIT_CORES || victimShortCores === 0) {
    return { action: "none", limitCores: null, givesBackCores: 0, basis, reason: `capping ${culprit} would give little back: ${used}; ${stalled}` };
  }
  const floor = Math.max(requestCores ?? 0, MIN_CPU_CORES);
  const cap = ceilMillicores(Math.max(floor, meanCores - victimShortCores));
  const alreadyCapped = limitCores !== null && cap >= limitCores;
  if (meanCores <= cap || alreadyCapped) {
    return {
      action: "lower-request-or-priority",
      limitCores: null,
      givesBackCores: 0,
      basis,
      reason: `${culprit} stays within what a limit can fairly take (${used}); lower its request or priority, or raise ${victim}'s request; ${stalled}`,
    };
  }
  const givesBackCores = Math.max(0, meanCores - cap);
  return {
    action: limitCores === null ? "limit" : "lower-limit",
    limitCores: cap,
    givesBackCores,
    basis,
    reason: `a limit of ${cores(cap)} cores on ${culprit} would give back ~${cores(givesBackCores)} cores to ${victim}: ${used}; ${stalled}`,
  };
}
