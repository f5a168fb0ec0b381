/**
 * When the agent resolves its pods to cgroups again: a walk of the cgroup tree (a readdir per QoS and pod
 * directory) and an `access` of each container's computed path, about 21 ms of CPU at 110 pods × 3 containers
 * (BENCHMARKS.md, "Work outside the tick").
 */

import type { Target } from "../sampler/types.js";

/** Ticks between refreshes while a running container has no cgroup found, or a sampled cgroup vanished. */
export const UNSETTLED_REFRESH_EVERY_TICKS = 10;
/** Ticks between refreshes otherwise: a safety net for a pod watch that missed something. */
export const SETTLED_REFRESH_EVERY_TICKS = 60;

/**
 * A pod event always calls for a refresh. Without one, a refresh can find something new only while the node is
 * unsettled: a container the kubelet reports running has no cgroup found yet (Resolution.awaitingCgroup), or a
 * cgroup still listed vanished (a container restarted and its Pod's update is late). Otherwise the pod watch
 * reports each change that moves a cgroup (a new container ID), and the sampler each cgroup that goes.
 */
export class TargetRefreshSchedule {
  /** Ticks since the last refresh; the first tick always refreshes. */
  private ticksSinceRefresh = Number.POSITIVE_INFINITY;
  private settled = false;

  /** Whether this tick refreshes, given whether the node's pods changed since the last refresh. */
  due(podsChanged: boolean): boolean {
    const every = this.settled ? SETTLED_REFRESH_EVERY_TICKS : UNSETTLED_REFRESH_EVERY_TICKS;
    return podsChanged || this.ticksSinceRefresh >= every;
  }

  /** A refresh ran and left `awaitingCgroup` running containers without a cgroup. */
  refreshed(awaitingCgroup: number): void {
    this.ticksSinceRefresh = 0;
    this.settled = awaitingCgroup === 0;
  }

  /** A tick ran and found `vanished` of the cgroups it still listed gone. */
  ticked(vanished: number): void {
    this.ticksSinceRefresh++;
    if (vanished > 0) this.settled = false;
  }
}

/** How many of a tick's gone targets it still listed: cgroups that vanished, not targets a refresh dropped. */
export function vanishedTargets(gone: readonly string[], listed: readonly Target[]): number {
  if (gone.length === 0) return 0;
  const keys = new Set(listed.map((target) => target.key));
  return gone.filter((key) => keys.has(key)).length;
}
