import type { PodRef, RuleName, Severity } from "./types.js";

/** A neighbour named as culprit at some point of an incident. */
export interface IncidentCulprit {
  readonly pod: PodRef;
  /** The highest score attribution gave it during the incident (0..1). */
  readonly score: number;
  /** The share (0..1) of the incident's time for which it was the named culprit. */
  readonly share: number;
}

/**
 * One finding's life, from raise to clear: the record a person reads the morning after. Incidents are
 * keyed like findings (rule, pod, container), so an open one is resumed, not duplicated, when the agent
 * restarts and the analyzer raises the same finding again.
 */
export interface Incident {
  /** Stable across restarts: derived from node, rule, pod, container and start. */
  readonly id: string;
  readonly node: string;
  readonly rule: RuleName;
  readonly severity: Severity;
  readonly policy?: string;
  readonly pod: PodRef;
  readonly container?: string;
  /** The pod's top-level owner as "Kind/name", e.g. "Deployment/web". */
  readonly workload?: string;
  /** When the condition began (the finding's onset, before `for` elapsed). */
  readonly startMs: number;
  /** When the condition was last seen before it cleared; absent while open. */
  readonly endMs?: number;
  /** The last time the condition held: the end so far of an open incident. */
  readonly lastSeenMs: number;
  readonly peakValue: number;
  readonly peakAtMs: number;
  readonly threshold: number;
  /** Largest share first. */
  readonly culprits: readonly IncidentCulprit[];
  /** Callers of the pod that felt it, as workloads. */
  readonly callers: readonly string[];
  /** The finding's evidence at the peak. */
  readonly evidence: Readonly<Record<string, string | number>>;
  /** The finding's message at the peak. */
  readonly message: string;
}

/** Which incidents a query wants; every field narrows. */
export interface IncidentQuery {
  /** Incidents that were open at any time at or after this instant. */
  readonly sinceMs: number;
  /** Incidents that started before this instant. */
  readonly untilMs?: number;
  readonly namespace?: string;
  readonly rule?: RuleName;
  /** "namespace/name" */
  readonly pod?: string;
  readonly node?: string;
  readonly limit?: number;
}

export function incidentKey(rule: RuleName, podUid: string, container: string | undefined): string {
  return `${rule}|${podUid}|${container ?? ""}`;
}

export function incidentPodName(incident: Pick<Incident, "pod">): string | undefined {
  return incident.pod.name === undefined ? undefined : `${incident.pod.namespace ?? ""}/${incident.pod.name}`;
}

/** Whether an incident matches a query's filters (the time bounds included). */
export function matchesIncident(incident: Incident, query: IncidentQuery): boolean {
  if (incident.lastSeenMs < query.sinceMs && incident.endMs !== undefined) return false;
  if (query.untilMs !== undefined && incident.startMs >= query.untilMs) return false;
  if (query.namespace !== undefined && incident.pod.namespace !== query.namespace) return false;
  if (query.rule !== undefined && incident.rule !== query.rule) return false;
  if (query.node !== undefined && incident.node !== query.node) return false;
  return query.pod === undefined || incidentPodName(incident) === query.pod;
}

/** Newest first: open before closed at the same start, then by start. */
export function compareIncidents(a: Incident, b: Incident): number {
  return b.startMs - a.startMs || Number(a.endMs !== undefined) - Number(b.endMs !== undefined) || a.id.localeCompare(b.id);
}
