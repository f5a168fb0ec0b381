import { report } from "./report.js";
import { checkoutHistory, CLUSTER, cruncherHistory, HEARTBEAT_MS, MIN, NOW } from "./testdata/cluster.js";
import type { AdviceEntry, CulpritAdviceInput } from "./types.js";

const histories = new Map([
  ["shop/checkout-7d9f-abcde", [checkoutHistory]],
  ["batch/cruncher-0", [cruncherHistory]],
]);

function adviseCulprit(c: CulpritAdviceInput): AdviceEntry[] {
  return [{ resource: "cpu", kind: "limit", current: c.cpuLimitCores, recommended: c.p95Cores, change: "lower", reason: "capped near its use while others starved", basis: { p95Cores: c.p95Cores ?? 0, blamedMs: c.blamedMs } }];
}

describe("report", () => {
  const view = report({
    nodeFindings: CLUSTER,
    nowMs: NOW,
    heartbeatMs: HEARTBEAT_MS,
    histories,
    advise: (c) => [{ resource: "memory", kind: "limit", current: c.memoryLimitBytes, recommended: c.peakWorkingSetBytes, change: "keep", reason: "peak within limit", basis: { peakWorkingSetBytes: c.peakWorkingSetBytes ?? 0 } }],
    adviseCulprit,
    skipped: [{ node: "node-b", reason: "agent did not answer within 5s" }],
  });

  test("spans a week by default and shows the nodes that were not read", () => {
    expect(view).toMatchObject({ from: "2025-05-25T12:00:00.000Z", to: "2025-06-01T12:00:00.000Z", spanMs: 7 * 24 * 60 * MIN });
    expect(view.skipped).toEqual([{ node: "node-b", reason: "agent did not answer within 5s" }]);
    expect(view.totals).toEqual({ workloads: 5, incidents: 8, starvedMs: (2 + 70 + 20 + 20 + 9) * MIN });
  });

  test("workloads: worst severity first, then most starved time, then most incidents", () => {
    expect(view.workloads.map((w) => [w.key, w.starvedMs / MIN])).toEqual([
      ["shop/StatefulSet/cache", 2],
      ["shop/Deployment/api", 70],
      ["shop/Deployment/checkout", 20],
      ["batch/CronJob/report", 20],
      ["shop/Pod/ghost-1", 9],
    ]);
  });

  test("a workload's incidents, worst peak, culprits with share-weighted time, callers and the worst incident's evidence", () => {
    const checkout = view.workloads.find((w) => w.key === "shop/Deployment/checkout")!;
    expect(checkout).toMatchObject({ incidents: 3, openIncidents: 1, byRule: { CPUStarvation: 2, MemoryNearLimit: 1 }, worstSeverity: "warning" });
    // 0.7 / 0.3 beats 0.6 / 0.3 and 0.95 / 0.9.
    expect(checkout.worstPeak).toEqual({ rule: "CPUStarvation", severity: "warning", value: 0.7, threshold: 0.3, at: "2025-06-01T09:05:00.000Z", pod: "shop/checkout-7d9f-abcde", container: "app" });
    // 10 min × 0.5 (closed) + 5 min × 1 (open).
    expect(checkout.culprits).toEqual([{ namespace: "batch", workload: "StatefulSet/cruncher", key: "batch/StatefulSet/cruncher", blamedMs: 10 * MIN, maxScore: 0.9, incidents: 2 }]);
    expect(checkout.callers).toEqual(["shop/frontend", "shop/api"]);
    expect(checkout.evidence).toMatchObject({ rule: "CPUStarvation", start: "2025-06-01T09:00:00.000Z", end: "2025-06-01T09:10:00.000Z", message: "stalled on CPU 70% of the time" });
    expect(checkout.incidentList).toHaveLength(3);
  });

  test("advice per container, from the injected function with the container's numbers", () => {
    const checkout = view.workloads.find((w) => w.key === "shop/Deployment/checkout")!;
    expect(checkout.containers.map((c) => [c.container, c.advice[0]?.recommended])).toEqual([["app", 300 * 2 ** 20]]);
    expect(view.workloads.find((w) => w.key === "shop/Deployment/api")!.containers).toEqual([]);
  });

  test("a culprit's usage is measured only while its victims starved", () => {
    expect(view.culprits).toHaveLength(1);
    const [cruncher] = view.culprits;
    expect(cruncher).toMatchObject({ key: "batch/StatefulSet/cruncher", pods: ["batch/cruncher-0"], blamedMs: 10 * MIN, victims: [{ key: "shop/Deployment/checkout", incidents: 2, blamedMs: 10 * MIN }] });
    expect(cruncher!.containers[0]!.stats).toMatchObject({ container: "worker", pointCount: 5, p95Cores: 3, peakCores: 3, cpuLimitCores: null });
    expect(cruncher!.containers[0]!.advice[0]).toMatchObject({ kind: "limit", recommended: 3, basis: { blamedMs: 10 * MIN } });
  });

  test("a shorter span drops older incidents and clips the ones that straddle it", () => {
    const day = report({ nodeFindings: CLUSTER, nowMs: NOW, heartbeatMs: HEARTBEAT_MS, spanMs: 24 * 60 * MIN });
    expect(day.workloads.find((w) => w.key === "shop/Deployment/api")!.starvedMs).toBe(10 * MIN);
    const short = report({ nodeFindings: CLUSTER, nowMs: NOW, heartbeatMs: HEARTBEAT_MS, spanMs: 3 * MIN });
    expect(short.workloads.map((w) => [w.key, w.starvedMs / MIN])).toEqual([
      ["shop/StatefulSet/cache", 2],
      ["shop/Deployment/api", 3],
      ["shop/Deployment/checkout", 3],
    ]);
  });

  test("nothing in the span: no workloads, no culprits, and still the skipped nodes", () => {
    const empty = report({ nodeFindings: [], nowMs: NOW, heartbeatMs: HEARTBEAT_MS, skipped: [{ node: "n1", reason: "forbidden" }] });
    expect(empty).toMatchObject({ workloads: [], culprits: [], totals: { workloads: 0, incidents: 0, starvedMs: 0 }, skipped: [{ node: "n1" }] });
  });
});
