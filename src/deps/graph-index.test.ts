import type { Dependency, NodeFindings } from "../api/types.generated.js";
import { callerNames, calleesOf, dependencyGraph, serviceBackends } from "./dependency-graph.js";
import { dependencyEdgeCount, graphAround } from "./graph-index.js";

function nf(node: string, dependencies: Dependency[]): NodeFindings {
  return { apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name: node }, spec: { nodeName: node }, status: { dependencies } };
}

/** 40 nodes whose pods call pods on other nodes directly, through Service shop/api, and out of the cluster. */
const nodes: NodeFindings[] = Array.from({ length: 40 }, (_, n) =>
  nf(`node-${n}`, [
    { from: `shop/web-${n}`, to: `shop/api-${(n + 1) % 40}`, kind: "Pod", port: 8080, direction: "outbound", connections: 1 + (n % 3) },
    { from: `shop/web-${n}`, to: "shop/api", kind: "Service", port: 80, direction: "outbound", connections: 2 },
    { from: `shop/api-${n}`, to: `shop/web-${(n + 39) % 40}`, kind: "Pod", port: 8080, direction: "inbound", connections: 1 },
    { from: `shop/api-${n}`, to: `10.0.${n}.7`, kind: "External", port: 8080, direction: "inbound", connections: 1 },
    { from: `shop/web-${n}`, to: "198.51.100.4", kind: "External", port: 443, direction: "outbound", connections: 1 },
  ]),
);
const backends = serviceBackends([{ metadata: { namespace: "shop", labels: { "kubernetes.io/service-name": "api" } }, endpoints: [{ targetRef: { name: "api-3" } }, { targetRef: { name: "api-4" } }] }]);

describe("the dependency graph in parts", () => {
  test("the edge count is the whole graph's, with and without Service backends, and again from the memo", () => {
    for (const b of [new Map(), backends]) {
      const expected = dependencyGraph(nodes, b).edges.length;
      expect(dependencyEdgeCount(nodes, b)).toBe(expected);
      expect(dependencyEdgeCount(nodes, b)).toBe(expected);
    }
    expect(dependencyEdgeCount(nodes)).toBe(dependencyGraph(nodes).edges.length);
  });

  test("a node that wrote again is counted from its new entries, not the memo of its old object", () => {
    const before = dependencyEdgeCount(nodes, backends);
    const rewritten = nodes.map((n, i) => (i === 0 ? nf("node-0", [...(n.status?.dependencies ?? []), { from: "shop/web-0", to: "shop/db", kind: "Pod", direction: "outbound", connections: 1 }]) : n));
    expect(dependencyEdgeCount(rewritten, backends)).toBe(before + 1);
  });

  test("the graph around a pod gives it the callers and callees the whole graph does, Service calls included", () => {
    const full = dependencyGraph(nodes, backends);
    for (const pod of ["shop/api-3", "shop/api-10", "shop/web-7"]) {
      const around = graphAround(nodes, new Set([pod]), backends);
      expect(callerNames(around, pod)).toEqual(callerNames(full, pod));
      expect(calleesOf(around, pod)).toEqual(calleesOf(full, pod));
    }
  });
});
