/**
 * `report`: the incidents of a span (a week by default), per starved workload — how often, how long, how
 * bad, because of whom, who felt it, the evidence, and what to change — plus the noisy neighbours and the
 * nodes whose history could not be read. Pure; served as `/api/v1/report` and printed by `xander report`.
 */
import { compareIncidents, type Incident } from "../analysis/incident.js";
import type { PodHistory } from "../api/history.js";
import { callerNames, type DependencyGraph } from "../deps/dependency-graph.js";
import { incidentWorkload, ownerResolver, partitionNodes, type OwnerOf } from "./cluster.js";
import { graphAround } from "../deps/graph-index.js";
import { incidentsFromNodeFindings, incidentToJson } from "./convert.js";
import { blamesOf, blameViews, culpritReports, type Blame } from "./culprits.js";
import { incidentInterval, overlaps, starvedMsByPod, type Interval } from "./intervals.js";
import { containerStats, seriesByContainer } from "./stats.js";
import type { Advise, ContainerAdvice, EvidenceView, ReportInput, ReportView, WorkloadRef, WorkloadReport } from "./types.js";
import { SEVERITY_RANK } from "../analysis/severity.js";

export const DEFAULT_REPORT_SPAN_MS = 7 * 86_400_000;
/** Enough callers to see who is hit; the full list is in each incident. */
const MAX_CALLERS = 10;
const NO_HISTORIES: ReadonlyMap<string, readonly PodHistory[]> = new Map();

interface Group {
  readonly ref: WorkloadRef;
  readonly incidents: Incident[];
  readonly pods: Set<string>;
}

/** Worst first: severity, then how far past its threshold, then the longer, then the newer. */
function compareWorst(a: Incident, b: Incident, interval: (i: Incident) => Interval): number {
  const excess = (i: Incident): number => (i.threshold > 0 ? i.peakValue / i.threshold : i.peakValue);
  const length = (i: Incident): number => interval(i).endMs - interval(i).startMs;
  return SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || excess(b) - excess(a) || length(b) - length(a) || compareIncidents(a, b);
}

function evidenceOf(i: Incident): EvidenceView {
  return {
    incidentId: i.id,
    rule: i.rule,
    node: i.node,
    pod: `${i.pod.namespace ?? ""}/${i.pod.name ?? ""}`,
    container: i.container ?? null,
    start: new Date(i.startMs).toISOString(),
    end: i.endMs === undefined ? null : new Date(i.endMs).toISOString(),
    message: i.message,
    evidence: i.evidence,
  };
}

function callersOf(group: Group, graph: DependencyGraph): string[] {
  const seen = new Set<string>();
  for (const i of group.incidents) for (const c of i.callers) seen.add(c);
  for (const pod of [...group.pods].sort()) for (const c of callerNames(graph, pod)) seen.add(c);
  return [...seen].slice(0, MAX_CALLERS);
}

function adviceOf(group: Group, histories: ReadonlyMap<string, readonly PodHistory[]>, advise: Advise | undefined): ContainerAdvice[] {
  const own = [...group.pods].sort().flatMap((p) => histories.get(p) ?? []);
  return seriesByContainer(own).map((series) => {
    const stats = containerStats(series);
    const incidents = group.incidents.filter((i) => (i.container ?? "") === series.container);
    const advice = advise?.({ ...stats, namespace: group.ref.namespace, workload: group.ref.workload, points: series.points, incidents }) ?? [];
    return { container: series.container, stats, advice };
  });
}

function groupByWorkload(incidents: readonly Incident[], ownerOf: OwnerOf): Group[] {
  const groups = new Map<string, Group>();
  for (const i of incidents) {
    const ref = incidentWorkload(i, ownerOf);
    if (ref === undefined) continue; // node-level: no workload to change
    const group = groups.get(ref.key) ?? { ref, incidents: [], pods: new Set<string>() };
    group.incidents.push(i);
    group.pods.add(`${ref.namespace}/${i.pod.name ?? ""}`);
    groups.set(ref.key, group);
  }
  return [...groups.values()];
}

function compareReports(a: WorkloadReport, b: WorkloadReport): number {
  return SEVERITY_RANK[a.worstSeverity] - SEVERITY_RANK[b.worstSeverity] || b.starvedMs - a.starvedMs || b.incidents - a.incidents || a.key.localeCompare(b.key);
}

export function report(input: ReportInput): ReportView {
  const { nodeFindings, nowMs, heartbeatMs } = input;
  const spanMs = input.spanMs ?? DEFAULT_REPORT_SPAN_MS;
  const fromMs = nowMs - spanMs;
  const nodes = partitionNodes(nodeFindings, nowMs, heartbeatMs);
  const all = input.incidents ?? incidentsFromNodeFindings(nodeFindings);
  const inSpan = all.filter((i) => overlaps(i, fromMs, nowMs, nowMs, nodes.staleNames));
  const ownerOf = ownerResolver(nodeFindings);
  const groups = groupByWorkload(inSpan, ownerOf);
  const graph = graphAround(nodes.reporting, new Set(groups.flatMap((g) => [...g.pods])), input.backends);
  const histories = input.histories ?? NO_HISTORIES;
  const clipped = (i: Incident): Interval => {
    const whole = incidentInterval(i, nowMs, nodes.staleNames);
    return { startMs: Math.max(whole.startMs, fromMs), endMs: Math.max(fromMs, Math.min(whole.endMs, nowMs)) };
  };
  const blames: Blame[] = [];
  const workloads = groups.map((group): WorkloadReport => {
    const sorted = [...group.incidents].sort(compareIncidents);
    const worst = [...group.incidents].sort((a, b) => compareWorst(a, b, clipped))[0] as Incident;
    const own = group.incidents.flatMap((i) => blamesOf(i, group.ref, clipped(i), ownerOf));
    blames.push(...own);
    const byRule: Record<string, number> = {};
    for (const i of group.incidents) byRule[i.rule] = (byRule[i.rule] ?? 0) + 1;
    const starvedMs = [...starvedMsByPod(group.incidents, fromMs, nowMs, nowMs, nodes.staleNames).values()].reduce((s, ms) => s + ms, 0);
    return {
      ...group.ref,
      pods: [...group.pods].sort(),
      incidents: group.incidents.length,
      openIncidents: group.incidents.filter((i) => i.endMs === undefined && !nodes.staleNames.has(i.node)).length,
      byRule,
      starvedMs,
      worstSeverity: worst.severity,
      worstPeak: {
        rule: worst.rule,
        severity: worst.severity,
        value: worst.peakValue,
        threshold: worst.threshold,
        at: new Date(worst.peakAtMs).toISOString(),
        pod: `${worst.pod.namespace ?? ""}/${worst.pod.name ?? ""}`,
        container: worst.container ?? null,
      },
      culprits: blameViews(own),
      callers: callersOf(group, graph),
      evidence: evidenceOf(worst),
      containers: adviceOf(group, histories, input.advise),
      incidentList: sorted.map((i) => incidentToJson(i, nowMs)),
    };
  });
  workloads.sort(compareReports);
  return {
    generatedAt: new Date(nowMs).toISOString(),
    from: new Date(fromMs).toISOString(),
    to: new Date(nowMs).toISOString(),
    spanMs,
    skipped: [...(input.skipped ?? [])].sort((a, b) => a.node.localeCompare(b.node)),
    nodes: nodes.counts,
    totals: { workloads: workloads.length, incidents: inSpan.length, starvedMs: workloads.reduce((s, w) => s + w.starvedMs, 0) },
    workloads,
    culprits: culpritReports(blames, histories, input.adviseCulprit),
  };
}
