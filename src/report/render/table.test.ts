import { incidents } from "../incidents.js";
import { pod } from "../pod.js";
import { summary } from "../summary.js";
import { top } from "../top.js";
import { HEARTBEAT_MS, NOW } from "../testdata/cluster.js";
import { emptyReport, incidentsView, podView, reportView, summaryView, topView } from "../testdata/views.js";
import { renderIncidentsTable, renderPodTable, renderReportTable, renderSummaryTable, renderTopTable } from "./table.js";

const empty = { nodeFindings: [], nowMs: NOW, heartbeatMs: HEARTBEAT_MS };

describe("table renderer", () => {
  test("summary: node counts with names, findings by severity and rule, worst workloads with starved time", () => {
    const text = renderSummaryTable(summaryView);
    expect(text).toContain("Nodes: 3 total, 1 reporting, 1 stale, 1 pending");
    expect(text).toContain("stale: node-b");
    expect(text).toContain("Open findings: 3 (critical 1, warning 2)");
    expect(text).toContain("Incidents, last 24h: 7 (3 open)");
    expect(text).toMatch(/shop\s+Deployment\/checkout\s+0\s+1\s+20m\s+3/);
  });

  test("top: value against threshold as percentages, since as an age, culprit with score, callers", () => {
    const text = renderTopTable(topView);
    expect(text.split("\n")[0]).toMatch(/^SEVERITY\s+RULE\s+POD/);
    expect(text).toContain("60% ≥ 30%");
    expect(text).toContain("5m ago");
    expect(text).toContain("batch/cruncher-0 (0.82)");
    expect(text).toContain("shop/frontend, shop/api");
    expect(text).toContain("1 kill ≥ 1 kill");
  });

  test("incidents: durations like 10m and open ones marked", () => {
    const text = renderIncidentsTable(incidentsView);
    expect(text).toMatch(/3h ago\s+10m\s+closed\s+CPUStarvation/);
    expect(text).toMatch(/5m ago\s+5m\s+open\s+CPUStarvation/);
    expect(text).toContain("batch/cruncher-0 50%");
  });

  test("pod: per-container p95 and peak cores, memory in MiB, advice with numbers", () => {
    const text = renderPodTable(podView);
    expect(text).toContain("Pod shop/checkout-7d9f-abcde (Deployment/checkout) on node-a");
    expect(text).toMatch(/app\s+0\.2 cores\s+1\.2 cores\s+1 cores\s+10%\s+60%\s+300 MiB\s+512 MiB\s+0/);
    expect(text).toContain("app: lower memory limit 512 MiB → 384 MiB: peak working set 300 MiB plus 25% headroom");
  });

  test("report: the nodes not read are shown before anything else", () => {
    const lines = renderReportTable(reportView).split("\n");
    expect(lines[1]).toContain("WARNING: node node-b was not read");
    expect(lines.join("\n")).toMatch(/shop\s+StatefulSet\/cache\s+critical\s+1\s+2m/);
  });

  test("empty inputs say that nothing was found", () => {
    expect(renderSummaryTable(summary(empty))).toContain("No starved workloads.");
    expect(renderTopTable(top(empty))).toBe("No open findings.");
    expect(renderIncidentsTable(incidents(empty, { sinceMs: 0 }))).toBe("No incidents match.");
    expect(renderPodTable(pod({ ...empty, pod: "a/b", histories: [] }))).toContain("pod a/b is not known to Xander");
    expect(renderReportTable(emptyReport)).toContain("No incidents in this span.");
  });
});
