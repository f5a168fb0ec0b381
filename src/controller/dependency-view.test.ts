import { CLUSTER, HEARTBEAT_MS, NOW } from "../report/testdata/cluster.js";
import { dependencyView } from "./dependency-view.js";

const input = { nodeFindings: CLUSTER, nowMs: NOW, heartbeatMs: HEARTBEAT_MS };

describe("dependencyView", () => {
  test("folds pods into their workloads and marks the starved ones and the workloads that call them", () => {
    const view = dependencyView(input);
    expect(view.edges.map((e) => `${e.from} > ${e.to}`)).toEqual([
      "shop/Deployment/frontend > shop/Deployment/checkout",
      "shop/Deployment/checkout > shop/StatefulSet/cache",
      "shop/Deployment/api > shop/Deployment/checkout",
      "batch/StatefulSet/cruncher > 10.0.0.9",
    ]);
    const byId = new Map(view.nodes.map((n) => [n.id, n]));
    expect(byId.get("shop/Deployment/checkout")).toMatchObject({ kind: "Workload", starved: "warning", rules: ["CPUStarvation"], pods: ["shop/checkout-7d9f-abcde"] });
    // api is throttled itself, and it calls starved checkout; cache was OOM-killed (critical).
    expect(byId.get("shop/Deployment/api")).toMatchObject({ starved: "warning", callsStarved: true });
    expect(byId.get("shop/Deployment/frontend")).toMatchObject({ starved: null, callsStarved: true });
    expect(byId.get("shop/StatefulSet/cache")).toMatchObject({ starved: "critical", rules: ["OOMKill"] });
    expect(byId.get("10.0.0.9")).toMatchObject({ kind: "External", starved: null, callsStarved: false });
  });

  test("a namespace keeps the calls that touch it; the limit keeps the busiest and counts the rest", () => {
    expect(dependencyView(input, { namespace: "batch" }).edges.map((e) => e.to)).toEqual(["10.0.0.9"]);
    const limited = dependencyView(input, { limit: 1 });
    expect(limited.edges).toHaveLength(1);
    expect(limited.edges[0]?.from).toBe("shop/Deployment/frontend");
    expect(limited.omittedEdges).toBe(3);
    expect(limited.nodes.map((n) => n.id)).toEqual(["shop/Deployment/checkout", "shop/Deployment/frontend"]);
  });

  test("stale nodes' connections and findings are left out", () => {
    expect(dependencyView({ ...input, nowMs: NOW + 24 * 3_600_000 })).toMatchObject({ nodes: [], edges: [], omittedEdges: 0 });
  });
});
