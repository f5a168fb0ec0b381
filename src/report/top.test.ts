import { realisticNodeFindings } from "../bench/read-model.js";
import { summarize } from "./findings-view.js";
import { top } from "./top.js";
import { CLUSTER, HEARTBEAT_MS, NOW } from "./testdata/cluster.js";

const input = { nodeFindings: CLUSTER, nowMs: NOW, heartbeatMs: HEARTBEAT_MS };

describe("top", () => {
  test("ranks as policy status does: severity, then how far past the threshold", () => {
    const view = top(input);
    expect(view.total).toBe(3);
    expect(view.risks.map((r) => [r.rule, r.pod])).toEqual([
      ["OOMKill", "shop/cache-0"],
      ["CPUStarvation", "shop/checkout-7d9f-abcde"],
      ["CPUThrottling", "shop/api-5c6d-xyz"],
    ]);
  });

  test("a row carries workload, value against threshold, since, culprit and the callers that feel it", () => {
    const starved = top(input).risks[1]!;
    expect(starved).toMatchObject({
      node: "node-a",
      workload: "Deployment/checkout",
      container: "app",
      value: 0.6,
      threshold: 0.3,
      since: "2025-06-01T11:55:00.000Z",
      culprit: { namespace: "batch", name: "cruncher-0", uid: "u-crunch", score: 0.82 },
      callers: ["shop/frontend", "shop/api"],
    });
    expect(starved.excess).toBeCloseTo(2);
    expect(top(input).risks[0]!.callers).toEqual(["shop/checkout"]);
  });

  test("limit and namespace narrow the list; total counts before the limit", () => {
    expect(top(input, { limit: 1 })).toMatchObject({ total: 3, risks: [{ rule: "OOMKill" }] });
    expect(top(input, { namespace: "batch" }).risks).toEqual([]);
  });

  test("the same order and callers as policy status topRisks, over many ties", () => {
    const nodeFindings = realisticNodeFindings(40);
    const nowMs = Date.parse("2025-06-01T12:00:00Z");
    const expected = summarize(nodeFindings, nowMs, HEARTBEAT_MS, { topN: 60 }).topRisks.map((r) => [r.node, r.pod, r.rule, r.callers ?? []]);
    const actual = top({ nodeFindings, nowMs, heartbeatMs: HEARTBEAT_MS }, { limit: 60 }).risks.map((r) => [r.node, r.pod, r.rule, r.callers]);
    expect(actual).toEqual(expected);
  });

  test("no findings: an empty list", () => {
    expect(top({ nodeFindings: [], nowMs: NOW, heartbeatMs: HEARTBEAT_MS })).toEqual({ generatedAt: "2025-06-01T12:00:00.000Z", total: 0, risks: [] });
  });
});
