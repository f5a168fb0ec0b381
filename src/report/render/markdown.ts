/** `xander report -o md`: a report a person can read top to bottom, or paste into a ticket. */
import type { ReportView, WorkloadReport, CulpritReport } from "../types.js";
import { adviceLine, duration, ruleValue } from "./text.js";

/** Markdown treats these as syntax; cluster names may contain some of them. */
function md(text: string): string {
  return text.replace(/([\\`*_[\]<>|#])/g, "\\$1");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function adviceLines(w: WorkloadReport): string[] {
  if (w.containers.length === 0) return ["", "_No history read for its pods: no rightsizing advice._"];
  return w.containers.flatMap((c) => ["", `**What to change in \`${c.container}\`** (${c.stats.pointCount} points over ${duration(c.stats.coveredMs)}):`, "", ...c.advice.map((a) => `- ${adviceLine(a)}: ${md(a.reason)}`)]);
}

function incidentRows(w: WorkloadReport): string[] {
  const rows = w.incidentList.slice(0, 20).map((i) => {
    const culprit = i.culprits[0] ? `${md(i.culprits[0].namespace ?? "")}/${md(i.culprits[0].name ?? i.culprits[0].uid)}` : "";
    return `| ${i.start} | ${i.end === undefined ? "open" : duration(i.durationMs)} | ${i.rule} | ${md(i.pod?.name ?? "(node)")} | ${ruleValue(i.rule, i.peak)} | ${culprit} |`;
  });
  const more = w.incidentList.length > 20 ? ["", `_…and ${w.incidentList.length - 20} more._`] : [];
  return ["", "| started | duration | rule | pod | peak | culprit |", "|---|---|---|---|---|---|", ...rows, ...more];
}

function workloadSection(w: WorkloadReport): string[] {
  const peak = w.worstPeak;
  const lines = [
    `### ${md(w.namespace)}/${md(w.workload)}`,
    "",
    `- **${plural(w.incidents, "incident")}** (${w.openIncidents} open), starved for **${duration(w.starvedMs)}**: ${Object.entries(w.byRule).map(([rule, n]) => `${rule} ${n}`).join(", ")}`,
    `- Worst peak: ${peak.rule} ${ruleValue(peak.rule, peak.value)} (threshold ${ruleValue(peak.rule, peak.threshold)}) on ${md(peak.pod)}${peak.container ? `/${md(peak.container)}` : ""} at ${peak.at}`,
    `- Pods: ${w.pods.map(md).join(", ")}`,
  ];
  if (w.culprits.length > 0) lines.push(`- Culprits: ${w.culprits.map((c) => `${md(c.namespace)}/${md(c.workload)} (${duration(c.blamedMs)}, score ${c.maxScore})`).join(", ")}`);
  if (w.callers.length > 0) lines.push(`- Callers that felt it: ${w.callers.map(md).join(", ")}`);
  lines.push(`- Evidence (${w.evidence.rule} on ${md(w.evidence.node)}, ${w.evidence.start}): ${md(w.evidence.message)}`);
  const evidence = Object.entries(w.evidence.evidence);
  if (evidence.length > 0) lines.push(`  ${evidence.map(([k, v]) => `\`${k}\`=${md(String(v))}`).join(", ")}`);
  return [...lines, ...adviceLines(w), ...incidentRows(w), ""];
}

function culpritSection(c: CulpritReport): string[] {
  const lines = [`### ${md(c.namespace)}/${md(c.workload)}`, "", `- Blamed for ${duration(c.blamedMs)} (score up to ${c.maxScore}) by ${c.victims.map((v) => `${md(v.key)} (${v.incidents})`).join(", ")}`];
  for (const container of c.containers) {
    const s = container.stats;
    lines.push(`- \`${container.container}\` used ${s.meanCores === null ? "?" : s.meanCores.toFixed(2)} cores on average (p95 ${s.p95Cores === null ? "?" : s.p95Cores.toFixed(2)}) while its victims starved`);
    for (const a of container.advice) lines.push(`  - ${adviceLine(a)}: ${md(a.reason)}`);
  }
  return [...lines, ""];
}

export function reportMarkdown(view: ReportView): string {
  const lines = [
    `# Starvation report, ${view.from} to ${view.to}`,
    "",
    `${view.totals.workloads} workload${view.totals.workloads === 1 ? "" : "s"} starved in ${view.totals.incidents} incident${view.totals.incidents === 1 ? "" : "s"}, ${duration(view.totals.starvedMs)} in all. Nodes: ${view.nodes.total} (${view.nodes.reporting} reporting, ${view.nodes.stale} stale).`,
    "",
  ];
  if (view.skipped.length > 0) {
    lines.push("## Nodes not read", "", "The report is incomplete for pods on these nodes:", "");
    for (const s of view.skipped) lines.push(`- **${md(s.node)}**: ${md(s.reason)}`);
    lines.push("");
  }
  lines.push("## Starved workloads", "");
  if (view.workloads.length === 0) lines.push("No workload was starved in this span.", "");
  for (const w of view.workloads) lines.push(...workloadSection(w));
  if (view.culprits.length > 0) {
    lines.push("## Noisy neighbours", "");
    for (const c of view.culprits) lines.push(...culpritSection(c));
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
