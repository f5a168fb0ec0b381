import type { Dependency, NodeFindings } from "../api/types.generated.js";
import type { KubeObject } from "../api/meta.js";
import { calleesOf, callerNames, callersOf, dependencyGraph, serviceBackends, slimEndpointSlice, type EndpointSliceRef } from "./dependency-graph.js";

function nf(node: string, dependencies: Dependency[]): NodeFindings {
  return { apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name: node }, spec: { nodeName: node }, status: { dependencies } };
}

const AT = "2025-01-01T00:00:00.000Z";
const LATER = "2025-01-01T00:00:10.000Z";

/**
 * node-a runs web and checkout; node-b runs api-1 and api-2 behind Service shop/api (80 → 8080).
 * web dials api-1 directly; checkout dials the Service.
 */
const nodes: NodeFindings[] = [
  nf("node-a", [
    { from: "shop/web", to: "shop/api-1", kind: "Pod", port: 8080, direction: "outbound", connections: 2, recentConnections: 0, lastSeen: AT },
    { from: "shop/checkout", to: "shop/api", kind: "Service", port: 80, direction: "outbound", connections: 3, recentConnections: 1, lastSeen: LATER },
    { from: "shop/checkout", to: "203.0.113.9", kind: "External", port: 443, direction: "outbound", connections: 1, lastSeen: AT },
  ]),
  nf("node-b", [
    { from: "shop/api-1", to: "shop/web", kind: "Pod", port: 8080, direction: "inbound", connections: 2, recentConnections: 0, lastSeen: LATER },
    { from: "shop/api-1", to: "shop/checkout", kind: "Pod", port: 8080, direction: "inbound", connections: 2, lastSeen: AT },
    { from: "shop/api-2", to: "shop/checkout", kind: "Pod", port: 8080, direction: "inbound", connections: 1, lastSeen: AT },
    { from: "shop/api-2", to: "10.0.0.5", kind: "External", port: 8080, direction: "inbound", connections: 0, recentConnections: 4, lastSeen: AT },
  ]),
];

const backends = serviceBackends([
  {
    metadata: { namespace: "shop", labels: { "kubernetes.io/service-name": "api" } },
    endpoints: [{ targetRef: { kind: "Pod", name: "api-1" } }, { targetRef: { kind: "Pod", name: "api-2", namespace: "shop" } }, {}],
  },
  { metadata: { namespace: "shop" }, endpoints: [{ targetRef: { kind: "Pod", name: "stray" } }] },
]);

describe("dependencyGraph", () => {
  it("reads Service backends from EndpointSlices by their service-name label", () => {
    expect([...backends]).toEqual([["shop/api", ["shop/api-1", "shop/api-2"]]]);
  });

  it("an edge to a Service counts against each of its backend pods, with the Service as via", () => {
    const graph = dependencyGraph(nodes, backends);
    expect(callersOf(graph, "shop/api-2").map((e) => [e.caller, e.via, e.connections])).toEqual([
      ["shop/checkout", ["shop/api"], 3],
      ["10.0.0.5", [], 0],
    ]);
  });

  it("one call seen from both ends is one pair, counted as the larger end, never the sum", () => {
    const graph = dependencyGraph(nodes, backends);
    const callers = callersOf(graph, "shop/api-1");
    expect(callers.map((e) => [e.caller, e.connections, e.ports, e.reportedBy])).toEqual([
      ["shop/checkout", 3, [80, 8080], ["node-a", "node-b"]],
      ["shop/web", 2, [8080], ["node-a", "node-b"]],
    ]);
    expect(callers.find((e) => e.caller === "shop/web")?.lastSeen).toBe(LATER);
  });

  it("keeps a Service whose backends are unknown as the callee, and external peers by IP", () => {
    const graph = dependencyGraph(nodes);
    expect(calleesOf(graph, "shop/checkout").map((e) => [e.callee, e.calleeKind, e.via])).toEqual([
      ["shop/api", "Service", ["shop/api"]],
      ["shop/api-1", "Pod", []],
      ["203.0.113.9", "External", []],
      ["shop/api-2", "Pod", []],
    ]);
    expect(callersOf(graph, "shop/api-2").find((e) => e.callerKind === "External")).toMatchObject({ caller: "10.0.0.5", recentConnections: 4 });
  });

  it("adds up entries from one end, such as two ports of one callee", () => {
    const graph = dependencyGraph([
      nf("n", [
        { from: "a/x", to: "a/y", kind: "Pod", port: 80, direction: "outbound", connections: 1 },
        { from: "a/x", to: "a/y", kind: "Pod", port: 81, direction: "outbound", connections: 2 },
      ]),
    ]);
    expect(graph.edges).toEqual([
      { caller: "a/x", callerKind: "Pod", callee: "a/y", calleeKind: "Pod", via: [], ports: [80, 81], connections: 3, recentConnections: 0, reportedBy: ["n"] },
    ]);
  });

  it("names callers by workload, from whichever end knew the owner, one name per workload", () => {
    const graph = dependencyGraph(
      [
        // node-a's agent knows its own pods' owners; node-b's knows its callers' from its Pod cache.
        nf("node-a", [
          { from: "shop/web-1", to: "shop/api", kind: "Service", port: 80, direction: "outbound", fromWorkload: "Deployment/web", connections: 1 },
          { from: "shop/web-2", to: "shop/api", kind: "Service", port: 80, direction: "outbound", connections: 0, recentConnections: 5 },
          { from: "shop/debug", to: "shop/api", kind: "Service", port: 80, direction: "outbound", connections: 0, recentConnections: 1 },
        ]),
        nf("node-b", [
          { from: "shop/api-1", to: "shop/web-2", kind: "Pod", port: 8080, direction: "inbound", toWorkload: "Deployment/web", connections: 2 },
          { from: "shop/api-1", to: "batch/report-28-x", kind: "Pod", port: 8080, direction: "inbound", toWorkload: "CronJob/report", connections: 1 },
          { from: "shop/api-1", to: "10.0.0.5", kind: "External", port: 8080, direction: "inbound", connections: 0, recentConnections: 2 },
        ]),
      ],
      backends,
    );
    expect(callerNames(graph, "shop/api-1")).toEqual(["shop/web", "batch/report", "10.0.0.5", "shop/debug"]);
    expect(callersOf(graph, "shop/api-1").find((e) => e.caller === "shop/web-2")).toMatchObject({ callerWorkload: "Deployment/web", connections: 2, recentConnections: 5 });
    expect(callerNames(graph, "shop/nobody")).toEqual([]);
  });

  it("tells apart callers that would read alike by their kind", () => {
    const graph = dependencyGraph([
      nf("n", [
        { from: "shop/web-abc-1", to: "shop/db-0", kind: "Pod", port: 5432, direction: "outbound", fromWorkload: "Deployment/web", connections: 2 },
        { from: "shop/web-0", to: "shop/db-0", kind: "Pod", port: 5432, direction: "outbound", fromWorkload: "StatefulSet/web", connections: 1 },
        { from: "shop/web-abc-2", to: "shop/db-0", kind: "Pod", port: 5432, direction: "outbound", fromWorkload: "Deployment/web", connections: 1 },
      ]),
    ]);
    expect(callerNames(graph, "shop/db-0")).toEqual(["shop/web (Deployment)", "shop/web (StatefulSet)"]);
  });

  it("an EndpointSlice slimmed for the cache gives the same backends and keeps nothing else", () => {
    const slice = {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "api-x1", namespace: "shop", resourceVersion: "7", labels: { "kubernetes.io/service-name": "api", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" } },
      addressType: "IPv4",
      endpoints: [
        { addresses: ["10.0.0.1"], conditions: { ready: true }, nodeName: "n1", zone: "a", targetRef: { kind: "Pod", name: "api-1", namespace: "shop", uid: "u1" } },
        { addresses: ["10.0.0.2"], conditions: { ready: false } },
      ],
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    } as KubeObject;
    const slim = slimEndpointSlice(slice);
    expect(serviceBackends([slim as EndpointSliceRef])).toEqual(serviceBackends([slice as EndpointSliceRef]));
    expect(slim).toEqual({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "api-x1", namespace: "shop", resourceVersion: "7", labels: { "kubernetes.io/service-name": "api" } },
      endpoints: [{ targetRef: { kind: "Pod", name: "api-1", namespace: "shop" } }, {}],
    });
  });

  it("a node with no status contributes nothing", () => {
    expect(dependencyGraph([{ apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name: "n" }, spec: { nodeName: "n" } }]).edges).toEqual([]);
  });
});
