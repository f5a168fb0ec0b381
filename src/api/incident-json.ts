/** Incidents as NodeFindings status carries them (the HTTP shape is in report/convert.ts). */
import type { Incident } from "../analysis/incident.js";
import type { RecentIncident } from "./types.generated.js";
import { INCIDENT_MESSAGE_MAX, NAME_MAX, QUALIFIED_NAME_MAX } from "./limits.js";

const STATUS_CULPRITS_MAX = 5;
const STATUS_CALLERS_MAX = 10;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** NodeFindings.status.recentIncidents[] entry: bounded as the CRD says, evidence left in the node's history. */
export function recentIncident(incident: Incident): RecentIncident {
  return {
    rule: incident.rule,
    severity: incident.severity,
    ...(incident.policy === undefined ? {} : { policy: incident.policy }),
    ...(incident.pod.uid === "node" ? {} : { pod: incident.pod }),
    ...(incident.container === undefined ? {} : { container: incident.container.slice(0, NAME_MAX) }),
    ...(incident.workload === undefined ? {} : { workload: incident.workload.slice(0, QUALIFIED_NAME_MAX) }),
    start: iso(incident.startMs),
    end: iso(incident.endMs ?? incident.lastSeenMs),
    peak: round(incident.peakValue),
    peakAt: iso(incident.peakAtMs),
    threshold: incident.threshold,
    ...(incident.culprits.length === 0
      ? {}
      : { culprits: incident.culprits.slice(0, STATUS_CULPRITS_MAX).map((c) => ({ ...c.pod, score: c.score, share: c.share })) }),
    ...(incident.callers.length === 0 ? {} : { callers: incident.callers.slice(0, STATUS_CALLERS_MAX).map((c) => c.slice(0, QUALIFIED_NAME_MAX)) }),
    message: incident.message.slice(0, INCIDENT_MESSAGE_MAX),
  };
}
