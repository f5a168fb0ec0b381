/**
 * What the agent watches of the API: the pods bound to its node, every StarvationPolicy and every Namespace
 * (for namespace selectors). Handlers only mark state dirty; the sampling loop does the work at its next tick.
 */
import type { KubeObject } from "../api/meta.js";
import { effectivePolicy, type EffectivePolicy } from "../api/policy.js";
import { buildPeerIndex, ownerOf, type PodLike } from "../deps/resolve.js";
import type { KubeClient } from "../kube/client.js";
import type { Informer } from "../kube/informer.js";
import { NAMESPACE, POD, STARVATION_POLICY_KIND } from "../kube/resources.js";
import type { Logger } from "../util/log.js";
import { nodePodFromApi, type NodePod } from "./pods.js";
import type { Labels } from "./selector.js";

/** Owner lookups for this node's own pods, from their own ownerReferences: no cluster-wide pod cache. */
const NO_PEERS = buildPeerIndex({ pods: [] });

interface NamespaceObject extends KubeObject {
  readonly metadata?: { name?: string; labels?: Record<string, string> };
}

export class NodeWatches {
  /** Set when a pod on the node changed: targets are resolved again. */
  podsDirty = true;
  /** Set when a policy or a namespace changed: policies are loaded again. */
  policiesDirty = true;
  private readonly pods: Informer<KubeObject>;
  private readonly policies: Informer<KubeObject>;
  private readonly namespaces: Informer<KubeObject>;

  constructor(
    client: KubeClient,
    nodeName: string,
    private readonly logger: Logger,
  ) {
    // The apiserver filters by node, so an agent never caches the whole cluster's pods.
    this.pods = client.informer(POD, { fieldSelector: `spec.nodeName=${nodeName}`, log: logger });
    this.policies = client.informer(STARVATION_POLICY_KIND, { log: logger });
    this.namespaces = client.informer(NAMESPACE, { log: logger });
    this.pods.on(() => { this.podsDirty = true; });
    this.policies.on(() => { this.policiesDirty = true; });
    this.namespaces.on(() => { this.policiesDirty = true; });
  }

  /** Starts the watches; they sync in the background, so sampling starts even if the API is slow or down. */
  start(): void {
    void Promise.all([this.pods.start(), this.policies.start(), this.namespaces.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.pods.stop(), this.policies.stop(), this.namespaces.stop()]);
  }

  /** The pods on this node that hold cgroups worth sampling. */
  nodePods(): NodePod[] {
    return this.pods.list().flatMap((object) => {
      const pod = nodePodFromApi(object);
      return pod ? [pod] : [];
    });
  }

  /** Every valid policy; an invalid one is logged and left out. */
  effectivePolicies(): EffectivePolicy[] {
    const effective: EffectivePolicy[] = [];
    for (const object of this.policies.list()) {
      const result = effectivePolicy(object);
      if (result.ok) effective.push(result.value);
      else this.logger.warn({ policy: object.metadata?.name, errors: result.error }, `ignoring invalid StarvationPolicy ${object.metadata?.name ?? ""}`);
    }
    return effective;
  }

  namespaceLabels(): Map<string, Labels> {
    return new Map(this.namespaces.list().map((ns) => [ns.metadata?.name ?? "", (ns as NamespaceObject).metadata?.labels ?? {}]));
  }

  /** The top-level owner of a pod on this node from its own ownerReferences, for when mapping is off. */
  ownWorkloadOf(podUid: string): string | undefined {
    const pod = this.pods.list().find((object) => object.metadata?.uid === podUid);
    const owner = pod ? ownerOf(pod as PodLike, NO_PEERS) : undefined;
    return owner ? `${owner.kind}/${owner.name}` : undefined;
  }
}
