/**
 * An incident as one row of the `incidents` table, and back. The only place that knows the column order.
 * Reading never throws: a JSON cell that does not parse, or parses to the wrong shape, reads as empty, so one
 * garbled row costs its culprits, callers or evidence and not the query that returned it.
 */
import type { Incident, IncidentCulprit } from "../analysis/incident.js";
import type { PodRef, RuleName, Severity } from "../analysis/types.js";

export const INCIDENT_COLUMNS = [
  "id",
  "node",
  "rule",
  "severity",
  "policy",
  "namespace",
  "pod_name",
  "pod_uid",
  "container",
  "workload",
  "start_ms",
  "end_ms",
  "last_seen_ms",
  "peak_value",
  "peak_at_ms",
  "threshold",
  "culprits",
  "callers",
  "evidence",
  "message",
] as const;

export type IncidentRow = [
  id: string,
  node: string,
  rule: string,
  severity: string,
  policy: string | null,
  namespace: string | null,
  podName: string | null,
  podUid: string,
  container: string | null,
  workload: string | null,
  startMs: number,
  endMs: number | null,
  lastSeenMs: number,
  peakValue: number | null,
  peakAtMs: number,
  threshold: number | null,
  culprits: string,
  callers: string,
  evidence: string,
  message: string,
];

export function incidentToRow(incident: Incident): IncidentRow {
  const { pod } = incident;
  return [
    incident.id,
    incident.node,
    incident.rule,
    incident.severity,
    incident.policy ?? null,
    pod.namespace ?? null,
    pod.name ?? null,
    pod.uid,
    incident.container ?? null,
    incident.workload ?? null,
    incident.startMs,
    incident.endMs ?? null,
    incident.lastSeenMs,
    incident.peakValue,
    incident.peakAtMs,
    incident.threshold,
    JSON.stringify(incident.culprits),
    JSON.stringify(incident.callers),
    JSON.stringify(incident.evidence),
    incident.message,
  ];
}

/** Assignments rather than conditional spreads: a query decodes up to a thousand rows and spreads cost 4x. */
export function incidentFromRow(row: IncidentRow): Incident {
  const [id, node, rule, severity, policy, namespace, podName, podUid, container, workload, ...rest] = row;
  const [startMs, endMs, lastSeenMs, peakValue, peakAtMs, threshold, culprits, callers, evidence, message] = rest;
  const pod: Writable<PodRef> = { uid: podUid };
  if (namespace !== null) pod.namespace = namespace;
  if (podName !== null) pod.name = podName;
  const incident: Writable<Incident> = {
    id,
    node,
    // Only this module writes these columns, from the same types.
    rule: rule as RuleName,
    severity: severity as Severity,
    pod,
    startMs,
    lastSeenMs,
    // SQLite stores a NaN as NULL.
    peakValue: peakValue ?? NaN,
    peakAtMs,
    threshold: threshold ?? NaN,
    culprits: culpritsOf(culprits),
    callers: callersOf(callers),
    evidence: evidenceOf(evidence),
    message,
  };
  if (policy !== null) incident.policy = policy;
  if (container !== null) incident.container = container;
  if (workload !== null) incident.workload = workload;
  if (endMs !== null) incident.endMs = endMs;
  return incident;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Readers dereference `culprit.pod.uid` and format the numbers: an element without them is dropped. */
function isCulprit(value: unknown): value is IncidentCulprit {
  if (!isRecord(value) || !isRecord(value.pod)) return false;
  return typeof value.pod.uid === "string" && typeof value.score === "number" && typeof value.share === "number";
}

function culpritsOf(text: string): IncidentCulprit[] {
  const value = parsed(text);
  if (!Array.isArray(value)) return [];
  return value.every(isCulprit) ? value : value.filter(isCulprit);
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

function callersOf(text: string): string[] {
  const value = parsed(text);
  if (!Array.isArray(value)) return [];
  return value.every(isString) ? value : value.filter(isString);
}

function isEvidenceValue(value: unknown): value is string | number {
  return typeof value === "string" || typeof value === "number";
}

function evidenceOf(text: string): Record<string, string | number> {
  const value = parsed(text);
  if (!isRecord(value)) return {};
  const values = Object.values(value);
  if (values.every(isEvidenceValue)) return value as Record<string, string | number>;
  // fromEntries, not assignment: a key such as "__proto__" stays an ordinary key, as JSON.parse made it.
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string | number] => isEvidenceValue(entry[1])));
}
