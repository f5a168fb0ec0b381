import { pct } from "../format.js";
import type { Observation } from "../rule.js";

/** Shared by the PSI rules: `some` share against the threshold, with `full` as extra evidence. */
export function stallObservation(resource: string, someShare: number | undefined, fullShare: number | undefined, threshold: number): Observation | undefined {
  if (someShare === undefined || someShare < threshold) return undefined;
  const evidence: Record<string, number> = { someShare };
  if (fullShare !== undefined) evidence.fullShare = fullShare;
  const fullText = fullShare === undefined ? "" : ` (all tasks stalled ${pct(fullShare)})`;
  return { value: someShare, message: `stalled on ${resource} ${pct(someShare)} of the time${fullText}`, evidence };
}
