/** `xander report -o html`: one self-contained page (inline CSS, no script, nothing fetched). */
import type { ReportView, WorkloadReport } from "../types.js";
import { adviceLine, duration, ruleValue } from "./text.js";

/** Every cluster-provided string goes through this: names and messages are not ours. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;color:#1d2330;padding:0 1em}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccd;padding-bottom:.2em;margin-top:2em}h3{margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #dde;padding:.25em .6em;text-align:left;font-size:.92em}
th{background:#f3f4f8}.warn{background:#fff4e0;border-left:4px solid #e89b00;padding:.5em 1em}.critical{color:#b00020;font-weight:600}
code{background:#f3f4f8;padding:0 .2em}.muted{color:#667}`;

function workload(w: WorkloadReport): string {
  const e = escapeHtml;
  const peak = w.worstPeak;
  const advice = w.containers
    .map((c) => `<p>What to change in <code>${e(c.container)}</code> <span class="muted">(${c.stats.pointCount} points over ${duration(c.stats.coveredMs)})</span>:</p><ul>${c.advice.map((a) => `<li><b>${e(adviceLine(a))}</b>: ${e(a.reason)}</li>`).join("")}</ul>`)
    .join("");
  const incidents = w.incidentList
    .slice(0, 20)
    .map((i) => `<tr><td>${e(i.start)}</td><td>${i.end === undefined ? "open" : duration(i.durationMs)}</td><td>${e(i.rule)}</td><td>${e(i.pod?.name ?? "(node)")}</td><td>${ruleValue(i.rule, i.peak)}</td><td>${e(i.culprits[0] ? `${i.culprits[0].namespace ?? ""}/${i.culprits[0].name ?? i.culprits[0].uid}` : "")}</td></tr>`)
    .join("");
  return `<h3 class="${w.worstSeverity === "critical" ? "critical" : ""}">${e(w.namespace)}/${e(w.workload)}</h3>
<ul><li><b>${w.incidents} incidents</b> (${w.openIncidents} open), starved for <b>${duration(w.starvedMs)}</b></li>
<li>Worst peak: ${e(peak.rule)} ${ruleValue(peak.rule, peak.value)} (threshold ${ruleValue(peak.rule, peak.threshold)}) on ${e(peak.pod)} at ${e(peak.at)}</li>
${w.culprits.length > 0 ? `<li>Culprits: ${w.culprits.map((c) => `${e(c.namespace)}/${e(c.workload)} (${duration(c.blamedMs)})`).join(", ")}</li>` : ""}
${w.callers.length > 0 ? `<li>Callers that felt it: ${w.callers.map(e).join(", ")}</li>` : ""}
<li>Evidence: ${e(w.evidence.message)}</li></ul>
${advice || `<p class="muted">No history read for its pods: no rightsizing advice.</p>`}
<table><tr><th>started</th><th>duration</th><th>rule</th><th>pod</th><th>peak</th><th>culprit</th></tr>${incidents}</table>`;
}

export function reportHtml(view: ReportView): string {
  const e = escapeHtml;
  const skipped =
    view.skipped.length === 0
      ? ""
      : `<div class="warn"><b>Nodes not read</b>: the report is incomplete for pods on them.<ul>${view.skipped.map((s) => `<li><b>${e(s.node)}</b>: ${e(s.reason)}</li>`).join("")}</ul></div>`;
  const culprits = view.culprits
    .map((c) => `<li><b>${e(c.namespace)}/${e(c.workload)}</b>: blamed for ${duration(c.blamedMs)} by ${c.victims.map((v) => e(v.key)).join(", ")}${c.containers.flatMap((k) => k.advice).map((a) => `<br>${e(adviceLine(a))}: ${e(a.reason)}`).join("")}</li>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Xander starvation report</title><style>${STYLE}</style></head>
<body><h1>Starvation report</h1><p class="muted">${e(view.from)} to ${e(view.to)} · ${view.totals.workloads} workloads · ${view.totals.incidents} incidents · ${duration(view.totals.starvedMs)} starved · ${view.nodes.reporting}/${view.nodes.total} nodes reporting</p>
${skipped}<h2>Starved workloads</h2>${view.workloads.map(workload).join("") || "<p>No workload was starved in this span.</p>"}
${culprits ? `<h2>Noisy neighbours</h2><ul>${culprits}</ul>` : ""}
</body></html>
`;
}
