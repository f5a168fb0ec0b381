import { emptyReport, reportView } from "../testdata/views.js";
import { md, renderReportMarkdown } from "./markdown.js";

describe("markdown renderer", () => {
  const text = renderReportMarkdown(reportView);

  test("the nodes not read come first, with the reason", () => {
    expect(text.indexOf("## Nodes not read")).toBeLessThan(text.indexOf("## Starved workloads"));
    expect(text).toContain("**node-b**: agent at 10.0.0.2:9443 did not answer within 5s");
  });

  test("one heading per workload with its numbers, an incident table and advice with numbers", () => {
    expect(text).toContain("### shop/Deployment/checkout");
    expect(text).toContain("**3** incidents (1 open), **20m** starved");
    expect(text).toContain("Worst peak: CPUStarvation 70% ≥ 30%");
    expect(text).toContain("batch/StatefulSet/cruncher (10m, score 0.90)");
    expect(text).toContain("| start | duration | rule | pod | node | peak | culprits |");
    expect(text).toContain("lower memory limit 512 MiB → 384 MiB: peak working set 300 MiB plus 25% headroom (peakWorkingSetBytes 314572800, headroom 0.25)");
    expect(text).toContain("## Noisy neighbours");
  });

  test("cluster text cannot break a table or inject markup", () => {
    expect(md("a|b <script>*x*")).toBe("a\\|b \\<script\\>\\*x\\*");
    expect(md("two\nlines")).toBe("two lines");
  });

  test("an empty report says so", () => {
    expect(renderReportMarkdown(emptyReport)).toContain("No incidents in this span.");
  });
});
