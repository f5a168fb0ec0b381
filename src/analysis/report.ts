import { formatDuration } from "../util/duration.js";
import type { Finding } from "./types.js";

/** A finding as JSON for people and tools: timestamps as RFC 3339, the window as a duration. */
export interface FindingJson {
  readonly rule: string;
  readonly severity: string;
  readonly policy?: string;
  readonly pod: { readonly uid: string; readonly namespace?: string; readonly name?: string };
  readonly container?: string;
  readonly value: number;
  readonly threshold: number;
  readonly window: string;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly culprit?: { readonly uid: string; readonly namespace?: string; readonly name?: string; readonly score: number; readonly evidence: string };
  readonly evidence?: Readonly<Record<string, string | number>>;
  readonly message: string;
}

export function findingToJson(finding: Finding): FindingJson {
  const culprit = finding.culprit;
  return {
    rule: finding.rule,
    severity: finding.severity,
    ...(finding.policy === undefined ? {} : { policy: finding.policy }),
    pod: finding.pod,
    ...(finding.container === undefined ? {} : { container: finding.container }),
    value: Math.round(finding.value * 10000) / 10000,
    threshold: finding.threshold,
    window: formatDuration(finding.windowMs),
    firstSeen: new Date(finding.firstSeenMs).toISOString(),
    lastSeen: new Date(finding.lastSeenMs).toISOString(),
    ...(culprit ? { culprit: { ...culprit.pod, score: culprit.score, evidence: culprit.evidence } } : {}),
    ...(finding.evidence ? { evidence: finding.evidence } : {}),
    message: finding.message,
  };
}
