/**
 * A small cluster as NodeFindings describe it, at NOW:
 * - node-a reports: checkout is CPU-starved by batch/cruncher-0 (open, and once 3 h ago), api is throttled,
 *   cache-0 was OOM-killed; frontend and api call checkout, checkout calls cache-0.
 * - node-b is stale (silent for 10 min): an open IOPressure finding on a bare pod, and a closed incident.
 * - node-c joined 30 s ago and has not reported yet.
 */
import type { PodHistory, SeriesPoint } from "../../api/history.js";
import type { Dependency, NodeFinding, NodeFindings, RecentIncident } from "../../api/types.generated.js";

export const NOW = Date.parse("2025-06-01T12:00:00Z");
export const HEARTBEAT_MS = 60_000;
export const MIN = 60_000;
export const ago = (ms: number): string => new Date(NOW - ms).toISOString();

export const CHECKOUT = { namespace: "shop", name: "checkout-7d9f-abcde", uid: "u-checkout" };
export const API = { namespace: "shop", name: "api-5c6d-xyz", uid: "u-api" };
export const CACHE = { namespace: "shop", name: "cache-0", uid: "u-cache" };
export const GHOST = { namespace: "shop", name: "ghost-1", uid: "u-ghost" };
export const CRUNCHER = { namespace: "batch", name: "cruncher-0", uid: "u-crunch" };
export const REPORTER = { namespace: "batch", name: "report-29100", uid: "u-report" };

export const starvation: NodeFinding = {
  rule: "CPUStarvation",
  severity: "warning",
  policy: "default",
  pod: CHECKOUT,
  container: "app",
  value: 0.6,
  threshold: 0.3,
  window: "5s",
  firstSeen: ago(5 * MIN),
  lastSeen: ago(5_000),
  culprit: { ...CRUNCHER, score: 0.82 },
  evidence: { cpuStallShare: "0.6", culpritCores: "3.1" },
  message: "stalled on CPU 60% of the time; batch/cruncher-0 took 3.1 cores",
};

export const throttling: NodeFinding = {
  rule: "CPUThrottling",
  severity: "warning",
  policy: "default",
  pod: API,
  container: "api",
  value: 0.4,
  threshold: 0.25,
  firstSeen: ago(10 * MIN),
  lastSeen: ago(5_000),
  message: "throttled in 40% of CFS periods (limit 0.5 cores)",
};

export const oomKill: NodeFinding = {
  rule: "OOMKill",
  severity: "critical",
  policy: "default",
  pod: CACHE,
  container: "redis",
  value: 1,
  threshold: 1,
  firstSeen: ago(2 * MIN),
  lastSeen: ago(2 * MIN),
  message: "OOM-killed 1 time (limit 256 MiB)",
};

const dependencies: Dependency[] = [
  { from: "shop/frontend-1", to: CHECKOUT.namespace + "/" + CHECKOUT.name, kind: "Pod", direction: "outbound", fromWorkload: "Deployment/frontend", toWorkload: "Deployment/checkout", port: 8080, connections: 5 },
  { from: "shop/api-5c6d-xyz", to: "shop/checkout-7d9f-abcde", kind: "Pod", direction: "outbound", fromWorkload: "Deployment/api", toWorkload: "Deployment/checkout", port: 8080, connections: 2 },
  { from: "shop/checkout-7d9f-abcde", to: "shop/cache-0", kind: "Pod", direction: "outbound", fromWorkload: "Deployment/checkout", toWorkload: "StatefulSet/cache", port: 6379, connections: 3 },
  { from: "batch/cruncher-0", to: "10.0.0.9", kind: "External", direction: "outbound", fromWorkload: "StatefulSet/cruncher", port: 443, connections: 1 },
];

export const recentA: RecentIncident[] = [
  {
    rule: "MemoryNearLimit", severity: "warning", pod: CHECKOUT, container: "app", workload: "Deployment/checkout",
    start: ago(175 * MIN), end: ago(165 * MIN), peak: 0.95, threshold: 0.9, message: "working set at 95% of its limit",
  },
  {
    rule: "CPUStarvation", severity: "warning", pod: CHECKOUT, container: "app", workload: "Deployment/checkout",
    start: ago(180 * MIN), end: ago(170 * MIN), peak: 0.7, peakAt: ago(175 * MIN), threshold: 0.3,
    culprits: [{ ...CRUNCHER, score: 0.9, share: 0.5 }], callers: ["shop/frontend"], message: "stalled on CPU 70% of the time",
  },
  {
    rule: "CPUThrottling", severity: "warning", pod: API, container: "api", workload: "Deployment/api",
    start: ago(30 * 60 * MIN), end: ago(29 * 60 * MIN), peak: 0.5, threshold: 0.25, message: "throttled in 50% of CFS periods",
  },
];

function nodeFindings(name: string, status: NodeFindings["status"], createdAgoMs = 86_400_000): NodeFindings {
  return { apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name, creationTimestamp: ago(createdAgoMs) }, spec: { nodeName: name }, status };
}

export const nodeA = nodeFindings("node-a", { agent: { lastSample: ago(10_000) }, findings: [starvation, throttling, oomKill], dependencies, recentIncidents: recentA });

export const nodeB = nodeFindings("node-b", {
  agent: { lastSample: ago(10 * MIN) },
  findings: [{ rule: "IOPressure", severity: "warning", pod: GHOST, value: 0.5, threshold: 0.3, firstSeen: ago(20 * MIN), lastSeen: ago(11 * MIN), message: "stalled on IO 50% of the time" }],
  recentIncidents: [
    {
      rule: "MemoryPressure", severity: "warning", pod: REPORTER, container: "job", workload: "CronJob/report",
      start: ago(5 * 60 * MIN), end: ago(5 * 60 * MIN - 20 * MIN), peak: 0.4, threshold: 0.2, message: "stalled on memory 40% of the time",
    },
  ],
});

export const nodeC = nodeFindings("node-c", {}, 30_000);

export const CLUSTER: readonly NodeFindings[] = [nodeA, nodeB, nodeC];

export function point(agoMs: number, over: Partial<SeriesPoint> = {}): SeriesPoint {
  return { t: ago(agoMs), intervalMs: MIN, oomKills: 0, ...over };
}

/** checkout's app container over the last 10 minutes: 0.2 cores most of the time, 0.9 at the peak. */
export const checkoutHistory: PodHistory = {
  node: "node-a",
  pod: CHECKOUT,
  resolution: "1m",
  since: "1h",
  containers: [
    {
      name: "app",
      containerId: "c-app",
      points: Array.from({ length: 20 }, (_, k) =>
        point((20 - k) * MIN, {
          cpuCores: k === 19 ? 0.9 : 0.2,
          cpuCoresMax: k === 19 ? 1.2 : 0.3,
          cpuLimitCores: 1,
          throttleRatio: k === 19 ? 0.1 : 0,
          cpuStallShare: k >= 15 ? 0.6 : 0.05,
          workingSetBytes: 200 * 2 ** 20,
          workingSetBytesMax: k === 10 ? 300 * 2 ** 20 : 210 * 2 ** 20,
          memoryLimitBytes: 512 * 2 ** 20,
        }),
      ),
    },
  ],
};

/** cruncher-0 over the last 10 minutes: 3 cores while checkout starved (the last 5 minutes), 0.5 before. */
export const cruncherHistory: PodHistory = {
  node: "node-a",
  pod: CRUNCHER,
  resolution: "1m",
  since: "1h",
  containers: [
    {
      name: "worker",
      containerId: "c-worker",
      points: Array.from({ length: 10 }, (_, k) => point((9 - k) * MIN, { cpuCores: k >= 5 ? 3 : 0.5, cpuLimitCores: null, workingSetBytes: 2 ** 30, memoryLimitBytes: null })),
    },
  ],
};
