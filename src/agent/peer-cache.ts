/**
 * The cluster-wide watch cache that names dependency peers: Pods (trimmed), Services and EndpointSlices.
 * It is what naming peers costs (see docs/dependencies.md, "Memory and RBAC"), so it runs only while some
 * policy maps dependencies.
 */
import type { KubeObject } from "../api/meta.js";
import { buildPeerIndex, type ClusterView, type EndpointSliceLike, type PeerIndex, type PodLike, type ServiceLike } from "../deps/resolve.js";
import type { KubeClient } from "../kube/client.js";
import type { Informer } from "../kube/informer.js";
import { ENDPOINT_SLICE, POD, SERVICE } from "../kube/resources.js";
import type { Logger } from "../util/log.js";
import { defined } from "../util/object.js";

/** API objects (plain JSON from the informers) as the resolver's input; objects without identity are skipped. */
export function clusterViewOf(pods: readonly KubeObject[], services: readonly KubeObject[], slices: readonly KubeObject[]): ClusterView {
  const named = (o: KubeObject): boolean => o.metadata?.name !== undefined && o.metadata.namespace !== undefined;
  return {
    pods: pods.filter((p) => named(p) && p.metadata?.uid !== undefined) as unknown as PodLike[],
    services: services.filter((s) => named(s) && (s as { spec?: unknown }).spec !== undefined) as unknown as ServiceLike[],
    endpointSlices: slices.filter(named) as unknown as EndpointSliceLike[],
  };
}

/** The one label the resolver reads: a Deployment's pods are named by their ReplicaSet's hash suffix. */
const KEPT_POD_LABELS = ["pod-template-hash"] as const;

/**
 * A Pod trimmed to what peer resolution reads (PodLike) plus what the watch cache keys on: identity,
 * owners, the template-hash label, hostNetwork, nodeName, phase and IPs. A typical Pod drops from 6.6 KiB of
 * heap to well under 1 KiB (BENCHMARKS.md, `peer-cache`), and the agent caches every Pod in the cluster.
 */
export function slimPod(pod: KubeObject): KubeObject {
  const meta = pod.metadata ?? {};
  const full = pod as KubeObject & { spec?: { hostNetwork?: boolean; nodeName?: string }; status?: { phase?: string; podIP?: string; podIPs?: { ip: string }[] } };
  const labels = defined(Object.fromEntries(KEPT_POD_LABELS.map((key) => [key, meta.labels?.[key]])));
  const owners = meta.ownerReferences?.map(({ apiVersion, kind, name, uid, controller }) => defined({ apiVersion, kind, name, uid, controller }));
  return defined({
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata: defined({
      name: meta.name,
      namespace: meta.namespace,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      labels: Object.keys(labels).length === 0 ? undefined : labels,
      ownerReferences: owners,
    }),
    spec: defined({ hostNetwork: full.spec?.hostNetwork, nodeName: full.spec?.nodeName }),
    status: defined({ phase: full.status?.phase, podIP: full.status?.podIP, podIPs: full.status?.podIPs?.map(({ ip }) => ({ ip })) }),
  }) as KubeObject;
}

/** Informers on Pods, Services and EndpointSlices, and the peer index built from them when they change. */
export class PeerCache {
  private informers: { pods: Informer<KubeObject>; services: Informer<KubeObject>; slices: Informer<KubeObject> } | undefined;
  private viewDirty = true;
  private peerIndex: PeerIndex | undefined;
  /** IP → the pods last named as claiming it together. */
  private toldAmbiguous = new Map<string, string>();

  constructor(
    private readonly client: KubeClient,
    private readonly logger: Logger,
  ) {}

  /** Starts the watches unless they run; they sync in the background, and peers resolve as far as they have got. */
  start(): void {
    if (this.informers !== undefined) return;
    const informers = {
      pods: this.client.informer(POD, { log: this.logger, transform: slimPod }),
      services: this.client.informer(SERVICE, { log: this.logger }),
      slices: this.client.informer(ENDPOINT_SLICE, { log: this.logger }),
    };
    for (const informer of Object.values(informers)) informer.on(() => { this.viewDirty = true; });
    this.informers = informers;
    this.viewDirty = true;
    void Promise.all(Object.values(informers).map((informer) => informer.start()));
  }

  async stop(): Promise<void> {
    const informers = this.informers;
    if (informers === undefined) return;
    this.informers = undefined;
    this.peerIndex = undefined;
    await Promise.all(Object.values(informers).map((informer) => informer.stop()));
  }

  /** The index over the cached objects; undefined while the watches are stopped. */
  index(): PeerIndex | undefined {
    const informers = this.informers;
    if (informers === undefined) return undefined;
    if (this.viewDirty || this.peerIndex === undefined) {
      this.viewDirty = false;
      this.peerIndex = buildPeerIndex(clusterViewOf(informers.pods.list(), informers.services.list(), informers.slices.list()));
      this.tellAmbiguous(this.peerIndex.ambiguousIps);
    }
    return this.peerIndex;
  }

  /** Names the pods of each IP newly claimed by more than one, once per change. */
  private tellAmbiguous(ambiguous: ReadonlyMap<string, readonly string[]>): void {
    const now = new Map<string, string>();
    for (const [ip, pods] of ambiguous) {
      const who = pods.join(", ");
      now.set(ip, who);
      if (this.toldAmbiguous.get(ip) !== who) this.logger.warn({ ip, pods }, `pods ${who} all claim IP ${ip}; connections to it are attributed to none of them`);
    }
    this.toldAmbiguous = now;
  }
}
