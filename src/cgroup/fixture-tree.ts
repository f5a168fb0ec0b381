/**
 * Writes a synthetic cgroup tree in the kernel's file formats: any layout, driver and runtime, any
 * number of pods. The benchmark reads a 110 pods × 3 containers tree from it; tests use it to check
 * discovery and reading at sizes the hand-made fixtures do not reach. Each container's expected
 * counters are returned with the tree so callers can check what they read.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { containerCgroupPath, podCgroupPath } from "./discover.js";
import {
  renderCpuMax,
  renderCpuStatV1,
  renderCpuStatV2,
  renderIoStat,
  renderMemoryEvents,
  renderMemoryStatV1,
  renderMemoryStatV2,
  renderOomControl,
  renderPressure,
  renderSingle,
  renderV2Limit,
  V1_UNLIMITED_BYTES,
} from "./render.js";
import { sharesToWeight } from "./parse/v1.js";
import type { CgroupDriver, CgroupVersion, ContainerRuntime, QosClass, RawCounters } from "./types.js";

export interface FixtureTreeOptions {
  readonly version: CgroupVersion;
  readonly driver: CgroupDriver;
  readonly runtime: Exclude<ContainerRuntime, "unknown">;
  readonly pods: number;
  readonly containersPerPod: number;
  /**
   * Advances every cumulative counter as if this many one-second ticks had passed (default 0).
   * Rewriting a tree with tick + 1 gives the sampler a second read with sane deltas.
   */
  readonly tick?: number;
}

/** What `readCounters` should return for a container, minus the timestamps. */
export type ExpectedCounters = Omit<RawCounters, "monoMs" | "wallMs">;

export interface FixtureContainer {
  readonly containerId: string;
  readonly relPath: string;
  readonly expected: ExpectedCounters;
}

export interface FixturePod {
  readonly podUid: string;
  readonly qosClass: QosClass;
  readonly relPath: string;
  readonly containers: readonly FixtureContainer[];
}

export interface FixtureTree {
  /** The cgroup root to pass to detectLayout. */
  readonly root: string;
  readonly pods: readonly FixturePod[];
}

const QOS_ORDER: readonly QosClass[] = ["guaranteed", "burstable", "besteffort"];
const PERIOD_USEC = 100_000;
const MiB = 1024 * 1024;

export async function writeFixtureTree(dir: string, options: FixtureTreeOptions): Promise<FixtureTree> {
  const tick = options.tick ?? 0;
  await writeRoot(dir, options);
  const pods: FixturePod[] = [];
  for (let p = 0; p < options.pods; p++) {
    const qosClass = QOS_ORDER[p % QOS_ORDER.length] ?? "besteffort";
    const podUid = uuidFrom(`pod-${p}`);
    const relPath = podCgroupPath(podUid, qosClass, options.driver);
    const containers: FixtureContainer[] = [];
    for (let c = 0; c < options.containersPerPod; c++) {
      const containerId = hex64(`pod-${p}-container-${c}`);
      const containerRel = containerCgroupPath(relPath, containerId, options.runtime, options.driver) ?? `${relPath}/${containerId}`;
      const values = containerValues(p * options.containersPerPod + c, qosClass, tick);
      await writeCgroup(dir, containerRel, values, options.version);
      if (options.runtime === "cri-o") {
        const conmon = path.posix.join(relPath, options.driver === "systemd" ? `crio-conmon-${containerId}.scope` : `crio-conmon-${containerId}`);
        await writeCgroup(dir, conmon, containerValues(0, "besteffort", tick), options.version);
      }
      containers.push({ containerId, relPath: containerRel, expected: expectedFor(values, options.version) });
    }
    await writeCgroup(dir, relPath, containerValues(p, qosClass, tick), options.version);
    pods.push({ podUid, qosClass, relPath, containers });
  }
  return { root: dir, pods };
}

interface Values {
  readonly usageUsec: number;
  readonly periods: number;
  readonly throttled: number;
  readonly throttledUsec: number;
  readonly quotaUsec: number | null;
  readonly shares: number;
  readonly memoryBytes: number;
  readonly inactiveFileBytes: number;
  readonly limitBytes: number | null;
  readonly oomKills: number;
  readonly psiCpuUsec: number;
  readonly psiMemoryUsec: number;
  readonly psiIoUsec: number;
}

/** Deterministic per-container values; Guaranteed containers are CPU-limited and throttled. */
function containerValues(n: number, qos: QosClass, tick: number): Values {
  const guaranteed = qos === "guaranteed";
  const periods = guaranteed ? 10 * (100 + n + tick) : 0;
  return {
    usageUsec: 1_000_000 * (n + 1) + 250_000 * tick,
    periods,
    throttled: guaranteed ? Math.floor(periods * 0.4) : 0,
    throttledUsec: guaranteed ? 20_000 * (n + tick) : 0,
    quotaUsec: guaranteed ? 50_000 : null,
    shares: guaranteed ? 512 : qos === "burstable" ? 102 : 2,
    memoryBytes: (64 + (n % 50)) * MiB,
    inactiveFileBytes: (4 + (n % 7)) * MiB,
    limitBytes: qos === "besteffort" ? null : guaranteed ? 256 * MiB : 512 * MiB,
    oomKills: qos === "burstable" ? n % 3 : 0,
    psiCpuUsec: 5_000 * (n + 1) + 300_000 * tick,
    psiMemoryUsec: 1_000 * n,
    psiIoUsec: 2_000 * n + 1_000 * tick,
  };
}

function expectedFor(v: Values, version: CgroupVersion): ExpectedCounters {
  const psi = {
    psiCpu: { someTotalUsec: v.psiCpuUsec, fullTotalUsec: Math.floor(v.psiCpuUsec / 2) },
    psiMemory: { someTotalUsec: v.psiMemoryUsec, fullTotalUsec: Math.floor(v.psiMemoryUsec / 2) },
    psiIo: { someTotalUsec: v.psiIoUsec, fullTotalUsec: Math.floor(v.psiIoUsec / 2) },
  };
  return {
    cpuUsageUsec: v.usageUsec,
    nrPeriods: v.periods,
    nrThrottled: v.throttled,
    throttledUsec: v.throttledUsec,
    cpuLimitCores: v.quotaUsec === null ? null : v.quotaUsec / PERIOD_USEC,
    cpuWeight: sharesToWeight(v.shares),
    memoryUsageBytes: v.memoryBytes,
    memoryInactiveFileBytes: v.inactiveFileBytes,
    memoryLimitBytes: v.limitBytes,
    ...(version === "v2" ? { memoryHighBytes: null } : {}),
    oomKills: v.oomKills,
    ...(version === "v1" ? {} : psi),
  };
}

async function writeRoot(dir: string, options: FixtureTreeOptions): Promise<void> {
  if (options.version === "v2") {
    await files(dir, {
      "cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc\n",
      "cgroup.subtree_control": "cpuset cpu io memory hugetlb pids\n",
      "cgroup.procs": "1\n",
      "cpu.pressure": renderPressure(psiLine(0), psiLine(0)),
    });
    return;
  }
  for (const controller of ["cpu", "cpuacct", "memory", "blkio", "pids", "systemd"]) {
    await files(path.join(dir, controller), { "cgroup.procs": "1\n" });
  }
  if (options.version === "hybrid") {
    await files(path.join(dir, "unified"), { "cgroup.controllers": "hugetlb\n", "cgroup.procs": "1\n", "cpu.pressure": renderPressure(psiLine(0), psiLine(0)) });
  }
}

async function writeCgroup(root: string, relPath: string, v: Values, version: CgroupVersion): Promise<void> {
  if (version === "v2") {
    await files(path.join(root, relPath), {
      "cgroup.controllers": "cpuset cpu io memory hugetlb pids\n",
      "cgroup.procs": "",
      "cpu.stat": renderCpuStatV2({ usageUsec: v.usageUsec, userUsec: Math.floor(v.usageUsec * 0.8), systemUsec: v.usageUsec - Math.floor(v.usageUsec * 0.8), throttling: { nrPeriods: v.periods, nrThrottled: v.throttled, throttledUsec: v.throttledUsec } }),
      "cpu.max": renderCpuMax(v.quotaUsec, PERIOD_USEC),
      "cpu.weight": renderSingle(sharesToWeight(v.shares)),
      "memory.current": renderSingle(v.memoryBytes),
      "memory.max": renderV2Limit(v.limitBytes),
      "memory.high": renderV2Limit(null),
      "memory.stat": renderMemoryStatV2({ anon: v.memoryBytes - 2 * v.inactiveFileBytes, file: 2 * v.inactiveFileBytes, inactive_file: v.inactiveFileBytes, active_file: v.inactiveFileBytes }),
      "memory.events": renderMemoryEvents({ low: 0, high: 0, max: v.oomKills * 4, oom: v.oomKills, oomKill: v.oomKills, oomGroupKill: 0 }),
      "io.stat": renderIoStat([{ major: 259, minor: 0, readBytes: v.psiIoUsec * 16, writeBytes: 4096, readIos: v.psiIoUsec / 250, writeIos: 1, discardBytes: 0, discardIos: 0 }]),
      ...pressureFiles(v),
    });
    return;
  }
  await writeV1Cgroup(root, relPath, v);
  if (version === "hybrid") {
    await files(path.join(root, "unified", relPath), {
      "cgroup.controllers": "",
      "cgroup.procs": "",
      "cpu.stat": renderCpuStatV2({ usageUsec: v.usageUsec, userUsec: v.usageUsec, systemUsec: 0 }),
      ...pressureFiles(v),
    });
  }
}

async function writeV1Cgroup(root: string, relPath: string, v: Values): Promise<void> {
  await files(path.join(root, "cpu", relPath), {
    "cgroup.procs": "",
    "cpu.stat": renderCpuStatV1({ nrPeriods: v.periods, nrThrottled: v.throttled, throttledNs: BigInt(v.throttledUsec) * 1000n }),
    "cpu.cfs_quota_us": renderSingle(v.quotaUsec ?? -1),
    "cpu.cfs_period_us": renderSingle(PERIOD_USEC),
    "cpu.shares": renderSingle(v.shares),
  });
  await files(path.join(root, "cpuacct", relPath), { "cgroup.procs": "", "cpuacct.usage": renderSingle(BigInt(v.usageUsec) * 1000n + 123n) });
  await files(path.join(root, "memory", relPath), {
    "cgroup.procs": "",
    "memory.usage_in_bytes": renderSingle(v.memoryBytes),
    "memory.limit_in_bytes": renderSingle(v.limitBytes ?? V1_UNLIMITED_BYTES),
    "memory.stat": renderMemoryStatV1({ rss: v.memoryBytes - 2 * v.inactiveFileBytes, cache: 2 * v.inactiveFileBytes, inactive_file: v.inactiveFileBytes, active_file: v.inactiveFileBytes }, v.limitBytes),
    "memory.oom_control": renderOomControl({ oomKillDisable: false, underOom: false, oomKills: v.oomKills }),
    "memory.failcnt": renderSingle(v.oomKills * 10),
  });
  await files(path.join(root, "blkio", relPath), { "cgroup.procs": "" });
}

function pressureFiles(v: Values): Record<string, string> {
  return {
    "cpu.pressure": renderPressure(psiLine(v.psiCpuUsec), psiLine(Math.floor(v.psiCpuUsec / 2))),
    "memory.pressure": renderPressure(psiLine(v.psiMemoryUsec), psiLine(Math.floor(v.psiMemoryUsec / 2))),
    "io.pressure": renderPressure(psiLine(v.psiIoUsec), psiLine(Math.floor(v.psiIoUsec / 2))),
  };
}

function psiLine(totalUsec: number): { avg10: number; avg60: number; avg300: number; totalUsec: number } {
  return { avg10: 0, avg60: 0, avg300: 0, totalUsec };
}

async function files(dir: string, contents: Readonly<Record<string, string>>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(Object.entries(contents).map(([name, text]) => writeFile(path.join(dir, name), text)));
}

function hex64(seed: string): string {
  return createHash("sha256").update(seed).digest("hex");
}

function uuidFrom(seed: string): string {
  const h = hex64(seed);
  // Version 4 / variant bits so the UIDs look like the API server's.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
