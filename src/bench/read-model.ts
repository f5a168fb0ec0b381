/**
 * What the read model costs at cluster scale: `summary` and `top` over 1,000 NodeFindings, as the
 * controller computes them for `/api/v1/summary`, `/api/v1/top` and the dashboard.
 *
 * Method. 1,000 NodeFindings as agents write them at the CRD's bounds: each with 10 open findings (every
 * rule; CPUStarvation with a culprit on the same node), 100 dependency entries (outbound and
 * inbound, to pods on other nodes, Services and external IPs, each with the owners of both ends) and 50
 * closed recentIncidents of the last 24 hours. 40 namespaces, 20 Deployments each, pods spread over the
 * nodes. No incidents are passed in, so each view derives them from NodeFindings, as it does when no
 * agent history is at hand. Two cases, each run 5 times to warm up, then `runs` times, with median and
 * p99 of the elapsed time:
 * - cold: every NodeFindings is a new object (a shallow copy, made outside the timer), so nothing derived
 *   from an earlier call is reused — what a caller without a watch cache pays (`xander summary`);
 * - prepared: every NodeFindings is a new object, prepared outside the timer as the controller prepares
 *   each object its watch delivers — the controller's first call after a start; the preparation itself is
 *   timed too, per object;
 * - steady: 1% of the NodeFindings are new objects at each call — the controller recomputing after a few
 *   agents wrote, which is what it does all day.
 */
import { performance } from "node:perf_hooks";
import { RULE_NAMES } from "../analysis/types.js";
import type { Dependency, NodeFinding, NodeFindings, RecentIncident } from "../api/types.generated.js";
import { prepareNodeFindings } from "../report/prepare.js";
import { summary } from "../report/summary.js";
import { top } from "../report/top.js";
import type { ReadModelInput } from "../report/types.js";
import type { BenchResult } from "./types.js";

export interface ReadModelBenchOptions {
  readonly nodes?: number;
  readonly runs?: number;
}

const NOW = Date.parse("2025-06-01T12:00:00Z");
const HEARTBEAT_MS = 60_000;
const FINDINGS = 10;
const DEPENDENCIES = 100;
const RECENT_INCIDENTS = 50;
const NAMESPACES = 40;
const DEPLOYMENTS = 20;
/** The view must stay well inside a dashboard refresh and a controller resync. */
const TARGET_MS = 50;

type Iso = (agoMs: number) => string;

/** Pod `k` of the cluster: namespace, Deployment and a ReplicaSet-style name. */
function podOf(k: number): { namespace: string; name: string; uid: string; workload: string } {
  const namespace = `team-${k % NAMESPACES}`;
  const deployment = `svc-${Math.floor(k / NAMESPACES) % DEPLOYMENTS}`;
  return { namespace, name: `${deployment}-7d9f8c${(k % 97).toString(16)}-${k.toString(36).padStart(5, "x")}`, uid: `uid-${k}`, workload: `Deployment/${deployment}` };
}

function finding(node: number, j: number, iso: Iso): NodeFinding {
  const pod = podOf(node * 30 + j);
  const rule = RULE_NAMES[j % RULE_NAMES.length] ?? "CPUThrottling";
  const culprit = rule === "CPUStarvation" ? { culprit: { ...podOf(node * 30 + 20), score: 0.4 + (j % 5) / 10 } } : {};
  return {
    rule,
    severity: j % 4 === 0 ? "critical" : j % 4 === 3 ? "info" : "warning",
    policy: "default",
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
    container: "app",
    value: 0.3 + ((node * 7 + j) % 60) / 100,
    threshold: 0.25,
    window: "5s",
    firstSeen: iso((j + 1) * 60_000),
    lastSeen: iso(2000),
    ...culprit,
    evidence: { cpuStallShare: "0.41", neighbourCores: "2.9" },
    message: `${rule} on app: 41% of the window (threshold 25%)`,
  };
}

function dependency(node: number, j: number, nodes: number, iso: Iso): Dependency {
  const local = podOf(node * 30 + (j % 25));
  const peer = podOf(((node + 1 + j) % nodes) * 30 + (j % 30));
  const base = { from: `${local.namespace}/${local.name}`, fromWorkload: local.workload, port: 8080, connections: 1 + (j % 7), recentConnections: j % 5, firstSeen: iso(3_600_000), lastSeen: iso(5000) };
  if (j % 10 === 9) return { ...base, to: `10.${node % 250}.${j}.1`, kind: "External", direction: "outbound" };
  if (j % 10 === 8) return { ...base, to: `${peer.namespace}/svc-${j % DEPLOYMENTS}`, kind: "Service", direction: "outbound" };
  return { ...base, to: `${peer.namespace}/${peer.name}`, toWorkload: peer.workload, kind: "Pod", direction: j % 2 === 0 ? "outbound" : "inbound" };
}

function recentIncident(node: number, j: number, iso: Iso): RecentIncident {
  const pod = podOf(node * 30 + (j % 25));
  const endAgoMs = (j + 1) * 25 * 60_000;
  return {
    rule: RULE_NAMES[j % RULE_NAMES.length] ?? "CPUThrottling",
    severity: j % 3 === 0 ? "critical" : "warning",
    policy: "default",
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
    container: "app",
    workload: pod.workload,
    start: iso(endAgoMs + 180_000),
    end: iso(endAgoMs),
    peak: 0.62,
    peakAt: iso(endAgoMs + 60_000),
    threshold: 0.3,
    culprits: j % 7 === 1 ? [{ ...podOf(node * 30 + 20), score: 0.7, share: 0.8 }] : [],
    callers: [`${pod.namespace}/frontend`],
    message: "stalled on CPU 62% of the time",
  };
}

/** A cluster's worth of NodeFindings as agents write them at the CRD's bounds, as seen at `nowMs`; shared with the dashboard bench. */
export function realisticNodeFindings(nodes: number, nowMs = NOW): NodeFindings[] {
  const iso: Iso = (agoMs) => new Date(nowMs - agoMs).toISOString();
  return Array.from({ length: nodes }, (_, node) => ({
    apiVersion: "xander.io/v1alpha1",
    kind: "NodeFindings",
    metadata: { name: `node-${node}`, creationTimestamp: iso(86_400_000) },
    spec: { nodeName: `node-${node}` },
    status: {
      agent: { version: "0.1.0", cgroupLayout: "v2/systemd", lastSample: iso(node % 50 === 0 ? 600_000 : 5000), pods: 30, samplesStored: 1_000_000 },
      findings: Array.from({ length: FINDINGS }, (_, j) => finding(node, j, iso)),
      dependencies: Array.from({ length: DEPENDENCIES }, (_, j) => dependency(node, j, nodes, iso)),
      recentIncidents: Array.from({ length: RECENT_INCIDENTS }, (_, j) => recentIncident(node, j, iso)),
    },
  }));
}

/** Times `view` on the inputs `prepare` returns, which are made outside the timer. */
function time<T>(runs: number, prepare: (run: number) => T, view: (input: T) => unknown): { readonly medianMs: number; readonly p99Ms: number; readonly cpuMedianMs: number } {
  for (let k = 0; k < 5; k++) view(prepare(-1 - k));
  const elapsed: number[] = [];
  const cpu: number[] = [];
  for (let k = 0; k < runs; k++) {
    const input = prepare(k);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    view(input);
    elapsed.push(performance.now() - started);
    const spent = process.cpuUsage(cpuBefore);
    cpu.push((spent.user + spent.system) / 1000);
  }
  elapsed.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { medianMs: elapsed[Math.floor(runs / 2)] ?? 0, p99Ms: elapsed[Math.min(runs - 1, Math.ceil(runs * 0.99) - 1)] ?? 0, cpuMedianMs: cpu[Math.floor(runs / 2)] ?? 0 };
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

export function benchReadModel(options: ReadModelBenchOptions = {}): Promise<BenchResult[]> {
  const nodes = options.nodes ?? 1000;
  const runs = Math.max(30, options.runs ?? 50);
  const current = realisticNodeFindings(nodes);
  const changedPerRun = Math.max(1, Math.round(nodes / 100));
  const cold = (): ReadModelInput => ({ nodeFindings: current.map((nf) => ({ ...nf })), nowMs: NOW, heartbeatMs: HEARTBEAT_MS });
  const steady = (run: number): ReadModelInput => {
    for (let k = 0; k < changedPerRun; k++) {
      const at = (((run + 10) * changedPerRun + k) % nodes + nodes) % nodes;
      current[at] = { ...(current[at] as NodeFindings) };
    }
    return { nodeFindings: [...current], nowMs: NOW, heartbeatMs: HEARTBEAT_MS };
  };
  const prepared = (): ReadModelInput => {
    const input = cold();
    input.nodeFindings.forEach(prepareNodeFindings);
    return input;
  };
  const shape = `${nodes} NodeFindings × (${FINDINGS} findings, ${DEPENDENCIES} dependencies, ${RECENT_INCIDENTS} recentIncidents), incidents derived from them`;
  const results: BenchResult[] = [];
  for (const [name, view] of [
    ["summary", summary],
    ["top", (input: ReadModelInput) => top(input)],
  ] as const) {
    for (const [mode, prepare, what] of [
      ["cold", cold, "every NodeFindings a new object"],
      ["prepared", prepared, "every NodeFindings a new object, prepared at arrival"],
      ["steady", steady, `${changedPerRun} NodeFindings new at each call`],
    ] as const) {
      const t = time(runs, prepare, view);
      const method = `${shape}; ${what}; elapsed over ${runs} runs after 5 warm-ups`;
      const label = `read-model ${name}, ${nodes} nodes, ${mode}`;
      // Without a watch cache nothing can be prepared ahead: the cold case is reported, not held to the target.
      const target = mode === "cold" ? {} : { target: `≤ ${TARGET_MS}`, pass: t.medianMs <= TARGET_MS };
      results.push(
        { name: `${label}, median`, value: round(t.medianMs), unit: "ms", ...target, method },
        { name: `${label}, p99`, value: round(t.p99Ms), unit: "ms", method },
        { name: `${label}, CPU median`, value: round(t.cpuMedianMs), unit: "ms", method: `${method}; process CPU time, garbage-collector threads included` },
      );
    }
  }
  results.push(preparation(current));
  return Promise.resolve(results);
}

/** What the controller spends on each NodeFindings its watch delivers, so that views need not. */
function preparation(nodeFindings: readonly NodeFindings[]): BenchResult {
  const perObject: number[] = [];
  for (let k = 0; k < 5; k++) {
    const copies = nodeFindings.map((nf) => ({ ...nf }));
    const started = performance.now();
    copies.forEach(prepareNodeFindings);
    perObject.push((performance.now() - started) / copies.length);
  }
  perObject.sort((a, b) => a - b);
  return {
    name: `read-model prepare one NodeFindings at arrival, median`,
    value: round(perObject[2] ?? 0),
    unit: "ms",
    method: `${nodeFindings.length} new NodeFindings of the shape above prepared one after another, 5 rounds; elapsed per object`,
  };
}
