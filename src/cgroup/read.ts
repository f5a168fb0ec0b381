/**
 * Reads one cgroup's raw counters from every hierarchy the layout has. Which files come from where:
 *   v2:     everything from the unified tree.
 *   v1:     cpu (cpu.stat, cfs quota/period, shares), cpuacct (usage), memory (usage, limit, stat,
 *           oom_control). No per-cgroup PSI.
 *   hybrid: the v1 files, plus PSI from `<unified>/<relPath>/*.pressure`, and unified `cpu.stat`
 *           usage when cpuacct is unavailable.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parsePressure, psiTotals } from "./parse/psi.js";
import {
  parseCfsPeriodUs,
  parseCfsQuotaUs,
  parseCpuacctUsage,
  parseCpuShares,
  parseCpuStatV1,
  parseMemoryLimitInBytes,
  parseMemoryStatV1,
  parseMemoryUsageInBytes,
  parseOomControl,
  sharesToWeight,
} from "./parse/v1.js";
import {
  limitCores,
  parseCpuMax,
  parseCpuStatV2,
  parseCpuWeight,
  parseMemoryCurrent,
  parseMemoryEvents,
  parseMemoryHigh,
  parseMemoryMax,
  parseMemoryStatV2,
} from "./parse/v2.js";
import { errnoCode, readSmallFileSync } from "./fs.js";
import type { CgroupLayout, RawCounters, ReadOutcome } from "./types.js";
import type { ParseError, Result } from "../util/result.js";

export interface ReadOptions {
  /**
   * Read the limit files too (cpu.max, cpu.weight, memory.max, memory.high; v1 quota, period, shares,
   * limit_in_bytes). Default true. Limits change only when a pod is resized, so a caller on a tight
   * CPU budget can read them every Nth tick and carry them over.
   */
  readonly limits?: boolean;
}

type Hierarchy = "unified" | "cpu" | "cpuacct" | "memory";
type Fields = { -readonly [K in Exclude<keyof RawCounters, "monoMs" | "wallMs">]?: RawCounters[K] };
/** Fields plus the v1 quota and period, which only together give cpuLimitCores. */
interface Acc extends Fields {
  cfsQuotaUsec?: number | null;
  cfsPeriodUsec?: number;
}

interface FileSpec {
  readonly hierarchy: Hierarchy;
  readonly name: string;
  readonly limit?: boolean;
  /** Read only when no earlier file set this field (hybrid fallback). */
  readonly unlessSet?: keyof Fields;
  readonly apply: (text: string, acc: Acc) => ParseError | undefined;
}

function applying<T>(parse: (text: string) => Result<T, ParseError>, set: (value: T, acc: Acc) => void): FileSpec["apply"] {
  return (text, acc) => {
    const r = parse(text);
    if (!r.ok) return r.error;
    set(r.value, acc);
    return undefined;
  };
}

const V2_FILES: readonly FileSpec[] = [
  {
    hierarchy: "unified",
    name: "cpu.stat",
    apply: applying(parseCpuStatV2, (v, a) => {
      a.cpuUsageUsec = v.usageUsec;
      if (v.nrPeriods !== undefined) a.nrPeriods = v.nrPeriods;
      if (v.nrThrottled !== undefined) a.nrThrottled = v.nrThrottled;
      if (v.throttledUsec !== undefined) a.throttledUsec = v.throttledUsec;
    }),
  },
  { hierarchy: "unified", name: "cpu.max", limit: true, apply: applying(parseCpuMax, (v, a) => (a.cpuLimitCores = limitCores(v.quotaUsec, v.periodUsec))) },
  { hierarchy: "unified", name: "cpu.weight", limit: true, apply: applying(parseCpuWeight, (v, a) => (a.cpuWeight = v)) },
  { hierarchy: "unified", name: "memory.current", apply: applying(parseMemoryCurrent, (v, a) => (a.memoryUsageBytes = v)) },
  { hierarchy: "unified", name: "memory.max", limit: true, apply: applying(parseMemoryMax, (v, a) => (a.memoryLimitBytes = v)) },
  { hierarchy: "unified", name: "memory.high", limit: true, apply: applying(parseMemoryHigh, (v, a) => (a.memoryHighBytes = v)) },
  { hierarchy: "unified", name: "memory.stat", apply: applying(parseMemoryStatV2, (v, a) => (a.memoryInactiveFileBytes = v.inactiveFileBytes)) },
  { hierarchy: "unified", name: "memory.events", apply: applying(parseMemoryEvents, (v, a) => (a.oomKills = v.oomKill)) },
];

const V1_FILES: readonly FileSpec[] = [
  {
    hierarchy: "cpu",
    name: "cpu.stat",
    apply: applying(parseCpuStatV1, (v, a) => {
      a.nrPeriods = v.nrPeriods;
      a.nrThrottled = v.nrThrottled;
      a.throttledUsec = v.throttledUsec;
    }),
  },
  { hierarchy: "cpu", name: "cpu.cfs_quota_us", limit: true, apply: applying(parseCfsQuotaUs, (v, a) => (a.cfsQuotaUsec = v)) },
  { hierarchy: "cpu", name: "cpu.cfs_period_us", limit: true, apply: applying(parseCfsPeriodUs, (v, a) => (a.cfsPeriodUsec = v)) },
  { hierarchy: "cpu", name: "cpu.shares", limit: true, apply: applying(parseCpuShares, (v, a) => (a.cpuWeight = sharesToWeight(v))) },
  { hierarchy: "cpuacct", name: "cpuacct.usage", apply: applying(parseCpuacctUsage, (v, a) => (a.cpuUsageUsec = v.usageUsec)) },
  { hierarchy: "memory", name: "memory.usage_in_bytes", apply: applying(parseMemoryUsageInBytes, (v, a) => (a.memoryUsageBytes = v)) },
  { hierarchy: "memory", name: "memory.limit_in_bytes", limit: true, apply: applying(parseMemoryLimitInBytes, (v, a) => (a.memoryLimitBytes = v)) },
  {
    hierarchy: "memory",
    name: "memory.stat",
    // The hierarchical total matches v2 semantics (a pod cgroup includes its containers).
    apply: applying(parseMemoryStatV1, (v, a) => (a.memoryInactiveFileBytes = v.totalInactiveFileBytes ?? v.inactiveFileBytes)),
  },
  {
    hierarchy: "memory",
    name: "memory.oom_control",
    apply: applying(parseOomControl, (v, a) => {
      if (v.oomKills !== undefined) a.oomKills = v.oomKills;
    }),
  },
];

const HYBRID_FALLBACK: FileSpec = {
  hierarchy: "unified",
  name: "cpu.stat",
  unlessSet: "cpuUsageUsec",
  // The unified tree on a hybrid host has no cpu controller: usage fields only.
  apply: applying(parseCpuStatV2, (v, a) => (a.cpuUsageUsec = v.usageUsec)),
};

const PSI_FILES: readonly FileSpec[] = [
  { hierarchy: "unified", name: "cpu.pressure", apply: applying((t) => parsePressure(t, "cpu.pressure"), (v, a) => (a.psiCpu = psiTotals(v))) },
  { hierarchy: "unified", name: "memory.pressure", apply: applying((t) => parsePressure(t, "memory.pressure"), (v, a) => (a.psiMemory = psiTotals(v))) },
  { hierarchy: "unified", name: "io.pressure", apply: applying((t) => parsePressure(t, "io.pressure"), (v, a) => (a.psiIo = psiTotals(v))) },
];

interface PlannedFile {
  readonly spec: FileSpec;
  readonly mount: string;
}

const plans = new WeakMap<CgroupLayout, readonly PlannedFile[]>();

/** The files to read for a layout, in order; the first one's hierarchy decides whether a cgroup is gone. */
function planFor(layout: CgroupLayout): readonly PlannedFile[] {
  const cached = plans.get(layout);
  if (cached !== undefined) return cached;
  const specs = layout.version === "v2" ? V2_FILES : layout.version === "v1" ? V1_FILES : [...V1_FILES, HYBRID_FALLBACK];
  const all = layout.psi && layout.version !== "v1" ? [...specs, ...PSI_FILES] : specs;
  const plan: PlannedFile[] = [];
  for (const spec of all) {
    const mount = spec.hierarchy === "unified" ? layout.unified : layout.v1[spec.hierarchy];
    if (mount !== undefined) plan.push({ spec, mount });
  }
  plans.set(layout, plan);
  return plan;
}

const WAY_OUT = "run as root or mount the host cgroupfs read-only";

/** Reads the cgroup at `relPath` (relative to each hierarchy mount). Never rejects. */
export function readCounters(layout: CgroupLayout, relPath: string, options: ReadOptions = {}): Promise<ReadOutcome> {
  return Promise.resolve(readCountersSync(layout, relPath, options));
}

/**
 * The synchronous core of `readCounters`, for callers reading hundreds of cgroups per tick.
 * A vanished cgroup (its directory in the first hierarchy is gone) is `{kind: "gone"}`; a garbled,
 * missing or unreadable file drops its fields and adds a problem naming the file.
 */
export function readCountersSync(layout: CgroupLayout, relPath: string, options: ReadOptions = {}): ReadOutcome {
  const plan = planFor(layout);
  const withLimits = options.limits ?? true;
  const monoMs = performance.now();
  const wallMs = Date.now();
  const acc: Acc = {};
  const problems: string[] = [];
  for (const { spec, mount } of plan) {
    if (skipped(spec, acc, withLimits)) continue;
    const file = path.join(mount, relPath, spec.name);
    const text = readOrProblem(file, problems);
    if (text === GONE) {
      if (isGone(plan, relPath)) return { kind: "gone", relPath };
      problems.push(`cannot read ${file}: no such file (is the controller enabled for this cgroup?)`);
      continue;
    }
    if (text === undefined) continue;
    const e = spec.apply(text, acc);
    if (e !== undefined) problems.push(parseProblem(file, e));
  }
  return { kind: "read", counters: { monoMs, wallMs, ...finish(acc) }, problems };
}

function skipped(spec: FileSpec, acc: Acc, withLimits: boolean): boolean {
  if (spec.limit === true && !withLimits) return true;
  return spec.unlessSet !== undefined && acc[spec.unlessSet] !== undefined;
}

function parseProblem(file: string, e: ParseError): string {
  return `cannot parse ${file}${e.line === undefined ? "" : ` line ${e.line}`}: ${e.message}`;
}

const GONE = Symbol("gone");

function readOrProblem(file: string, problems: string[]): string | undefined | typeof GONE {
  try {
    return readSmallFileSync(file);
  } catch (e) {
    const code = errnoCode(e);
    // ENODEV: the cgroup was removed between open and read.
    if (code === "ENOENT" || code === "ENOTDIR" || code === "ENODEV") return GONE;
    problems.push(readProblem(file, code));
    return undefined;
  }
}

/** The problem string for a file that exists but could not be read. */
export function readProblem(file: string, code: string): string {
  if (code === "EACCES" || code === "EPERM") return `cannot read ${file}: permission denied (${WAY_OUT})`;
  return `cannot read ${file}: ${code}`;
}

function isGone(plan: readonly PlannedFile[], relPath: string): boolean {
  const first = plan[0];
  return first === undefined || !existsSync(path.join(first.mount, relPath));
}

function finish(acc: Acc): Fields {
  const { cfsQuotaUsec, cfsPeriodUsec, ...fields } = acc;
  if (cfsQuotaUsec === null) fields.cpuLimitCores = null;
  else if (cfsQuotaUsec !== undefined && cfsPeriodUsec !== undefined) fields.cpuLimitCores = limitCores(cfsQuotaUsec, cfsPeriodUsec);
  return fields;
}
