import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { discoverPods, discoveryMount } from "../cgroup/discover.js";
import { writeFixtureTree } from "../cgroup/fixture-tree.js";
import { detectLayout } from "../cgroup/layout.js";
import type { CgroupLayout } from "../cgroup/types.js";
import { CgroupSandbox } from "../demo/sandbox.js";
import { keptOpenReader, nodeCountersBoundCgroups, nodeReader } from "../engine/readers.js";
import { NodeEngine } from "../engine/node-engine.js";
import { targetsFromCgroups } from "../engine/targets.js";
import { silentLogger } from "../util/log.js";
import { addBenchPods, CONTAINERS_PER_POD, PODS } from "./pod-tree.js";
import type { BenchResult } from "./types.js";

// The agent runs for days: what matters is the steady state after the JIT has compiled the hot path.
const WARMUP_TICKS = 20;
const MEASURED_TICKS = 100;
/** A tick must cost at most 1% of a core at a 1 s interval. */
const TARGET_CPU_MS = 10;

interface TickCost {
  readonly cpuMsPerTick: number;
  readonly wallMsP50: number;
  readonly wallMsP99: number;
  readonly containers: number;
}

/** Runs the engine's tick (read every container, derive samples, windows, rules) and measures its cost. */
async function measureTicks(layout: CgroupLayout, procRoot: string): Promise<TickCost> {
  const mount = discoveryMount(layout);
  if (mount === undefined) throw new Error(`no hierarchy to discover pods in under ${layout.root}`);
  const targets = targetsFromCgroups(await discoverPods(mount));
  const reader = keptOpenReader(layout);
  const engine = new NodeEngine({
    windowMs: 5000,
    nodeCores: cpus().length,
    readCounters: reader.read,
    retainCgroups: reader.retain,
    readNodePressure: nodeReader(procRoot),
    // As the agent and scan do: on real cgroups unmoved node counters vouch for the containers'.
    nodeBoundsTargets: nodeCountersBoundCgroups(layout, procRoot),
    logger: silentLogger(),
  });
  let wallMs = Date.now();
  for (let i = 0; i < WARMUP_TICKS; i++) await engine.tick(targets, (wallMs += 1000));
  const walls: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < MEASURED_TICKS; i++) {
    const started = performance.now();
    await engine.tick(targets, (wallMs += 1000));
    walls.push(performance.now() - started);
  }
  const cpu = process.cpuUsage(cpuBefore);
  reader.close();
  walls.sort((a, b) => a - b);
  return {
    cpuMsPerTick: (cpu.user + cpu.system) / 1000 / MEASURED_TICKS,
    wallMsP50: walls[Math.floor(walls.length / 2)] ?? 0,
    wallMsP99: walls[Math.floor(walls.length * 0.99)] ?? 0,
    containers: targets.length,
  };
}

function results(where: string, cost: TickCost, method: string): BenchResult[] {
  return [
    {
      name: `tick CPU, ${PODS} pods × ${CONTAINERS_PER_POD} containers, ${where}`,
      value: round(cost.cpuMsPerTick),
      unit: "ms CPU/tick",
      target: `≤ ${TARGET_CPU_MS}`,
      pass: cost.cpuMsPerTick <= TARGET_CPU_MS && cost.containers === PODS * CONTAINERS_PER_POD,
      method,
    },
    { name: `tick wall p50, ${where}`, value: round(cost.wallMsP50), unit: "ms", method },
    { name: `tick wall p99, ${where}`, value: round(cost.wallMsP99), unit: "ms", method },
  ];
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** A generated v2 (systemd, containerd) tree in a temp dir: file reads without kernel cgroup overhead. */
export async function benchTickFixture(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "xander-bench-tree-"));
  try {
    const tree = await writeFixtureTree(dir, { version: "v2", driver: "systemd", runtime: "containerd", pods: PODS, containersPerPod: CONTAINERS_PER_POD });
    const layout = await detectLayout(tree.root);
    if (!layout.ok) throw new Error(layout.error.message);
    const cost = await measureTicks(layout.value, dir);
    return results("fixture tree (v2)", cost, `NodeEngine.tick over ${cost.containers} containers of a generated cgroup v2 tree on tmpfs-backed temp dir; process.cpuUsage over ${MEASURED_TICKS} ticks after ${WARMUP_TICKS} warm-up ticks; no history store`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same on this host's real cgroup hierarchies (needs root): kernel-generated files, as the agent reads them. */
export async function benchTickRealCgroups(root = "/sys/fs/cgroup"): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) {
    return [{ name: "tick CPU on real cgroups", value: Number.NaN, unit: "ms CPU/tick", target: `≤ ${TARGET_CPU_MS}`, pass: false, method: "not measured: needs root to create cgroups" }];
  }
  const layout = await detectLayout(root);
  if (!layout.ok) throw new Error(layout.error.message);
  const sandbox = new CgroupSandbox(layout.value);
  try {
    addBenchPods(sandbox);
    const cost = await measureTicks(layout.value, "/proc");
    return results(`real ${layout.value.version} cgroups`, cost, `NodeEngine.tick over ${cost.containers} throwaway kubelet-style container cgroups in this host's real hierarchies (v1 cpu/cpuacct/memory + unified PSI); process.cpuUsage over ${MEASURED_TICKS} ticks after ${WARMUP_TICKS} warm-up ticks; no history store`);
  } finally {
    await sandbox.cleanup();
  }
}
