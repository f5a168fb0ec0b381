import { summary } from "./summary.js";
import { CLUSTER, HEARTBEAT_MS, MIN, NOW } from "./testdata/cluster.js";

describe("summary", () => {
  const view = summary({ nodeFindings: CLUSTER, nowMs: NOW, heartbeatMs: HEARTBEAT_MS });

  test("nodes are split into reporting, stale and pending, with names", () => {
    expect(view.nodes).toEqual({ total: 3, reporting: 1, stale: 1, pending: 1, staleNodes: ["node-b"], pendingNodes: ["node-c"] });
  });

  test("open findings of a stale node are not counted: its pods may be long gone", () => {
    expect(view.findings.total).toBe(3);
    expect(view.findings.bySeverity).toEqual({ critical: 1, warning: 2, info: 0 });
    expect(view.findings.byRule).toMatchObject({ CPUStarvation: 1, CPUThrottling: 1, OOMKill: 1, IOPressure: 0 });
    expect(view.findings.byNamespace).toEqual({ shop: 3 });
  });

  test("incidents of the last 24 h include the open ones and a stale node's closed ones, not older ones", () => {
    // 2 closed on node-a within 24 h (the 30 h old one is out), 1 closed on node-b, 4 open findings.
    expect(view.incidents24h.total).toBe(7);
    expect(view.incidents24h.open).toBe(3);
    expect(view.incidents24h.byRule).toMatchObject({ CPUStarvation: 2, MemoryNearLimit: 1, MemoryPressure: 1, CPUThrottling: 1, OOMKill: 1, IOPressure: 1 });
  });

  test("worst workloads: critical first, then warnings, then starved time; owners come from connections and incidents", () => {
    expect(view.worstWorkloads.map((w) => w.key)).toEqual([
      "shop/StatefulSet/cache",
      "shop/Deployment/checkout",
      "shop/Deployment/api",
      "batch/CronJob/report",
      "shop/Pod/ghost-1",
    ]);
    const checkout = view.worstWorkloads[1]!;
    // Overlapping incidents (3h→2h50m and 2h55m→2h45m) count once: 15 min, plus the open 5 min.
    expect(checkout.starvedMs24h).toBe(20 * MIN);
    expect(checkout).toMatchObject({ warning: 1, critical: 0, openFindings: 1, incidents24h: 3, pods: ["shop/checkout-7d9f-abcde"] });
    // An open incident on a stale node ends at its last sighting, not now.
    expect(view.worstWorkloads[4]!.starvedMs24h).toBe(9 * MIN);
  });

  test("given incidents replace the ones derived from NodeFindings", () => {
    expect(summary({ nodeFindings: CLUSTER, nowMs: NOW, heartbeatMs: HEARTBEAT_MS, incidents: [] }).incidents24h.total).toBe(0);
  });

  test("an empty cluster gives zeros, not a crash", () => {
    const empty = summary({ nodeFindings: [], nowMs: NOW, heartbeatMs: HEARTBEAT_MS });
    expect(empty.nodes.total).toBe(0);
    expect(empty.findings.total).toBe(0);
    expect(empty.incidents24h.total).toBe(0);
    expect(empty.worstWorkloads).toEqual([]);
    expect(JSON.parse(JSON.stringify(empty))).toEqual(empty);
  });
});
