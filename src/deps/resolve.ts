/**
 * Peer IP (and port) → Pod, Service or External, from the API's view of the cluster.
 *
 * The input types are plain data shaped like the relevant fields of the Kubernetes objects, so the
 * agent can pass client objects straight in and tests can write them by hand; nothing here imports a
 * client library. Pure.
 */

export interface OwnerReferenceLike {
  readonly kind: string;
  readonly name: string;
  readonly uid?: string;
  readonly controller?: boolean;
}

export interface ObjectMetaLike {
  readonly name: string;
  readonly namespace: string;
  readonly uid?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly OwnerReferenceLike[];
}

export interface PodLike {
  readonly metadata: ObjectMetaLike & { readonly uid: string };
  readonly spec?: { readonly hostNetwork?: boolean; readonly nodeName?: string };
  readonly status?: { readonly podIP?: string; readonly podIPs?: readonly { readonly ip: string }[]; readonly phase?: string };
}

export interface ServicePortLike {
  readonly name?: string;
  readonly port: number;
  /** A number, a named container port, or absent (then the same as `port`). */
  readonly targetPort?: number | string;
  readonly protocol?: string;
}

export interface ServiceLike {
  readonly metadata: ObjectMetaLike;
  readonly spec: { readonly clusterIP?: string; readonly clusterIPs?: readonly string[]; readonly ports?: readonly ServicePortLike[] };
}

export interface TargetRefLike {
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
}

/** discovery.k8s.io/v1 EndpointSlice. */
export interface EndpointSliceLike {
  readonly metadata: ObjectMetaLike;
  readonly endpoints?: readonly { readonly addresses: readonly string[]; readonly targetRef?: TargetRefLike }[];
  readonly ports?: readonly { readonly name?: string | null; readonly port?: number | null; readonly protocol?: string | null }[] | null;
}

/** core/v1 Endpoints (named after its Service). */
export interface EndpointsLike {
  readonly metadata: ObjectMetaLike;
  readonly subsets?: readonly {
    readonly addresses?: readonly { readonly ip: string; readonly targetRef?: TargetRefLike }[];
    readonly notReadyAddresses?: readonly { readonly ip: string; readonly targetRef?: TargetRefLike }[];
    readonly ports?: readonly { readonly name?: string; readonly port: number; readonly protocol?: string }[];
  }[];
}

/** What the index is built from. ReplicaSets and Jobs let a Pod be traced to its Deployment or CronJob. */
export interface ClusterView {
  readonly pods: readonly PodLike[];
  readonly services?: readonly ServiceLike[];
  readonly endpointSlices?: readonly EndpointSliceLike[];
  readonly endpoints?: readonly EndpointsLike[];
  /** Any owned controller objects: ReplicaSets, Jobs, or a custom kind's intermediates. */
  readonly controllers?: readonly { readonly kind: string; readonly metadata: ObjectMetaLike }[];
}

export interface WorkloadRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export type ResolvedPeer =
  | { readonly kind: "Pod"; readonly namespace: string; readonly name: string; readonly uid: string; readonly owner?: WorkloadRef }
  | {
      readonly kind: "Service";
      readonly namespace: string;
      readonly name: string;
      readonly port: number;
      /** The backends' port; absent when the ClusterIP has no such port (the connection would be refused). */
      readonly targetPort?: number | string;
    }
  | { readonly kind: "External"; readonly ip: string };

interface ServiceEntry {
  readonly service: ServiceLike;
  readonly port?: ServicePortLike;
}

export interface PeerIndex {
  readonly podsByIp: ReadonlyMap<string, PodLike>;
  /** IPs that two or more running pods claim → those pods ("namespace/name"): none of them gets the address. */
  readonly ambiguousIps: ReadonlyMap<string, readonly string[]>;
  readonly podsByUid: ReadonlyMap<string, PodLike>;
  /** `${clusterIP}|${port}`, and `${clusterIP}|*` for the Service itself. */
  readonly services: ReadonlyMap<string, ServiceEntry>;
  /** `${namespace}/${service}` → backend pod UIDs, from EndpointSlices and Endpoints. */
  readonly backends: ReadonlyMap<string, ReadonlySet<string>>;
  /** `${namespace}/${service}|${portName}` → the numeric target port the endpoints publish. */
  readonly endpointPorts: ReadonlyMap<string, number>;
  /** `${namespace}/${kind}/${name}` → controller object, for walking owner chains. */
  readonly controllers: ReadonlyMap<string, { readonly kind: string; readonly metadata: ObjectMetaLike }>;
}

const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export function buildPeerIndex(view: ClusterView): PeerIndex {
  const podsByUid = new Map(view.pods.map((p) => [p.metadata.uid, p]));
  const { podsByIp, ambiguousIps } = indexPodsByIp(view.pods);
  const backends = new Backends(podsByUid, podsByIp);
  for (const slice of view.endpointSlices ?? []) backends.addSlice(slice);
  for (const eps of view.endpoints ?? []) backends.addEndpoints(eps);
  const controllers = new Map((view.controllers ?? []).map((c) => [`${c.metadata.namespace}/${c.kind}/${c.metadata.name}`, c]));
  return {
    podsByIp,
    ambiguousIps,
    podsByUid,
    services: indexServices(view.services ?? []),
    backends: backends.members,
    endpointPorts: backends.ports,
    controllers,
  };
}

function indexServices(services: readonly ServiceLike[]): Map<string, ServiceEntry> {
  const out = new Map<string, ServiceEntry>();
  for (const service of services) {
    // UDP and SCTP ports never show in a tcp table.
    const tcpPorts = (service.spec.ports ?? []).filter((p) => (p.protocol ?? "TCP") === "TCP");
    for (const ip of clusterIps(service)) {
      out.set(`${ip}|*`, { service });
      for (const port of tcpPorts) out.set(`${ip}|${port.port}`, { service, port });
    }
  }
  return out;
}

type Endpoint = { readonly ip: string; readonly targetRef?: TargetRefLike };

/** Service → backend pod UIDs and published port numbers, from EndpointSlices first, then Endpoints. */
class Backends {
  readonly members = new Map<string, Set<string>>();
  readonly ports = new Map<string, number>();
  private readonly podsByName: ReadonlyMap<string, string>;

  constructor(
    podsByUid: ReadonlyMap<string, PodLike>,
    private readonly podsByIp: ReadonlyMap<string, PodLike>,
  ) {
    this.podsByName = new Map([...podsByUid.values()].map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p.metadata.uid]));
  }

  addSlice(slice: EndpointSliceLike): void {
    const svcName = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (svcName === undefined) return;
    const svcKey = `${slice.metadata.namespace}/${svcName}`;
    const endpoints = (slice.endpoints ?? []).flatMap((ep) => ep.addresses.map((ip): Endpoint => ({ ip, ...(ep.targetRef ? { targetRef: ep.targetRef } : {}) })));
    this.add(svcKey, slice.metadata.namespace, endpoints);
    for (const p of slice.ports ?? []) if (typeof p.port === "number") this.ports.set(`${svcKey}|${p.name ?? ""}`, p.port);
  }

  addEndpoints(eps: EndpointsLike): void {
    const svcKey = `${eps.metadata.namespace}/${eps.metadata.name}`;
    for (const subset of eps.subsets ?? []) {
      // A starved pod often fails its readiness probe and moves to notReadyAddresses; its callers are still its callers.
      this.add(svcKey, eps.metadata.namespace, [...(subset.addresses ?? []), ...(subset.notReadyAddresses ?? [])]);
      for (const p of subset.ports ?? []) {
        const key = `${svcKey}|${p.name ?? ""}`;
        if (!this.ports.has(key)) this.ports.set(key, p.port);
      }
    }
  }

  private add(svcKey: string, namespace: string, endpoints: readonly Endpoint[]): void {
    let set = this.members.get(svcKey);
    if (!set) this.members.set(svcKey, (set = new Set()));
    for (const ep of endpoints) {
      const uid = this.podUid(namespace, ep);
      if (uid !== undefined) set.add(uid);
    }
  }

  private podUid(namespace: string, ep: Endpoint): string | undefined {
    const ref = ep.targetRef;
    const isPod = (ref?.kind ?? "Pod") === "Pod";
    if (isPod && ref?.uid !== undefined) return ref.uid;
    if (isPod && ref?.name !== undefined) {
      const byName = this.podsByName.get(`${ref.namespace ?? namespace}/${ref.name}`);
      if (byName !== undefined) return byName;
    }
    return this.podsByIp.get(ep.ip)?.metadata.uid;
  }
}

/**
 * A peer as the API sees it. A ClusterIP and port → the Service (with the port mapped to the target
 * port); a pod IP → the Pod and its top-level owner; anything else → External. `port` is null for an
 * inbound peer, whose port is the caller's ephemeral one.
 */
export function resolvePeer(ip: string, port: number | null, index: PeerIndex): ResolvedPeer {
  const svc = index.services.get(`${ip}|${port ?? "*"}`) ?? index.services.get(`${ip}|*`);
  if (svc && port !== null) return serviceOf(svc, port, index);
  const pod = index.podsByIp.get(ip);
  if (pod) return podPeer(pod, index);
  return { kind: "External", ip };
}

export function podPeer(pod: PodLike, index: PeerIndex): ResolvedPeer & { kind: "Pod" } {
  const owner = ownerOf(pod, index);
  const { namespace, name, uid } = pod.metadata;
  return owner ? { kind: "Pod", namespace, name, uid, owner } : { kind: "Pod", namespace, name, uid };
}

/**
 * The top-level controller of a pod: its controller owner, followed up through owners the index knows
 * (ReplicaSet → Deployment, Job → CronJob). Without the ReplicaSet, a Deployment's is recognised by
 * the pod-template-hash suffix the Deployment controller gives its ReplicaSets; without the Job, a
 * CronJob's by the scheduled-time suffix of its Job's name (cronJobOfJobName).
 */
export function ownerOf(pod: PodLike, index: PeerIndex): WorkloadRef | undefined {
  const ns = pod.metadata.namespace;
  let ref = controllerRef(pod.metadata);
  if (!ref) return undefined;
  // Owner chains in Kubernetes are short (Pod → ReplicaSet → Deployment); the bound stops a cycle.
  for (let depth = 0; depth < 5; depth++) {
    const parent = index.controllers.get(`${ns}/${ref.kind}/${ref.name}`);
    const next = parent ? controllerRef(parent.metadata) : undefined;
    if (!next) break;
    ref = next;
  }
  const hash = pod.metadata.labels?.["pod-template-hash"];
  if (ref.kind === "ReplicaSet" && hash !== undefined && ref.name.endsWith(`-${hash}`)) {
    return { kind: "Deployment", namespace: ns, name: ref.name.slice(0, -hash.length - 1) };
  }
  const cronJob = ref.kind === "Job" ? cronJobOfJobName(ref.name) : undefined;
  if (cronJob !== undefined) return { kind: "CronJob", namespace: ns, name: cronJob };
  return { kind: ref.kind, namespace: ns, name: ref.name };
}

/** Unix minutes from mid-2017 to the year 2160: what the CronJob controller appends to its Jobs' names. */
const CRON_MINUTES_MIN = 25_000_000;
const CRON_MINUTES_MAX = 100_000_000;

/**
 * The CronJob a Job name says it came from: the CronJob controller names each Job `<cronjob>-<scheduled
 * time in Unix minutes>`, so without the Job object each run would count as a caller of its own. A date
 * such as `backup-20250101` (about 20 million) stays a Job.
 */
export function cronJobOfJobName(job: string): string | undefined {
  const match = /^(.+)-(\d{8,9})$/.exec(job);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  const minutes = Number(match[2]);
  return minutes >= CRON_MINUTES_MIN && minutes < CRON_MINUTES_MAX ? match[1] : undefined;
}

function controllerRef(meta: ObjectMetaLike): OwnerReferenceLike | undefined {
  return meta.ownerReferences?.find((r) => r.controller === true);
}

function serviceOf(entry: ServiceEntry, port: number, index: PeerIndex): ResolvedPeer {
  const { namespace, name } = entry.service.metadata;
  if (!entry.port) return { kind: "Service", namespace, name, port };
  return { kind: "Service", namespace, name, port, targetPort: targetPortOf(entry.service, entry.port, index) };
}

/** A named targetPort resolves through the endpoints, which publish the number under the service port's name. */
function targetPortOf(service: ServiceLike, port: ServicePortLike, index: PeerIndex): number | string {
  const target = port.targetPort ?? port.port;
  if (typeof target === "number") return target;
  const published = index.endpointPorts.get(`${service.metadata.namespace}/${service.metadata.name}|${port.name ?? ""}`);
  return published ?? target;
}

function clusterIps(service: ServiceLike): string[] {
  const ips = new Set([...(service.spec.clusterIPs ?? []), ...(service.spec.clusterIP ? [service.spec.clusterIP] : [])]);
  // Headless Services ("None") have no virtual IP: clients dial the pods directly.
  ips.delete("None");
  ips.delete("");
  return [...ips];
}

/**
 * Pod IPs are unique among running pods, but a finished pod (Succeeded/Failed) keeps its IP in status
 * after the IP is reused, and hostNetwork pods all carry the node's IP: neither may claim an address.
 * Two running pods that still claim one IP (a status written by hand, or a CNI that handed it out twice)
 * would make every connection to it the last listed pod's: none of them gets it, and the caller is told.
 */
function indexPodsByIp(pods: readonly PodLike[]): { podsByIp: Map<string, PodLike>; ambiguousIps: Map<string, string[]> } {
  const claims = new Map<string, PodLike[]>();
  for (const pod of pods.filter(mayClaimIp)) {
    for (const ip of podIps(pod)) claims.set(ip, [...(claims.get(ip) ?? []), pod]);
  }
  const podsByIp = new Map<string, PodLike>();
  const ambiguousIps = new Map<string, string[]>();
  for (const [ip, [first, ...others]] of claims) {
    if (first === undefined) continue;
    if (others.length === 0) podsByIp.set(ip, first);
    else ambiguousIps.set(ip, [first, ...others].map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`).sort());
  }
  return { podsByIp, ambiguousIps };
}

function mayClaimIp(pod: PodLike): boolean {
  const phase = pod.status?.phase;
  return pod.spec?.hostNetwork !== true && phase !== "Succeeded" && phase !== "Failed";
}

function podIps(pod: PodLike): Set<string> {
  return new Set([...(pod.status?.podIPs ?? []).map((p) => p.ip), ...(pod.status?.podIP ? [pod.status.podIP] : [])]);
}
