import { report } from "../report.js";
import { CLUSTER, HEARTBEAT_MS, NOW } from "../testdata/cluster.js";
import { emptyReport, reportView } from "../testdata/views.js";
import { esc, renderReportHtml } from "./html.js";

describe("html renderer", () => {
  const html = renderReportHtml(reportView);

  test("one self-contained document: inline style, no script, nothing loaded from elsewhere", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain("<style>");
    expect(html).not.toMatch(/<script|<link|@import|url\(|src=|https?:\/\//i);
  });

  test("shows the nodes not read prominently, before the workloads", () => {
    expect(html.indexOf("Nodes not read")).toBeGreaterThan(0);
    expect(html.indexOf("Nodes not read")).toBeLessThan(html.indexOf("Starved workloads"));
    expect(html).toContain("<strong>node-b</strong>: agent at 10.0.0.2:9443 did not answer within 5s");
  });

  test("carries the key numbers: starved time, worst peak, culprit time, advice", () => {
    expect(html).toContain("<strong>20m</strong> starved");
    expect(html).toContain("CPUStarvation 70% ≥ 30%");
    expect(html).toContain("batch/StatefulSet/cruncher (10m, score 0.90)");
    expect(html).toContain("lower memory limit 512 MiB → 384 MiB");
  });

  test("a pod named with <script> is escaped everywhere it appears", () => {
    const evil = '<script>alert("x")</script>';
    const nodeFindings = CLUSTER.map((nf) => ({
      ...nf,
      status: {
        ...nf.status,
        recentIncidents: (nf.status?.recentIncidents ?? []).map((r) => ({ ...r, pod: { ...r.pod!, name: evil }, workload: `Deployment/${evil}`, message: evil })),
      },
    }));
    const out = renderReportHtml(report({ nodeFindings, nowMs: NOW, heartbeatMs: HEARTBEAT_MS, skipped: [{ node: evil, reason: evil }] }));
    expect(out).not.toContain("<script>");
    expect(out).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(esc(`a&b"'`)).toBe("a&amp;b&quot;&#39;");
  });

  test("an empty report is still a document that says so", () => {
    const out = renderReportHtml(emptyReport);
    expect(out).toContain("No incidents in this span.");
    expect(out).not.toContain("Nodes not read");
  });
});
