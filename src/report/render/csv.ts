/**
 * `xander report -o csv`: one row per piece of advice (workload × container × resource × kind), with the
 * workload's incident figures repeated on each row so a spreadsheet can sort and filter it alone. A workload
 * without history gets one row with the advice columns empty.
 *
 * Columns: namespace, workload, incidents, open_incidents, starved_ms, worst_rule, worst_peak, threshold,
 * culprits, container, resource, kind, current, recommended, change, reason.
 */
import type { ReportView } from "../types.js";

const COLUMNS = ["namespace", "workload", "incidents", "open_incidents", "starved_ms", "worst_rule", "worst_peak", "threshold", "culprits", "container", "resource", "kind", "current", "recommended", "change", "reason"] as const;

/** RFC 4180: quote every field that holds a comma, quote or line break; double the quotes. A leading =, +, - or @ is defused for spreadsheets. */
function field(value: string | number | null | undefined): string {
  const text = value === null || value === undefined ? "" : String(value);
  const safe = /^[=+\-@]/.test(text) && typeof value === "string" ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function reportCsv(view: ReportView): string {
  const rows: (string | number | null | undefined)[][] = [];
  for (const w of view.workloads) {
    const head = [w.namespace, w.workload, w.incidents, w.openIncidents, w.starvedMs, w.worstPeak.rule, w.worstPeak.value, w.worstPeak.threshold, w.culprits.map((c) => `${c.namespace}/${c.workload}`).join(" ")];
    const advice = w.containers.flatMap((c) => c.advice.map((a) => [c.container, a.resource, a.kind, a.current, a.recommended, a.change, a.reason]));
    if (advice.length === 0) rows.push([...head, "", "", "", "", "", "", ""]);
    for (const a of advice) rows.push([...head, ...a]);
  }
  return [COLUMNS.join(","), ...rows.map((r) => r.map(field).join(","))].join("\n") + "\n";
}
