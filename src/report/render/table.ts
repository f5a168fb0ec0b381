/**
 * What `xander summary|top|incidents|pod|report` print without `-o json`: kubectl-style tables with human
 * units. Pure: a view in, text out.
 */
import type { IncidentJson } from "../../api/history.js";
import { formatTable } from "../../util/table.js";
import type { ContainerView, IncidentsView, PodResult, PodView, ReportView, SummaryView, TopView } from "../types.js";
import { adviceText, agoText, bytesText, coresText, durationText, limitBytesText, limitCoresText, NONE, shareText, versusText } from "./units.js";

function nonZero(counts: Readonly<Record<string, number>>): string {
  const parts = Object.entries(counts).filter(([, n]) => n > 0).map(([key, n]) => `${key === "" ? "(node)" : key} ${n}`);
  return parts.length === 0 ? "none" : parts.join(", ");
}

export function renderSummaryTable(view: SummaryView): string {
  const n = view.nodes;
  const lines = [
    `Nodes: ${n.total} total, ${n.reporting} reporting, ${n.stale} stale, ${n.pending} pending`,
    ...(n.staleNodes.length > 0 ? [`  stale: ${n.staleNodes.join(", ")} (findings on these nodes are not counted)`] : []),
    ...(n.pendingNodes.length > 0 ? [`  pending: ${n.pendingNodes.join(", ")}`] : []),
    `Open findings: ${view.findings.total} (${nonZero(view.findings.bySeverity)})`,
    `  by rule: ${nonZero(view.findings.byRule)}`,
    `  by namespace: ${nonZero(view.findings.byNamespace)}`,
    `Incidents, last 24h: ${view.incidents24h.total} (${view.incidents24h.open} open)`,
    `  by rule: ${nonZero(view.incidents24h.byRule)}`,
    "",
  ];
  if (view.worstWorkloads.length === 0) return [...lines, "No starved workloads."].join("\n");
  const rows = view.worstWorkloads.map((w) => [w.namespace, w.workload, String(w.critical), String(w.warning), durationText(w.starvedMs24h), String(w.incidents24h)]);
  return [...lines, "Worst workloads:", formatTable(["NAMESPACE", "WORKLOAD", "CRITICAL", "WARNING", "STARVED 24H", "INCIDENTS 24H"], rows)].join("\n");
}

export function renderTopTable(view: TopView): string {
  if (view.risks.length === 0) return "No open findings.";
  const nowMs = Date.parse(view.generatedAt);
  const rows = view.risks.map((r) => [
    r.severity,
    r.rule,
    r.pod === "" ? "(node)" : `${r.pod}${r.container === null ? "" : `:${r.container}`}`,
    r.workload || NONE,
    r.node,
    versusText(r.rule, r.value, r.threshold),
    agoText(r.since, nowMs),
    r.culprit === null ? NONE : `${r.culprit.namespace ?? ""}/${r.culprit.name ?? r.culprit.uid} (${r.culprit.score.toFixed(2)})`,
    r.callers.length === 0 ? NONE : r.callers.join(", "),
  ]);
  const table = formatTable(["SEVERITY", "RULE", "POD", "WORKLOAD", "NODE", "VALUE", "SINCE", "CULPRIT", "CALLERS"], rows);
  return view.total > view.risks.length ? `${table}\n(${view.total - view.risks.length} more)` : table;
}

function culpritsText(i: IncidentJson): string {
  if (i.culprits.length === 0) return NONE;
  return i.culprits.map((c) => `${c.namespace ?? ""}/${c.name ?? c.uid} ${shareText(c.share)}`).join(", ");
}

function incidentRows(incidents: readonly IncidentJson[], nowMs: number): string[][] {
  return incidents.map((i) => [
    agoText(i.start, nowMs),
    durationText(i.durationMs),
    i.end === undefined ? "open" : "closed",
    i.rule,
    i.pod?.name === undefined ? "(node)" : `${i.pod.namespace ?? ""}/${i.pod.name}${i.container === undefined ? "" : `:${i.container}`}`,
    i.node,
    versusText(i.rule, i.peak, i.threshold),
    culpritsText(i),
  ]);
}

const INCIDENT_HEADER = ["STARTED", "DURATION", "STATE", "RULE", "POD", "NODE", "PEAK", "CULPRITS"];

export function renderIncidentsTable(view: IncidentsView): string {
  if (view.incidents.length === 0) return "No incidents match.";
  const table = formatTable(INCIDENT_HEADER, incidentRows(view.incidents, Date.parse(view.generatedAt)));
  return view.total > view.incidents.length ? `${table}\n(${view.total - view.incidents.length} more; raise --limit)` : table;
}

function containerRows(containers: readonly ContainerView[]): string[][] {
  return containers.map(({ stats: s }) => [
    s.container,
    coresText(s.p95Cores),
    coresText(s.peakCores),
    limitCoresText(s.cpuLimitCores),
    shareText(s.peakThrottleRatio),
    shareText(s.peakCpuStallShare),
    bytesText(s.peakWorkingSetBytes),
    limitBytesText(s.memoryLimitBytes),
    String(s.oomKills),
  ]);
}

function podText(view: PodView): string {
  const nowMs = Date.parse(view.generatedAt);
  const out = [
    `Pod ${view.namespace}/${view.name} (${view.workload}) on ${view.nodes.join(", ") || "no known node"}`,
    `Callers: ${view.callers.length === 0 ? "none seen" : view.callers.join(", ")}`,
    `Calls: ${view.callees.length === 0 ? "none seen" : view.callees.map((c) => c.callee).join(", ")}`,
    "",
  ];
  if (view.containers.length === 0) out.push("No history read for this pod.");
  else out.push(formatTable(["CONTAINER", "P95 CPU", "PEAK CPU", "CPU LIMIT", "PEAK THROTTLED", "PEAK CPU STALL", "PEAK MEMORY", "MEMORY LIMIT", "OOM KILLS"], containerRows(view.containers)));
  for (const c of view.containers) {
    for (const a of c.advice) out.push(`  ${c.container}: ${adviceText(a)}`);
  }
  out.push("", view.incidents.length === 0 ? "No incidents." : formatTable(INCIDENT_HEADER, incidentRows(view.incidents, nowMs)));
  return out.join("\n");
}

/** A pod that is not known renders as its message; the CLI prints it to stderr and exits non-zero. */
export function renderPodTable(view: PodResult): string {
  return view.found ? podText(view) : view.message;
}

export function renderReportTable(view: ReportView): string {
  const nowMs = Date.parse(view.generatedAt);
  const out = [`Report ${view.from} → ${view.to}: ${view.totals.incidents} incidents, ${view.totals.workloads} workloads, ${durationText(view.totals.starvedMs)} starved`];
  for (const s of view.skipped) out.push(`WARNING: node ${s.node} was not read (${s.reason}); its pods are missing from this report`);
  out.push("");
  if (view.workloads.length === 0) return [...out, "No incidents in this span."].join("\n");
  const rows = view.workloads.map((w) => [
    w.namespace,
    w.workload,
    w.worstSeverity,
    String(w.incidents),
    durationText(w.starvedMs),
    `${w.worstPeak.rule} ${versusText(w.worstPeak.rule, w.worstPeak.value, w.worstPeak.threshold)} ${agoText(w.worstPeak.at, nowMs)}`,
    w.culprits.length === 0 ? NONE : w.culprits.map((c) => `${c.namespace}/${c.workload}`).join(", "),
  ]);
  out.push(formatTable(["NAMESPACE", "WORKLOAD", "WORST", "INCIDENTS", "STARVED", "WORST PEAK", "CULPRITS"], rows));
  return out.join("\n");
}
