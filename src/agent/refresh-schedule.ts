/**
 * When the agent resolves its pods to cgroups again (a walk of the cgroup tree plus a check of each computed
 * path: about 450 file system calls at 110 pods). A pod event always calls for it. Without one, a refresh can
 * only find something new while the node is unsettled: a pod the last refresh could not sample (its cgroup
 * may appear without an event, e.g. created after the status that named its container), or a sampled cgroup
 * that vanished (a container restarted and its Pod's update is late). Then it runs every few ticks. Once every
 * pod is sampled, the pod watch reports each change that moves a cgroup (a new container ID) and the sampler
 * reports each cgroup that goes, so the walk runs rarely, as a safety net for a watch that missed something.
 */
export const UNSETTLED_REFRESH_EVERY_TICKS = 10;
export const SETTLED_REFRESH_EVERY_TICKS = 60;

export class TargetRefreshSchedule {
  /** Ticks since the last refresh; the first tick always refreshes. */
  private ticksSinceRefresh = Number.POSITIVE_INFINITY;
  private settled = false;

  /** Whether this tick refreshes, given whether the node's pods changed since the last refresh. */
  due(podsChanged: boolean): boolean {
    const every = this.settled ? SETTLED_REFRESH_EVERY_TICKS : UNSETTLED_REFRESH_EVERY_TICKS;
    return podsChanged || this.ticksSinceRefresh >= every;
  }

  /** A refresh ran and left `unsampledPods` pods with a container it could not sample. */
  refreshed(unsampledPods: number): void {
    this.ticksSinceRefresh = 0;
    this.settled = unsampledPods === 0;
  }

  /** A tick ran and found `goneTargets` of its cgroups gone. */
  ticked(goneTargets: number): void {
    this.ticksSinceRefresh++;
    if (goneTargets > 0) this.settled = false;
  }
}
