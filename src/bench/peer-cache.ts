/**
 * What the agent's cluster-wide Pod cache costs in heap, full Pods against Pods slimmed by `slimPod`.
 *
 * Method. `count` Pods of a Deployment, written as the apiserver sends them (one container with env,
 * ports, probes and resources; the projected service-account volume; five conditions; two managedFields
 * entries; about 4.4 KB of JSON each), every one with its own names, UIDs and IPs. Their JSON texts are
 * built first and stay alive throughout. Then, after a full GC, all texts are parsed and kept (what a
 * cache of full Pods holds), and heapUsed is read again after a full GC; the difference over `count` is
 * the cost per Pod. The same again, with each parsed Pod slimmed at once and only the slim one kept, as
 * the informer's transform does. Needs `node --expose-gc` (`npm run bench` passes it).
 */
import { slimPod } from "../agent/peer-cache.js";
import type { KubeObject } from "../api/meta.js";
import type { BenchResult } from "./types.js";

export interface PeerCacheOptions {
  readonly count?: number;
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");

/** A Pod of Deployment `web-<d>` as a real apiserver returns it. */
export function realisticPod(i: number): KubeObject {
  const deployment = `web-${i % 50}`;
  const hash = hex(0x5d8f9 + (i % 50), 10).slice(-10);
  const name = `${deployment}-${hash}-${hex(i, 5)}`;
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const at = "2025-03-01T10:00:00Z";
  const uid = `${hex(i, 8)}-aaaa-4bbb-8ccc-${hex(i * 7919, 12)}`;
  const managed = (manager: string, subresource?: string): Record<string, unknown> => ({
    manager,
    operation: "Update",
    apiVersion: "v1",
    time: at,
    fieldsType: "FieldsV1",
    ...(subresource === undefined ? {} : { subresource }),
    fieldsV1:
      subresource === undefined
        ? { "f:metadata": { "f:generateName": {}, "f:labels": { ".": {}, "f:app": {}, "f:pod-template-hash": {} }, "f:ownerReferences": { ".": {}, [`k:{"uid":"${uid}"}`]: {} } }, "f:spec": { "f:containers": { 'k:{"name":"app"}': { ".": {}, "f:env": {}, "f:image": {}, "f:name": {}, "f:ports": {}, "f:resources": {} } } } }
        : { "f:status": { "f:conditions": {}, "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {}, "f:podIPs": {}, "f:startTime": {} } },
  });
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: `team-${i % 20}`,
      uid,
      resourceVersion: String(100_000 + i),
      creationTimestamp: at,
      labels: { app: deployment, "pod-template-hash": hash, "app.kubernetes.io/part-of": "shop" },
      annotations: { "kubectl.kubernetes.io/restartedAt": at },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: `${deployment}-${hash}`, uid: `rs-${uid}`, controller: true, blockOwnerDeletion: true }],
      managedFields: [managed("kube-controller-manager"), managed("kubelet", "status")],
    },
    spec: {
      volumes: [
        {
          name: `kube-api-access-${hex(i, 5)}`,
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
              { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
              { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: [
        {
          name: "app",
          image: `registry.example.com/shop/${deployment}:1.4.${i % 9}`,
          ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
          env: [
            { name: "LOG_LEVEL", value: "info" },
            { name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
            { name: "UPSTREAM", value: `http://api.team-${i % 20}.svc.cluster.local:80` },
          ],
          resources: { limits: { memory: "256Mi" }, requests: { cpu: "100m", memory: "128Mi" } },
          volumeMounts: [{ name: `kube-api-access-${hex(i, 5)}`, readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }],
          livenessProbe: { httpGet: { path: "/healthz", port: "http", scheme: "HTTP" }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
          readinessProbe: { httpGet: { path: "/ready", port: "http", scheme: "HTTP" }, timeoutSeconds: 1, periodSeconds: 5, successThreshold: 1, failureThreshold: 3 },
          terminationMessagePath: "/dev/termination-log",
          terminationMessagePolicy: "File",
          imagePullPolicy: "IfNotPresent",
        },
      ],
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      dnsPolicy: "ClusterFirst",
      serviceAccountName: "default",
      serviceAccount: "default",
      nodeName: `node-${i % 100}`,
      securityContext: {},
      schedulerName: "default-scheduler",
      tolerations: [
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: "PreemptLowerPriority",
    },
    status: {
      phase: "Running",
      conditions: ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({ type, status: "True", lastProbeTime: null, lastTransitionTime: at })),
      hostIP: `192.168.${(i % 100) >> 8}.${i % 100}`,
      hostIPs: [{ ip: `192.168.${(i % 100) >> 8}.${i % 100}` }],
      podIP: ip,
      podIPs: [{ ip }],
      startTime: at,
      containerStatuses: [
        {
          name: "app",
          state: { running: { startedAt: at } },
          lastState: {},
          ready: true,
          restartCount: 0,
          image: `registry.example.com/shop/${deployment}:1.4.${i % 9}`,
          imageID: `registry.example.com/shop/${deployment}@sha256:${hex(i * 2654435761, 16).repeat(4)}`,
          containerID: `containerd://${hex(i * 40503, 16).repeat(4)}`,
          started: true,
        },
      ],
      qosClass: "Burstable",
    },
  } as KubeObject;
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("the peer-cache benchmark needs node --expose-gc (npm run bench passes it)");
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Heap bytes held by what `keep` returns for every text, measured across full GCs. */
function heldBytes(texts: readonly string[], keep: (obj: KubeObject) => unknown): number {
  const before = heapAfterGc();
  const held = texts.map((text) => keep(JSON.parse(text) as KubeObject));
  const after = heapAfterGc();
  if (held.length !== texts.length) throw new Error("lost objects");
  return after - before;
}

export function benchPeerCache(opts: PeerCacheOptions = {}): Promise<BenchResult[]> {
  const count = opts.count ?? 5000;
  const texts = Array.from({ length: count }, (_, i) => JSON.stringify(realisticPod(i)));
  const jsonBytes = texts.reduce((sum, t) => sum + t.length, 0) / count;
  const fullPerPod = heldBytes(texts, (pod) => pod) / count;
  const slimPerPod = heldBytes(texts, slimPod) / count;
  const method = `heapUsed after full GCs, ${count} realistic Deployment Pods (${Math.round(jsonBytes)} B of JSON each) parsed and held`;
  return Promise.resolve([
    { name: "peer-cache: JSON per Pod", value: Math.round(jsonBytes), unit: "B", method },
    { name: "peer-cache: heap per full Pod", value: Math.round(fullPerPod / 102.4) / 10, unit: "KiB", method },
    { name: "peer-cache: heap per slimmed Pod", value: Math.round(slimPerPod / 102.4) / 10, unit: "KiB", target: "≤ 1", pass: slimPerPod <= 1024, method },
    { name: "peer-cache: 5,000 Pods, full", value: Math.round((fullPerPod * 5000) / 1e5) / 10, unit: "MB", method },
    { name: "peer-cache: 5,000 Pods, slimmed", value: Math.round((slimPerPod * 5000) / 1e5) / 10, unit: "MB", method },
  ]);
}
