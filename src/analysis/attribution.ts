import { cores, pct, podLabel } from "./format.js";
import type { ContainerWindow, Culprit, NodeWindow, PodRef } from "./rule.js";

/** A neighbour must take at least this much CPU during the stall to be named at all. */
const MIN_CULPRIT_CORES = 0.1;
/** Below this score the evidence is too thin to name anyone. */
const MIN_CULPRIT_SCORE = 0.3;

export interface RankedNeighbour {
  readonly pod: PodRef;
  /** Mean cores the neighbour pod used over the intervals in which the victim stalled. */
  readonly usageCoresDuringStall: number;
  /** This neighbour's part of all neighbour CPU during the stall (0..1). */
  readonly usageShare: number;
  /** Pearson correlation of the neighbour's usage with the victim's stall share over the window (-1..1). */
  readonly correlation: number;
  readonly score: number;
}

export interface Attribution {
  /** Cores the victim's own pod used while it stalled. */
  readonly ownCoresDuringStall: number;
  /** Cores all other pods, and processes outside pods, used while the victim stalled. */
  readonly neighbourCoresDuringStall: number;
  /** Cores used by processes outside any pod (system daemons, the kubelet, builds) while the victim stalled. */
  readonly outsidePodsCoresDuringStall: number;
  readonly stalledIntervals: number;
  readonly ranked: readonly RankedNeighbour[];
  readonly culprit?: Culprit;
}

/**
 * Ranks the other pods on the node by how much CPU they took while the victim stalled, and how
 * closely their usage tracked the victim's stall. Samples of one tick share a timestamp, which is
 * what lines the series up.
 */
export function attributeStarvation(victim: ContainerWindow, windows: readonly ContainerWindow[], stallThreshold: number, node?: NodeWindow): Attribution {
  const stallByTime = new Map<number, number>();
  for (const sample of victim.samples) {
    if (sample.cpuStallShare !== undefined) stallByTime.set(sample.wallMs, sample.cpuStallShare);
  }
  // Intervals in which the victim was clearly stalling; all of them if it never crossed half the threshold.
  let stalledTimes = [...stallByTime].filter(([, share]) => share >= stallThreshold / 2).map(([time]) => time);
  if (stalledTimes.length === 0) stalledTimes = [...stallByTime.keys()];

  const usageByPod = podUsageByTime(windows);
  const own = usageByPod.get(victim.pod.uid);
  const ownCoresDuringStall = own ? meanAt(own.usageByTime, stalledTimes) : 0;

  const neighbours = [...usageByPod.values()].filter((entry) => entry.pod.uid !== victim.pod.uid);
  const usages = neighbours.map((entry) => ({ entry, usage: meanAt(entry.usageByTime, stalledTimes) }));
  const podNeighbourCores = usages.reduce((total, { usage }) => total + usage, 0);
  const outsidePodsCoresDuringStall = meanAt(outsidePodsByTime(node, usageByPod), stalledTimes);
  const neighbourCoresDuringStall = podNeighbourCores + outsidePodsCoresDuringStall;

  const times = [...stallByTime.keys()];
  const stallSeries = times.map((time) => stallByTime.get(time) ?? 0);
  const ranked = usages
    .map(({ entry, usage }): RankedNeighbour => {
      const usageShare = neighbourCoresDuringStall > 0 ? usage / neighbourCoresDuringStall : 0;
      const correlation = pearson(times.map((time) => entry.usageByTime.get(time) ?? 0), stallSeries);
      // Usage share carries most of the weight: steady noisy neighbours have little variance to correlate.
      const score = usageShare * (0.75 + 0.25 * Math.max(0, correlation));
      return { pod: entry.pod, usageCoresDuringStall: usage, usageShare, correlation, score };
    })
    .sort((a, b) => b.score - a.score);

  const top = ranked[0];
  // When processes outside pods took more than any pod, no pod is to blame.
  const culprit =
    top && qualifies(top, ownCoresDuringStall) && top.usageCoresDuringStall > outsidePodsCoresDuringStall ? toCulprit(top, victim, stalledTimes.length) : undefined;
  return {
    ownCoresDuringStall,
    neighbourCoresDuringStall,
    outsidePodsCoresDuringStall,
    stalledIntervals: stalledTimes.length,
    ranked,
    ...(culprit ? { culprit } : {}),
  };
}

/** A smaller neighbour is never blamed: a pod that outruns its own cores is not starved by it. */
function qualifies(top: RankedNeighbour, ownCores: number): boolean {
  return top.usageCoresDuringStall >= MIN_CULPRIT_CORES && top.usageCoresDuringStall > ownCores && top.score >= MIN_CULPRIT_SCORE;
}

function toCulprit(top: RankedNeighbour, victim: ContainerWindow, stalledIntervals: number): Culprit {
  const corr = Number.isFinite(top.correlation) ? top.correlation.toFixed(2) : "n/a";
  return {
    pod: top.pod,
    score: Math.round(top.score * 100) / 100,
    evidence:
      `${podLabel(top.pod)} used ${cores(top.usageCoresDuringStall)} cores (${pct(top.usageShare)} of neighbour CPU) ` +
      `during ${stalledIntervals} stalled intervals of ${podLabel(victim.pod)}; usage/stall correlation ${corr}`,
  };
}

/** Node CPU minus every pod's CPU, per tick: what runs outside pods. Empty without node CPU samples. */
function outsidePodsByTime(node: NodeWindow | undefined, usageByPod: ReadonlyMap<string, PodUsage>): Map<number, number> {
  const outside = new Map<number, number>();
  for (const sample of node?.samples ?? []) {
    if (sample.cpuCores === undefined) continue;
    let podCores = 0;
    for (const entry of usageByPod.values()) podCores += entry.usageByTime.get(sample.wallMs) ?? 0;
    outside.set(sample.wallMs, Math.max(0, sample.cpuCores - podCores));
  }
  return outside;
}

interface PodUsage {
  readonly pod: PodRef;
  readonly usageByTime: Map<number, number>;
}

function podUsageByTime(windows: readonly ContainerWindow[]): Map<string, PodUsage> {
  const byPod = new Map<string, PodUsage>();
  for (const window of windows) {
    let entry = byPod.get(window.pod.uid);
    if (!entry) {
      entry = { pod: window.pod, usageByTime: new Map() };
      byPod.set(window.pod.uid, entry);
    }
    for (const sample of window.samples) {
      if (sample.cpuCores === undefined) continue;
      entry.usageByTime.set(sample.wallMs, (entry.usageByTime.get(sample.wallMs) ?? 0) + sample.cpuCores);
    }
  }
  return byPod;
}

function meanAt(series: ReadonlyMap<number, number>, times: readonly number[]): number {
  if (times.length === 0) return 0;
  return times.reduce((total, time) => total + (series.get(time) ?? 0), 0) / times.length;
}

/** Pearson correlation; 0 when either series is constant (no evidence either way). */
export function pearson(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < n; i++) {
    sumX += xs[i] ?? 0;
    sumY += ys[i] ?? 0;
  }
  const meanX = sumX / n;
  const meanY = sumY / n;
  let covariance = 0;
  let varianceX = 0;
  let varianceY = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - meanX;
    const dy = (ys[i] ?? 0) - meanY;
    covariance += dx * dy;
    varianceX += dx * dx;
    varianceY += dy * dy;
  }
  if (varianceX < 1e-12 || varianceY < 1e-12) return 0;
  return covariance / Math.sqrt(varianceX * varianceY);
}
