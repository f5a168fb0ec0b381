/**
 * Connections → dependency edges, one namespace read per pod network namespace, and an EdgeTracker
 * that merges successive polls. Pure: the agent does the reads and passes the time in.
 */
import type { Socket } from "../procfs/net.js";
import { classifyConnections, type Connection } from "./connections.js";

/** Outbound edges key on the peer's address and port (the service port the pod dials). */
export interface OutboundKey {
  readonly fromPodUid: string;
  readonly direction: "outbound";
  readonly peer: { readonly ip: string; readonly port: number };
  /** The local end of an outbound connection is an ephemeral port: noise, not part of the edge. */
  readonly localPort: null;
}

/** Inbound edges key on the local listen port and the caller's address; the caller's ephemeral port is noise. */
export interface InboundKey {
  readonly fromPodUid: string;
  readonly direction: "inbound";
  readonly peer: { readonly ip: string; readonly port: null };
  readonly localPort: number;
}

export type EdgeKey = OutboundKey | InboundKey;

export interface EdgeCounts {
  /** Open connections (any state but TIME_WAIT) in the poll. */
  readonly connections: number;
  /** TIME_WAIT sockets in the poll: connections this side closed within the last 60 s. */
  readonly recentConnections: number;
}

/** What one poll saw: an edge with its counts at that instant. */
export type ObservedEdge = EdgeKey & EdgeCounts;

export type Edge = EdgeKey &
  EdgeCounts & {
    readonly firstSeenMs: number;
    readonly lastSeenMs: number;
    /** Most open connections seen at once in any poll since firstSeen. */
    readonly peakConnections: number;
    /** How many polls saw this edge. */
    readonly observations: number;
  };

export function edgeKey(e: EdgeKey): string {
  return e.direction === "outbound"
    ? `${e.fromPodUid}|out|${e.peer.ip}|${e.peer.port}`
    : `${e.fromPodUid}|in|${e.peer.ip}|${e.localPort}`;
}

/** One namespace's connections grouped into edges of `podUid`. */
export function edgesFromConnections(podUid: string, connections: readonly Connection[]): ObservedEdge[] {
  const byKey = new Map<string, ObservedEdge>();
  for (const c of connections) {
    const key: EdgeKey =
      c.direction === "outbound"
        ? { fromPodUid: podUid, direction: "outbound", peer: { ip: c.remoteAddress, port: c.remotePort }, localPort: null }
        : { fromPodUid: podUid, direction: "inbound", peer: { ip: c.remoteAddress, port: null }, localPort: c.localPort };
    const k = edgeKey(key);
    const prev = byKey.get(k);
    byKey.set(k, {
      ...key,
      connections: (prev?.connections ?? 0) + (c.recent ? 0 : 1),
      recentConnections: (prev?.recentConnections ?? 0) + (c.recent ? 1 : 0),
    });
  }
  return [...byKey.values()];
}

/** One namespace's sockets straight to edges of `podUid`. */
export function edgesFromSockets(podUid: string, sockets: readonly Socket[]): ObservedEdge[] {
  return edgesFromConnections(podUid, classifyConnections(sockets));
}

// ---- one read per network namespace ----

export interface PodNamespace {
  readonly podUid: string;
  /** Inode of the pod's network namespace (procfs netnsId). */
  readonly netns: number;
}

export interface NamespaceToRead {
  readonly netns: number;
  /** Edges of this namespace are attributed to this pod (the lowest UID, so the choice is stable). */
  readonly podUid: string;
  /** Other pods found in the same namespace; the kernel cannot tell their sockets apart. */
  readonly sharedWith: readonly string[];
}

export interface NamespacePlan {
  readonly read: readonly NamespaceToRead[];
  /**
   * Pods in the host's network namespace (hostNetwork: true). Their sockets are the node's, shared
   * with the kubelet and every other hostNetwork pod, so none are attributed to them: they are listed
   * as hostNetwork without edges.
   */
  readonly hostNetwork: readonly string[];
}

/**
 * Which namespaces to read: each once, however many pods share it, and never the host's. Pods in a
 * Kubernetes pod share one namespace across containers; two *pods* sharing one is rare outside
 * hostNetwork, and then the edges go to one of them with the others in `sharedWith`.
 */
export function planNamespaces(pods: readonly PodNamespace[], hostNetns: number): NamespacePlan {
  const hostNetwork = new Set<string>();
  const byNetns = new Map<number, Set<string>>();
  for (const p of pods) {
    if (p.netns === hostNetns) {
      hostNetwork.add(p.podUid);
      continue;
    }
    let set = byNetns.get(p.netns);
    if (!set) byNetns.set(p.netns, (set = new Set()));
    set.add(p.podUid);
  }
  const read: NamespaceToRead[] = [];
  for (const [netns, uids] of byNetns) {
    const [podUid = "", ...sharedWith] = [...uids].sort();
    read.push({ netns, podUid, sharedWith });
  }
  read.sort((a, b) => a.netns - b.netns);
  return { read, hostNetwork: [...hostNetwork].sort() };
}

/**
 * Edges of every planned namespace, given the sockets read from each (missing reads are skipped).
 * Inbound connections from `nodeAddresses` (the host namespace's own addresses) are left out: they
 * are the kubelet's probes, which reach every pod with a probe from the pod bridge's address, not
 * callers. A hostNetwork pod calling in looks the same and is left out too; its own sockets are
 * never attributed either (see NamespacePlan.hostNetwork).
 */
export function edgesFromPlan(plan: NamespacePlan, socketsByNetns: ReadonlyMap<number, readonly Socket[]>, nodeAddresses: ReadonlySet<string> = new Set()): ObservedEdge[] {
  return plan.read.flatMap((ns) => {
    const sockets = socketsByNetns.get(ns.netns);
    const edges = sockets ? edgesFromSockets(ns.podUid, sockets) : [];
    return nodeAddresses.size === 0 ? edges : edges.filter((edge) => edge.direction === "outbound" || !nodeAddresses.has(edge.peer.ip));
  });
}

// ---- merging polls ----

export interface EdgeTrackerOptions {
  /** An edge not seen for longer than this is dropped. */
  readonly ttlMs: number;
  /** Bound on tracked edges (a crawler can dial thousands of peers); the least recently seen go first. */
  readonly maxEdges?: number;
}

type MutableEdge = { -readonly [K in keyof Edge]: Edge[K] };

/**
 * Merges successive polls into edges with firstSeen/lastSeen. `connections` is what the latest poll
 * saw (0 once an edge is no longer seen), `peakConnections` the most at once, `observations` the
 * number of polls that saw it. Edges expire `ttlMs` after they were last seen.
 */
export class EdgeTracker {
  private readonly ttlMs: number;
  private readonly maxEdges: number;
  private readonly byKey = new Map<string, MutableEdge>();

  constructor(options: EdgeTrackerOptions) {
    if (!(options.ttlMs > 0)) throw new RangeError(`EdgeTracker ttlMs must be > 0, got ${options.ttlMs}`);
    this.ttlMs = options.ttlMs;
    this.maxEdges = options.maxEdges ?? 10_000;
  }

  /**
   * One poll at `nowMs`. `sampledPods`, when given, names the pods whose namespace was actually read
   * this time: edges of pods that were not (a read that failed, a pod with no live process) keep their
   * last counts instead of dropping to 0, and simply age towards the TTL.
   */
  observe(nowMs: number, observed: readonly ObservedEdge[], sampledPods?: ReadonlySet<string>): void {
    const seen = new Set<string>();
    for (const o of observed) {
      const k = edgeKey(o);
      const current = this.byKey.get(k);
      if (seen.has(k) && current) {
        // The same edge twice in one poll (two reads of one pod): add them up.
        current.connections += o.connections;
        current.recentConnections += o.recentConnections;
        current.peakConnections = Math.max(current.peakConnections, current.connections);
        continue;
      }
      seen.add(k);
      this.byKey.set(k, merge(current, o, nowMs));
    }
    for (const [k, e] of this.byKey) {
      if (seen.has(k) || (sampledPods && !sampledPods.has(e.fromPodUid))) continue;
      e.connections = 0;
      e.recentConnections = 0;
    }
    this.expire(nowMs);
  }

  /** Drops edges last seen more than ttlMs before `nowMs`, then the oldest beyond maxEdges. */
  expire(nowMs: number): void {
    for (const [k, e] of this.byKey) if (nowMs - e.lastSeenMs > this.ttlMs) this.byKey.delete(k);
    if (this.byKey.size <= this.maxEdges) return;
    const oldestFirst = [...this.byKey].sort((a, b) => a[1].lastSeenMs - b[1].lastSeenMs);
    for (const [k] of oldestFirst.slice(0, this.byKey.size - this.maxEdges)) this.byKey.delete(k);
  }

  /**
   * Puts back edges remembered elsewhere (the node-local history, after a restart) that are within the
   * TTL and not tracked already, so a restart neither forgets a pod's callers nor resets firstSeen.
   */
  restore(nowMs: number, edges: readonly Edge[]): void {
    for (const e of edges) {
      const k = edgeKey(e);
      if (nowMs - e.lastSeenMs > this.ttlMs || this.byKey.has(k)) continue;
      this.byKey.set(k, { ...e, peer: { ...e.peer } });
    }
    this.expire(nowMs);
  }

  /** A pod that left the node: its edges go at once rather than at the TTL. */
  forgetPod(podUid: string): void {
    for (const [k, e] of this.byKey) if (e.fromPodUid === podUid) this.byKey.delete(k);
  }

  /** The tracked edges, most recently seen first, then by key for a stable order. */
  edges(): Edge[] {
    return [...this.byKey]
      .sort((a, b) => b[1].lastSeenMs - a[1].lastSeenMs || a[0].localeCompare(b[0]))
      .map(([, e]) => ({ ...e, peer: { ...e.peer } }) as Edge);
  }

  get size(): number {
    return this.byKey.size;
  }
}

function merge(current: MutableEdge | undefined, o: ObservedEdge, nowMs: number): MutableEdge {
  return {
    ...o,
    firstSeenMs: current?.firstSeenMs ?? nowMs,
    lastSeenMs: nowMs,
    peakConnections: Math.max(current?.peakConnections ?? 0, o.connections),
    observations: (current?.observations ?? 0) + 1,
  };
}
