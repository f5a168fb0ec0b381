import { cpuAmount, memoryAmount } from "./text.js";
import type { ContainerAdvice, Recommendation } from "./types.js";

function amount(recommendation: Recommendation, value: number | null): string {
  return recommendation.resource === "cpu" ? cpuAmount(value) : memoryAmount(value);
}

/**
 * One recommendation as a short line:
 * `cpu limit 100m → 250m: throttled in 97% of periods at 100m over 2h; p95 usage 0.1 cores, …`
 */
export function adviceSummary(recommendation: Recommendation): string {
  const what = `${recommendation.resource} ${recommendation.kind}`;
  const current = amount(recommendation, recommendation.current);
  const values =
    recommendation.change === "keep"
      ? `${current} (keep)`
      : `${recommendation.currentSource === "unknown" ? "?" : current} → ${amount(recommendation, recommendation.recommended)}`;
  const tentative = recommendation.confidence === "low" ? " (low confidence)" : "";
  return `${what} ${values}: ${recommendation.reason}${tentative}`;
}

/** The container's four recommendations as lines, changes first; the low-confidence reason last, when there is one. */
export function adviceLines(advice: ContainerAdvice): string[] {
  const all: Recommendation[] = [advice.cpu.request, advice.cpu.limit, advice.memory.request, advice.memory.limit];
  const ordered = [...all.filter((rec) => rec.change !== "keep"), ...all.filter((rec) => rec.change === "keep")];
  const lines = ordered.map(adviceSummary);
  if (advice.lowConfidenceReason !== undefined) lines.push(`tentative: ${advice.lowConfidenceReason}`);
  return lines;
}
