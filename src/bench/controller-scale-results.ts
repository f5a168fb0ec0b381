/**
 * The controller-scale bench's figures, each held to the goal: the controller at ≤ 200 MiB RSS and
 * ≤ 0.2 cores steady, a change visible within 5 s, the read API's p99 within 50 ms, and no more than one
 * write per node per heartbeat. Pure: measurements in, BenchResults and a Markdown table out.
 */
import type { BenchResult } from "./types.js";

export const GOALS = { rssMiB: 200, cores: 0.2, lagS: 5, readP99Ms: 50, writesPerNodePerHeartbeat: 1 } as const;

export interface ScaleMeasures {
  readonly nodes: number;
  readonly windowS: number;
  readonly heartbeatS: number;
  readonly cpuCores: number;
  readonly rssMiB: number;
  readonly rssMaxMiB: number;
  readonly hwmMiB: number;
  /** Seconds from each change's acknowledged write to its first sighting; Infinity if never seen. */
  readonly policyLagS: readonly number[];
  readonly topLagS: readonly number[];
  readonly readLatenciesMs: ReadonlyMap<string, readonly number[]>;
  readonly readFailures: number;
  /** The controller's own requests to the apiserver in the window, by "METHOD resource" (WATCH: watches started). */
  readonly controllerRequests: Readonly<Record<string, number>>;
  readonly agentHeartbeatWrites: number;
  readonly agentChangeWrites: number;
  readonly agentWriteFailures: number;
  readonly loadBefore: number;
  readonly loadAfter: number;
}

/** The lower empirical quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

const sortNum = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);
const r2 = (value: number): number => Math.round(value * 100) / 100;
const WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"];

export interface Derived {
  readonly controllerReqPerS: number;
  /** The controller's writes to NodeFindings: the per-node writes, beside the agents' heartbeats. */
  readonly controllerWrites: number;
  readonly agentWritesPerS: number;
  readonly heartbeats: number;
  readonly writesPerNodePerHeartbeat: number;
}

export function derive(m: ScaleMeasures): Derived {
  const total = Object.values(m.controllerRequests).reduce((a, b) => a + b, 0);
  const controllerWrites = Object.entries(m.controllerRequests)
    .filter(([key]) => WRITE_METHODS.includes(key.split(" ")[0] ?? "") && key.split(" ")[1]?.startsWith("nodefindings") === true)
    .reduce((sum, [, count]) => sum + count, 0);
  // Heartbeat intervals the window spans for the whole fleet: each node is due for one write per interval.
  const heartbeats = (m.nodes * m.windowS) / m.heartbeatS;
  return {
    controllerReqPerS: total / m.windowS,
    controllerWrites,
    agentWritesPerS: (m.agentHeartbeatWrites + m.agentChangeWrites) / m.windowS,
    heartbeats,
    writesPerNodePerHeartbeat: (m.agentHeartbeatWrites + controllerWrites) / heartbeats,
  };
}

function lagResults(label: string, lags: readonly number[], method: string): BenchResult[] {
  const sorted = sortNum(lags);
  const max = sorted.at(-1) ?? Number.NaN;
  const unseen = lags.filter((l) => !Number.isFinite(l)).length;
  return [
    { name: `controller-scale: lag to ${label}, p50`, value: r2(quantile(sorted, 0.5)), unit: "s", method },
    { name: `controller-scale: lag to ${label}, max`, value: r2(max), unit: "s", target: `≤ ${GOALS.lagS}`, pass: lags.length > 0 && max <= GOALS.lagS, method },
    ...(unseen > 0 ? [{ name: `controller-scale: changes never seen in ${label}`, value: unseen, unit: "changes", method }] : []),
  ];
}

export function scaleResults(m: ScaleMeasures, method: string): BenchResult[] {
  const d = derive(m);
  const lagMethod = `${method}; ${m.policyLagS.length} changes, from the apiserver's acknowledgement of the agent's write to the first sighting (policy: a watch on StarvationPolicies; /top: polled every 500 ms)`;
  const reads = [...m.readLatenciesMs].flatMap(([path, values]): BenchResult[] => {
    const sorted = sortNum(values);
    const readMethod = `${method}; ${values.length} requests, one round of summary, top and incidents per second with a viewer's bearer token (reviews cached 10 s)`;
    return [
      { name: `controller-scale: GET ${path}, p50`, value: r2(quantile(sorted, 0.5)), unit: "ms", method: readMethod },
      { name: `controller-scale: GET ${path}, p99`, value: r2(quantile(sorted, 0.99)), unit: "ms", target: `≤ ${GOALS.readP99Ms}`, pass: sorted.length > 0 && quantile(sorted, 0.99) <= GOALS.readP99Ms, method: readMethod },
    ];
  });
  const byMethod = Object.entries(m.controllerRequests).filter(([, v]) => v > 0).sort(([, a], [, b]) => b - a).map(([k, v]) => `${k} ${v}`).join(", ");
  return [
    { name: "controller-scale: controller CPU, steady", value: r2(m.cpuCores), unit: "cores", target: `≤ ${GOALS.cores}`, pass: m.cpuCores <= GOALS.cores, method: `${method}; utime+stime of the controller from /proc over the window` },
    { name: "controller-scale: controller RSS, median over the window", value: r2(m.rssMiB), unit: "MiB", target: `≤ ${GOALS.rssMiB}`, pass: m.rssMiB <= GOALS.rssMiB, method: `${method}; VmRSS every second` },
    { name: "controller-scale: controller RSS, max over the window", value: r2(m.rssMaxMiB), unit: "MiB", method: `${method}; VmRSS every second` },
    { name: "controller-scale: controller peak RSS (VmHWM)", value: r2(m.hwmMiB), unit: "MiB", method: `${method}; VmHWM at the end, start-up and the initial lists included` },
    ...lagResults("policy status", m.policyLagS, lagMethod),
    ...lagResults("GET /api/v1/top", m.topLagS, lagMethod),
    ...reads,
    { name: "controller-scale: controller requests to the apiserver", value: r2(d.controllerReqPerS), unit: "req/s", method: `${method}; the controller's xander_controller_api_requests_total over the window (${byMethod})` },
    { name: "controller-scale: agents' status writes (played by the bench)", value: r2(d.agentWritesPerS), unit: "req/s", method: `${method}; ${m.agentHeartbeatWrites} heartbeats and ${m.agentChangeWrites} changes, ${m.agentWriteFailures} failed` },
    { name: "controller-scale: Xander's requests to the apiserver in all", value: r2(d.controllerReqPerS + d.agentWritesPerS), unit: "req/s", method: `${method}; controller plus the agents' status writes (agents' own watches not played)` },
    {
      name: "controller-scale: writes per node per heartbeat",
      value: Math.round(d.writesPerNodePerHeartbeat * 1000) / 1000,
      unit: "writes",
      target: `≤ ${GOALS.writesPerNodePerHeartbeat}`,
      pass: d.writesPerNodePerHeartbeat <= GOALS.writesPerNodePerHeartbeat,
      method: `${method}; (agents' heartbeat writes + the controller's ${d.controllerWrites} writes to NodeFindings) ÷ (nodes × heartbeat intervals in the window); a change's own write is not a heartbeat, and the controller's Lease and policy status writes are per cluster, in its request rate`,
    },
    { name: "controller-scale: read API failures", value: m.readFailures, unit: "requests", method },
    { name: "controller-scale: load average (1 min), start of window", value: m.loadBefore, unit: "load", method: "/proc/loadavg" },
    { name: "controller-scale: load average (1 min), end of window", value: m.loadAfter, unit: "load", method: "/proc/loadavg" },
  ];
}

/** The results as a Markdown table for BENCHMARKS.md. */
export function scaleTable(results: readonly BenchResult[]): string {
  const rows = results.map((r) => `| ${r.name.replace(/^controller-scale: /, "")} | ${r.value} ${r.unit} | ${r.target ?? ""} | ${r.pass === undefined ? "" : r.pass ? "met" : "missed"} |`);
  return ["| figure | measured | goal | |", "|---|---|---|---|", ...rows].join("\n");
}
