/**
 * Blast radius: who calls a pod, by workload. When a pod starves, these are the callers that feel it.
 *
 * Evidence comes from both ends of a connection, since the edges may come from several nodes:
 *  - the victim's own inbound edges: the caller's IP → its Pod → its workload;
 *  - other pods' outbound edges to the victim's IP, or to a Service the victim backs (kube-proxy keeps
 *    the ClusterIP as the client socket's peer, so a Service edge is how most calls look).
 * Pure.
 */
import type { Edge } from "./edges.js";
import { ownerOf, resolvePeer, type PeerIndex, type PodLike } from "./resolve.js";

/** The fields of an edge that blast radius reads. */
export type EdgeLike = Pick<Edge, "fromPodUid" | "direction" | "peer" | "connections" | "lastSeenMs">;

export interface Caller {
  /** The caller's top-level workload kind (Deployment, StatefulSet, ...), "Pod" for a bare pod, "External" for an unknown IP. */
  readonly kind: string;
  /** Absent for External. */
  readonly namespace?: string;
  /** Workload name, pod name, or the IP for External. */
  readonly name: string;
  /** Open connections at the latest poll, the larger of what either end reported. */
  readonly connections: number;
  readonly lastSeenMs: number;
  /** Which end reported it: the victim's inbound edges, the caller's outbound edges, or both. */
  readonly seenFrom: readonly ("victim" | "caller")[];
}

export interface BlastRadius {
  readonly victim: { readonly uid: string; readonly namespace?: string; readonly name?: string };
  /** Distinct calling workloads, the busiest first. */
  readonly callers: readonly Caller[];
}

interface Tally {
  kind: string;
  namespace?: string;
  name: string;
  fromVictim: number;
  fromCaller: number;
  lastSeenMs: number;
  seenFrom: Set<"victim" | "caller">;
}

export function blastRadius(victimPodUid: string, edges: readonly EdgeLike[], index: PeerIndex): BlastRadius {
  const victim = index.podsByUid.get(victimPodUid);
  const tallies = new Map<string, Tally>();
  for (const edge of edges) {
    const caller = edge.fromPodUid === victimPodUid ? inboundCaller(edge, index) : outboundCaller(edge, victimPodUid, index);
    if (!caller) continue;
    const side = edge.fromPodUid === victimPodUid ? "victim" : "caller";
    tally(tallies, caller, edge, side);
  }
  const callers = [...tallies.values()]
    .map(
      (t): Caller => ({
        kind: t.kind,
        ...(t.namespace === undefined ? {} : { namespace: t.namespace }),
        name: t.name,
        connections: Math.max(t.fromVictim, t.fromCaller),
        lastSeenMs: t.lastSeenMs,
        seenFrom: [...t.seenFrom].sort().reverse(),
      }),
    )
    .sort((a, b) => b.connections - a.connections || b.lastSeenMs - a.lastSeenMs || a.name.localeCompare(b.name));
  const victimRef = victim ? { uid: victimPodUid, namespace: victim.metadata.namespace, name: victim.metadata.name } : { uid: victimPodUid };
  return { victim: victimRef, callers };
}

export interface PhraseOptions {
  /** Names listed before "and N more". */
  readonly maxNames?: number;
}

/**
 * "3 callers affected: web, checkout, worker". Callers in another namespace than the victim's are
 * written namespace/name.
 */
export function blastRadiusPhrase(radius: BlastRadius, options: PhraseOptions = {}): string {
  const n = radius.callers.length;
  if (n === 0) return "no callers seen";
  const maxNames = options.maxNames ?? 5;
  const names = radius.callers.slice(0, maxNames).map((c) => (c.namespace === undefined || c.namespace === radius.victim.namespace ? c.name : `${c.namespace}/${c.name}`));
  const more = n > maxNames ? ` and ${n - maxNames} more` : "";
  return `${n} ${n === 1 ? "caller" : "callers"} affected: ${names.join(", ")}${more}`;
}

type CallerRef = Pick<Tally, "kind" | "namespace" | "name">;

/** The victim's inbound edge: the peer IP is the caller. */
function inboundCaller(edge: EdgeLike, index: PeerIndex): CallerRef | undefined {
  if (edge.direction !== "inbound") return undefined;
  const peer = resolvePeer(edge.peer.ip, null, index);
  if (peer.kind === "External") return { kind: "External", name: peer.ip };
  if (peer.kind !== "Pod") return undefined;
  const pod = index.podsByUid.get(peer.uid);
  return pod ? workloadOf(pod, index) : undefined;
}

/** Another pod's outbound edge, when it lands on the victim directly or through a Service it backs. */
function outboundCaller(edge: EdgeLike, victimPodUid: string, index: PeerIndex): CallerRef | undefined {
  if (edge.direction !== "outbound") return undefined;
  const peer = resolvePeer(edge.peer.ip, edge.peer.port, index);
  const hitsVictim =
    (peer.kind === "Pod" && peer.uid === victimPodUid) ||
    (peer.kind === "Service" && index.backends.get(`${peer.namespace}/${peer.name}`)?.has(victimPodUid) === true);
  if (!hitsVictim) return undefined;
  const pod = index.podsByUid.get(edge.fromPodUid);
  // A caller the API no longer knows (deleted since the poll) is still a caller, by UID.
  return pod ? workloadOf(pod, index) : { kind: "Pod", name: edge.fromPodUid };
}

function workloadOf(pod: PodLike, index: PeerIndex): CallerRef {
  const owner = ownerOf(pod, index);
  if (owner) return { kind: owner.kind, namespace: owner.namespace, name: owner.name };
  return { kind: "Pod", namespace: pod.metadata.namespace, name: pod.metadata.name };
}

function tally(tallies: Map<string, Tally>, caller: CallerRef, edge: EdgeLike, side: "victim" | "caller"): void {
  const key = `${caller.kind}/${caller.namespace ?? ""}/${caller.name}`;
  let t = tallies.get(key);
  if (!t) {
    t = { kind: caller.kind, name: caller.name, fromVictim: 0, fromCaller: 0, lastSeenMs: 0, seenFrom: new Set() };
    if (caller.namespace !== undefined) t.namespace = caller.namespace;
    tallies.set(key, t);
  }
  if (side === "victim") t.fromVictim += edge.connections;
  else t.fromCaller += edge.connections;
  t.lastSeenMs = Math.max(t.lastSeenMs, edge.lastSeenMs);
  t.seenFrom.add(side);
}
