/** A container cgroup the sampler reads each tick. */
export interface Target {
  /** `<podUid>/<containerId>`: stable across restarts of the agent. */
  readonly key: string;
  readonly podUid: string;
  readonly containerId: string;
  readonly relPath: string;
  readonly namespace?: string;
  readonly podName?: string;
  readonly containerName?: string;
}

/**
 * Per-interval values for one container, derived from two consecutive raw reads.
 * Shares are 0..1. Absent fields mean the host does not expose that signal.
 */
export interface ContainerSample {
  readonly key: string;
  readonly podUid: string;
  readonly containerId: string;
  /** End of the interval (wall clock). */
  readonly wallMs: number;
  readonly intervalMs: number;
  readonly cpuCores?: number;
  readonly periods?: number;
  readonly throttledPeriods?: number;
  /** throttledPeriods / periods in this interval; 0 when no period elapsed. */
  readonly throttleRatio?: number;
  readonly cpuLimitCores?: number | null;
  /** PSI `some` stall share (Δtotal / Δwall). */
  readonly cpuStallShare?: number;
  readonly memoryStallShare?: number;
  readonly memoryFullStallShare?: number;
  readonly ioStallShare?: number;
  readonly ioFullStallShare?: number;
  readonly workingSetBytes?: number;
  readonly memoryLimitBytes?: number | null;
  /** workingSetBytes / memoryLimitBytes; null when unlimited. */
  readonly memoryLimitShare?: number | null;
  /** OOM kills in this interval. */
  readonly oomKills: number;
}

/** Node-wide PSI from /proc/pressure for one interval. */
export interface NodeSample {
  readonly wallMs: number;
  readonly intervalMs: number;
  /** Cores the whole node used (pods and everything else). */
  readonly cpuCores?: number;
  readonly cpuStallShare?: number;
  readonly memoryStallShare?: number;
  readonly memoryFullStallShare?: number;
  readonly ioStallShare?: number;
  readonly ioFullStallShare?: number;
}

/** The result of one sampler tick. */
export interface Tick {
  readonly wallMs: number;
  readonly containers: readonly ContainerSample[];
  readonly node?: NodeSample;
  /** Keys of targets whose cgroup vanished since the last tick. */
  readonly gone: readonly string[];
  /** Non-fatal read problems, each naming the file. */
  readonly problems: readonly string[];
}
