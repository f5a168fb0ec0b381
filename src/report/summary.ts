/**
 * `summary`: the cluster at a glance — which agents report, what is open, what happened in the last day,
 * and which workloads suffer most. Pure; served as `/api/v1/summary` and printed by `xander summary`.
 */
import type { Incident } from "../analysis/incident.js";
import { RULE_NAMES, SEVERITIES, type RuleName, type Severity } from "../analysis/types.js";
import type { NodeFindings } from "../api/types.generated.js";
import { ownerResolver, partitionNodes } from "./cluster.js";
import { incidentDigests, nodeFindingRefs, type FindingRef, type PodIncidents } from "./digest.js";
import type { ReadModelInput, SummaryView, WithIncidents, WorkloadRef, WorkloadRisk } from "./types.js";

export const DAY_MS = 86_400_000;
export const DEFAULT_WORST_WORKLOADS = 10;

export interface SummaryInput extends ReadModelInput, WithIncidents {
  readonly worstLimit?: number;
}

interface WorkloadTally {
  readonly ref: WorkloadRef;
  critical: number;
  warning: number;
  openFindings: number;
  starvedMs24h: number;
  incidents24h: number;
  readonly pods: Set<string>;
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

function tallyOf(tallies: Map<string, WorkloadTally>, ref: WorkloadRef): WorkloadTally {
  let tally = tallies.get(ref.key);
  if (!tally) {
    tally = { ref, critical: 0, warning: 0, openFindings: 0, starvedMs24h: 0, incidents24h: 0, pods: new Set() };
    tallies.set(ref.key, tally);
  }
  return tally;
}

function tallyFinding({ finding, pod, ref }: FindingRef, tallies: Map<string, WorkloadTally>): void {
  if (ref === undefined) return; // node-level: no workload
  const tally = tallyOf(tallies, ref);
  tally.openFindings++;
  if (finding.severity === "critical") tally.critical++;
  if (finding.severity === "warning") tally.warning++;
  tally.pods.add(pod);
}

function countFindings(reporting: readonly NodeFindings[], tallies: Map<string, WorkloadTally>): SummaryView["findings"] {
  const bySeverity = zeros<Severity>(SEVERITIES);
  const byRule = zeros<RuleName>(RULE_NAMES);
  const byNamespace = new Map<string, number>();
  let total = 0;
  for (const nf of reporting) {
    for (const item of nodeFindingRefs(nf)) {
      const f = item.finding;
      total++;
      bySeverity[f.severity]++;
      byRule[f.rule]++;
      const namespace = f.pod?.namespace ?? "";
      byNamespace.set(namespace, (byNamespace.get(namespace) ?? 0) + 1);
      tallyFinding(item, tallies);
    }
  }
  const sortedNamespaces = [...byNamespace].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { total, bySeverity, byRule, byNamespace: Object.fromEntries(sortedNamespaces) };
}

interface DayWindow {
  readonly sinceMs: number;
  readonly nowMs: number;
  readonly stale: ReadonlySet<string>;
}

interface DayCounts {
  total: number;
  open: number;
  readonly byRule: Record<RuleName, number>;
}

/** The incident's end for counting (see incidentInterval), or NaN when it was not open within the window. */
function endWithin(incident: Incident, w: DayWindow): number {
  const openEndMs = w.stale.has(incident.node) ? incident.lastSeenMs : w.nowMs;
  const endMs = Math.max(incident.startMs, incident.endMs ?? openEndMs);
  return incident.startMs <= w.nowMs && endMs >= w.sinceMs ? endMs : Number.NaN;
}

function countIncident(incident: Incident, w: DayWindow, counts: DayCounts): number {
  const endMs = endWithin(incident, w);
  if (Number.isNaN(endMs)) return endMs;
  counts.total++;
  counts.byRule[incident.rule]++;
  if (incident.endMs === undefined && !w.stale.has(incident.node)) counts.open++;
  return endMs;
}

/**
 * One pod's incidents within the window and its starved time: the union of their intervals (sorted by
 * start, so one pass merges them), the same as starvedMsByPod without an array per pod.
 */
function podDay(pod: PodIncidents, w: DayWindow, counts: DayCounts): { count: number; starvedMs: number } {
  let count = 0;
  let starvedMs = 0;
  let runStart = Number.NaN;
  let runEnd = Number.NaN;
  for (const incident of pod.incidents) {
    const endMs = countIncident(incident, w, counts);
    if (Number.isNaN(endMs)) continue;
    count++;
    const startMs = Math.max(incident.startMs, w.sinceMs);
    const clippedEnd = Math.min(endMs, w.nowMs);
    if (startMs <= runEnd) {
      runEnd = Math.max(runEnd, clippedEnd);
      continue;
    }
    if (!Number.isNaN(runEnd)) starvedMs += runEnd - runStart;
    runStart = startMs;
    runEnd = clippedEnd;
  }
  return { count, starvedMs: Number.isNaN(runEnd) ? starvedMs : starvedMs + Math.max(0, runEnd - runStart) };
}

function compareWorkloads(a: WorkloadTally, b: WorkloadTally): number {
  return b.critical - a.critical || b.warning - a.warning || b.starvedMs24h - a.starvedMs24h || b.incidents24h - a.incidents24h || (a.ref.key < b.ref.key ? -1 : a.ref.key > b.ref.key ? 1 : 0);
}

/** The cluster summary at `nowMs`. Without `incidents`, they are derived from NodeFindings. */
export function summary(input: SummaryInput): SummaryView {
  const { nodeFindings, nowMs, heartbeatMs } = input;
  const nodes = partitionNodes(nodeFindings, nowMs, heartbeatMs);
  const tallies = new Map<string, WorkloadTally>();
  const findings = countFindings(nodes.reporting, tallies);

  const window = { sinceMs: nowMs - DAY_MS, nowMs, stale: nodes.staleNames };
  const incidents24h = { total: 0, open: 0, byRule: zeros<RuleName>(RULE_NAMES) };
  for (const digest of incidentDigests(nodeFindings, input.incidents, ownerResolver(nodeFindings))) {
    for (const incident of digest.nodeLevel) countIncident(incident, window, incidents24h);
    for (const pod of digest.pods) {
      const { count, starvedMs } = podDay(pod, window, incidents24h);
      if (count === 0) continue;
      const tally = tallyOf(tallies, pod.ref);
      tally.incidents24h += count;
      tally.starvedMs24h += starvedMs;
      tally.pods.add(pod.pod);
    }
  }

  const worst = [...tallies.values()]
    .sort(compareWorkloads)
    .slice(0, input.worstLimit ?? DEFAULT_WORST_WORKLOADS)
    .map((t): WorkloadRisk => ({ ...t.ref, critical: t.critical, warning: t.warning, openFindings: t.openFindings, starvedMs24h: t.starvedMs24h, incidents24h: t.incidents24h, pods: [...t.pods].sort() }));
  return {
    generatedAt: new Date(nowMs).toISOString(),
    nodes: nodes.counts,
    findings,
    incidents24h,
    worstWorkloads: worst,
  };
}
