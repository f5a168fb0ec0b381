/**
 * The agent's dependency map: every `sampling.dependencies.interval` it reads each pod's network namespace
 * (src/engine/dependencies.ts), keeps the edges in the node-local history, resolves peers against a
 * cluster-wide view of Pods, Services and EndpointSlices, and hands NodeFindings status its
 * `dependencies` and the findings their blast radius ("; 2 callers affected: web, checkout").
 *
 * The pure parts (interval, status entries, phrases) are exported for tests; AgentDependencies is the wiring.
 */
import { join } from "node:path";
import type { Finding } from "../analysis/types.js";
import type { KubeObject } from "../api/meta.js";
import type { EffectivePolicy } from "../api/policy.js";
import type { Dependency } from "../api/types.generated.js";
import { blastRadius, blastRadiusPhrase } from "../deps/blast-radius.js";
import type { Edge } from "../deps/edges.js";
import { buildPeerIndex, ownerOf, resolvePeer, type ClusterView, type EndpointSliceLike, type PeerIndex, type PodLike, type ServiceLike } from "../deps/resolve.js";
import { DependencySampler } from "../engine/dependencies.js";
import type { KubeClient } from "../kube/client.js";
import type { Informer } from "../kube/informer.js";
import { ENDPOINT_SLICE, POD, SERVICE } from "../kube/resources.js";
import type { Target } from "../sampler/types.js";
import type { Logger } from "../util/log.js";
import { defined } from "../util/object.js";
import { nodePolicy } from "./bindings.js";
import type { AgentMetrics } from "./metrics.js";
import type { NodePod } from "./pods.js";

/** The CRD's default, used until a policy says otherwise and when none exists. */
export const DEFAULT_DEPENDENCY_INTERVAL_MS = 10_000;
export const DEFAULT_MAX_DEPENDENCIES = 100;
/**
 * Edges are remembered this long after they were last seen: long enough that a caller between two bursts
 * of calls is still a caller when its callee starves. (They expire only at a poll, so an interval longer
 * than this still shows the previous poll's edges in between.)
 */
export const EDGE_TTL_MS = 5 * 60_000;

/**
 * The shortest dependency interval any policy asks for; undefined when every policy turns mapping off.
 * With no policy at all, the CRD's defaults apply: on, every 10 s.
 */
export function dependencyIntervalMs(policies: readonly EffectivePolicy[]): number | undefined {
  if (policies.length === 0) return DEFAULT_DEPENDENCY_INTERVAL_MS;
  const enabled = policies.filter((p) => p.sampling.dependencies.enabled).map((p) => p.sampling.dependencies.intervalMs);
  return enabled.length === 0 ? undefined : Math.min(...enabled);
}

/** Status is per node, so its bound follows the node policy, like maxFindings. */
export function maxDependenciesOf(policies: readonly EffectivePolicy[]): number {
  return nodePolicy(policies)?.reporting.maxDependencies ?? DEFAULT_MAX_DEPENDENCIES;
}

interface PodName {
  readonly namespace: string;
  readonly name: string;
}

interface Entry {
  from: string;
  to: string;
  kind: Dependency["kind"];
  fromWorkload?: string;
  toWorkload?: string;
  port: number | null;
  direction: Dependency["direction"];
  connections: number;
  recentConnections: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** The status view of one edge: the peer named as the API knows it, or by IP. */
function entryOf(edge: Edge, from: string, index: PeerIndex | undefined): Entry {
  const outbound = edge.direction === "outbound";
  // An inbound peer's port is the caller's ephemeral one: it says nothing about a Service.
  const peer = index ? resolvePeer(edge.peer.ip, outbound ? edge.peer.port : null, index) : ({ kind: "External", ip: edge.peer.ip } as const);
  // Workloads let the controller name callers on other nodes without a cluster-wide Pod cache of its own.
  const fromPod = index?.podsByUid.get(edge.fromPodUid);
  const fromOwner = fromPod && index ? ownerOf(fromPod, index) : undefined;
  const toOwner = peer.kind === "Pod" ? peer.owner : undefined;
  return {
    from,
    to: peer.kind === "External" ? peer.ip : `${peer.namespace}/${peer.name}`,
    kind: peer.kind,
    ...(fromOwner ? { fromWorkload: `${fromOwner.kind}/${fromOwner.name}` } : {}),
    ...(toOwner ? { toWorkload: `${toOwner.kind}/${toOwner.name}` } : {}),
    port: outbound ? edge.peer.port : edge.localPort,
    direction: edge.direction,
    connections: edge.connections,
    recentConnections: edge.recentConnections,
    firstSeenMs: edge.firstSeenMs,
    lastSeenMs: edge.lastSeenMs,
  };
}

function addTo(byKey: Map<string, Entry>, entry: Entry): void {
  const key = `${entry.from}|${entry.direction ?? ""}|${entry.kind}|${entry.to}|${entry.port ?? ""}`;
  const prev = byKey.get(key);
  if (!prev) {
    byKey.set(key, entry);
    return;
  }
  // Two peer IPs that name one object (a dual-stack pod): one entry.
  prev.connections += entry.connections;
  prev.recentConnections += entry.recentConnections;
  prev.firstSeenMs = Math.min(prev.firstSeenMs, entry.firstSeenMs);
  prev.lastSeenMs = Math.max(prev.lastSeenMs, entry.lastSeenMs);
}

/**
 * NodeFindings.status.dependencies: one entry per (pod, direction, peer, port), peers resolved to Pod or
 * Service names where the index knows them, most active first (open, then recent connections, then most
 * recently seen), at most `max`.
 */
export function dependencyEntries(edges: readonly Edge[], names: ReadonlyMap<string, PodName>, index: PeerIndex | undefined, max: number): Dependency[] {
  const byKey = new Map<string, Entry>();
  for (const edge of edges) {
    const pod = names.get(edge.fromPodUid);
    addTo(byKey, entryOf(edge, pod ? `${pod.namespace}/${pod.name}` : edge.fromPodUid, index));
  }
  return [...byKey.values()]
    .sort(
      (a, b) =>
        b.connections - a.connections ||
        b.recentConnections - a.recentConnections ||
        b.lastSeenMs - a.lastSeenMs ||
        a.from.localeCompare(b.from) ||
        a.to.localeCompare(b.to) ||
        (a.port ?? 0) - (b.port ?? 0),
    )
    .slice(0, Math.max(0, max))
    .map((e) => ({
      from: e.from.slice(0, 317),
      to: e.to.slice(0, 317),
      kind: e.kind,
      ...(e.fromWorkload === undefined ? {} : { fromWorkload: e.fromWorkload.slice(0, 317) }),
      ...(e.toWorkload === undefined ? {} : { toWorkload: e.toWorkload.slice(0, 317) }),
      ...(e.port === null ? {} : { port: e.port }),
      ...(e.direction === undefined ? {} : { direction: e.direction }),
      connections: e.connections,
      recentConnections: e.recentConnections,
      firstSeen: new Date(e.firstSeenMs).toISOString(),
      lastSeen: new Date(e.lastSeenMs).toISOString(),
    }));
}

/** "2 callers affected: web, checkout" for every pod in `victims` that has callers in `edges`. */
export function callerPhrases(victims: Iterable<string>, edges: readonly Edge[], index: PeerIndex): Map<string, string> {
  const phrases = new Map<string, string>();
  for (const uid of new Set(victims)) {
    const radius = blastRadius(uid, edges, index);
    if (radius.callers.length > 0) phrases.set(uid, blastRadiusPhrase(radius));
  }
  return phrases;
}

/**
 * Findings on pods with callers, their message extended with the blast radius. The rules stay pure and
 * know nothing of callers: this runs at the report edge, for status and Events alike.
 */
export function withCallers(findings: readonly Finding[], phrases: ReadonlyMap<string, string>): Finding[] {
  return findings.map((finding) => {
    const phrase = phrases.get(finding.pod.uid);
    return phrase === undefined ? finding : { ...finding, message: `${finding.message}; ${phrase}` };
  });
}

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

export interface AgentDependenciesOptions {
  readonly client: KubeClient;
  readonly procRoot: string;
  /** The hierarchy the targets' relPaths are relative to (where cgroup.procs is read). */
  readonly cgroupMount: string | undefined;
  readonly hostPid: number;
  readonly store?: { appendEdges(edges: readonly Edge[]): void; edges(sinceMs: number): Edge[] };
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  /**
   * False turns mapping off whatever the policies say (`xander agent --no-dependency-mapping`, which the
   * controller passes when the DaemonSet runs without hostPID and SYS_PTRACE): nothing is read, restored
   * or watched. Default true.
   */
  readonly enabled?: boolean;
}

/**
 * The agent's side of dependency mapping. Cluster-wide informers on Pods, Services and EndpointSlices
 * start with the first poll and stop when every policy turns mapping off: they are what naming peers
 * costs (see docs/dependencies.md, "Memory and RBAC").
 */
export class AgentDependencies {
  private readonly sampler: DependencySampler;
  private informers: { pods: Informer<KubeObject>; services: Informer<KubeObject>; slices: Informer<KubeObject> } | undefined;
  private viewDirty = true;
  private peerIndex: PeerIndex | undefined;
  private lastPollMs: number | undefined;
  private names = new Map<string, PodName>();

  constructor(private readonly options: AgentDependenciesOptions) {
    this.sampler = new DependencySampler({ procRoot: options.procRoot, hostPid: options.hostPid, ttlMs: EDGE_TTL_MS, logger: options.logger });
  }

  /** Edges from the node-local history that are still within the TTL: a restart forgets no caller. */
  restore(nowMs: number): number {
    if (this.options.enabled === false) return 0;
    try {
      const edges = this.options.store?.edges(nowMs - EDGE_TTL_MS) ?? [];
      this.sampler.tracker.restore(nowMs, edges);
      return edges.length;
    } catch (error) {
      this.options.logger.warn({ err: error }, "could not restore dependency edges from history; starting with none");
      return 0;
    }
  }

  /**
   * Polls when the interval has passed since the last poll; does nothing while every policy turns mapping
   * off, or while the agent's own switch does.
   */
  async maybePoll(nowMs: number, policies: readonly EffectivePolicy[], pods: () => readonly NodePod[], targets: readonly Target[]): Promise<void> {
    const intervalMs = this.options.enabled === false ? undefined : dependencyIntervalMs(policies);
    if (intervalMs === undefined) {
      await this.stopInformers();
      return;
    }
    this.startInformers();
    if (this.lastPollMs !== undefined && nowMs - this.lastPollMs < intervalMs && nowMs >= this.lastPollMs) return;
    this.lastPollMs = nowMs;
    const nodePods = pods();
    this.names = new Map(nodePods.map((pod) => [pod.uid, { namespace: pod.namespace, name: pod.name }]));
    const timer = this.options.metrics.dependencyPollSeconds.startTimer();
    const poll = await this.sampler.poll(nowMs, this.dependencyPods(nodePods, targets));
    timer();
    this.options.metrics.dependencyEdges.set(this.sampler.tracker.size);
    this.persist(nowMs);
    this.options.logger.debug({ namespaces: poll.namespacesRead, observed: poll.observed.length, hostNetwork: poll.hostNetwork.length, unread: poll.unread.length }, "dependency poll");
  }

  /** NodeFindings.status.dependencies, bounded. Empty while mapping is off. */
  status(max: number): Dependency[] {
    if (this.informers === undefined) return [];
    return dependencyEntries(this.sampler.edges(), this.names, this.index(), max);
  }

  /** The findings with their blast radius in the message. */
  withCallers(findings: readonly Finding[]): Finding[] {
    const index = this.informers === undefined ? undefined : this.index();
    if (index === undefined || findings.length === 0) return [...findings];
    return withCallers(findings, callerPhrases(findings.map((f) => f.pod.uid), this.sampler.edges(), index));
  }

  /** Who calls the pod, as workloads ("namespace/name"), busiest first; empty while mapping is off. */
  callersOf(podUid: string): string[] {
    const index = this.informers === undefined ? undefined : this.index();
    if (index === undefined) return [];
    return blastRadius(podUid, this.sampler.edges(), index).callers.map((c) => (c.namespace === undefined ? c.name : `${c.namespace}/${c.name}`));
  }

  /** The pod's top-level owner as "Kind/name", from the cluster-wide pod cache; undefined while mapping is off. */
  workloadOf(podUid: string): string | undefined {
    const index = this.informers === undefined ? undefined : this.index();
    const pod = index?.podsByUid.get(podUid);
    const owner = pod && index ? ownerOf(pod, index) : undefined;
    return owner ? `${owner.kind}/${owner.name}` : undefined;
  }

  async stop(): Promise<void> {
    await this.stopInformers();
  }

  private dependencyPods(pods: readonly NodePod[], targets: readonly Target[]): { uid: string; hostNetwork: boolean; procsFiles: string[] }[] {
    const mount = this.options.cgroupMount;
    const files = new Map<string, string[]>();
    for (const target of targets) {
      if (mount === undefined) break;
      const list = files.get(target.podUid) ?? [];
      list.push(join(mount, target.relPath, "cgroup.procs"));
      files.set(target.podUid, list);
    }
    return pods.map((pod) => ({ uid: pod.uid, hostNetwork: pod.hostNetwork, procsFiles: files.get(pod.uid) ?? [] }));
  }

  /** Only what this poll saw is written: the rest is unchanged since its own last poll. */
  private persist(nowMs: number): void {
    const store = this.options.store;
    if (!store) return;
    try {
      store.appendEdges(this.sampler.edges().filter((edge) => edge.lastSeenMs === nowMs));
    } catch (error) {
      this.options.logger.warn({ err: error }, "could not write dependency edges to the history store; mapping continues");
    }
  }

  private index(): PeerIndex | undefined {
    const informers = this.informers;
    if (informers === undefined) return undefined;
    if (this.viewDirty || this.peerIndex === undefined) {
      this.viewDirty = false;
      this.peerIndex = buildPeerIndex(clusterViewOf(informers.pods.list(), informers.services.list(), informers.slices.list()));
    }
    return this.peerIndex;
  }

  private startInformers(): void {
    if (this.informers !== undefined) return;
    const { client, logger } = this.options;
    const informers = {
      pods: client.informer(POD, { log: logger, transform: slimPod }),
      services: client.informer(SERVICE, { log: logger }),
      slices: client.informer(ENDPOINT_SLICE, { log: logger }),
    };
    for (const informer of Object.values(informers)) informer.on(() => { this.viewDirty = true; });
    this.informers = informers;
    this.viewDirty = true;
    // They sync in the background; until then peers resolve as far as the cache has got.
    void Promise.all(Object.values(informers).map((informer) => informer.start()));
  }

  private async stopInformers(): Promise<void> {
    const informers = this.informers;
    if (informers === undefined) return;
    this.informers = undefined;
    this.peerIndex = undefined;
    await Promise.all(Object.values(informers).map((informer) => informer.stop()));
  }
}
