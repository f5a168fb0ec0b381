import { compareIncidents, incidentKey, type Incident, type IncidentCulprit } from "./incident.js";
import type { Finding, PodRef } from "./types.js";

/** What one tick's analysis says, as far as incidents care. */
export interface FindingChanges {
  readonly raised: readonly Finding[];
  readonly cleared: readonly Finding[];
  readonly active: readonly Finding[];
}

export interface IncidentUpdate {
  /** Incidents that began this tick. */
  readonly opened: readonly Incident[];
  /** Raised findings that continue an incident left open by an earlier run: no new Event for these. */
  readonly resumed: readonly Incident[];
  /** Incidents that ended this tick, newest first. */
  readonly closed: readonly Incident[];
  /** Every incident whose record changed enough to be written (opened, closed and resumed included). */
  readonly changed: readonly Incident[];
}

export interface IncidentTrackerOptions {
  readonly node: string;
  /** The pod's top-level owner as "Kind/name", when known. */
  readonly workloadOf?: (pod: PodRef) => string | undefined;
  /** Callers of a pod, as workloads, busiest first. */
  readonly callersOf?: (pod: PodRef) => readonly string[];
  /**
   * How long an incident resumed from history may wait for its finding to be raised again before it is
   * closed at its last-seen time: the analyzer needs its window and the rule's `for` after a restart.
   */
  readonly resumeGraceMs?: number;
  /** An open incident's last-seen time is written at least this often, so a crash loses little of it. */
  readonly persistEveryMs?: number;
}

interface OpenIncident {
  incident: Incident;
  /** Milliseconds the incident has been followed, and how many of them each culprit (by uid) was named for. */
  trackedMs: number;
  readonly culpritMs: Map<string, { pod: PodRef; score: number; ms: number }>;
  lastUpdateMs: number;
  persistedLastSeenMs: number;
  /** Set while a resumed incident waits for its finding to be raised again. */
  resumedAtMs?: number;
}

export const DEFAULT_RESUME_GRACE_MS = 120_000;
const DEFAULT_PERSIST_EVERY_MS = 10_000;
const MAX_CULPRITS = 5;
const MAX_CALLERS = 10;
/** A gap longer than this between two updates (a stalled agent) is not counted as culprit time. */
const MAX_STEP_MS = 60_000;

/**
 * Follows findings through their lives and turns them into incidents: opens one when a finding is
 * raised, keeps its peak, the evidence at the peak, its culprits with their share of the time and its
 * callers, and closes it when the finding clears. Pure: the caller persists what `changed` lists.
 */
export class IncidentTracker {
  private readonly open = new Map<string, OpenIncident>();
  private readonly resumeGraceMs: number;
  private readonly persistEveryMs: number;

  constructor(private readonly options: IncidentTrackerOptions) {
    this.resumeGraceMs = options.resumeGraceMs ?? DEFAULT_RESUME_GRACE_MS;
    this.persistEveryMs = options.persistEveryMs ?? DEFAULT_PERSIST_EVERY_MS;
  }

  /** Incidents a previous run left open; the next raise of the same finding continues them. */
  resume(incidents: readonly Incident[], nowMs: number): void {
    for (const incident of incidents) {
      if (incident.endMs !== undefined) continue;
      const culpritMs = new Map(incident.culprits.map((c) => [c.pod.uid, { pod: c.pod, score: c.score, ms: 0 }]));
      this.open.set(incidentKey(incident.rule, incident.pod.uid, incident.container), {
        incident,
        trackedMs: 0,
        culpritMs,
        lastUpdateMs: nowMs,
        persistedLastSeenMs: incident.lastSeenMs,
        resumedAtMs: nowMs,
      });
    }
  }

  /** Open incidents, newest first. */
  openIncidents(): Incident[] {
    return [...this.open.values()].map((o) => o.incident).sort(compareIncidents);
  }

  update(changes: FindingChanges, nowMs: number): IncidentUpdate {
    const closed: Incident[] = [];
    const changed = new Map<string, Incident>();
    const { opened, resumed } = this.raise(changes.raised, nowMs, changed);
    for (const finding of changes.active) {
      const key = findingKey(finding);
      const state = this.open.get(key);
      if (state && this.follow(state, finding, nowMs)) changed.set(key, state.incident);
    }
    for (const finding of changes.cleared) this.close(findingKey(finding), finding.lastSeenMs, closed, changed);
    for (const [key, state] of this.open) {
      if (state.resumedAtMs !== undefined && nowMs - state.resumedAtMs >= this.resumeGraceMs) this.close(key, state.incident.lastSeenMs, closed, changed);
    }
    for (const incident of resumed) changed.set(findingKey(incident), this.open.get(findingKey(incident))?.incident ?? incident);
    return { opened, resumed, closed: closed.sort(compareIncidents), changed: [...changed.values()] };
  }

  /** Opens an incident per raised finding, or continues one a previous run left open. */
  private raise(raised: readonly Finding[], nowMs: number, changed: Map<string, Incident>): { opened: Incident[]; resumed: Incident[] } {
    const opened: Incident[] = [];
    const resumed: Incident[] = [];
    for (const finding of raised) {
      const key = findingKey(finding);
      const existing = this.open.get(key);
      if (existing?.resumedAtMs !== undefined) {
        existing.resumedAtMs = undefined;
        resumed.push(existing.incident);
      } else if (!existing) {
        const incident = this.start(finding, nowMs);
        opened.push(incident);
        changed.set(key, incident);
      }
    }
    return { opened, resumed };
  }

  private start(finding: Finding, nowMs: number): Incident {
    const workload = this.options.workloadOf?.(finding.pod);
    const incident: Incident = {
      id: incidentId(this.options.node, findingKey(finding), finding.firstSeenMs),
      node: this.options.node,
      rule: finding.rule,
      severity: finding.severity,
      ...(finding.policy === undefined ? {} : { policy: finding.policy }),
      pod: finding.pod,
      ...(finding.container === undefined ? {} : { container: finding.container }),
      ...(workload === undefined ? {} : { workload }),
      startMs: finding.firstSeenMs,
      lastSeenMs: finding.lastSeenMs,
      peakValue: finding.value,
      peakAtMs: finding.lastSeenMs,
      threshold: finding.threshold,
      culprits: [],
      callers: this.callersOf(finding.pod),
      evidence: evidenceOf(finding),
      message: finding.message,
    };
    const state: OpenIncident = { incident, trackedMs: 0, culpritMs: new Map(), lastUpdateMs: nowMs, persistedLastSeenMs: incident.lastSeenMs };
    this.open.set(findingKey(finding), state);
    this.noteCulprit(state, finding, 0);
    state.incident = { ...state.incident, culprits: culpritsOf(state) };
    return state.incident;
  }

  /** Folds one tick of an active finding into its incident; returns whether the record is worth writing. */
  private follow(state: OpenIncident, finding: Finding, nowMs: number): boolean {
    const stepMs = Math.min(Math.max(0, nowMs - state.lastUpdateMs), MAX_STEP_MS);
    state.lastUpdateMs = nowMs;
    state.trackedMs += stepMs;
    const culpritChanged = this.noteCulprit(state, finding, stepMs);
    const previous = state.incident;
    const peaked = finding.value > previous.peakValue;
    const callers = mergeCallers(previous.callers, this.callersOf(finding.pod));
    state.incident = {
      ...previous,
      severity: finding.severity,
      lastSeenMs: Math.max(previous.lastSeenMs, finding.lastSeenMs),
      ...(peaked ? { peakValue: finding.value, peakAtMs: finding.lastSeenMs, evidence: evidenceOf(finding), message: finding.message } : {}),
      culprits: culpritsOf(state),
      callers,
    };
    const due = state.incident.lastSeenMs - state.persistedLastSeenMs >= this.persistEveryMs;
    const material = peaked || culpritChanged || callers.length !== previous.callers.length || previous.severity !== finding.severity;
    if (!material && !due) return false;
    state.persistedLastSeenMs = state.incident.lastSeenMs;
    return true;
  }

  private close(key: string, endMs: number, closed: Incident[], changed: Map<string, Incident>): void {
    const state = this.open.get(key);
    if (!state) return;
    this.open.delete(key);
    const incident: Incident = { ...state.incident, endMs: Math.max(endMs, state.incident.startMs), culprits: culpritsOf(state) };
    closed.push(incident);
    changed.set(key, incident);
  }

  /** Credits this step to the finding's culprit; returns whether a new culprit appeared or a score rose. */
  private noteCulprit(state: OpenIncident, finding: Finding, stepMs: number): boolean {
    const culprit = finding.culprit;
    if (!culprit) return false;
    const entry = state.culpritMs.get(culprit.pod.uid);
    if (!entry) {
      state.culpritMs.set(culprit.pod.uid, { pod: culprit.pod, score: culprit.score, ms: stepMs });
      return true;
    }
    entry.ms += stepMs;
    entry.pod = culprit.pod.name === undefined ? entry.pod : culprit.pod;
    if (culprit.score <= entry.score) return false;
    entry.score = culprit.score;
    return true;
  }

  private callersOf(pod: PodRef): readonly string[] {
    return (this.options.callersOf?.(pod) ?? []).slice(0, MAX_CALLERS);
  }
}

function findingKey(finding: Pick<Finding, "rule" | "pod" | "container">): string {
  return incidentKey(finding.rule, finding.pod.uid, finding.container);
}

function culpritsOf(state: OpenIncident): IncidentCulprit[] {
  const total = state.trackedMs;
  const entries = [...state.culpritMs.values()];
  // Before any time has passed, a lone culprit has the whole (instantaneous) incident.
  const share = (ms: number): number => (total > 0 ? Math.min(1, ms / total) : entries.length === 1 ? 1 : 0);
  return entries
    .map((e) => ({ pod: e.pod, score: round(e.score), share: round(share(e.ms)) }))
    .sort((a, b) => b.share - a.share || b.score - a.score)
    .slice(0, MAX_CULPRITS);
}

function mergeCallers(known: readonly string[], now: readonly string[]): readonly string[] {
  if (now.every((caller) => known.includes(caller))) return known;
  return [...new Set([...known, ...now])].slice(0, MAX_CALLERS);
}

function evidenceOf(finding: Finding): Readonly<Record<string, string | number>> {
  return { ...(finding.evidence ?? {}), ...(finding.culprit ? { culprit: finding.culprit.evidence } : {}) };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** FNV-1a over the key: short, stable ids without a crypto import in the core. */
export function incidentId(node: string, key: string, startMs: number): string {
  const text = `${node}|${key}`;
  let hash = 0x811c9dc5;
  // By code point, as a for-of over the string would, without an iterator per character: the read model
  // derives an id for each of tens of thousands of incidents.
  for (let at = 0; at < text.length; ) {
    const codePoint = text.codePointAt(at) ?? 0;
    hash ^= codePoint;
    hash = Math.imul(hash, 0x01000193) >>> 0;
    at += codePoint > 0xffff ? 2 : 1;
  }
  return `${Math.round(startMs).toString(36)}-${hash.toString(16).padStart(8, "0")}`;
}
