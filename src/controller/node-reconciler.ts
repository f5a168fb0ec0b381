/**
 * Node → NodeFindings: exactly one NodeFindings per Node, named after it, owned by it.
 *
 * The ownerReference lets the garbage collector delete a NodeFindings with its Node, but the reconciler
 * deletes orphans itself too: the GC is kube-controller-manager's, which may be absent or slow, and a
 * NodeFindings for a node that no longer exists would show up as a stale node in every policy's status.
 */
import type { Logger } from "pino";
import type { OwnerReference } from "../api/meta.js";
import { API_VERSION } from "../api/schema/names.js";
import type { NodeFindings } from "../api/types.generated.js";
import type { KubeClient } from "../kube/client.js";
import { CONTROLLER_FIELD_MANAGER, MANAGED_BY, MANAGED_BY_LABEL, NODE_FINDINGS_KIND } from "../kube/resources.js";
import type { ReconcileResult } from "../kube/workqueue.js";
import type { Cache, Node } from "./cache.js";

export function nodeOwnerReference(node: Node): OwnerReference {
  return {
    apiVersion: "v1",
    kind: "Node",
    name: node.metadata?.name ?? "",
    uid: node.metadata?.uid ?? "",
    controller: true,
    // Deleting a Node must never wait on its NodeFindings.
    blockOwnerDeletion: false,
  };
}

/** The fields the controller owns on a node's NodeFindings (status belongs to the agent). */
export function desiredNodeFindings(node: Node): NodeFindings {
  const name = node.metadata?.name ?? "";
  return {
    apiVersion: API_VERSION,
    kind: "NodeFindings",
    metadata: { name, labels: { [MANAGED_BY_LABEL]: MANAGED_BY }, ownerReferences: [nodeOwnerReference(node)] },
    spec: { nodeName: name },
  };
}

/** Whether the live object already has what desiredNodeFindings would apply (owned by this very Node). */
export function nodeFindingsUpToDate(live: NodeFindings, node: Node): boolean {
  const owners = (live.metadata.ownerReferences ?? []).filter((o) => o.kind === "Node");
  const owner = owners.length === 1 ? owners[0] : undefined;
  return (
    live.spec.nodeName === node.metadata?.name &&
    live.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY &&
    owner !== undefined &&
    owner.uid === node.metadata.uid &&
    owner.controller === true
  );
}

export interface NodeReconcilerDeps {
  readonly client: KubeClient;
  readonly nodes: Cache<Node>;
  readonly nodeFindings: Cache<NodeFindings>;
  readonly log: Logger;
}

export class NodeReconciler {
  static readonly kind = "Node";

  constructor(private readonly deps: NodeReconcilerDeps) {}

  /** Keys are node names (from Node and NodeFindings events alike). */
  async reconcile(name: string): Promise<ReconcileResult | undefined> {
    const node = this.deps.nodes.get(name);
    const live = this.deps.nodeFindings.get(name);
    if (node === undefined || node.metadata?.deletionTimestamp !== undefined) {
      if (live !== undefined) await this.deleteOrphan(live);
      return undefined;
    }
    if (live !== undefined && live.spec.nodeName !== name) {
      // spec.nodeName is immutable: replace the object rather than fight the CRD's validation.
      await this.remove(live);
      return { requeueAfterMs: 0 };
    }
    if (live !== undefined && nodeFindingsUpToDate(live, node)) return undefined;
    await this.deps.client.apply(desiredNodeFindings(node), { fieldManager: CONTROLLER_FIELD_MANAGER, force: true });
    this.deps.log.info({ node: name }, live === undefined ? "created NodeFindings" : "updated NodeFindings owner");
    return undefined;
  }

  private async deleteOrphan(live: NodeFindings): Promise<void> {
    if (live.metadata.deletionTimestamp !== undefined) return;
    const name = live.metadata.name ?? "";
    if (await this.remove(live)) this.deps.log.info({ node: name }, `deleted NodeFindings ${name}: no Node of that name exists`);
  }

  /** Deletes this incarnation only (uid precondition): never one recreated meanwhile. */
  private remove(live: NodeFindings): Promise<boolean> {
    const uid = live.metadata.uid;
    return this.deps.client.delete({ ...NODE_FINDINGS_KIND, name: live.metadata.name ?? "" }, uid === undefined ? {} : { uid });
  }
}
