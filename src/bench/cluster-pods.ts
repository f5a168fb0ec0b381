/**
 * The rest of a cluster around the bench's node: Pods of Deployments on other nodes, as the agent's
 * cluster-wide Pod watch (dependency mapping) lists and caches them. The memory goal is the agent's
 * RSS with 110 pods of its own in a cluster of 5,000.
 */
import type { KubeObject } from "../api/meta.js";
import type { KubeClient } from "../kube/client.js";
import { POD } from "../kube/resources.js";
import { realisticPod } from "./peer-cache.js";

/** Namespaces the other Pods spread over, as `realisticPod`'s teams do. */
const TEAMS = 20;
/** Requests in flight while creating: the apiserver on two cores takes this many without queueing for long. */
const CONCURRENCY = 8;

export interface ClusterPods {
  readonly namespaces: readonly string[];
}

/**
 * Creates `count` Pods of `realisticPod`'s Deployments in namespaces `<prefix>-team-<n>`, each with its status
 * (phase, IPs, conditions, container status) written through /status as a kubelet would. Nothing runs them:
 * without a controller manager nothing deletes or reschedules them either.
 */
export async function createClusterPods(client: KubeClient, prefix: string, count: number, fieldManager: string): Promise<ClusterPods> {
  const namespaces = Array.from({ length: Math.min(TEAMS, count) }, (_, team) => `${prefix}-team-${team}`);
  for (const namespace of namespaces) await ensurePodNamespace(client, namespace, fieldManager);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) await createOne(client, realisticPod(i), `${prefix}-team-${i % TEAMS}`, fieldManager);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { namespaces };
}

/** A namespace Pods can be created in, whether or not a controller manager runs. */
export async function ensurePodNamespace(client: KubeClient, namespace: string, fieldManager: string): Promise<void> {
  await client.ensureNamespace(namespace, fieldManager);
  // Pod admission needs the namespace's default ServiceAccount, which only a controller manager would create.
  await client.create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace } }, fieldManager);
}

async function createOne(client: KubeClient, pod: KubeObject, namespace: string, fieldManager: string): Promise<void> {
  const { metadata, spec, status } = pod as KubeObject & { spec: unknown; status: unknown };
  const name = metadata?.name ?? "";
  // What the apiserver sets itself (uid, resourceVersion, creationTimestamp, managedFields) is left out.
  const { labels, annotations, ownerReferences } = metadata ?? {};
  await client.create({ ...POD, metadata: { name, namespace, labels, annotations, ownerReferences }, spec } as KubeObject, fieldManager);
  await client.applyStatus({ ...POD, metadata: { name, namespace }, status } as KubeObject, { fieldManager, force: true });
}
