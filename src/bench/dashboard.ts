/**
 * What the dashboard costs the server at cluster scale: the page shell and the two views the overview
 * reads on every load and every push, over 1,000 nodes' NodeFindings held in memory.
 *
 * Method. 1,000 NodeFindings as agents write them, the read-model bench's (read-model.ts): each with 10 open
 * findings, 100 dependency entries and 50 closed recentIncidents of the last day; 40 namespaces, 20
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
import { dashboardRoutes } from "../controller/dashboard-api.js";
import { agentIdentity } from "../controller/daemonset.js";
import { readRoutes } from "../controller/read-api.js";
import { ReadService } from "../controller/read-service.js";
import { HistoryClient } from "../kube/history-client.js";
import type { AccessGuard } from "../server/api.js";
import { startHttpServer } from "../server/http.js";
import { webRoutes } from "../server/web-assets.js";
import { realisticNodeFindings } from "./read-model.js";
import type { BenchResult } from "./types.js";

export interface DashboardBenchOptions {
  readonly nodes?: number;
  readonly runs?: number;
}

const TARGET_MS = 100;

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
  const nodeFindings = realisticNodeFindings(nodes, Date.now());
  const service = new ReadService({ nodeFindings: () => Promise.resolve(nodeFindings), heartbeatMs: () => 60_000, history: new HistoryClient(() => Promise.resolve(undefined), () => Promise.resolve([]), agentIdentity("xander-system")), policies: () => Promise.resolve([]) });
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
