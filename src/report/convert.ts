/**
 * Incidents in their three shapes: the domain `Incident`, the wire `IncidentJson` (agents' history
 * endpoint, `/api/v1/incidents`), and what NodeFindings status carries (closed `recentIncidents` and open
 * `findings`). When no agent history is at hand, NodeFindings is the record: bounded, but cluster-wide.
 */
import { incidentKey, type Incident, type IncidentCulprit } from "../analysis/incident.js";
import { incidentId } from "../analysis/incident-tracker.js";
import { RULE_NAMES, SEVERITIES, type PodRef, type RuleName, type Severity } from "../analysis/types.js";
import type { IncidentCulpritJson, IncidentJson } from "../api/history.js";
import type { Culprit, NodeFinding, NodeFindings, RecentIncident } from "../api/types.generated.js";
import { defined } from "../util/object.js";
import { err, ok, type Result } from "../util/result.js";
import { isoTime } from "../util/time.js";
import { nodeName, nodeOwners } from "./cluster.js";

/** Node-level findings (NodePressure) have no pod; the analyzer names them by this uid. */
const NODE_POD: PodRef = { uid: "node" };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// Shared, frozen: most incidents have no culprit, caller or evidence, and 60,000 empty copies are garbage.
const NO_CULPRITS: readonly IncidentCulprit[] = Object.freeze([]);
const NO_CALLERS: readonly string[] = Object.freeze([]);
const NO_EVIDENCE: Readonly<Record<string, string>> = Object.freeze({});

// Built field by field rather than through `defined`: 60,000 incidents of 1,000 nodes pass through here
// on every summary, and generic object copies cost most of that.
function podRef(pod: { readonly uid: string; readonly namespace?: string; readonly name?: string } | undefined): PodRef {
  if (pod === undefined) return NODE_POD;
  const ref: Mutable<PodRef> = { uid: pod.uid };
  if (pod.namespace !== undefined) ref.namespace = pod.namespace;
  if (pod.name !== undefined) ref.name = pod.name;
  return ref;
}

function setOptional(incident: Mutable<Incident>, policy: string | undefined, container: string | undefined, workload: string | undefined): Incident {
  if (policy !== undefined) incident.policy = policy;
  if (container !== undefined) incident.container = container;
  if (workload !== undefined) incident.workload = workload;
  return incident;
}

function parseMs(text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? fallbackMs : ms;
}

function fromCulprit(c: Culprit): IncidentCulprit {
  // A finding names one culprit at a time: for the incident so far, it is the whole share.
  return { pod: podRef(c), score: c.score, share: 1 };
}

/** An open finding as the open incident it stands for: its peak is the value so far. */
export function incidentFromFinding(node: string, f: NodeFinding, workload: string | undefined): Incident {
  const pod = podRef(f.pod);
  const startMs = parseMs(f.firstSeen, Number.NaN);
  const lastSeenMs = parseMs(f.lastSeen, startMs);
  const incident: Mutable<Incident> = {
    id: incidentId(node, incidentKey(f.rule, pod.uid, f.container), startMs),
    node,
    rule: f.rule,
    severity: f.severity,
    pod,
    startMs,
    lastSeenMs,
    peakValue: f.value,
    peakAtMs: lastSeenMs,
    threshold: f.threshold,
    culprits: f.culprit === undefined ? NO_CULPRITS : [fromCulprit(f.culprit)],
    callers: NO_CALLERS,
    evidence: f.evidence ?? NO_EVIDENCE,
    message: f.message,
  };
  return setOptional(incident, f.policy, f.container, workload);
}

/** A closed incident from NodeFindings status; ids match what the node's tracker gave it. */
export function incidentFromRecent(node: string, r: RecentIncident, workload: string | undefined): Incident {
  const pod = podRef(r.pod);
  const startMs = parseMs(r.start, Number.NaN);
  const endMs = parseMs(r.end, startMs);
  const incident: Mutable<Incident> = {
    id: incidentId(node, incidentKey(r.rule, pod.uid, r.container), startMs),
    node,
    rule: r.rule,
    severity: r.severity,
    pod,
    startMs,
    endMs,
    lastSeenMs: endMs,
    peakValue: r.peak,
    peakAtMs: parseMs(r.peakAt, endMs),
    threshold: r.threshold,
    culprits: r.culprits === undefined || r.culprits.length === 0 ? NO_CULPRITS : r.culprits.map((c) => ({ pod: podRef(c), score: c.score, share: c.share })),
    callers: r.callers ?? NO_CALLERS,
    evidence: NO_EVIDENCE,
    message: r.message ?? "",
  };
  return setOptional(incident, r.policy, r.container, r.workload ?? workload);
}

const incidentsMemo = new WeakMap<NodeFindings, readonly Incident[]>();

/** One node's incidents, kept with the object as its owners are (see nodeOwners). */
export function nodeIncidents(nf: NodeFindings): readonly Incident[] {
  let incidents = incidentsMemo.get(nf);
  if (incidents === undefined) {
    const node = nodeName(nf);
    const owners = nodeOwners(nf);
    const built: Incident[] = [];
    for (const r of nf.status?.recentIncidents ?? []) {
      const incident = incidentFromRecent(node, r, r.workload ?? owner(owners, r.pod));
      if (!Number.isNaN(incident.startMs)) built.push(incident);
    }
    for (const f of nf.status?.findings ?? []) {
      const incident = incidentFromFinding(node, f, owner(owners, f.pod));
      if (!Number.isNaN(incident.startMs)) built.push(incident);
    }
    incidents = built;
    incidentsMemo.set(nf, incidents);
  }
  return incidents;
}

/**
 * Every incident NodeFindings knows of: the closed `recentIncidents` of each node and one open incident
 * per open finding. Owners come from the connections and incidents the node's agent reported, as
 * NodeFinding carries none. Entries whose times do not parse are left out rather than placed at the epoch.
 */
export function incidentsFromNodeFindings(nodeFindings: readonly NodeFindings[]): Incident[] {
  const out: Incident[] = [];
  for (const nf of nodeFindings) for (const incident of nodeIncidents(nf)) out.push(incident);
  return out;
}

function owner(owners: ReadonlyMap<string, string>, pod: { readonly namespace?: string; readonly name?: string } | undefined): string | undefined {
  return pod?.name === undefined ? undefined : owners.get(`${pod.namespace ?? ""}/${pod.name}`);
}

/**
 * The wire shape; an open incident's duration runs to `nowMs`. Built by assignment in the order the JSON has
 * always had: an agent answers with up to thousands of these, and spreads of `defined` copies cost 5x.
 */
export function incidentToJson(incident: Incident, nowMs: number): IncidentJson {
  const json: Partial<Mutable<IncidentJson>> = {};
  if (incident.policy !== undefined) json.policy = incident.policy;
  if (incident.pod.uid !== NODE_POD.uid || incident.pod.name !== undefined) json.pod = podJson(incident.pod);
  if (incident.container !== undefined) json.container = incident.container;
  if (incident.workload !== undefined) json.workload = incident.workload;
  json.id = incident.id;
  json.node = incident.node;
  json.rule = incident.rule;
  json.severity = incident.severity;
  json.start = isoTime(incident.startMs);
  if (incident.endMs !== undefined) json.end = isoTime(incident.endMs);
  json.lastSeen = isoTime(incident.lastSeenMs);
  json.durationMs = Math.max(0, (incident.endMs ?? nowMs) - incident.startMs);
  json.peak = incident.peakValue;
  json.peakAt = isoTime(incident.peakAtMs);
  json.threshold = incident.threshold;
  json.culprits = incident.culprits.map(culpritJson);
  json.callers = incident.callers;
  json.evidence = incident.evidence;
  json.message = incident.message;
  return json as IncidentJson;
}

function podJson(pod: PodRef): Mutable<NonNullable<IncidentJson["pod"]>> {
  const json: Partial<Mutable<NonNullable<IncidentJson["pod"]>>> = {};
  if (pod.namespace !== undefined) json.namespace = pod.namespace;
  if (pod.name !== undefined) json.name = pod.name;
  json.uid = pod.uid;
  return json as Mutable<NonNullable<IncidentJson["pod"]>>;
}

function culpritJson(culprit: IncidentCulprit): IncidentCulpritJson {
  const json: Partial<Mutable<IncidentCulpritJson>> = podJson(culprit.pod);
  json.score = culprit.score;
  json.share = culprit.share;
  return json as IncidentCulpritJson;
}

function isRule(text: string): text is RuleName {
  return (RULE_NAMES as readonly string[]).includes(text);
}

function isSeverity(text: string): text is Severity {
  return (SEVERITIES as readonly string[]).includes(text);
}

function timeOf(json: IncidentJson, field: "start" | "end" | "lastSeen" | "peakAt"): Result<number | undefined, string> {
  const text = json[field];
  if (text === undefined) return ok(undefined);
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? err(`incident ${json.id} on ${json.node}: ${field} "${text}" is not an RFC 3339 time`) : ok(ms);
}

/** The domain incident from what an agent served; names what is wrong instead of throwing. */
export function incidentFromJson(json: IncidentJson): Result<Incident, string> {
  if (!isRule(json.rule)) return err(`incident ${json.id} on ${json.node}: unknown rule "${json.rule}"`);
  if (!isSeverity(json.severity)) return err(`incident ${json.id} on ${json.node}: unknown severity "${json.severity}"`);
  const times = [timeOf(json, "start"), timeOf(json, "end"), timeOf(json, "lastSeen"), timeOf(json, "peakAt")] as const;
  for (const t of times) if (!t.ok) return t;
  const [startMs, endMs, lastSeenMs, peakAtMs] = times.map((t) => (t.ok ? t.value : undefined));
  if (startMs === undefined) return err(`incident ${json.id} on ${json.node}: no start`);
  return ok({
    ...defined({ policy: json.policy, container: json.container, workload: json.workload, endMs }),
    id: json.id,
    node: json.node,
    rule: json.rule,
    severity: json.severity,
    pod: podRef(json.pod),
    startMs,
    lastSeenMs: lastSeenMs ?? endMs ?? startMs,
    peakValue: json.peak,
    peakAtMs: peakAtMs ?? startMs,
    threshold: json.threshold,
    culprits: json.culprits.map((c) => ({ pod: podRef(c), score: c.score, share: c.share })),
    callers: json.callers,
    evidence: json.evidence,
    message: json.message,
  });
}
