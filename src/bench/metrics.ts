/**
 * What one scrape of the agent's /metrics costs: rendering its registry to the Prometheus text format.
 *
 * Method. The agent's own AgentMetrics, filled as a running agent fills it on a full node: 110 pods × 3
 * containers sampled (samples, ticks and the tick-duration histogram after an hour at 1 s), 20 open
 * findings through observeFindings (every rule; the CPUStarvation ones with a culprit, so with their
 * culprit_info series), each of them once raised (xander_incidents_total), plus 200 closed earlier in
 * other namespaces, status writes, events and the dependency poll histogram. The agent registers no
 * default process metrics; a second figure adds prom-client's collectDefaultMetrics to the same registry,
 * for a deployment that would. Each registry is rendered 200 times to warm up, then `renders` times one
 * after another, timing `registry.metrics()` (what the /metrics handler awaits) with performance.now()
 * (median, p99, max) and the process's CPU time around it (median, p99: on a shared machine the wall
 * time also holds the wait for a CPU), and the page's size in bytes and its series (sample lines).
 * Target: p99 ≤ 5 ms for the agent's registry.
 */
import { performance } from "node:perf_hooks";
import { collectDefaultMetrics } from "prom-client";
import { RULE_NAMES, type Finding } from "../analysis/types.js";
import { AgentMetrics } from "../agent/metrics.js";
import type { BenchResult } from "./types.js";

export interface MetricsBenchOptions {
  readonly pods?: number;
  readonly containersPerPod?: number;
  readonly openFindings?: number;
  readonly renders?: number;
}

const TARGET_MS = 5;
const WARMUP = 200;
const TICKS = 3600;

function openFinding(i: number, pods: number): Finding {
  const rule = RULE_NAMES[i % (RULE_NAMES.length - 1)] ?? "CPUThrottling"; // every rule but the node-level NodePressure
  const k = (i * 7) % pods;
  const pod = { uid: `uid-${k}`, namespace: `team-${k % 12}`, name: `svc-${k % 9}-7d9f8c-${k.toString(36).padStart(5, "x")}` };
  const neighbour = (k + 1) % pods;
  const culprit = rule === "CPUStarvation" ? { culprit: { pod: { uid: `uid-${neighbour}`, namespace: `team-${neighbour % 12}`, name: `batch-${neighbour}` }, score: 0.8, evidence: "used 1.9 cores" } } : {};
  return {
    rule,
    severity: i % 4 === 0 ? "critical" : "warning",
    policy: "default",
    pod,
    container: `c${i % 3}`,
    value: 0.3 + (i % 50) / 100,
    threshold: 0.25,
    windowMs: 10_000,
    firstSeenMs: 0,
    lastSeenMs: 1000,
    ...culprit,
    message: `${rule} on c${i % 3}`,
  };
}

/** A registry as an agent on a full node leaves it after an hour. */
export function filledAgentMetrics(opts: MetricsBenchOptions = {}): AgentMetrics {
  const pods = opts.pods ?? 110;
  const containers = pods * (opts.containersPerPod ?? 3);
  const m = new AgentMetrics();
  m.pods.set(pods);
  m.samples.inc(containers * TICKS);
  m.ticks.inc(TICKS);
  for (let t = 0; t < TICKS; t++) m.tickSeconds.observe(0.002 + (t % 40) / 10_000);
  for (let t = 0; t < TICKS / 10; t++) m.dependencyPollSeconds.observe(0.004 + (t % 30) / 10_000);
  m.dependencyEdges.set(100);
  m.statusWrites.inc({ outcome: "ok", reason: "first" });
  m.statusWrites.inc({ outcome: "ok", reason: "change" }, 240);
  m.statusWrites.inc({ outcome: "ok", reason: "heartbeat" }, 60);
  m.events.inc(220);
  // Incidents that closed earlier leave their counters behind, in namespaces with nothing open now.
  const closed = Array.from({ length: 200 }, (_, i) => ({ ...openFinding(i, pods), pod: { uid: `old-${i}`, namespace: `old-${i % 30}`, name: `old-${i}` } }));
  m.observeFindings([], closed);
  const open = Array.from({ length: opts.openFindings ?? 20 }, (_, i) => openFinding(i, pods));
  m.observeFindings(open, open);
  return m;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

async function measure(label: string, m: AgentMetrics, renders: number, target: boolean, method: string): Promise<BenchResult[]> {
  let page = "";
  for (let i = 0; i < WARMUP; i++) page = await m.registry.metrics();
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < renders; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    page = await m.registry.metrics();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const p99 = round(percentile(times, 99));
  const series = page.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
  const at = `${label}, ${renders} renders`;
  return [
    { name: `metrics render median (${label})`, value: round(percentile(times, 50)), unit: "ms", method: `${at}; ${method}` },
    { name: `metrics render p99 (${label})`, value: p99, unit: "ms", ...(target ? { target: `≤ ${TARGET_MS}`, pass: p99 <= TARGET_MS } : {}), method: `${at}; ${method}` },
    { name: `metrics render CPU median (${label})`, value: round(percentile(cpu, 50)), unit: "ms CPU", method: `${at}; process.cpuUsage() around each render` },
    { name: `metrics render CPU p99 (${label})`, value: round(percentile(cpu, 99)), unit: "ms CPU", method: `${at}; process.cpuUsage() around each render` },
    { name: `metrics render max (${label})`, value: round(times[times.length - 1] ?? Number.NaN), unit: "ms", method: `${at}; ${method}` },
    { name: `metrics page size (${label})`, value: Buffer.byteLength(page), unit: "bytes", method: at },
    { name: `metrics page series (${label})`, value: series, unit: "series", method: at },
  ];
}

export async function benchMetrics(opts: MetricsBenchOptions = {}): Promise<BenchResult[]> {
  const renders = opts.renders ?? 2000;
  const pods = opts.pods ?? 110;
  const findings = opts.openFindings ?? 20;
  const label = `${pods} pods × ${opts.containersPerPod ?? 3}, ${findings} open findings`;
  const method = "await registry.metrics(), timed with performance.now(); see src/bench/metrics.ts";
  const agent = await measure(label, filledAgentMetrics(opts), renders, true, method);
  const withDefaults = filledAgentMetrics(opts);
  collectDefaultMetrics({ register: withDefaults.registry });
  const defaults = await measure(`${label} + default metrics`, withDefaults, renders, false, method);
  return [...agent, ...defaults];
}
