/**
 * Which of a cgroup's files one read covers. Every file is read by default; a sampler on a tight
 * CPU budget skips the slow-changing ones on most ticks and carries their last values over.
 */
export interface ReadOptions {
  /**
   * Read the limit files too (cpu.max, cpu.weight, memory.max, memory.high; v1 quota, period, shares,
   * limit_in_bytes). Default true. Limits change only when a pod is resized, so a caller on a tight
   * CPU budget can read them every Nth tick and carry them over.
   */
  readonly limits?: boolean;
  /**
   * Read memory.stat (v1 or v2), which only supplies inactive_file for the working set. Default true.
   * It is the largest and slowest file of a cgroup (~60 lines; on v1 the kernel takes ~3.5 µs to
   * generate it, more than any other file). See `memoryStatFromUsageBytes` for the exception.
   */
  readonly memoryStat?: boolean;
  /**
   * With `memoryStat: false`, memory.stat is still read when this same read found memory usage
   * (memory.current / memory.usage_in_bytes) at or above this many bytes. A caller passes a share
   * of the container's limit, so a container near its limit always gets a fresh working set even
   * if its usage jumped since the last tick.
   */
  readonly memoryStatFromUsageBytes?: number;
  /**
   * Read cgroup v1's cpu.stat, which there holds only the CFS throttling counters. Default true. A cgroup
   * without a CFS quota is never throttled and those counters never move, so a caller that knows there is no
   * quota can skip the file until a limit read finds one. On v2, cpu.stat also holds the usage and is always read.
   */
  readonly throttling?: boolean;
  /**
   * Read cpu.pressure, memory.pressure, io.pressure, and the OOM-kill count (v1 memory.oom_control, v2
   * memory.events). Each defaults to true. A caller that knows the node-wide counter of the same kind has not
   * moved since its last read knows this cgroup's has not either (PSI and OOM kills count up the hierarchy),
   * and can carry the last value over.
   */
  readonly cpuPressure?: boolean;
  readonly memoryPressure?: boolean;
  readonly ioPressure?: boolean;
  readonly oomKills?: boolean;
}

/** The ReadOptions a node-wide counter can vouch for. */
export type NodeVouchedRead = "cpuPressure" | "memoryPressure" | "ioPressure" | "oomKills";

/** Whether a read with `options` includes memory.stat, given the memory usage that read found (usage is read first). */
export function readsMemoryStat(options: ReadOptions, memoryUsageBytes: number | undefined): boolean {
  if (options.memoryStat ?? true) return true;
  const from = options.memoryStatFromUsageBytes;
  return from !== undefined && memoryUsageBytes !== undefined && memoryUsageBytes >= from;
}
