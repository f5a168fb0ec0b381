import type { PodCgroup } from "../cgroup/types.js";
import type { Target } from "../sampler/types.js";

/** Without the API, targets come from walking the cgroup tree: pods are known by UID only. */
export function targetsFromCgroups(pods: readonly PodCgroup[]): Target[] {
  return pods.flatMap((pod) =>
    pod.containers.map((container) => ({
      key: `${pod.podUid}/${container.containerId}`,
      podUid: pod.podUid,
      containerId: container.containerId,
      relPath: container.relPath,
    })),
  );
}
