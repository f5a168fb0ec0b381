import { adviseCulpritEntries, adviseEntries } from "../../controller/advice-adapter.js";
import { incidents } from "../incidents.js";
import { report } from "../report.js";
import { summary } from "../summary.js";
import { top } from "../top.js";
import { checkoutHistory, CLUSTER, cruncherHistory, HEARTBEAT_MS, NOW } from "../testdata/cluster.js";
import { reportCsv } from "./csv.js";
import { escapeHtml, reportHtml } from "./html.js";
import { reportMarkdown } from "./markdown.js";
import { incidentsTable, summaryTable, topTable } from "./table.js";

const input = { nodeFindings: CLUSTER, nowMs: NOW, heartbeatMs: HEARTBEAT_MS };
const histories = new Map([
  ["shop/checkout-7d9f-abcde", [checkoutHistory]],
  ["batch/cruncher-0", [cruncherHistory]],
]);
const view = report({ ...input, histories, advise: adviseEntries, adviseCulprit: adviseCulpritEntries, skipped: [{ node: "node-b", reason: "cannot reach its agent at http://10.0.0.2:9464: ECONNREFUSED" }] });

describe("renderers", () => {
  test("the tables carry the numbers a person scans for", () => {
    const s = summaryTable(summary(input));
    expect(s).toMatch(/Nodes: +\d+ \(\d+ reporting, \d+ stale, \d+ pending\)/);
    expect(s).toMatch(/WORKLOAD/);
    const t = topTable(top(input));
    expect(t.split("\n")[0]).toMatch(/^NAMESPACE +WORKLOAD +POD +RULE/);
    expect(t).toMatch(/CPUStarvation/);
    const i = incidentsTable(incidents(input, { sinceMs: NOW - 86_400_000 }));
    expect(i).toMatch(/STARTED +DURATION/);
  });

  test("markdown: nodes not read come first, then each starved workload with its advice", () => {
    const text = reportMarkdown(view);
    expect(text.indexOf("## Nodes not read")).toBeLessThan(text.indexOf("## Starved workloads"));
    expect(text).toContain("**node-b**");
    expect(text).toMatch(/### shop\/Deployment\/checkout/);
    expect(text).toMatch(/What to change in `/);
  });

  test("csv: a header and one row per piece of advice, quoted where needed, formulas defused", () => {
    const lines = reportCsv(view).trimEnd().split("\n");
    expect(lines[0]).toBe("namespace,workload,incidents,open_incidents,starved_ms,worst_rule,worst_peak,threshold,culprits,container,resource,kind,current,recommended,change,reason");
    expect(lines.length).toBeGreaterThan(view.workloads.length);
    for (const line of lines.slice(1)) expect(line.startsWith("shop,") || line.startsWith("batch,")).toBe(true);
  });

  test("html: one page with no script or external asset, every cluster string escaped", () => {
    const hostile = report({ ...input, skipped: [{ node: "<script>alert(1)</script>", reason: "x" }] });
    const html = reportHtml(hostile);
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toMatch(/src=|href=|@import|url\(/);
    expect(escapeHtml(`"a" & 'b'`)).toBe("&quot;a&quot; &amp; &#39;b&#39;");
  });

  test("an empty cluster renders a sentence, not a crash", () => {
    const empty = { nodeFindings: [], nowMs: NOW, heartbeatMs: HEARTBEAT_MS };
    expect(topTable(top(empty))).toBe("No open findings on reporting nodes.");
    expect(reportMarkdown(report(empty))).toMatch(/No workload was starved in this span/);
    expect(reportCsv(report(empty)).trimEnd().split("\n")).toHaveLength(1);
  });
});
