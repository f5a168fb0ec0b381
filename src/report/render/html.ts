/**
 * The report as one self-contained HTML document: inline CSS, no script, no external asset or font, so it
 * can be mailed, attached to a ticket or opened offline. Every cluster-provided string (names, messages,
 * evidence, reasons) goes through `esc`: a pod may be named by anyone who can create one.
 */
import type { IncidentJson } from "../../api/history.js";
import type { ContainerAdvice, CulpritReport, ReportView, WorkloadReport } from "../types.js";
import { adviceText, agoText, bytesText, coresText, durationText, limitBytesText, limitCoresText, shareText, versusText } from "./units.js";

const ENTITIES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for element content and quoted attribute values. */
export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (ch) => ENTITIES[ch] ?? ch);
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;margin:2rem auto;max-width:72rem;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}h3{font-size:1.05rem;margin-top:1.5rem}
table{border-collapse:collapse;margin:.5rem 0;width:100%}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.warn{background:#fff8c5;border:1px solid #d4a72c;padding:.75rem 1rem;border-radius:6px}
.critical{color:#cf222e;font-weight:600}.warning{color:#9a6700;font-weight:600}.info{color:#0969da}
.muted{color:#57606a}code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em}
`.trim();

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = `<tr>${header.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>`;
  return `<table><thead>${head}</thead><tbody>${rows.map((r) => `<tr>${r.map((cell) => `<td>${cell}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
}

function severity(text: string): string {
  return `<span class="${esc(text)}">${esc(text)}</span>`;
}

function skippedSection(view: ReportView): string {
  if (view.skipped.length === 0) return "";
  const items = view.skipped.map((s) => `<li><strong>${esc(s.node)}</strong>: ${esc(s.reason)}</li>`).join("");
  return `<section class="warn"><h2>Nodes not read</h2><p>The history of these nodes could not be read; incidents and usage of their pods are missing from this report.</p><ul>${items}</ul></section>`;
}

function incidentTable(incidents: readonly IncidentJson[], nowMs: number): string {
  const rows = incidents.map((i) => [
    `${esc(i.start)} <span class="muted">(${esc(agoText(i.start, nowMs))})</span>`,
    i.end === undefined ? "open" : esc(durationText(i.durationMs)),
    severity(i.severity),
    esc(i.rule),
    esc(`${i.pod?.name ?? ""}${i.container === undefined ? "" : `:${i.container}`}`),
    esc(i.node),
    esc(versusText(i.rule, i.peak, i.threshold)),
    i.culprits.length === 0 ? "-" : i.culprits.map((c) => esc(`${c.namespace ?? ""}/${c.name ?? c.uid} ${shareText(c.share)}`)).join("<br>"),
  ]);
  return table(["start", "duration", "severity", "rule", "pod", "node", "peak", "culprits"], rows);
}

function containerList(containers: readonly ContainerAdvice[]): string {
  const items = containers.map((c) => {
    const s = c.stats;
    const usage = `CPU p95 ${coresText(s.p95Cores)}, peak ${coresText(s.peakCores)}, limit ${limitCoresText(s.cpuLimitCores)}; memory peak ${bytesText(s.peakWorkingSetBytes)}, limit ${limitBytesText(s.memoryLimitBytes)}; OOM kills ${s.oomKills}`;
    const advice = c.advice.length === 0 ? "" : `<ul>${c.advice.map((a) => `<li>${esc(adviceText(a))}</li>`).join("")}</ul>`;
    return `<li><code>${esc(c.container)}</code>: ${esc(usage)}${advice}</li>`;
  });
  return `<ul>${items.join("")}</ul>`;
}

function workloadSection(w: WorkloadReport, nowMs: number): string {
  const p = w.worstPeak;
  const e = w.evidence;
  const culprits = w.culprits.length === 0 ? "none named" : w.culprits.map((c) => esc(`${c.namespace}/${c.workload} (${durationText(c.blamedMs)}, score ${c.maxScore.toFixed(2)})`)).join(", ");
  const evidence = Object.entries(e.evidence).map(([key, value]) => `<li><code>${esc(key)}</code>: ${esc(String(value))}</li>`).join("");
  return [
    `<h3>${esc(`${w.namespace}/${w.workload}`)}</h3>`,
    "<ul>",
    `<li><strong>${w.incidents}</strong> incidents (${w.openIncidents} open), <strong>${esc(durationText(w.starvedMs))}</strong> starved, worst ${severity(w.worstSeverity)}</li>`,
    `<li>Worst peak: ${esc(`${p.rule} ${versusText(p.rule, p.value, p.threshold)} on ${p.pod} at ${p.at}`)}</li>`,
    `<li>Culprits: ${culprits}</li>`,
    `<li>Callers affected: ${w.callers.length === 0 ? "none seen" : esc(w.callers.join(", "))}</li>`,
    "</ul>",
    `<p>Evidence of the worst incident (${esc(`${e.rule} on ${e.pod}, ${e.node}`)}): ${esc(e.message)}</p>`,
    evidence === "" ? "" : `<ul>${evidence}</ul>`,
    incidentTable(w.incidentList, nowMs),
    w.containers.length === 0 ? `<p class="muted">No history was read for its pods: no advice.</p>` : `<p>Advice:</p>${containerList(w.containers)}`,
  ].join("\n");
}

function culpritSection(c: CulpritReport): string {
  const victims = c.victims.map((v) => esc(`${v.key} (${v.incidents} incidents, ${durationText(v.blamedMs)})`)).join(", ");
  const usage = c.containers.length === 0 ? `<p class="muted">Its usage during those incidents is not known (no history read).</p>` : `<p>Usage while its victims starved:</p>${containerList(c.containers)}`;
  return `<h3>${esc(`${c.namespace}/${c.workload}`)}</h3><p>Blamed for <strong>${esc(durationText(c.blamedMs))}</strong> of starved time (score up to ${c.maxScore.toFixed(2)}) on ${victims}</p>${usage}`;
}

function summaryTable(view: ReportView): string {
  const rows = view.workloads.map((w) => [
    esc(w.namespace),
    esc(w.workload),
    severity(w.worstSeverity),
    `<span class="n">${w.incidents}</span>`,
    esc(durationText(w.starvedMs)),
    w.culprits.length === 0 ? "-" : esc(w.culprits.map((c) => `${c.namespace}/${c.workload}`).join(", ")),
  ]);
  return table(["namespace", "workload", "worst", "incidents", "starved", "culprits"], rows);
}

export function renderReportHtml(view: ReportView): string {
  const nowMs = Date.parse(view.generatedAt);
  const body = [
    `<h1>Xander report</h1>`,
    `<p class="muted">${esc(view.from)} to ${esc(view.to)}. Nodes: ${view.nodes.reporting} reporting, ${view.nodes.stale} stale, ${view.nodes.pending} pending.</p>`,
    skippedSection(view),
    `<p>${view.totals.incidents} incidents, ${view.totals.workloads} starved workloads, ${esc(durationText(view.totals.starvedMs))} starved in total.</p>`,
    `<h2>Starved workloads</h2>`,
    view.workloads.length === 0 ? "<p>No incidents in this span.</p>" : summaryTable(view) + view.workloads.map((w) => workloadSection(w, nowMs)).join("\n"),
    view.culprits.length === 0 ? "" : `<h2>Noisy neighbours</h2>${view.culprits.map(culpritSection).join("\n")}`,
  ];
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    `<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Xander report ${esc(view.from)} to ${esc(view.to)}</title><style>${STYLE}</style></head>`,
    `<body>${body.filter((part) => part !== "").join("\n")}</body>`,
    "</html>",
    "",
  ].join("\n");
}
