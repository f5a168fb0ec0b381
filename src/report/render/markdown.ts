/**
 * The report as Markdown, for a ticket, a wiki page or a chat message: the nodes not read first (the
 * report is incomplete without them), then one section per starved workload — its numbers, its incidents,
 * its culprits and callers, the evidence, and the advice with the numbers behind it — then the noisy
 * neighbours. Cluster-provided text is escaped so a name cannot break a table or start a heading.
 */
import type { IncidentJson } from "../../api/history.js";
import type { ContainerAdvice, CulpritReport, ReportView, WorkloadReport } from "../types.js";
import { adviceText, agoText, bytesText, coresText, durationText, limitBytesText, limitCoresText, shareText, versusText } from "./units.js";

/**
 * Escapes what would change the meaning of inline text: emphasis, code, links, HTML and table pipes. Every
 * use is mid-line after a fixed prefix, so line-start syntax (#, -, 1.) cannot trigger. Line breaks become
 * spaces.
 */
export function md(text: string): string {
  return text.replace(/[\r\n]+/g, " ").replace(/([\\`*_[\]<>|~])/g, "\\$1");
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)];
}

function skippedSection(view: ReportView): string[] {
  if (view.skipped.length === 0) return [];
  return [
    "## Nodes not read",
    "",
    "> **Warning:** the history of these nodes could not be read; incidents and usage of their pods are missing from this report.",
    "",
    ...view.skipped.map((s) => `- **${md(s.node)}**: ${md(s.reason)}`),
    "",
  ];
}

function incidentTable(incidents: readonly IncidentJson[], nowMs: number): string[] {
  const rows = incidents.map((i) => [
    `${md(i.start)} (${agoText(i.start, nowMs)})`,
    i.end === undefined ? "open" : durationText(i.durationMs),
    md(i.rule),
    md(`${i.pod?.name ?? ""}${i.container === undefined ? "" : `:${i.container}`}`),
    md(i.node),
    md(versusText(i.rule, i.peak, i.threshold)),
    i.culprits.length === 0 ? "-" : i.culprits.map((c) => `${md(`${c.namespace ?? ""}/${c.name ?? c.uid}`)} ${shareText(c.share)}`).join(", "),
  ]);
  return table(["start", "duration", "rule", "pod", "node", "peak", "culprits"], rows);
}

function containerLines(containers: readonly ContainerAdvice[]): string[] {
  return containers.flatMap((c) => {
    const s = c.stats;
    const usage = `CPU p95 ${coresText(s.p95Cores)}, peak ${coresText(s.peakCores)}, limit ${limitCoresText(s.cpuLimitCores)}; memory peak ${bytesText(s.peakWorkingSetBytes)}, limit ${limitBytesText(s.memoryLimitBytes)}; OOM kills ${s.oomKills}`;
    return [`- **${md(c.container)}**: ${md(usage)}`, ...c.advice.map((a) => `  - ${md(adviceText(a))}`)];
  });
}

function workloadSection(w: WorkloadReport, nowMs: number): string[] {
  const peak = w.worstPeak;
  const e = w.evidence;
  return [
    `### ${md(`${w.namespace}/${w.workload}`)}`,
    "",
    `- **${w.incidents}** incidents (${w.openIncidents} open), **${durationText(w.starvedMs)}** starved, worst ${md(w.worstSeverity)}`,
    `- Worst peak: ${md(peak.rule)} ${md(versusText(peak.rule, peak.value, peak.threshold))} on ${md(peak.pod)} at ${md(peak.at)}`,
    `- Culprits: ${w.culprits.length === 0 ? "none named" : w.culprits.map((c) => `${md(`${c.namespace}/${c.workload}`)} (${durationText(c.blamedMs)}, score ${c.maxScore.toFixed(2)})`).join(", ")}`,
    `- Callers affected: ${w.callers.length === 0 ? "none seen" : w.callers.map(md).join(", ")}`,
    "",
    `Evidence of the worst incident (${md(e.rule)} on ${md(e.pod)}, ${md(e.node)}): ${md(e.message)}`,
    ...Object.entries(e.evidence).map(([key, value]) => `- ${md(key)}: ${md(String(value))}`),
    "",
    ...incidentTable(w.incidentList, nowMs),
    "",
    ...(w.containers.length === 0 ? ["No history was read for its pods: no advice."] : ["Advice:", "", ...containerLines(w.containers)]),
    "",
  ];
}

function culpritSection(c: CulpritReport): string[] {
  return [
    `### ${md(`${c.namespace}/${c.workload}`)}`,
    "",
    `- Blamed for **${durationText(c.blamedMs)}** of starved time (score up to ${c.maxScore.toFixed(2)}) on ${c.victims.map((v) => `${md(v.key)} (${v.incidents} incidents, ${durationText(v.blamedMs)})`).join(", ")}`,
    ...(c.containers.length === 0 ? ["- Its usage during those incidents is not known (no history read)."] : ["- Usage while its victims starved:", ...containerLines(c.containers).map((l) => `  ${l}`)]),
    "",
  ];
}

export function renderReportMarkdown(view: ReportView): string {
  const nowMs = Date.parse(view.generatedAt);
  const lines = [
    `# Xander report: ${md(view.from)} to ${md(view.to)}`,
    "",
    `${view.totals.incidents} incidents, ${view.totals.workloads} starved workloads, ${durationText(view.totals.starvedMs)} starved in total. Nodes: ${view.nodes.reporting} reporting, ${view.nodes.stale} stale, ${view.nodes.pending} pending.`,
    "",
    ...skippedSection(view),
    "## Starved workloads",
    "",
    ...(view.workloads.length === 0 ? ["No incidents in this span.", ""] : view.workloads.flatMap((w) => workloadSection(w, nowMs))),
    ...(view.culprits.length === 0 ? [] : ["## Noisy neighbours", "", ...view.culprits.flatMap(culpritSection)]),
  ];
  return `${lines.join("\n").trimEnd()}\n`;
}
