/**
 * What a user sees in `top`: Xander's processes beside cAdvisor, on the same 110 pods × 3 containers of real
 * cgroups (root needed).
 *
 * Method. The tree of `tick-real`, made once. Each process runs on its own, one after another, in every round
 * (`xander scan --no-history`, `xander scan` with history, `xander agent` against a control plane with a Node
 * and matching Pods, cAdvisor at 1 s housekeeping without dynamic housekeeping, cAdvisor at the kubelet's
 * settings); three rounds alternate them. Once a process has found every bench container, it warms up, then
 * over a steady window the bench reads its utime + stime from /proc/PID/stat at both ends, VmRSS from
 * /proc/PID/status every second, and VmHWM at the end, and how many samples it took of the bench's
 * containers (cAdvisor's counts per container; the agent's /metrics; scan's report at exit, over its whole
 * run). Figures are min, median and max over the rounds; ratios compare medians with cAdvisor at 1 s.
 *
 * The warm-up is long because V8 is: it keeps optimizing functions that run once a tick or once every few
 * seconds for minutes. The agent measured 33 ms/s over its second half-minute, 22 over its third, and 18–25
 * from 90 s on (BENCHMARKS.md); after a 20 s warm-up the window counted much of the compiler's work.
 *
 * The agent's control plane holds a whole cluster's Pods, 5,000 by default (the issue's memory goal): the agent's
 * 110 and the rest on other nodes, which its cluster-wide Pod watch (dependency mapping) lists and caches.
 *
 * Environment: XANDER_BENCH_WARMUP_S (default 120), XANDER_BENCH_WINDOW_S (100), XANDER_BENCH_ROUNDS (3),
 * XANDER_BENCH_CLUSTER_PODS (5000),
 * XANDER_BENCH_PROCESSES (comma-separated keys, default all), XANDER_BENCH_CPU_PROF (a directory: Xander's
 * processes write V8 CPU profiles there), KUBECONFIG (the control plane for the agent; default: start one).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { detectLayout } from "../cgroup/layout.js";
import { CgroupSandbox, type SandboxPod } from "../demo/sandbox.js";
import { agentContender, cadvisorBinary, cadvisorContender, scanContender, type Contender, type ContenderContext, type SampleCount } from "./process-contenders.js";
import { populateBenchCluster, startBenchCluster } from "./process-cluster.js";
import { addBenchPods, CONTAINERS_PER_POD, PODS } from "./pod-tree.js";
import { readLoadAverage, readProcUsage } from "./proc-usage.js";
import type { BenchResult } from "./types.js";
import { positiveNumber } from "./env.js";

/** Issue goals: the agent at ≤ 1 % of a core and ≤ 100 MiB; scan ≤ 80 MiB. */
const AGENT_CPU_MS_PER_S = 10;
const AGENT_RSS_MIB = 100;
const SCAN_RSS_MIB = 80;

interface Settings {
  readonly warmupS: number;
  readonly windowS: number;
  readonly rounds: number;
  /** Pods in the agent's cluster, its own node's included. */
  readonly clusterPods: number;
  readonly only?: readonly string[];
  readonly cpuProfDir?: string;
}

/** One process's steady window in one round. */
export interface WindowMeasure {
  readonly cpuMsPerS: number;
  readonly rssMiB: number;
  /** RssAnon, median over the window: RSS without the mapped node binary and libraries. */
  readonly anonMiB: number;
  readonly hwmMiB: number;
  readonly containers: number;
  /** Every cgroup the process sampled, other pods' under /kubepods included (cAdvisor: pod and QoS levels too). */
  readonly tracked: number;
  readonly samplesPerContainerPerS: number;
  readonly loadBefore: number;
  readonly loadAfter: number;
}

function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  const num = (name: string, fallback: number): number => positiveNumber(env, name, fallback);
  return {
    warmupS: num("XANDER_BENCH_WARMUP_S", 120),
    windowS: num("XANDER_BENCH_WINDOW_S", 100),
    rounds: num("XANDER_BENCH_ROUNDS", 3),
    clusterPods: num("XANDER_BENCH_CLUSTER_PODS", 5000),
    ...(env.XANDER_BENCH_PROCESSES ? { only: env.XANDER_BENCH_PROCESSES.split(",") } : {}),
    ...(env.XANDER_BENCH_CPU_PROF ? { cpuProfDir: env.XANDER_BENCH_CPU_PROF } : {}),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const MiB = (kib: number): number => kib / 1024;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

async function measureOne(contender: Contender, dir: string, round: number, settings: Settings): Promise<WindowMeasure> {
  const running = await contender.start(dir, round);
  let stopped = false;
  try {
    const started = performance.now();
    await running.ready();
    await sleep(settings.warmupS * 1000);
    const loadBefore = readLoadAverage();
    const before = readProcUsage(running.pid);
    const samplesBefore = await running.samples();
    const t0 = performance.now();
    const rss: number[] = [];
    const anon: number[] = [];
    for (let s = 0; s < settings.windowS; s++) {
      await sleep(1000);
      const usage = readProcUsage(running.pid);
      rss.push(usage.rssKiB);
      anon.push(usage.anonKiB);
    }
    const after = readProcUsage(running.pid);
    const samplesAfter = await running.samples();
    const seconds = (performance.now() - t0) / 1000;
    const loadAfter = readLoadAverage();
    const atExit = await running.stop();
    stopped = true;
    const rate = sampleRate(samplesBefore, samplesAfter, seconds, atExit, (performance.now() - started) / 1000);
    return {
      cpuMsPerS: (after.cpuMs - before.cpuMs) / seconds,
      rssMiB: MiB(median(rss)),
      anonMiB: MiB(median(anon)),
      hwmMiB: MiB(after.hwmKiB),
      containers: rate.containers,
      tracked: rate.tracked,
      samplesPerContainerPerS: rate.perContainerPerS,
      loadBefore,
      loadAfter,
    };
  } finally {
    if (!stopped) await running.stop().catch(() => undefined);
  }
}

/** Over the window when the process can be asked mid-run; otherwise over its whole run, from its report at exit. */
function sampleRate(before: SampleCount | undefined, after: SampleCount | undefined, windowS: number, atExit: SampleCount | undefined, runS: number): { containers: number; tracked: number; perContainerPerS: number } {
  if (before !== undefined && after !== undefined) {
    return { containers: after.containers, tracked: after.tracked, perContainerPerS: after.containers === 0 ? 0 : (after.samples - before.samples) / after.containers / windowS };
  }
  // scan's samples count every pod it found, so the rate is per container it tracked.
  if (atExit !== undefined) return { containers: atExit.containers, tracked: atExit.tracked, perContainerPerS: atExit.tracked === 0 ? 0 : atExit.samples / atExit.tracked / runS };
  return { containers: 0, tracked: 0, perContainerPerS: 0 };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** min, median and max of one figure over the rounds, as three results. */
function spread(name: string, values: readonly number[], unit: string, method: string, target?: { text: string; pass: (median: number) => boolean }): BenchResult[] {
  const m = median(values);
  return [
    { name: `${name}, median`, value: round2(m), unit, ...(target ? { target: target.text, pass: target.pass(m) } : {}), method },
    { name: `${name}, min`, value: round2(Math.min(...values)), unit, method },
    { name: `${name}, max`, value: round2(Math.max(...values)), unit, method },
  ];
}

export function processResults(contenders: readonly Contender[], measures: ReadonlyMap<string, readonly WindowMeasure[]>, method: string): BenchResult[] {
  const results: BenchResult[] = [];
  const cpuTarget = { text: `≤ ${AGENT_CPU_MS_PER_S}`, pass: (m: number) => m <= AGENT_CPU_MS_PER_S };
  const rssTarget = (limit: number): { text: string; pass: (m: number) => boolean } => ({ text: `≤ ${limit}`, pass: (m) => m <= limit });
  for (const contender of contenders) {
    const runs = measures.get(contender.key) ?? [];
    if (runs.length === 0) continue;
    const label = `process ${contender.key}`;
    const isAgent = contender.key === "agent";
    const isScan = contender.key.startsWith("scan");
    results.push(
      ...spread(`${label}: CPU`, runs.map((r) => r.cpuMsPerS), "ms CPU/s", method, isAgent ? cpuTarget : undefined),
      ...spread(`${label}: RSS (median over the window)`, runs.map((r) => r.rssMiB), "MiB", method, isAgent ? rssTarget(AGENT_RSS_MIB) : isScan ? rssTarget(SCAN_RSS_MIB) : undefined),
      ...spread(`${label}: anonymous RSS (RssAnon, median over the window)`, runs.map((r) => r.anonMiB), "MiB", method),
      { name: `${label}: peak RSS (VmHWM), max`, value: round2(Math.max(...runs.map((r) => r.hwmMiB))), unit: "MiB", method },
      { name: `${label}: bench containers sampled, min`, value: Math.min(...runs.map((r) => r.containers)), unit: "containers", method },
      { name: `${label}: cgroups sampled in all, max`, value: Math.max(...runs.map((r) => r.tracked)), unit: "cgroups", method },
      { name: `${label}: samples per container per second, median`, value: round2(median(runs.map((r) => r.samplesPerContainerPerS))), unit: "samples/s", method },
    );
  }
  const cadvisor = measures.get("cadvisor-1s");
  if (cadvisor !== undefined) {
    const cadCpu = median(cadvisor.map((r) => r.cpuMsPerS));
    const cadPerSample = cadCpu / median(cadvisor.map((r) => r.samplesPerContainerPerS));
    for (const key of ["scan", "scan-history", "agent"]) {
      const runs = measures.get(key);
      if (runs === undefined) continue;
      const cpu = median(runs.map((r) => r.cpuMsPerS));
      const perSample = cpu / median(runs.map((r) => r.samplesPerContainerPerS));
      results.push(
        { name: `process ${key} ÷ cAdvisor 1 s: CPU per second`, value: round2(cpu / cadCpu), unit: "×", method },
        { name: `process ${key} ÷ cAdvisor 1 s: CPU per container sample`, value: round2(perSample / cadPerSample), unit: "×", method },
      );
    }
  }
  const loads = [...measures.values()].flat().flatMap((r) => [r.loadBefore, r.loadAfter]);
  if (loads.length > 0) {
    results.push(
      { name: "process bench: load average (1 min), min", value: Math.min(...loads), unit: "load", method: "read at the start and end of every window" },
      { name: "process bench: load average (1 min), max", value: Math.max(...loads), unit: "load", method: "read at the start and end of every window" },
    );
  }
  return results;
}

/** A Markdown table of the medians and spreads, for BENCHMARKS.md. */
export function processTable(contenders: readonly Contender[], measures: ReadonlyMap<string, readonly WindowMeasure[]>): string {
  const range = (values: readonly number[], digits: number): string =>
    `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
  const rows = contenders.flatMap((c) => {
    const runs = measures.get(c.key) ?? [];
    if (runs.length === 0) return [];
    const cells = [
      c.label,
      range(runs.map((r) => r.cpuMsPerS), 1),
      range(runs.map((r) => r.rssMiB), 0),
      range(runs.map((r) => r.anonMiB), 0),
      Math.max(...runs.map((r) => r.hwmMiB)).toFixed(0),
      `${Math.min(...runs.map((r) => r.containers))} / ${Math.max(...runs.map((r) => r.tracked))}`,
      median(runs.map((r) => r.samplesPerContainerPerS)).toFixed(2),
    ];
    return [`| ${cells.join(" | ")} |`];
  });
  return [
    "| process | CPU ms/s, median (min–max) | RSS MiB, median (min–max) | of it anonymous (RssAnon) | peak RSS MiB | bench containers / cgroups in all | samples per container per s |",
    "|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

interface Prepared {
  readonly pods: SandboxPod[];
  readonly agent?: ContenderContext["agent"];
  readonly close: () => Promise<void>;
}

/** The bench's pod tree, and for the agent a control plane that knows the same pods. */
async function prepare(sandbox: CgroupSandbox, withAgent: boolean, clusterPods: number, log: (line: string) => void): Promise<Prepared> {
  if (!withAgent) return { pods: addBenchPods(sandbox), close: () => Promise.resolve() };
  const control = await startBenchCluster(log);
  try {
    const populated = await populateBenchCluster(control.kubeconfig, sandbox, Math.max(0, clusterPods - PODS), log);
    return {
      pods: populated.pods,
      agent: { kubeconfig: control.kubeconfig, nodeName: populated.cluster.nodeName },
      close: async () => {
        await populated.cluster.close().catch((error: unknown) => { log(`cleanup of the bench's API objects failed: ${String(error)}`); });
        await control.stop();
      },
    };
  } catch (error) {
    await control.stop();
    throw error;
  }
}

function contendersFor(ctx: ContenderContext, wants: (key: string) => boolean, log: (line: string) => void): Contender[] {
  const cadvisor = wants("cadvisor-1s") || wants("cadvisor-kubelet") ? cadvisorBinary(log) : undefined;
  return [
    scanContender(ctx, false),
    scanContender(ctx, true),
    agentContender(ctx),
    cadvisor === undefined ? undefined : cadvisorContender(ctx, cadvisor, "1s"),
    cadvisor === undefined ? undefined : cadvisorContender(ctx, cadvisor, "kubelet"),
  ].filter((c): c is Contender => c !== undefined && wants(c.key));
}

async function measureRounds(contenders: readonly Contender[], dir: string, settings: Settings, log: (line: string) => void): Promise<Map<string, WindowMeasure[]>> {
  const measures = new Map<string, WindowMeasure[]>();
  for (let round = 0; round < settings.rounds; round++) {
    // Alternate the order, so no process always runs right after the same neighbour.
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const contender of order) {
      log(`round ${round + 1}/${settings.rounds}: ${contender.key} (${settings.warmupS} s warm-up, ${settings.windowS} s window) ...`);
      const m = await measureOne(contender, dir, round, settings);
      log(`  ${m.cpuMsPerS.toFixed(1)} ms CPU/s, RSS ${m.rssMiB.toFixed(0)} MiB (anonymous ${m.anonMiB.toFixed(0)}, peak ${m.hwmMiB.toFixed(0)}), ${m.containers} containers, ${m.samplesPerContainerPerS.toFixed(2)} samples/container/s, load ${m.loadBefore}→${m.loadAfter}`);
      measures.set(contender.key, [...(measures.get(contender.key) ?? []), m]);
    }
  }
  return measures;
}

export async function benchProcess(env: NodeJS.ProcessEnv = process.env): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) {
    return [{ name: "process: whole-process cost", value: Number.NaN, unit: "ms CPU/s", pass: false, method: "not measured: needs root to create cgroups" }];
  }
  const settings = settingsFromEnv(env);
  const log = (line: string): void => { console.error(`[process] ${line}`); };
  const wants = (key: string): boolean => settings.only === undefined || settings.only.includes(key);
  const layout = await detectLayout("/sys/fs/cgroup");
  if (!layout.ok) throw new Error(layout.error.message);
  const dir = mkdtempSync(join(tmpdir(), "xander-bench-process-"));
  const sandbox = new CgroupSandbox(layout.value);
  let prepared: Prepared | undefined;
  try {
    prepared = await prepare(sandbox, wants("agent"), settings.clusterPods, log);
    const nodeFlags = settings.cpuProfDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${settings.cpuProfDir}`];
    const ctx: ContenderContext = { pods: prepared.pods, containersPerPod: CONTAINERS_PER_POD, nodeFlags, ...(prepared.agent === undefined ? {} : { agent: prepared.agent }) };
    const contenders = contendersFor(ctx, wants, log);
    const measures = await measureRounds(contenders, dir, settings, log);
    log(`\n${processTable(contenders, measures)}`);
    const method = `${prepared.pods.length} pods × ${CONTAINERS_PER_POD} containers in this host's real cgroups; ${settings.rounds} alternating rounds, each process alone: ${settings.warmupS} s warm-up after it found every container, then ${settings.windowS} s window; utime+stime from /proc/PID/stat, VmRSS every second, VmHWM at the end${prepared.agent === undefined ? "" : `; the agent's cluster holds ${Math.max(settings.clusterPods, PODS)} Pods`}`;
    return processResults(contenders, measures, method);
  } finally {
    await prepared?.close();
    const failures = await sandbox.cleanup();
    if (failures.length > 0) log(`cgroups left behind: ${failures.join(", ")}`);
    if (env.XANDER_BENCH_KEEP_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
    else log(`logs kept in ${dir}`);
  }
}
