import type { RecordedSample } from "../engine/node-engine.js";
import type { ContainerSample } from "../sampler/types.js";
import type { NodePod } from "./pods.js";

/**
 * OOM kills as the kubelet recorded them (`lastState.terminated.reason: OOMKilled`), for the kills
 * the cgroup counters cannot show. A kill of a container's main process ends the container, and the
 * runtime removes its cgroup within milliseconds: the next tick finds it gone (reads of a removed
 * cgroup fail with ENODEV, kept-open files too), so the oom_kill count in memory.oom_control (v1) or
 * memory.events (v2) is read only by a tick that happens to fall between the kill and the removal.
 * On cgroup v1 the pod's cgroup does not count it either: v1 counts a kill only in the killed task's
 * own memory cgroup. The kubelet's record comes from the runtime's OOM event and stays on the Pod.
 *
 * Each killed instance counts once: not when a tick did read the kill from its cgroup, and not again
 * on later ticks. Kills that ended before the agent started are left alone: the run that saw them
 * reported them, and a restart must not raise them again.
 */
export class KubeletOomKills {
  /** Container instances (runtime IDs) whose kill is already counted, from their cgroup or from the kubelet. */
  private readonly counted = new Set<string>();

  constructor(private readonly sinceMs: number) {}

  /**
   * The kills the kubelet recorded that no sample counted yet, as samples of the killed instance
   * (key `<podUid>/<containerId>`, as the sampler keys it) at `nowMs`. `sampled` are this tick's
   * samples from the cgroups.
   */
  missed(pods: readonly NodePod[], sampled: readonly ContainerSample[], nowMs: number, intervalMs: number): RecordedSample[] {
    for (const sample of sampled) if (sample.oomKills > 0) this.counted.add(sample.containerId);
    const recorded: RecordedSample[] = [];
    const live = new Set<string>();
    for (const pod of pods) {
      for (const container of pod.containers) live.add(container.containerId);
      for (const killed of pod.oomKilled) {
        live.add(killed.containerId);
        if (killed.finishedAtMs < this.sinceMs || this.counted.has(killed.containerId)) continue;
        this.counted.add(killed.containerId);
        recorded.push({
          sample: { key: `${pod.uid}/${killed.containerId}`, podUid: pod.uid, containerId: killed.containerId, wallMs: nowMs, intervalMs, oomKills: 1 },
          names: { pod: { uid: pod.uid, namespace: pod.namespace, name: pod.name }, containerName: killed.containerName },
        });
      }
    }
    // An instance no pod mentions any more (a later restart replaced the record, or the pod is gone) cannot be reported again.
    for (const id of this.counted) if (!live.has(id)) this.counted.delete(id);
    return recorded;
  }
}
