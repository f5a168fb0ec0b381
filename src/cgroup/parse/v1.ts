/**
 * Parsers for cgroup v1 controller files (Documentation/admin-guide/cgroup-v1/{cpuacct,memory}.rst,
 * scheduler/sched-bwc.rst). Each takes the file text and returns a value or a ParseError; none throws.
 */
import { err, ok, parseError, type ParseError, type Result } from "../../util/result.js";
import { clip, flatKeyed, isKernelFlat, memoryStatFields, kernelFlatValue, parseNsAsUsec, pickCounters, singleCounter, singleLimit, singleToken } from "./common.js";

/** `cpuacct.usage`: total CPU time in nanoseconds, returned in microseconds to match cgroup v2. */
export function parseCpuacctUsage(text: string): Result<{ readonly usageUsec: number }, ParseError> {
  const file = "cpuacct.usage";
  const t = singleToken(text, file);
  if (!t.ok) return t;
  const usageUsec = parseNsAsUsec(t.value);
  return usageUsec === undefined ? err(parseError(file, `not a non-negative integer: "${clip(t.value)}"`)) : ok({ usageUsec });
}

export interface CpuStatV1 {
  readonly nrPeriods: number;
  readonly nrThrottled: number;
  /** From `throttled_time`, which v1 reports in nanoseconds. */
  readonly throttledUsec: number;
}

/** v1 `cpu.stat`: nr_periods, nr_throttled, throttled_time (ns). */
export function parseCpuStatV1(text: string): Result<CpuStatV1, ParseError> {
  const file = "cpu.stat";
  const fields = flatKeyed(text, file);
  if (!fields.ok) return fields;
  const c = pickCounters(fields.value, file, ["nr_periods", "nr_throttled"]);
  if (!c.ok) return c;
  const raw = fields.value.get("throttled_time");
  if (raw === undefined) return err(parseError(file, `missing key "throttled_time"`));
  const throttledUsec = parseNsAsUsec(raw);
  if (throttledUsec === undefined) return err(parseError(file, `"throttled_time" is not a non-negative integer: "${clip(raw)}"`));
  return ok({ nrPeriods: c.value.nr_periods, nrThrottled: c.value.nr_throttled, throttledUsec });
}

/** `cpu.cfs_quota_us`: -1 (any negative value) = no quota, returned as null. */
export function parseCfsQuotaUs(text: string): Result<number | null, ParseError> {
  return singleLimit(text, "cpu.cfs_quota_us");
}

/** `cpu.cfs_period_us`: 1000..1000000, default 100000. */
export function parseCfsPeriodUs(text: string): Result<number, ParseError> {
  const file = "cpu.cfs_period_us";
  const v = singleCounter(text, file);
  if (v.ok && v.value === 0) return err(parseError(file, "period is 0"));
  return v;
}

/** `cpu.shares`: 2..262144, default 1024. */
export function parseCpuShares(text: string): Result<number, ParseError> {
  return singleCounter(text, "cpu.shares");
}

const MIN_SHARES = 2;
const MAX_SHARES = 262_144;

/**
 * Converts v1 `cpu.shares` to the v2 `cpu.weight` scale with the formula runc and the kubelet use
 * (runc `ConvertCPUSharesToCgroupV2Value`, KEP-2254): 1 + ((shares − 2) × 9999) / 262142,
 * integer division. Shares are clamped to the kernel's accepted range first.
 */
export function sharesToWeight(shares: number): number {
  const s = Math.min(Math.max(Math.trunc(shares), MIN_SHARES), MAX_SHARES);
  return 1 + Math.floor(((s - MIN_SHARES) * 9999) / 262_142);
}

/** `memory.usage_in_bytes`. */
export function parseMemoryUsageInBytes(text: string): Result<number, ParseError> {
  return singleCounter(text, "memory.usage_in_bytes");
}

/** `memory.limit_in_bytes`; null = unlimited (9223372036854771712 on 4 KiB-page hosts). */
export function parseMemoryLimitInBytes(text: string): Result<number | null, ParseError> {
  return singleLimit(text, "memory.limit_in_bytes");
}

export interface MemoryStatV1 {
  /** This cgroup's own inactive file pages. */
  readonly inactiveFileBytes: number;
  /**
   * Including descendants; what the working set uses (cAdvisor reads `total_inactive_file`).
   * Absent only when the kernel omits the hierarchical totals.
   */
  readonly totalInactiveFileBytes?: number;
  /** Every key in the file, including ones this parser does not know. */
  readonly fields: ReadonlyMap<string, number>;
}

/** v1 `memory.stat`: all keys; `inactive_file` must be present. */
export function parseMemoryStatV1(text: string): Result<MemoryStatV1, ParseError> {
  const stat = memoryStatFields(text);
  if (!stat.ok) return stat;
  const total = stat.value.fields.get("total_inactive_file");
  if (total === undefined) return stat;
  if (total < 0) return err(parseError("memory.stat", `"total_inactive_file" is negative: ${total}`));
  return ok({ ...stat.value, totalInactiveFileBytes: total });
}

/**
 * What the working set subtracts from a v1 `memory.stat`: `total_inactive_file` (including
 * descendants, as cAdvisor reads it), else `inactive_file`. The same value or error as
 * `parseMemoryStatV1` gives for them, without building the map of every key when the text is
 * kernel-shaped.
 */
export function parseInactiveFileV1(text: string): Result<number, ParseError> {
  const own = isKernelFlat(text) ? kernelFlatValue(text, "inactive_file") : undefined;
  if (own !== undefined) return ok(kernelFlatValue(text, "total_inactive_file") ?? own);
  const full = parseMemoryStatV1(text);
  return full.ok ? ok(full.value.totalInactiveFileBytes ?? full.value.inactiveFileBytes) : full;
}

export interface OomControl {
  readonly oomKillDisable: boolean;
  readonly underOom: boolean;
  /** Per cgroup, not summed into parents. Added in Linux 4.13. */
  readonly oomKills?: number;
}

/** `memory.oom_control`: oom_kill_disable, under_oom, oom_kill. */
export function parseOomControl(text: string): Result<OomControl, ParseError> {
  const file = "memory.oom_control";
  const fields = flatKeyed(text, file);
  if (!fields.ok) return fields;
  const c = pickCounters(fields.value, file, ["oom_kill_disable", "under_oom"], ["oom_kill"]);
  if (!c.ok) return c;
  const v = c.value;
  // Assigned rather than spread: this runs for every container every tick.
  const control: { -readonly [K in keyof OomControl]: OomControl[K] } = { oomKillDisable: v.oom_kill_disable !== 0, underOom: v.under_oom !== 0 };
  if (v.oom_kill !== undefined) control.oomKills = v.oom_kill;
  return ok(control);
}

/** `memory.failcnt`: how often usage hit the limit. */
export function parseMemoryFailcnt(text: string): Result<number, ParseError> {
  return singleCounter(text, "memory.failcnt");
}
