import { incidents } from "./incidents.js";
import { CLUSTER, HEARTBEAT_MS, MIN, NOW } from "./testdata/cluster.js";

const input = { nodeFindings: CLUSTER, nowMs: NOW, heartbeatMs: HEARTBEAT_MS };
const week = NOW - 7 * 24 * 60 * MIN;

describe("incidents", () => {
  test("open and closed, newest first, with duration to now for open ones", () => {
    const view = incidents(input, { sinceMs: week });
    expect(view.total).toBe(8);
    expect(view.incidents.map((i) => [i.rule, i.pod?.name, i.end === undefined])).toEqual([
      ["OOMKill", "cache-0", true],
      ["CPUStarvation", "checkout-7d9f-abcde", true],
      ["CPUThrottling", "api-5c6d-xyz", true],
      ["IOPressure", "ghost-1", true],
      ["MemoryNearLimit", "checkout-7d9f-abcde", false],
      ["CPUStarvation", "checkout-7d9f-abcde", false],
      ["MemoryPressure", "report-29100", false],
      ["CPUThrottling", "api-5c6d-xyz", false],
    ]);
    const [, openStarvation, , , , closedStarvation] = view.incidents;
    expect(openStarvation).toMatchObject({ durationMs: 5 * MIN, peak: 0.6, culprits: [{ name: "cruncher-0", share: 1, score: 0.82 }] });
    expect(closedStarvation).toMatchObject({ durationMs: 10 * MIN, peak: 0.7, culprits: [{ name: "cruncher-0", share: 0.5, score: 0.9 }], callers: ["shop/frontend"] });
  });

  test("each filter narrows: since, namespace, rule, pod, node, limit", () => {
    expect(incidents(input, { sinceMs: NOW - 24 * 60 * MIN }).total).toBe(7);
    expect(incidents(input, { sinceMs: week, namespace: "batch" }).incidents.map((i) => i.pod?.name)).toEqual(["report-29100"]);
    expect(incidents(input, { sinceMs: week, rule: "CPUStarvation" }).total).toBe(2);
    expect(incidents(input, { sinceMs: week, pod: "shop/checkout-7d9f-abcde" }).total).toBe(3);
    expect(incidents(input, { sinceMs: week, node: "node-b" }).total).toBe(2);
    const limited = incidents(input, { sinceMs: week, limit: 2 });
    expect(limited.total).toBe(8);
    expect(limited.incidents).toHaveLength(2);
  });

  test("nothing matching: an empty list with the query echoed", () => {
    const view = incidents({ nodeFindings: [], nowMs: NOW, heartbeatMs: HEARTBEAT_MS }, { sinceMs: week, rule: "OOMKill" });
    expect(view).toEqual({ generatedAt: "2025-06-01T12:00:00.000Z", query: { sinceMs: week, rule: "OOMKill" }, total: 0, incidents: [] });
  });
});
