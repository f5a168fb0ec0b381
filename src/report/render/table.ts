/** What `xander summary|top|incidents|pod` print by default: kubectl-style tables and short sections. */
import { bytes, cores, pct } from "../../analysis/format.js";
import { formatTable } from "../../util/table.js";
import type { IncidentsView, PodView, SummaryView, TopView } from "../types.js";
import { adviceLine, ago, duration, orDash, ruleValue } from "./text.js";

function counts(record: Readonly<Record<string, number>>): string {
  const parts = Object.entries(record).filter(([, n]) => n > 0).map(([k, n]) => `${k || "(node)"} ${n}`);
  return parts.length === 0 ? "none" : parts.join(", ");
}

export function summaryTable(view: SummaryView): string {
  const { nodes, findings, incidents24h } = view;
  const lines = [
    `Nodes:      ${nodes.total} (${nodes.reporting} reporting, ${nodes.stale} stale, ${nodes.pending} pending)`,
    ...(nodes.staleNodes.length > 0 ? [`Stale:      ${nodes.staleNodes.join(", ")} (no report for 3 heartbeats: is the agent running?)`] : []),
    `Findings:   ${findings.total} open: ${counts(findings.bySeverity)}`,
    `By rule:    ${counts(findings.byRule)}`,
    `By ns:      ${counts(findings.byNamespace)}`,
    `Incidents:  ${incidents24h.total} in the last 24h (${incidents24h.open} open): ${counts(incidents24h.byRule)}`,
  ];
  if (view.worstWorkloads.length === 0) return [...lines, "", "No workload was starved in the last 24h."].join("\n");
  const rows = view.worstWorkloads.map((w) => [w.namespace, w.workload, String(w.critical), String(w.warning), String(w.incidents24h), duration(w.starvedMs24h)]);
  return [...lines, "", formatTable(["NAMESPACE", "WORKLOAD", "CRITICAL", "WARNING", "INCIDENTS 24H", "STARVED 24H"], rows)].join("\n");
}

export function topTable(view: TopView): string {
  if (view.risks.length === 0) return "No open findings on reporting nodes.";
  const nowMs = Date.parse(view.generatedAt);
  const rows = view.risks.map((r) => [
    orDash(r.namespace),
    orDash(r.workload),
    orDash(r.pod.split("/")[1]),
    r.rule,
    r.severity,
    `${ruleValue(r.rule, r.value)}/${ruleValue(r.rule, r.threshold)}`,
    ago(r.since, nowMs),
    r.culprit ? `${orDash(r.culprit.namespace)}/${orDash(r.culprit.name)} (${r.culprit.score})` : "-",
    r.callers.length === 0 ? "-" : r.callers.slice(0, 3).join(",") + (r.callers.length > 3 ? ` +${r.callers.length - 3}` : ""),
  ]);
  const more = view.total > view.risks.length ? `\n(${view.total - view.risks.length} more; --limit shows more)` : "";
  return formatTable(["NAMESPACE", "WORKLOAD", "POD", "RULE", "SEVERITY", "VALUE/THRESHOLD", "SINCE", "CULPRIT", "CALLERS"], rows) + more;
}

export function incidentsTable(view: IncidentsView): string {
  if (view.incidents.length === 0) return "No incidents in that span.";
  const nowMs = Date.parse(view.generatedAt);
  const rows = view.incidents.map((i) => [
    ago(i.start, nowMs),
    i.end === undefined ? "open" : duration(i.durationMs),
    i.node,
    i.pod ? `${orDash(i.pod.namespace)}/${orDash(i.pod.name)}` : "(node)",
    orDash(i.container),
    i.rule,
    i.severity,
    ruleValue(i.rule, i.peak),
    i.culprits[0] ? `${orDash(i.culprits[0].namespace)}/${orDash(i.culprits[0].name)}` : "-",
  ]);
  const more = view.total > view.incidents.length ? `\n(${view.total - view.incidents.length} more; --limit shows more)` : "";
  return formatTable(["STARTED", "DURATION", "NODE", "POD", "CONTAINER", "RULE", "SEVERITY", "PEAK", "CULPRIT"], rows) + more;
}

export function podTable(view: PodView): string {
  const nowMs = Date.parse(view.generatedAt);
  const header = [`Pod:        ${view.namespace}/${view.name} (${view.workload}) on ${view.nodes.join(", ") || "?"}`];
  const containers = view.containers.map((c) => {
    const s = c.stats;
    const usage = `  ${c.container}: cores p95 ${s.p95Cores === null ? "-" : cores(s.p95Cores)}, peak ${s.peakCores === null ? "-" : cores(s.peakCores)}, limit ${s.cpuLimitCores === null ? "none" : cores(s.cpuLimitCores)}; throttled p95 ${s.p95ThrottleRatio === null ? "-" : pct(s.p95ThrottleRatio)}; working set peak ${s.peakWorkingSetBytes === null ? "-" : bytes(s.peakWorkingSetBytes)} of ${s.memoryLimitBytes === null ? "no limit" : bytes(s.memoryLimitBytes)}; ${s.pointCount} points`;
    return [usage, ...c.advice.map((a) => `    advice: ${adviceLine(a)}: ${a.reason}`)].join("\n");
  });
  const incidents = view.incidents.map((i) => `  ${ago(i.start, nowMs)}  ${i.rule} ${i.end === undefined ? "open" : duration(i.durationMs)} peak ${ruleValue(i.rule, i.peak)}${i.culprits[0] ? ` culprit ${orDash(i.culprits[0].namespace)}/${orDash(i.culprits[0].name)}` : ""}`);
  return [
    ...header,
    `Open:       ${view.openFindings.length === 0 ? "none" : view.openFindings.map((f) => `${f.rule} ${ruleValue(f.rule, f.value)}`).join(", ")}`,
    `Callers:    ${view.callers.join(", ") || "none seen"}`,
    `Callees:    ${view.callees.map((c) => c.callee).join(", ") || "none seen"}`,
    "Containers:",
    ...(containers.length > 0 ? containers : ["  no history read (is the node's agent reachable?)"]),
    "Incidents:",
    ...(incidents.length > 0 ? incidents : ["  none"]),
  ].join("\n");
}
