/**
 * `summary`: the cluster at a glance — which agents report, what is open, what happened in the last day,
 * and which workloads suffer most. Pure; served as `/api/v1/summary` and printed by `xander summary`.
 */
import type { Incident } from "../analysis/incident.js";
import { RULE_NAMES, SEVERITIES, type RuleName, type Severity } from "../analysis/types.js";
import type { NodeFinding, NodeFindings } from "../api/types.generated.js";
import { findingPod, incidentWorkload, ownersFromIncidents, partitionNodes, splitPod, workloadIndex, workloadRef } from "./cluster.js";
import { incidentsFromNodeFindings } from "./convert.js";
import { overlaps, starvedMsByPod } from "./intervals.js";
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

function tallyFinding(f: NodeFinding, owners: ReadonlyMap<string, string>, tallies: Map<string, WorkloadTally>): void {
  const pod = findingPod(f);
  if (pod === "" || f.pod?.name === undefined) return; // node-level: no workload
  const tally = tallyOf(tallies, workloadRef(f.pod.namespace ?? "", f.pod.name, owners.get(pod)));
  tally.openFindings++;
  if (f.severity === "critical") tally.critical++;
  if (f.severity === "warning") tally.warning++;
  tally.pods.add(pod);
}

function countFindings(reporting: readonly NodeFindings[], owners: ReadonlyMap<string, string>, tallies: Map<string, WorkloadTally>): SummaryView["findings"] {
  const bySeverity = zeros<Severity>(SEVERITIES);
  const byRule = zeros<RuleName>(RULE_NAMES);
  const byNamespace = new Map<string, number>();
  let total = 0;
  for (const nf of reporting) {
    for (const f of nf.status?.findings ?? []) {
      total++;
      bySeverity[f.severity]++;
      byRule[f.rule]++;
      const namespace = f.pod?.namespace ?? "";
      byNamespace.set(namespace, (byNamespace.get(namespace) ?? 0) + 1);
      tallyFinding(f, owners, tallies);
    }
  }
  const sortedNamespaces = [...byNamespace].sort(([a], [b]) => a.localeCompare(b));
  return { total, bySeverity, byRule, byNamespace: Object.fromEntries(sortedNamespaces) };
}

function compareWorkloads(a: WorkloadRisk, b: WorkloadRisk): number {
  return b.critical - a.critical || b.warning - a.warning || b.starvedMs24h - a.starvedMs24h || b.incidents24h - a.incidents24h || a.key.localeCompare(b.key);
}

/** The cluster summary at `nowMs`. Without `incidents`, they are derived from NodeFindings. */
export function summary(input: SummaryInput): SummaryView {
  const { nodeFindings, nowMs, heartbeatMs } = input;
  const nodes = partitionNodes(nodeFindings, nowMs, heartbeatMs);
  const owners = workloadIndex(nodeFindings);
  const tallies = new Map<string, WorkloadTally>();
  const findings = countFindings(nodes.reporting, owners, tallies);

  const sinceMs = nowMs - DAY_MS;
  const all: readonly Incident[] = input.incidents ?? incidentsFromNodeFindings(nodeFindings, owners);
  const recent = all.filter((i) => overlaps(i, sinceMs, nowMs, nowMs, nodes.staleNames));
  const byRule = zeros<RuleName>(RULE_NAMES);
  let open = 0;
  for (const incident of recent) {
    byRule[incident.rule]++;
    if (incident.endMs === undefined && !nodes.staleNames.has(incident.node)) open++;
    const ref = incidentWorkload(incident, owners);
    if (ref === undefined) continue;
    const tally = tallyOf(tallies, ref);
    tally.incidents24h++;
    tally.pods.add(`${ref.namespace}/${incident.pod.name ?? ""}`);
  }
  const incidentOwners = ownersFromIncidents(recent);
  for (const [pod, ms] of starvedMsByPod(recent, sinceMs, nowMs, nowMs, nodes.staleNames)) {
    const { namespace, name } = splitPod(pod);
    tallyOf(tallies, workloadRef(namespace, name, incidentOwners.get(pod) ?? owners.get(pod))).starvedMs24h += ms;
  }

  const worst = [...tallies.values()]
    .map((t): WorkloadRisk => ({ ...t.ref, critical: t.critical, warning: t.warning, openFindings: t.openFindings, starvedMs24h: t.starvedMs24h, incidents24h: t.incidents24h, pods: [...t.pods].sort() }))
    .sort(compareWorkloads)
    .slice(0, input.worstLimit ?? DEFAULT_WORST_WORKLOADS);
  return {
    generatedAt: new Date(nowMs).toISOString(),
    nodes: nodes.counts,
    findings,
    incidents24h: { total: recent.length, open, byRule },
    worstWorkloads: worst,
  };
}
