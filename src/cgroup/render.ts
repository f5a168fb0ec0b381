/**
 * Renders cgroup and PSI files exactly as the kernel prints them. Used by the fixture generator and
 * by the parsers' round-trip property tests.
 */
import type { IoStatDevice } from "./parse/v2.js";
import type { PsiLine } from "./parse/psi.js";

/** What v1 prints for an unlimited memory limit with 4 KiB pages (PAGE_COUNTER_MAX × PAGE_SIZE). */
export const V1_UNLIMITED_BYTES = "9223372036854771712";

export type Num = number | bigint;

/** `<key> <value>` lines, newline-terminated, in the given order. */
export function renderFlatKeyed(entries: readonly (readonly [string, Num | string])[]): string {
  return entries.map(([k, v]) => `${k} ${String(v)}\n`).join("");
}

export function renderSingle(value: Num | string): string {
  return `${String(value)}\n`;
}

/** v2 limits print `max` when unlimited. */
export function renderV2Limit(value: Num | null): string {
  return renderSingle(value === null ? "max" : value);
}

export function renderCpuMax(quotaUsec: Num | null, periodUsec: Num): string {
  return `${quotaUsec === null ? "max" : String(quotaUsec)} ${String(periodUsec)}\n`;
}

export interface CpuStatV2Values {
  readonly usageUsec: Num;
  readonly userUsec: Num;
  readonly systemUsec: Num;
  /** Omit to render the usage-only cpu.stat of a tree without the cpu controller. */
  readonly throttling?: { readonly nrPeriods: Num; readonly nrThrottled: Num; readonly throttledUsec: Num };
}

/** Key order of Linux 6.x (`cpu_stat_show`); nice_usec arrived in 6.6, nr_bursts in 5.14. */
export function renderCpuStatV2(v: CpuStatV2Values): string {
  const entries: [string, Num][] = [
    ["usage_usec", v.usageUsec],
    ["user_usec", v.userUsec],
    ["system_usec", v.systemUsec],
    ["nice_usec", 0],
  ];
  if (v.throttling) {
    entries.push(
      ["nr_periods", v.throttling.nrPeriods],
      ["nr_throttled", v.throttling.nrThrottled],
      ["throttled_usec", v.throttling.throttledUsec],
      ["nr_bursts", 0],
      ["burst_usec", 0],
    );
  }
  return renderFlatKeyed(entries);
}

export function renderCpuStatV1(v: { readonly nrPeriods: Num; readonly nrThrottled: Num; readonly throttledNs: Num }): string {
  return renderFlatKeyed([
    ["nr_periods", v.nrPeriods],
    ["nr_throttled", v.nrThrottled],
    ["throttled_time", v.throttledNs],
    ["nr_bursts", 0],
    ["burst_time", 0],
  ]);
}

/** A PSI line's values; the total may be a bigint so tests can cover counters past 2^53. */
export type PsiLineValues = Omit<PsiLine, "totalUsec"> & { readonly totalUsec: Num };

function psiLine(kind: "some" | "full", l: PsiLineValues): string {
  return `${kind} avg10=${l.avg10.toFixed(2)} avg60=${l.avg60.toFixed(2)} avg300=${l.avg300.toFixed(2)} total=${String(l.totalUsec)}\n`;
}

export function renderPressure(some: PsiLineValues, full?: PsiLineValues): string {
  return psiLine("some", some) + (full === undefined ? "" : psiLine("full", full));
}

export function renderIoStat(devices: readonly IoStatDevice[]): string {
  return devices
    .map(
      (d) =>
        `${d.major}:${d.minor} rbytes=${d.readBytes} wbytes=${d.writeBytes} rios=${d.readIos} wios=${d.writeIos} dbytes=${d.discardBytes} dios=${d.discardIos}\n`,
    )
    .join("");
}

export function renderMemoryEvents(v: { readonly low: Num; readonly high: Num; readonly max: Num; readonly oom: Num; readonly oomKill: Num; readonly oomGroupKill?: Num }): string {
  const entries: [string, Num][] = [
    ["low", v.low],
    ["high", v.high],
    ["max", v.max],
    ["oom", v.oom],
    ["oom_kill", v.oomKill],
  ];
  if (v.oomGroupKill !== undefined) entries.push(["oom_group_kill", v.oomGroupKill]);
  return renderFlatKeyed(entries);
}

export function renderOomControl(v: { readonly oomKillDisable: boolean; readonly underOom: boolean; readonly oomKills?: Num }): string {
  const entries: [string, Num][] = [
    ["oom_kill_disable", v.oomKillDisable ? 1 : 0],
    ["under_oom", v.underOom ? 1 : 0],
  ];
  if (v.oomKills !== undefined) entries.push(["oom_kill", v.oomKills]);
  return renderFlatKeyed(entries);
}

/** memory.stat keys of a 6.8-era kernel (`memory_stats[]`, then the vm events), in the kernel's order. */
export const MEMORY_STAT_V2_KEYS = [
  "anon", "file", "kernel", "kernel_stack", "pagetables", "sec_pagetables", "percpu", "sock", "vmalloc", "shmem",
  "zswap", "zswapped", "file_mapped", "file_dirty", "file_writeback", "swapcached", "anon_thp", "file_thp", "shmem_thp",
  "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable", "slab_reclaimable", "slab_unreclaimable",
  "slab", "workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon", "workingset_activate_file",
  "workingset_restore_anon", "workingset_restore_file", "workingset_nodereclaim", "pgdemote_kswapd", "pgdemote_direct",
  "pgdemote_khugepaged", "pgscan", "pgsteal", "pgscan_kswapd", "pgscan_direct", "pgscan_khugepaged", "pgsteal_kswapd",
  "pgsteal_direct", "pgsteal_khugepaged", "pgfault", "pgmajfault", "pgrefill", "pgactivate", "pgdeactivate", "pglazyfree",
  "pglazyfreed", "zswpin", "zswpout", "zswpwb", "thp_fault_alloc", "thp_collapse_alloc", "thp_swpout", "thp_swpout_fallback",
] as const;

/** memory.stat keys of a v1 memory cgroup (Linux 6.x, `memcg1_stat_format`), before the `total_` copies. */
export const MEMORY_STAT_V1_KEYS = [
  "cache", "rss", "rss_huge", "shmem", "mapped_file", "dirty", "writeback", "workingset_refault_anon",
  "workingset_refault_file", "swap", "swapcached", "pgpgin", "pgpgout", "pgfault", "pgmajfault", "inactive_anon",
  "active_anon", "inactive_file", "active_file", "unevictable",
] as const;

/** A full v2 memory.stat; keys not given are 0. */
export function renderMemoryStatV2(values: Readonly<Record<string, Num>>): string {
  return renderFlatKeyed(MEMORY_STAT_V2_KEYS.map((k) => [k, values[k] ?? 0]));
}

/**
 * A full v1 memory.stat: local keys, the hierarchical limits, then `total_` keys. `totals` defaults
 * to the local values (a leaf cgroup).
 */
export function renderMemoryStatV1(values: Readonly<Record<string, Num>>, limitBytes: Num | null, totals: Readonly<Record<string, Num>> = values): string {
  const limit = limitBytes === null ? V1_UNLIMITED_BYTES : limitBytes;
  return renderFlatKeyed([
    ...MEMORY_STAT_V1_KEYS.map((k): [string, Num] => [k, values[k] ?? 0]),
    ["hierarchical_memory_limit", limit],
    ["hierarchical_memsw_limit", limit],
    ...MEMORY_STAT_V1_KEYS.map((k): [string, Num] => [`total_${k}`, totals[k] ?? 0]),
  ]);
}
