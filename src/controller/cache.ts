import type { KubeObject } from "../api/meta.js";
import { defined } from "../util/object.js";

/** What reconcilers read: a watch cache (Informer implements it). Reconcilers never GET what they watch. */
export interface Cache<T extends KubeObject> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): T[];
}

export type Node = KubeObject;

/**
 * A Node as the controller keeps it: its name, uid and deletion (all the node reconciler and the policy
 * status read), and the resourceVersion its watch resumes on. The rest is the kubelet's status — up to 50
 * images, conditions, addresses, capacity — many kilobytes per node that a cache of a large cluster would
 * otherwise hold for nothing.
 */
export function slimNode(node: KubeObject): Node {
  const meta = node.metadata ?? {};
  return defined({
    apiVersion: node.apiVersion,
    kind: node.kind,
    metadata: defined({ name: meta.name, uid: meta.uid, resourceVersion: meta.resourceVersion, deletionTimestamp: meta.deletionTimestamp }),
  });
}
