/** Incidents between their domain shape and their two wire shapes: the HTTP JSON and NodeFindings status. */
import type { Incident } from "../analysis/incident.js";
import { RULE_NAMES, SEVERITIES, type RuleName, type Severity } from "../analysis/types.js";
import type { IncidentJson } from "./history.js";
import type { RecentIncident } from "./types.generated.js";

const STATUS_MESSAGE_MAX = 512;
const STATUS_CULPRITS_MAX = 5;
const STATUS_CALLERS_MAX = 10;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

export function incidentToJson(incident: Incident, nowMs: number): IncidentJson {
  return {
    id: incident.id,
    node: incident.node,
    rule: incident.rule,
    severity: incident.severity,
    ...(incident.policy === undefined ? {} : { policy: incident.policy }),
    ...(incident.pod.uid === "node" ? {} : { pod: incident.pod }),
    ...(incident.container === undefined ? {} : { container: incident.container }),
    ...(incident.workload === undefined ? {} : { workload: incident.workload }),
    start: iso(incident.startMs),
    ...(incident.endMs === undefined ? {} : { end: iso(incident.endMs) }),
    lastSeen: iso(incident.lastSeenMs),
    durationMs: Math.max(0, (incident.endMs ?? nowMs) - incident.startMs),
    peak: round(incident.peakValue),
    peakAt: iso(incident.peakAtMs),
    threshold: incident.threshold,
    culprits: incident.culprits.map((c) => ({ ...c.pod, score: c.score, share: c.share })),
    callers: incident.callers,
    evidence: incident.evidence,
    message: incident.message,
  };
}

function ms(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Date.parse(text);
  return Number.isNaN(value) ? undefined : value;
}

function ruleOf(text: string): RuleName | undefined {
  return (RULE_NAMES as readonly string[]).includes(text) ? (text as RuleName) : undefined;
}

function severityOf(text: string): Severity {
  return (SEVERITIES as readonly string[]).includes(text) ? (text as Severity) : "warning";
}

/** Back to the domain shape; undefined for an entry whose rule or times do not parse (say, from a newer agent). */
export function incidentFromJson(json: IncidentJson): Incident | undefined {
  const rule = ruleOf(json.rule);
  const startMs = ms(json.start);
  const lastSeenMs = ms(json.lastSeen) ?? ms(json.end) ?? startMs;
  if (rule === undefined || startMs === undefined || lastSeenMs === undefined) return undefined;
  const endMs = ms(json.end);
  return {
    id: json.id,
    node: json.node,
    rule,
    severity: severityOf(json.severity),
    ...(json.policy === undefined ? {} : { policy: json.policy }),
    pod: json.pod ?? { uid: "node" },
    ...(json.container === undefined ? {} : { container: json.container }),
    ...(json.workload === undefined ? {} : { workload: json.workload }),
    startMs,
    ...(endMs === undefined ? {} : { endMs }),
    lastSeenMs,
    peakValue: json.peak,
    peakAtMs: ms(json.peakAt) ?? lastSeenMs,
    threshold: json.threshold,
    culprits: json.culprits.map(({ score, share, ...pod }) => ({ pod, score, share })),
    callers: json.callers,
    evidence: json.evidence,
    message: json.message,
  };
}

/** NodeFindings.status.recentIncidents[] entry: bounded as the CRD says, evidence left in the node's history. */
export function recentIncident(incident: Incident): RecentIncident {
  return {
    rule: incident.rule,
    severity: incident.severity,
    ...(incident.policy === undefined ? {} : { policy: incident.policy }),
    ...(incident.pod.uid === "node" ? {} : { pod: incident.pod }),
    ...(incident.container === undefined ? {} : { container: incident.container.slice(0, 253) }),
    ...(incident.workload === undefined ? {} : { workload: incident.workload.slice(0, 317) }),
    start: iso(incident.startMs),
    end: iso(incident.endMs ?? incident.lastSeenMs),
    peak: round(incident.peakValue),
    peakAt: iso(incident.peakAtMs),
    threshold: incident.threshold,
    ...(incident.culprits.length === 0
      ? {}
      : { culprits: incident.culprits.slice(0, STATUS_CULPRITS_MAX).map((c) => ({ ...c.pod, score: c.score, share: c.share })) }),
    ...(incident.callers.length === 0 ? {} : { callers: incident.callers.slice(0, STATUS_CALLERS_MAX).map((c) => c.slice(0, 317)) }),
    message: incident.message.slice(0, STATUS_MESSAGE_MAX),
  };
}
