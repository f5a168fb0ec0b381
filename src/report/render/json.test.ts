import { reportView, summaryView } from "../testdata/views.js";
import { renderJson } from "./json.js";

describe("json renderer", () => {
  test("prints the view itself, and the same view always prints the same text", () => {
    const text = renderJson(summaryView);
    expect(JSON.parse(text)).toEqual(summaryView);
    expect(renderJson(summaryView)).toBe(text);
  });

  test("field names of the report are the documented ones", () => {
    const parsed = JSON.parse(renderJson(reportView)) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(["generatedAt", "from", "to", "spanMs", "skipped", "nodes", "totals", "workloads", "culprits"]);
  });
});
