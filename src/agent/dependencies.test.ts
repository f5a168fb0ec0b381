import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Finding } from "../analysis/types.js";
import type { Edge } from "../deps/edges.js";
import { buildPeerIndex, type PodLike } from "../deps/resolve.js";
import type { KubeObject } from "../api/meta.js";
import { shop } from "../deps/testing.js";
import type { KubeClient } from "../kube/client.js";
import { silentLogger } from "../util/log.js";
import { AgentDependencies } from "./dependencies.js";
import { callerPhrases, DEFAULT_DEPENDENCY_INTERVAL_MS, dependencyEntries, dependencyIntervalMs, maxDependenciesOf, withCallers } from "./dependency-status.js";
import { clusterViewOf, slimPod } from "./peer-cache.js";
import { eventNote } from "./events.js";
import { AgentMetrics } from "./metrics.js";
import { buildStatus, materialFingerprint } from "./status.js";
import { policy } from "./testing.js";

function outbound(fromPodUid: string, ip: string, port: number, connections: number, lastSeenMs = 10_000, recentConnections = 0): Edge {
  return { fromPodUid, direction: "outbound", peer: { ip, port }, localPort: null, connections, recentConnections, firstSeenMs: 1_000, lastSeenMs, peakConnections: connections, observations: 1 };
}

function inbound(fromPodUid: string, ip: string, localPort: number, connections: number, lastSeenMs = 10_000): Edge {
  return { fromPodUid, direction: "inbound", peer: { ip, port: null }, localPort, connections, recentConnections: 0, firstSeenMs: 1_000, lastSeenMs, peakConnections: connections, observations: 1 };
}

const index = buildPeerIndex(shop());
const names = new Map([
  ["uid-web-7d9f-abcde", { namespace: "shop", name: "web-7d9f-abcde" }],
  ["uid-checkout-5c6b7d-xyz12", { namespace: "shop", name: "checkout-5c6b7d-xyz12" }],
  ["uid-api-1", { namespace: "shop", name: "api-1" }],
]);

/** Node 1 of the shop: web and checkout call the api Service, web also dials api-1 directly; api-1 sees both. */
const edges: Edge[] = [
  outbound("uid-web-7d9f-abcde", "10.96.0.10", 80, 2),
  outbound("uid-checkout-5c6b7d-xyz12", "10.96.0.10", 80, 0, 9_000, 6),
  outbound("uid-web-7d9f-abcde", "10.244.1.20", 8080, 1),
  outbound("uid-web-7d9f-abcde", "203.0.113.9", 443, 1, 8_000),
  inbound("uid-api-1", "10.244.1.10", 8080, 3),
  inbound("uid-api-1", "10.244.1.11", 8080, 1),
];

describe("dependency interval and bounds from policies", () => {
  it("takes the shortest interval among policies that map dependencies, and none when all turn it off", () => {
    expect(dependencyIntervalMs([])).toBe(DEFAULT_DEPENDENCY_INTERVAL_MS);
    const fast = policy("fast", { sampling: { dependencies: { interval: "2s" } } });
    const off = policy("off", { sampling: { dependencies: { enabled: false, interval: "1s" } } });
    expect(dependencyIntervalMs([policy("default"), fast, off])).toBe(2_000);
    expect(dependencyIntervalMs([off])).toBeUndefined();
  });

  it("bounds status by the node policy's maxDependencies", () => {
    expect(maxDependenciesOf([])).toBe(100);
    expect(maxDependenciesOf([policy("a", { reporting: { maxDependencies: 7 } }), policy("b", { selector: { podSelector: { matchLabels: { x: "y" } } } })])).toBe(7);
  });
});

describe("NodeFindings status dependencies", () => {
  it("names peers as the API knows them: a ClusterIP is its Service, a pod IP its Pod, anything else its IP", () => {
    const entries = dependencyEntries(edges, names, index, 100);
    expect(entries.map((d) => [d.from, d.direction, d.kind, d.to, d.port, d.connections, d.recentConnections])).toEqual([
      ["shop/api-1", "inbound", "Pod", "shop/web-7d9f-abcde", 8080, 3, 0],
      ["shop/web-7d9f-abcde", "outbound", "Service", "shop/api", 80, 2, 0],
      ["shop/api-1", "inbound", "Pod", "shop/checkout-5c6b7d-xyz12", 8080, 1, 0],
      ["shop/web-7d9f-abcde", "outbound", "Pod", "shop/api-1", 8080, 1, 0],
      ["shop/web-7d9f-abcde", "outbound", "External", "203.0.113.9", 443, 1, 0],
      ["shop/checkout-5c6b7d-xyz12", "outbound", "Service", "shop/api", 80, 0, 6],
    ]);
    expect(entries[0]).toMatchObject({ firstSeen: "1970-01-01T00:00:01.000Z", lastSeen: "1970-01-01T00:00:10.000Z" });
  });

  it("names each end's top-level workload where a controller owns it, so other nodes' callers can be named without a Pod cache", () => {
    const entries = dependencyEntries(edges, names, index, 100);
    const workloads = entries.map((d) => [d.from, d.to, d.fromWorkload ?? "-", d.toWorkload ?? "-"]);
    expect(workloads).toEqual([
      ["shop/api-1", "shop/web-7d9f-abcde", "Deployment/api", "Deployment/web"],
      ["shop/web-7d9f-abcde", "shop/api", "Deployment/web", "-"], // a Service peer has no owner
      ["shop/api-1", "shop/checkout-5c6b7d-xyz12", "Deployment/api", "Deployment/checkout"],
      ["shop/web-7d9f-abcde", "shop/api-1", "Deployment/web", "Deployment/api"],
      ["shop/web-7d9f-abcde", "203.0.113.9", "Deployment/web", "-"],
      ["shop/checkout-5c6b7d-xyz12", "shop/api", "Deployment/checkout", "-"],
    ]);
    const bare = buildPeerIndex({ pods: [{ metadata: { namespace: "a", name: "p", uid: "p" }, status: { podIP: "10.0.0.1", phase: "Running" } }] });
    expect(dependencyEntries([outbound("p", "10.0.0.1", 80, 1)], new Map([["p", { namespace: "a", name: "p" }]]), bare, 10)[0]).not.toHaveProperty("fromWorkload");
  });

  it("resolves the same from Pods slimmed for the cache as from full ones", () => {
    const view = shop();
    const slimmed = buildPeerIndex({ ...view, pods: view.pods.map((p) => slimPod(p as unknown as KubeObject) as unknown as PodLike) });
    expect(dependencyEntries(edges, names, slimmed, 100)).toEqual(dependencyEntries(edges, names, index, 100));
    expect([...slimmed.podsByIp.keys()].sort()).toEqual([...index.podsByIp.keys()].sort());
  });

  it("slims a Pod to identity, owners, the template-hash label, hostNetwork, phase and IPs", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "web-7d9f-abcde",
        namespace: "shop",
        uid: "u1",
        resourceVersion: "42",
        generation: 1,
        labels: { app: "web", "pod-template-hash": "7d9f" },
        annotations: { "kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z" },
        ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9f", uid: "rs1", controller: true, blockOwnerDeletion: true }],
        managedFields: [{ manager: "kube-controller-manager", operation: "Update" }],
      },
      spec: { nodeName: "n1", containers: [{ name: "app", image: "web:1", env: [{ name: "A", value: "b" }] }], volumes: [{ name: "token" }] },
      status: { phase: "Running", podIP: "10.0.0.1", podIPs: [{ ip: "10.0.0.1" }], conditions: [{ type: "Ready", status: "True" }], containerStatuses: [{ name: "app", ready: true }] },
    } as KubeObject;
    expect(slimPod(pod)).toEqual({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "web-7d9f-abcde",
        namespace: "shop",
        uid: "u1",
        resourceVersion: "42",
        labels: { "pod-template-hash": "7d9f" },
        ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9f", uid: "rs1", controller: true }],
      },
      spec: { nodeName: "n1" },
      status: { phase: "Running", podIP: "10.0.0.1", podIPs: [{ ip: "10.0.0.1" }] },
    });
    expect(slimPod({ metadata: { name: "bare", namespace: "x", uid: "u2", labels: { app: "x" } } })).toEqual({ metadata: { name: "bare", namespace: "x", uid: "u2" }, spec: {}, status: {} });
  });

  it("keeps the most active at the bound, and without the API names every peer by IP", () => {
    expect(dependencyEntries(edges, names, index, 2).map((d) => d.to)).toEqual(["shop/web-7d9f-abcde", "shop/api"]);
    const byIp = dependencyEntries(edges, new Map(), undefined, 100);
    expect(new Set(byIp.map((d) => d.kind))).toEqual(new Set(["External"]));
    expect(byIp.map((d) => d.from)).toContain("uid-api-1");
  });

  it("merges two peer IPs that name one pod into one entry", () => {
    const dual = buildPeerIndex({ pods: [{ metadata: { namespace: "a", name: "p", uid: "p" }, status: { podIPs: [{ ip: "10.0.0.1" }, { ip: "fd00::1" }], phase: "Running" } }] });
    const entries = dependencyEntries([outbound("x", "10.0.0.1", 80, 1), outbound("x", "fd00::1", 80, 2)], new Map([["x", { namespace: "a", name: "x" }]]), dual, 10);
    expect(entries).toEqual([expect.objectContaining({ from: "a/x", to: "a/p", kind: "Pod", connections: 3 })]);
  });

  it("a new edge is a material change for the status writer", () => {
    const before = dependencyEntries(edges.slice(0, 2), names, index, 100);
    const after = dependencyEntries(edges.slice(0, 3), names, index, 100);
    expect(materialFingerprint([], before)).not.toBe(materialFingerprint([], after));
  });
});

describe("blast radius in findings", () => {
  const throttled: Finding = {
    rule: "CPUThrottling",
    severity: "warning",
    pod: { uid: "uid-api-1", namespace: "shop", name: "api-1" },
    container: "app",
    value: 0.9,
    threshold: 0.25,
    windowMs: 5000,
    firstSeenMs: 1_000,
    lastSeenMs: 9_000,
    message: "throttled in 90% of CFS periods (limit 0.1 cores)",
  };
  const lonely: Finding = { ...throttled, pod: { uid: "uid-debug", namespace: "shop", name: "debug" } };

  it("a starved pod's callers, by workload, join its message; a pod without callers keeps its message", () => {
    const phrases = callerPhrases([throttled.pod.uid, lonely.pod.uid], edges, index);
    const [withRadius, without] = withCallers([throttled, lonely], phrases);
    expect(withRadius?.message).toBe("throttled in 90% of CFS periods (limit 0.1 cores); 2 callers affected: web, checkout");
    expect(without).toBe(lonely);
  });

  it("shows in the NodeFindings finding message and in the Event note", () => {
    const [finding] = withCallers([throttled], callerPhrases([throttled.pod.uid], edges, index));
    const status = buildStatus({ findings: [finding!], agent: { version: "t", cgroupLayout: "v2", pods: 1, samplesStored: 0 }, maxFindings: 10 });
    expect(status.findings?.[0]?.message).toMatch(/; 2 callers affected: web, checkout$/);
    expect(eventNote(finding!)).toBe("container app: throttled in 90% of CFS periods (limit 0.1 cores); 2 callers affected: web, checkout.");
  });
});

describe("cluster view from informer objects", () => {
  it("skips objects without the identity the resolver needs", () => {
    const view = clusterViewOf(
      [{ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "a", uid: "u" } }, { apiVersion: "v1", kind: "Pod", metadata: { name: "q", namespace: "a" } }],
      [{ apiVersion: "v1", kind: "Service", metadata: { name: "s", namespace: "a" } }],
      [{ apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", metadata: { name: "s-1", namespace: "a" } }],
    );
    expect([view.pods.length, view.services?.length, view.endpointSlices?.length]).toEqual([1, 0, 1]);
  });
});

describe("the agent's own off switch (--no-dependency-mapping)", () => {
  let procRoot: string;
  beforeEach(() => {
    procRoot = mkdtempSync(join(tmpdir(), "xander-deps-switch-"));
  });
  afterEach(() => {
    rmSync(procRoot, { recursive: true, force: true });
  });

  /** A client that only counts the informers asked of it, and a store that counts reads. */
  function wiring(enabled: boolean | undefined) {
    const informers: string[] = [];
    const client = {
      informer: (kind: { kind: string }) => {
        informers.push(kind.kind);
        return { on: () => undefined, start: () => Promise.resolve(), stop: () => Promise.resolve(), list: () => [] };
      },
    } as unknown as KubeClient;
    let storeReads = 0;
    const store = {
      appendEdges: () => undefined,
      edges: (): Edge[] => {
        storeReads += 1;
        return [];
      },
    };
    let podsAsked = 0;
    const pods = () => {
      podsAsked += 1;
      return [];
    };
    const deps = new AgentDependencies({ client, procRoot, cgroupMount: undefined, hostPid: 1, store, logger: silentLogger(), metrics: new AgentMetrics(), ...(enabled === undefined ? {} : { enabled }) });
    return { deps, informers, pods, counts: () => ({ informers: informers.length, storeReads, podsAsked }) };
  }

  it("by default, with a policy that maps dependencies, restores history, watches Pods, Services and EndpointSlices, and polls", async () => {
    const { deps, informers, pods, counts } = wiring(undefined);
    deps.restore(10_000);
    await deps.maybePoll(10_000, [policy("default")], pods, []);
    expect([...informers].sort()).toEqual(["EndpointSlice", "Pod", "Service"]);
    expect(counts()).toEqual({ informers: 3, storeReads: 1, podsAsked: 1 });
    await deps.stop();
  });

  it("off, it reads no history, starts no informer and never polls, even when a policy asks for mapping", async () => {
    const { deps, pods, counts } = wiring(false);
    expect(deps.restore(10_000)).toBe(0);
    await deps.maybePoll(10_000, [policy("fast", { sampling: { dependencies: { interval: "1s" } } })], pods, []);
    await deps.maybePoll(20_000, [], pods, []);
    expect(counts()).toEqual({ informers: 0, storeReads: 0, podsAsked: 0 });
    expect(deps.status(100)).toEqual([]);
    await deps.stop();
  });
});
