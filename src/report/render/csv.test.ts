import { emptyReport, reportView } from "../testdata/views.js";
import { ADVICE_COLUMNS, INCIDENT_COLUMNS, reportAdviceCsv, reportIncidentsCsv } from "./csv.js";

describe("csv renderer", () => {
  test("advice: one row per workload × container × entry, every row as wide as the header", () => {
    const lines = reportAdviceCsv(reportView).trimEnd().split("\r\n");
    expect(lines[0]).toBe(ADVICE_COLUMNS.join(","));
    expect(lines).toHaveLength(1 + reportView.workloads.length);
    const checkout = lines.find((l) => l.startsWith("shop,Deployment/checkout,app,"))!;
    expect(checkout).toBe(
      "shop,Deployment/checkout,app,3,1200000,CPUStarvation,0.7,0.3,0.2,1.2,1,314572800,536870912,0,memory,limit,lower,536870912,402653184,peak working set 300 MiB plus 25% headroom",
    );
    for (const line of lines) expect(line.split(",").length).toBeGreaterThanOrEqual(ADVICE_COLUMNS.length);
  });

  test("incidents: one row per incident; text with commas is quoted", () => {
    const lines = reportIncidentsCsv(reportView).trimEnd().split("\r\n");
    expect(lines[0]).toBe(INCIDENT_COLUMNS.join(","));
    expect(lines).toHaveLength(1 + 8);
    expect(lines.find((l) => l.includes("CPUStarvation") && l.includes("2025-06-01T09:00:00.000Z"))).toContain(
      'batch/cruncher-0:0.5,stalled on CPU 70% of the time',
    );
  });

  test("a cell a spreadsheet would run as a formula is defused", () => {
    const view = { ...reportView, workloads: [{ ...reportView.workloads[0]!, workload: "=HYPERLINK(\"x\")" }] };
    expect(reportAdviceCsv(view)).toContain(`"'=HYPERLINK(""x"")"`);
  });

  test("an empty report is a header alone", () => {
    expect(reportAdviceCsv(emptyReport)).toBe(`${ADVICE_COLUMNS.join(",")}\r\n`);
    expect(reportIncidentsCsv(emptyReport)).toBe(`${INCIDENT_COLUMNS.join(",")}\r\n`);
  });
});
