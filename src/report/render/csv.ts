/**
 * The report as CSV (RFC 4180: comma-separated, CRLF line ends, fields quoted when they hold a comma, a
 * quote or a line break), for spreadsheets and tickets. Two tables:
 *
 * Advice, one row per workload × container × advice entry (a container without advice gets one row with
 * the advice columns empty):
 *   namespace, workload, container, incidents, starved_ms, worst_rule, worst_peak, worst_threshold,
 *   p95_cores, peak_cores, cpu_limit_cores, peak_working_set_bytes, memory_limit_bytes, oom_kills,
 *   resource, kind, change, current, recommended, reason
 *
 * Incidents, one row per incident of every workload:
 *   namespace, workload, pod, container, node, rule, severity, start, end, duration_ms, peak, threshold,
 *   culprits ("namespace/name:share" joined by spaces), message
 *
 * Numbers are plain (cores, bytes, milliseconds, shares 0..1); an empty field is unknown, "unlimited" a
 * limit that is not set. A text field that a spreadsheet would run as a formula (=, +, -, @) is prefixed
 * with ', since pod names and messages come from the cluster.
 */
import type { ContainerStats, ReportView, WorkloadReport } from "../types.js";

type Cell = string | number | null | undefined;

export const ADVICE_COLUMNS = [
  "namespace", "workload", "container", "incidents", "starved_ms", "worst_rule", "worst_peak", "worst_threshold",
  "p95_cores", "peak_cores", "cpu_limit_cores", "peak_working_set_bytes", "memory_limit_bytes", "oom_kills",
  "resource", "kind", "change", "current", "recommended", "reason",
] as const;

export const INCIDENT_COLUMNS = [
  "namespace", "workload", "pod", "container", "node", "rule", "severity", "start", "end", "duration_ms", "peak", "threshold", "culprits", "message",
] as const;

function field(cell: Cell): string {
  if (cell === null || cell === undefined) return "";
  if (typeof cell === "number") return String(cell);
  const safe = /^[=+\-@]/.test(cell) ? `'${cell}` : cell;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  // Every row as wide as the header: some readers reject ragged CSV.
  const padded = rows.map((row) => [...row, ...Array<Cell>(Math.max(0, header.length - row.length)).fill("")]);
  return [header, ...padded].map((row) => row.map(field).join(",")).join("\r\n") + "\r\n";
}

function limit(value: number | null): Cell {
  return value === null ? "unlimited" : value;
}

function workloadCells(w: WorkloadReport): Cell[] {
  return [w.namespace, w.workload];
}

function statsCells(s: ContainerStats): Cell[] {
  return [s.p95Cores, s.peakCores, limit(s.cpuLimitCores), s.peakWorkingSetBytes, limit(s.memoryLimitBytes), s.oomKills];
}

export function reportAdviceCsv(view: ReportView): string {
  const rows = view.workloads.flatMap((w) => {
    const head = [...workloadCells(w)];
    const tail = [w.incidents, w.starvedMs, w.worstPeak.rule, w.worstPeak.value, w.worstPeak.threshold];
    if (w.containers.length === 0) return [[...head, "", ...tail]];
    return w.containers.flatMap((c) => {
      const base = [...head, c.container, ...tail, ...statsCells(c.stats)];
      if (c.advice.length === 0) return [base];
      return c.advice.map((a) => [...base, a.resource, a.kind, a.change, a.current === null ? "none" : a.current, a.recommended === null ? "none" : a.recommended, a.reason]);
    });
  });
  return csv(ADVICE_COLUMNS, rows);
}

export function reportIncidentsCsv(view: ReportView): string {
  const rows = view.workloads.flatMap((w) =>
    w.incidentList.map((i) => [
      ...workloadCells(w),
      i.pod?.name === undefined ? "" : `${i.pod.namespace ?? ""}/${i.pod.name}`,
      i.container,
      i.node,
      i.rule,
      i.severity,
      i.start,
      i.end,
      i.durationMs,
      i.peak,
      i.threshold,
      i.culprits.map((c) => `${c.namespace ?? ""}/${c.name ?? c.uid}:${c.share}`).join(" "),
      i.message,
    ]),
  );
  return csv(INCIDENT_COLUMNS, rows);
}
