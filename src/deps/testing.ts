/** A small shop, shaped like the API's objects, shared by the resolver and blast-radius tests. */
import type { ClusterView, PodLike } from "./resolve.js";

export function pod(
  namespace: string,
  name: string,
  ip: string | undefined,
  owner?: { kind: string; name: string },
  extra: { hash?: string; phase?: string; hostNetwork?: boolean } = {},
): PodLike {
  return {
    metadata: {
      namespace,
      name,
      uid: `uid-${name}`,
      ...(extra.hash ? { labels: { "pod-template-hash": extra.hash } } : {}),
      ...(owner ? { ownerReferences: [{ kind: owner.kind, name: owner.name, controller: true }] } : {}),
    },
    spec: { hostNetwork: extra.hostNetwork ?? false },
    status: { ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}), phase: extra.phase ?? "Running" },
  };
}

/**
 * shop: web (Deployment, ReplicaSet known), checkout (Deployment, ReplicaSet not in the view),
 * worker (a Job of the CronJob "nightly"), db-0 (StatefulSet "db") behind Service "db" (ClusterIP
 * 10.96.0.20, port 5432 → named port "pg" = 5433), api-1/api-2 behind Service "api" (10.96.0.10:80 → 8080),
 * and a debug pod with no owner. ops/monitor is a Deployment in another namespace.
 */
export function shop(): ClusterView {
  return {
    pods: [
      pod("shop", "web-7d9f-abcde", "10.244.1.10", { kind: "ReplicaSet", name: "web-7d9f" }),
      pod("shop", "web-7d9f-fghij", "10.244.2.10", { kind: "ReplicaSet", name: "web-7d9f" }),
      pod("shop", "checkout-5c6b7d-xyz12", "10.244.1.11", { kind: "ReplicaSet", name: "checkout-5c6b7d" }, { hash: "5c6b7d" }),
      pod("shop", "worker-28901-q1w2e", "10.244.2.12", { kind: "Job", name: "nightly-28901" }),
      pod("shop", "api-1", "10.244.1.20", { kind: "ReplicaSet", name: "api-66f" }, { hash: "66f" }),
      pod("shop", "api-2", "10.244.2.20", { kind: "ReplicaSet", name: "api-66f" }, { hash: "66f" }),
      pod("shop", "db-0", "10.244.3.30", { kind: "StatefulSet", name: "db" }),
      pod("shop", "debug", "10.244.3.31"),
      pod("shop", "old-job-pod", "10.244.3.31", { kind: "Job", name: "old" }, { phase: "Succeeded" }),
      pod("kube-system", "node-exporter-x", "192.168.0.5", { kind: "DaemonSet", name: "node-exporter" }, { hostNetwork: true }),
      pod("ops", "monitor-1", "10.244.4.40", { kind: "ReplicaSet", name: "monitor-aa1" }, { hash: "aa1" }),
    ],
    controllers: [
      { kind: "ReplicaSet", metadata: { namespace: "shop", name: "web-7d9f", ownerReferences: [{ kind: "Deployment", name: "web", controller: true }] } },
      { kind: "Job", metadata: { namespace: "shop", name: "nightly-28901", ownerReferences: [{ kind: "CronJob", name: "nightly", controller: true }] } },
    ],
    services: [
      { metadata: { namespace: "shop", name: "api" }, spec: { clusterIP: "10.96.0.10", clusterIPs: ["10.96.0.10"], ports: [{ name: "http", port: 80, targetPort: 8080 }] } },
      {
        metadata: { namespace: "shop", name: "db" },
        spec: { clusterIP: "10.96.0.20", ports: [{ name: "pg", port: 5432, targetPort: "pg" }, { name: "dns", port: 53, protocol: "UDP" }] },
      },
      { metadata: { namespace: "shop", name: "db-headless" }, spec: { clusterIP: "None", ports: [{ port: 5432 }] } },
    ],
    endpointSlices: [
      {
        metadata: { namespace: "shop", name: "api-abc", labels: { "kubernetes.io/service-name": "api" } },
        endpoints: [
          { addresses: ["10.244.1.20"], targetRef: { kind: "Pod", name: "api-1", namespace: "shop", uid: "uid-api-1" } },
          { addresses: ["10.244.2.20"], targetRef: { kind: "Pod", name: "api-2" } },
        ],
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      },
    ],
    endpoints: [
      {
        metadata: { namespace: "shop", name: "db" },
        subsets: [{ notReadyAddresses: [{ ip: "10.244.3.30" }], ports: [{ name: "pg", port: 5433 }] }],
      },
    ],
  };
}
