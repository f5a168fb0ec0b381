import { pod } from "./pod.js";
import { checkoutHistory, CLUSTER, HEARTBEAT_MS, MIN, NOW } from "./testdata/cluster.js";
import type { AdviceEntry, AdviceInput } from "./types.js";

const base = { nodeFindings: CLUSTER, nowMs: NOW, heartbeatMs: HEARTBEAT_MS };

function fakeAdvise(c: AdviceInput): AdviceEntry[] {
  return [{ resource: "cpu", kind: "request", current: null, recommended: c.p95Cores, change: "raise", reason: "p95 of usage", basis: { p95Cores: c.p95Cores ?? 0, incidents: c.incidents.length } }];
}

describe("pod", () => {
  const view = pod({ ...base, pod: "shop/checkout-7d9f-abcde", histories: [checkoutHistory], advise: fakeAdvise });

  test("a known pod: workload, node, its open finding, its incidents newest first, callers and callees", () => {
    if (!view.found) throw new Error(view.message);
    expect(view).toMatchObject({ namespace: "shop", name: "checkout-7d9f-abcde", uid: "u-checkout", workload: "Deployment/checkout", nodes: ["node-a"] });
    expect(view.openFindings.map((f) => f.rule)).toEqual(["CPUStarvation"]);
    expect(view.incidents.map((i) => [i.rule, i.end === undefined])).toEqual([["CPUStarvation", true], ["MemoryNearLimit", false], ["CPUStarvation", false]]);
    expect(view.callers).toEqual(["shop/frontend", "shop/api"]);
    expect(view.callees).toEqual([{ callee: "shop/cache-0", kind: "Pod", via: [], ports: [6379], connections: 3, recentConnections: 0 }]);
  });

  test("per container: the points as served, and p95 and peak cores, peak working set and limits", () => {
    if (!view.found) throw new Error(view.message);
    const [app] = view.containers;
    expect(app!.points).toHaveLength(20);
    expect(app!.stats).toMatchObject({
      container: "app",
      pointCount: 20,
      coveredMs: 20 * MIN,
      p95Cores: 0.2,
      peakCores: 1.2,
      cpuLimitCores: 1,
      peakThrottleRatio: 0.1,
      peakCpuStallShare: 0.6,
      peakWorkingSetBytes: 300 * 2 ** 20,
      memoryLimitBytes: 512 * 2 ** 20,
      oomKills: 0,
    });
    expect(app!.stats.meanCores).toBeCloseTo(0.235);
  });

  test("the advice slot is filled by the injected function, with the container's incidents", () => {
    if (!view.found) throw new Error(view.message);
    expect(view.containers[0]!.advice).toEqual([
      { resource: "cpu", kind: "request", current: null, recommended: 0.2, change: "raise", reason: "p95 of usage", basis: { p95Cores: 0.2, incidents: 3 } },
    ]);
  });

  test("without advise or history the pod is still shown, from findings and connections", () => {
    const cache = pod({ ...base, pod: "shop/cache-0", histories: [] });
    expect(cache).toMatchObject({ found: true, workload: "StatefulSet/cache", containers: [], callers: ["shop/checkout"] });
    expect(pod({ ...base, pod: "shop/frontend-1", histories: [] })).toMatchObject({ found: true, workload: "Deployment/frontend", callees: [{ callee: "shop/checkout-7d9f-abcde" }] });
  });

  test("an unknown pod is a typed not-found that says what to check", () => {
    const missing = pod({ ...base, pod: "shop/nope", histories: [] });
    expect(missing).toMatchObject({ found: false, pod: "shop/nope" });
    if (missing.found) throw new Error("found");
    expect(missing.message).toContain("pod shop/nope is not known");
    expect(pod({ nodeFindings: [], nowMs: NOW, heartbeatMs: HEARTBEAT_MS, pod: "x/y", histories: [] }).found).toBe(false);
  });
});
