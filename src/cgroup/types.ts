/** Which cgroup hierarchies a host has, and where each signal is read from. */
export type CgroupVersion = "v1" | "v2" | "hybrid";
export type CgroupDriver = "systemd" | "cgroupfs";
export type QosClass = "guaranteed" | "burstable" | "besteffort";
export type ContainerRuntime = "containerd" | "cri-o" | "docker" | "unknown";

export interface CgroupLayout {
  readonly version: CgroupVersion;
  /** The configured cgroup root, e.g. /sys/fs/cgroup. */
  readonly root: string;
  /**
   * Absolute mount directory of each v1 controller that is present. `cpu` and `cpuacct` point at the
   * same directory when they are co-mounted (`cpu,cpuacct`).
   */
  readonly v1: {
    readonly cpu?: string;
    readonly cpuacct?: string;
    readonly memory?: string;
    readonly blkio?: string;
  };
  /** The cgroup2 mount: the root itself on pure v2, `<root>/unified` on hybrid hosts. */
  readonly unified?: string;
  /** Whether the unified hierarchy carries PSI files (`cpu.pressure` etc.). */
  readonly psi: boolean;
}

/** A kubelet pod cgroup, found by walking the tree. Paths are relative to each hierarchy's mount. */
export interface PodCgroup {
  readonly podUid: string;
  readonly qosClass: QosClass;
  readonly driver: CgroupDriver;
  readonly relPath: string;
  readonly containers: readonly ContainerCgroup[];
}

export interface ContainerCgroup {
  readonly containerId: string;
  readonly runtime: ContainerRuntime;
  readonly relPath: string;
}

/** Cumulative PSI counters from a `*.pressure` file; `total` is in microseconds. */
export interface PsiTotals {
  readonly someTotalUsec: number;
  /** Absent for node-level /proc/pressure/cpu on older kernels. */
  readonly fullTotalUsec?: number;
}

/**
 * One read of a cgroup's raw, mostly cumulative, counters. Every field is optional because
 * hierarchies differ (no per-cgroup PSI on pure v1, no throttling stats without the cpu controller).
 * `null` limits mean unlimited.
 */
export interface RawCounters {
  /** Monotonic read time (performance.now() based), for rates. */
  readonly monoMs: number;
  /** Wall-clock read time, for storage and display. */
  readonly wallMs: number;
  readonly cpuUsageUsec?: number;
  readonly nrPeriods?: number;
  readonly nrThrottled?: number;
  readonly throttledUsec?: number;
  /** CPU limit in cores from cfs quota/period or cpu.max; null = no limit. */
  readonly cpuLimitCores?: number | null;
  /** CPU weight normalised to cgroup v2 `cpu.weight` (1..10000); v1 shares are converted. */
  readonly cpuWeight?: number;
  readonly memoryUsageBytes?: number;
  readonly memoryInactiveFileBytes?: number;
  /** null = unlimited. */
  readonly memoryLimitBytes?: number | null;
  readonly memoryHighBytes?: number | null;
  readonly oomKills?: number;
  readonly psiCpu?: PsiTotals;
  readonly psiMemory?: PsiTotals;
  readonly psiIo?: PsiTotals;
}

/** Outcome of reading one cgroup: counters, or the cgroup is gone (pod left), plus non-fatal problems. */
export type ReadOutcome =
  | { readonly kind: "read"; readonly counters: RawCounters; readonly problems: readonly string[] }
  | { readonly kind: "gone"; readonly relPath: string };
