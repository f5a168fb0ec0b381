/**
 * What the dashboard costs the server at cluster scale: the page shell and the two views the overview
 * reads on every load and every push, over 1,000 nodes' NodeFindings held in memory.
 *
 * Method. 1,000 NodeFindings as agents write them: each with 10 open findings (every rule; CPUStarvation
 * with a culprit on another node), 100 dependency entries (to pods on other nodes, Services and external
 * IPs, with both ends' owners) and 50 closed recentIncidents of the last day; 40 namespaces, 20
 * Deployments each. The controller's read service over them (as its watch cache serves them), the
 * dashboard's routes behind an allow-all guard (the TokenReview and SubjectAccessReview answers are cached
 * per token, so a dashboard's steady state does not wait on them), on a real HTTP server on loopback.
 * Each path is fetched 5 times to warm up, then `runs` times one after another; p50 and p99 of the wall
 * time from sending the request to the last byte of the answer, and of the process's CPU time over the
 * same span (the handler plus the loopback client; on a shared machine the wall time also holds the wait
 * for a CPU). Target: p99 ≤ 100 ms.
 */
import { performance } from "node:perf_hooks";
import { Registry } from "prom-client";
import { RULE_NAMES } from "../analysis/types.js";
import type { Dependency, NodeFinding, NodeFindings, RecentIncident } from "../api/types.generated.js";
import { dashboardRoutes } from "../controller/dashboard-api.js";
import { readRoutes } from "../controller/read-api.js";
import { ReadService } from "../controller/read-service.js";
import { HistoryClient } from "../kube/history-client.js";
import type { AccessGuard } from "../server/api.js";
import { startHttpServer } from "../server/http.js";
import { webRoutes } from "../server/web-assets.js";
import type { BenchResult } from "./types.js";

export interface DashboardBenchOptions {
  readonly nodes?: number;
  readonly runs?: number;
}

const NAMESPACES = 40;
const DEPLOYMENTS = 20;
const TARGET_MS = 100;

function podOf(k: number): { namespace: string; name: string; uid: string; workload: string } {
  const namespace = `team-${k % NAMESPACES}`;
  const deployment = `svc-${Math.floor(k / NAMESPACES) % DEPLOYMENTS}`;
  return { namespace, name: `${deployment}-7d9f8c-${k.toString(36).padStart(5, "x")}`, uid: `uid-${k}`, workload: `Deployment/${deployment}` };
}

function finding(node: number, j: number, iso: (agoMs: number) => string): NodeFinding {
  const pod = podOf(node * 30 + j);
  const rule = RULE_NAMES[j % RULE_NAMES.length] ?? "CPUThrottling";
  const culprit = rule === "CPUStarvation" ? { culprit: { ...podOf(((node + 1) % 1000) * 30 + 20), score: 0.4 + (j % 5) / 10 } } : {};
  return {
    rule,
    severity: j % 4 === 0 ? "critical" : "warning",
    policy: "default",
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
    container: "app",
    value: 0.3 + ((node * 7 + j) % 60) / 100,
    threshold: 0.25,
    window: "5s",
    firstSeen: iso((j + 1) * 60_000),
    lastSeen: iso(2000),
    ...culprit,
    message: `${rule} on app`,
  };
}

function dependency(node: number, j: number, nodes: number, iso: (agoMs: number) => string): Dependency {
  const local = podOf(node * 30 + (j % 25));
  const peer = podOf(((node + 1 + j) % nodes) * 30 + (j % 30));
  const base = { from: `${local.namespace}/${local.name}`, fromWorkload: local.workload, port: 8080, connections: 1 + (j % 7), recentConnections: j % 5, firstSeen: iso(3_600_000), lastSeen: iso(5000) };
  if (j % 10 === 9) return { ...base, to: `10.${node % 250}.${j}.1`, kind: "External", direction: "outbound" };
  if (j % 10 === 8) return { ...base, to: `${peer.namespace}/svc-${j % DEPLOYMENTS}`, kind: "Service", direction: "outbound" };
  return { ...base, to: `${peer.namespace}/${peer.name}`, toWorkload: peer.workload, kind: "Pod", direction: j % 2 === 0 ? "outbound" : "inbound" };
}

function recentIncident(node: number, j: number, iso: (agoMs: number) => string): RecentIncident {
  const pod = podOf(node * 30 + (j % 25));
  const endAgoMs = (j + 1) * 25 * 60_000;
  return {
    rule: RULE_NAMES[j % RULE_NAMES.length] ?? "CPUThrottling",
    severity: j % 3 === 0 ? "critical" : "warning",
    policy: "default",
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
    workload: pod.workload,
    container: "app",
    start: iso(endAgoMs + 120_000),
    end: iso(endAgoMs),
    peak: 0.6,
    threshold: 0.25,
    message: "closed incident",
  };
}

/** A cluster's worth of NodeFindings as agents write them at the CRD's bounds. */
export function syntheticNodeFindings(nodes: number, nowMs: number): NodeFindings[] {
  const iso = (agoMs: number): string => new Date(nowMs - agoMs).toISOString();
  return Array.from({ length: nodes }, (_, n) => ({
    apiVersion: "xander.io/v1alpha1",
    kind: "NodeFindings",
    metadata: { name: `node-${n}`, creationTimestamp: iso(86_400_000) },
    spec: { nodeName: `node-${n}` },
    status: {
      agent: { version: "bench", cgroupLayout: "v2", lastSample: iso(1000), pods: 30, samplesStored: 1000 },
      findings: Array.from({ length: 10 }, (_, j) => finding(n, j, iso)),
      dependencies: Array.from({ length: 100 }, (_, j) => dependency(n, j, nodes, iso)),
      recentIncidents: Array.from({ length: 50 }, (_, j) => recentIncident(n, j, iso)),
    },
  }));
}

const ALLOW_ALL: AccessGuard = { review: () => Promise.resolve({ allowed: true, user: { username: "bench", groups: [] } }) };

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** Wall time, and CPU time of this process (the server's handler plus the loopback client), in ms. */
async function timeFetch(url: string): Promise<{ wallMs: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const response = await fetch(url);
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

function percentiles(values: number[]): { p50: number; p99: number } {
  values.sort((a, b) => a - b);
  return { p50: Math.round(quantile(values, 0.5) * 100) / 100, p99: Math.round(quantile(values, 0.99) * 100) / 100 };
}

export async function benchDashboard(options: DashboardBenchOptions = {}): Promise<BenchResult[]> {
  const nodes = options.nodes ?? 1000;
  const runs = options.runs ?? 200;
  const nodeFindings = syntheticNodeFindings(nodes, Date.now());
  const service = new ReadService({ nodeFindings: () => Promise.resolve(nodeFindings), heartbeatMs: () => 60_000, history: new HistoryClient(() => Promise.resolve(undefined)), policies: () => Promise.resolve([]) });
  const server = await startHttpServer({ addr: "127.0.0.1:0", registry: new Registry(), readiness: () => ({ ready: true }), routes: [...readRoutes(service, ALLOW_ALL), ...dashboardRoutes(service, ALLOW_ALL), ...webRoutes({ auth: "token" })] });
  const results: BenchResult[] = [];
  try {
    for (const path of ["/", "/assets/app.js", "/api/v1/summary", "/api/v1/top?limit=10"]) {
      const url = `http://127.0.0.1:${server.port}${path}`;
      for (let i = 0; i < 5; i++) await timeFetch(url);
      const samples: { wallMs: number; cpuMs: number }[] = [];
      for (let i = 0; i < runs; i++) samples.push(await timeFetch(url));
      const wall = percentiles(samples.map((t) => t.wallMs));
      const cpu = percentiles(samples.map((t) => t.cpuMs));
      const method = `GET ${path} over ${nodes} NodeFindings (10 findings, 100 dependencies, 50 recent incidents each) from memory, allow-all guard, loopback HTTP; ${runs} sequential requests after 5 warm-up`;
      results.push({ name: `dashboard ${path} wall p50 (${nodes} nodes)`, value: wall.p50, unit: "ms", method });
      results.push({ name: `dashboard ${path} wall p99 (${nodes} nodes)`, value: wall.p99, unit: "ms", target: `≤ ${TARGET_MS}`, pass: wall.p99 <= TARGET_MS, method });
      results.push({ name: `dashboard ${path} CPU p50 (${nodes} nodes)`, value: cpu.p50, unit: "ms CPU", method: `${method}; CPU time of the process per request` });
      results.push({ name: `dashboard ${path} CPU p99 (${nodes} nodes)`, value: cpu.p99, unit: "ms CPU", target: `≤ ${TARGET_MS}`, pass: cpu.p99 <= TARGET_MS, method: `${method}; CPU time of the process per request` });
    }
  } finally {
    await server.close();
  }
  return results;
}
