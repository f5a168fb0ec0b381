import { readFileSync } from "node:fs";

/** USER_HZ: /proc/PID/stat counts CPU time in these; Linux fixes it at 100 for user space. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** One process's cost as /proc shows it to `top`: CPU time of all its threads, and its resident memory. */
export interface ProcUsage {
  /** utime + stime, in milliseconds. */
  readonly cpuMs: number;
  readonly rssKiB: number;
  /**
   * RssAnon: the process's own heap and native allocations, without the file pages it maps (the node binary
   * and shared libraries, shared with every other process that maps them).
   */
  readonly anonKiB: number;
  /** VmHWM: the peak resident set since the process started. */
  readonly hwmKiB: number;
}

/**
 * utime + stime from a /proc/PID/stat line, in clock ticks. The command name (field 2) is in parentheses and
 * may hold spaces or parentheses itself, so the fields are counted from the last `)`: utime and stime are
 * fields 14 and 15 of the line, the 12th and 13th after it.
 */
export function statCpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`no utime/stime in /proc stat line: ${stat.slice(0, 80)}`);
  return utime + stime;
}

/** A `Key:   123 kB` line of /proc/PID/status, in KiB. */
export function statusKiB(status: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(status);
  if (match?.[1] === undefined) throw new Error(`no ${key} in /proc status`);
  return Number(match[1]);
}

/** The 1-minute load average from /proc/loadavg. */
export function loadAverage1(loadavg: string): number {
  return Number(loadavg.split(" ")[0]);
}

export function readProcUsage(pid: number, procRoot = "/proc"): ProcUsage {
  const status = readFileSync(`${procRoot}/${pid}/status`, "utf8");
  return {
    cpuMs: (statCpuTicks(readFileSync(`${procRoot}/${pid}/stat`, "utf8")) * 1000) / CLOCK_TICKS_PER_SECOND,
    rssKiB: statusKiB(status, "VmRSS"),
    anonKiB: statusKiB(status, "RssAnon"),
    hwmKiB: statusKiB(status, "VmHWM"),
  };
}

export function readLoadAverage(procRoot = "/proc"): number {
  return loadAverage1(readFileSync(`${procRoot}/loadavg`, "utf8"));
}
