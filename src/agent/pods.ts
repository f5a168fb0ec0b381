import { containerCgroupPath, parseContainerRef, podCgroupPath, qosClassFromApi } from "../cgroup/discover.js";
import type { CgroupDriver, ContainerRuntime, PodCgroup } from "../cgroup/types.js";
import type { Target } from "../sampler/types.js";
import { defined } from "../util/object.js";
import type { Labels } from "./selector.js";

/** The fields of a Pod the agent uses, as plain JSON from the API. */
export interface ApiPod {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly uid?: string; readonly labels?: Record<string, string>; readonly deletionTimestamp?: string };
  readonly spec?: { readonly nodeName?: string; readonly hostNetwork?: boolean };
  readonly status?: {
    readonly phase?: string;
    readonly qosClass?: string;
    readonly podIP?: string;
    readonly containerStatuses?: readonly ApiContainerStatus[];
  };
}

interface ApiContainerStatus {
  readonly name: string;
  readonly containerID?: string;
  readonly state?: { readonly running?: unknown };
  readonly lastState?: { readonly terminated?: { readonly reason?: string; readonly containerID?: string; readonly finishedAt?: string } };
}

/** A container instance the kubelet recorded as ended by an OOM kill (`lastState.terminated.reason: OOMKilled`). */
export interface OomKilledInstance {
  readonly containerName: string;
  readonly containerId: string;
  readonly finishedAtMs: number;
}

export interface NodePod {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly qosClass?: ReturnType<typeof qosClassFromApi>;
  readonly hostNetwork: boolean;
  readonly podIP?: string;
  /** `running`: the kubelet reports the container running, so it has a cgroup, found or not yet (a waiting or exited one need not). */
  readonly containers: readonly { readonly name: string; readonly containerId: string; readonly runtime: ContainerRuntime; readonly running: boolean }[];
  /** Containers the kubelet lists without an ID the agent can use: none yet, or one of a runtime it does not know. */
  readonly unidentified: readonly { readonly name: string; readonly containerID?: string }[];
  /** The previous instance of a container, when the kubelet says an OOM kill ended it. */
  readonly oomKilled: readonly OomKilledInstance[];
}

const FINISHED = new Set(["Succeeded", "Failed"]);

/** Pods that hold cgroups worth sampling: not finished, and with a UID. */
export function nodePodFromApi(pod: ApiPod): NodePod | undefined {
  const meta = pod.metadata ?? {};
  if (!meta.uid || !meta.name || !meta.namespace) return undefined;
  const status = pod.status ?? {};
  if (FINISHED.has(status.phase ?? "")) return undefined;
  const statuses = status.containerStatuses ?? [];
  return {
    uid: meta.uid,
    namespace: meta.namespace,
    name: meta.name,
    labels: meta.labels ?? {},
    hostNetwork: pod.spec?.hostNetwork === true,
    containers: containersOf(statuses),
    unidentified: statuses.flatMap((status) => (status.containerID !== undefined && parseContainerRef(status.containerID) ? [] : [{ name: status.name, ...defined({ containerID: status.containerID === "" ? undefined : status.containerID }) }])),
    oomKilled: oomKilledOf(statuses),
    ...defined({ qosClass: status.qosClass === undefined ? undefined : qosClassFromApi(status.qosClass), podIP: status.podIP }),
  };
}

/** Containers with a runtime ID; one still being created has none yet and no cgroup either. */
function containersOf(statuses: readonly ApiContainerStatus[]): NodePod["containers"] {
  return statuses.flatMap((status) => {
    const ref = status.containerID === undefined ? undefined : parseContainerRef(status.containerID);
    return ref ? [{ name: status.name, containerId: ref.containerId, runtime: ref.runtime, running: status.state?.running !== undefined }] : [];
  });
}

function oomKilledOf(statuses: readonly ApiContainerStatus[]): NodePod["oomKilled"] {
  return statuses.flatMap((status) => {
    const terminated = status.lastState?.terminated;
    if (terminated?.reason !== "OOMKilled" || terminated.containerID === undefined) return [];
    const ref = parseContainerRef(terminated.containerID);
    const finishedAtMs = Date.parse(terminated.finishedAt ?? "");
    return ref && Number.isFinite(finishedAtMs) ? [{ containerName: status.name, containerId: ref.containerId, finishedAtMs }] : [];
  });
}

/** A pod on the node with containers the agent does not sample, and why, for the log. */
export interface UnsampledPod {
  /** "namespace/name" */
  readonly pod: string;
  readonly reasons: readonly string[];
  /** A container ID names a runtime the agent does not know: not a passing state, worth a warning. */
  readonly unknownRuntime: boolean;
}

export interface Resolution {
  readonly targets: Target[];
  /** Pods with containers whose cgroup was found neither by path nor by the tree walk, e.g. still starting. */
  readonly unsampled: readonly UnsampledPod[];
  /**
   * Running containers whose cgroup was found neither way: the only ones whose cgroup may yet appear with no
   * pod event to announce it. A container without an ID, or waiting or exited, changes its status first.
   */
  readonly awaitingCgroup: number;
}

const RUNTIMES = "containerd://, cri-o:// or docker://";

/** Why a pod's containers without an ID are not sampled; empty when each has one. */
function unidentifiedReasons(pod: NodePod): string[] {
  if (pod.containers.length === 0 && pod.unidentified.length === 0) return ["no container statuses yet"];
  return pod.unidentified.map((c) =>
    c.containerID === undefined ? `container ${c.name} has no containerID yet` : `container ${c.name} has containerID ${JSON.stringify(c.containerID)}, not ${RUNTIMES}<id>`,
  );
}

/**
 * Maps API pods to container cgroups. The path computed from uid, qosClass and the container ID is
 * tried first (cheap, exact); the tree walk (`discovered`) is the fallback for layouts the kubelet
 * was configured differently for (a custom --cgroup-root, a driver we guessed wrong). `exists` is
 * the only I/O, passed in so this stays testable (the agent checks `computedPaths` ahead, asynchronously).
 */
export function resolveTargets(pods: readonly NodePod[], discovered: readonly PodCgroup[], driver: CgroupDriver, exists: (relPath: string) => boolean): Resolution {
  const byUid = new Map(discovered.map((pod) => [pod.podUid, pod]));
  const targets: Target[] = [];
  const unsampled: UnsampledPod[] = [];
  let awaitingCgroup = 0;
  for (const pod of pods) {
    const walked = byUid.get(pod.uid);
    const computedPaths = computedPathsOf(pod, driver);
    const reasons = unidentifiedReasons(pod);
    const unknownRuntime = pod.unidentified.some((c) => c.containerID !== undefined);
    for (const [i, container] of pod.containers.entries()) {
      const computed = computedPaths[i];
      const relPath =
        computed !== undefined && exists(computed)
          ? computed
          : walked?.containers.find((c) => c.containerId === container.containerId)?.relPath;
      if (relPath === undefined) {
        awaitingCgroup += container.running ? 1 : 0;
        reasons.push(`container ${container.name} has no cgroup${computed === undefined ? " (no qosClass to place it by)" : ` at ${computed}`} nor one in the cgroup tree`);
        continue;
      }
      targets.push({
        key: `${pod.uid}/${container.containerId}`,
        podUid: pod.uid,
        containerId: container.containerId,
        relPath,
        namespace: pod.namespace,
        podName: pod.name,
        containerName: container.name,
      });
    }
    if (reasons.length > 0) unsampled.push({ pod: `${pod.namespace}/${pod.name}`, reasons, unknownRuntime });
  }
  return { targets, unsampled, awaitingCgroup };
}

/** The cgroup path the kubelet gives each of the pod's containers, in order; undefined without a QoS class. */
function computedPathsOf(pod: NodePod, driver: CgroupDriver): (string | undefined)[] {
  const podPath = pod.qosClass === undefined ? undefined : podCgroupPath(pod.uid, pod.qosClass, driver);
  return pod.containers.map((container) => (podPath === undefined ? undefined : containerCgroupPath(podPath, container.containerId, container.runtime, driver)));
}

/** Every computed container path of `pods`: what resolveTargets asks `exists` about. */
export function computedPaths(pods: readonly NodePod[], driver: CgroupDriver): string[] {
  return pods.flatMap((pod) => computedPathsOf(pod, driver).filter((path) => path !== undefined));
}

/** The driver the kubelet uses on this host, from what the tree walk found (systemd when unsure: the kubeadm default). */
export function detectDriver(discovered: readonly PodCgroup[]): CgroupDriver {
  const cgroupfs = discovered.filter((pod) => pod.driver === "cgroupfs").length;
  return cgroupfs > discovered.length / 2 ? "cgroupfs" : "systemd";
}
