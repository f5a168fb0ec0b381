import type { CgroupSandbox, SandboxPod, SandboxPodSpec } from "../../../src/demo/sandbox.js";
import { randomContainerId } from "../../../src/demo/sandbox.js";
import { createPod, kubectl, setPodStatus, type CreatePodInput } from "../../cluster/index.js";

export type PodQos = "Burstable" | "BestEffort";

/**
 * A Pod on the real apiserver with its cgroups in the sandbox, tied the way the kubelet ties them: the
 * cgroup is named after the Pod's uid, and the container ID in its status is the cgroup's.
 */
export async function addApiPod(
  sandbox: CgroupSandbox,
  at: { namespace: string; nodeName: string; name: string; qosClass: PodQos; podIP: string } & Pick<CreatePodInput, "labels" | "annotations" | "ownerReferences"> & {
    /** Added to the one container "main" (image, env, …). */
    container?: Omit<NonNullable<CreatePodInput["containers"]>[number], "name">;
  },
  spec: Omit<SandboxPodSpec, "name" | "qosClass" | "uid" | "containerId"> = {},
): Promise<SandboxPod> {
  // The apiserver derives status.qosClass from requests at creation; the cgroup path must agree with it.
  const resources = at.qosClass === "Burstable" ? { requests: { cpu: "100m" } } : {};
  const { namespace, nodeName, name, labels, annotations, ownerReferences } = at;
  const apiPod = await createPod({ namespace, nodeName, name, labels, annotations, ownerReferences, containers: [{ ...at.container, name: "main", resources }] });
  const containerId = randomContainerId();
  const pod = sandbox.addPod({ name: at.name, qosClass: at.qosClass === "Burstable" ? "burstable" : "besteffort", uid: apiPod.metadata?.uid ?? "", containerId, ...spec });
  await setPodStatus(at.namespace, at.name, {
    phase: "Running",
    podIP: at.podIP,
    containerStatuses: [{ name: "main", containerID: `containerd://${containerId}`, ready: true, restartCount: 0 }],
  });
  return pod;
}

/** Applies a StarvationPolicy that selects one namespace; `spec` adds to (and overrides) the selector. */
export async function applyPolicy(name: string, namespace: string, spec: Record<string, unknown>): Promise<void> {
  const policy = {
    apiVersion: "xander.io/v1alpha1",
    kind: "StarvationPolicy",
    metadata: { name },
    spec: { selector: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } }, ...spec },
  };
  const applied = await kubectl(["apply", "-f", "-"], { input: JSON.stringify(policy) });
  if (applied.code !== 0) throw new Error(`cannot apply StarvationPolicy ${name}: ${applied.stderr}`);
}

export interface EventJson {
  readonly reason: string;
  readonly type: string;
  readonly note: string;
  readonly regarding: { readonly name: string; readonly uid?: string };
}

/** The events.k8s.io Events of a namespace, as the real apiserver holds them. */
export async function eventsIn(namespace: string): Promise<EventJson[]> {
  const result = await kubectl(["get", "events.events.k8s.io", "-n", namespace, "-o", "json"]);
  if (result.code !== 0) throw new Error(`cannot list Events in ${namespace}: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { items: EventJson[] }).items;
}
