/**
 * What the agent says about dependencies, computed from the tracker's edges: NodeFindings
 * status.dependencies, the blast radius joined onto findings ("; 2 callers affected: web, checkout"), and
 * the interval and bound the policies ask for. Pure.
 */
import type { Finding } from "../analysis/types.js";
import { QUALIFIED_NAME_MAX } from "../api/limits.js";
import type { EffectivePolicy } from "../api/policy.js";
import type { Dependency } from "../api/types.generated.js";
import { blastRadius, blastRadiusPhrase } from "../deps/blast-radius.js";
import type { Edge } from "../deps/edges.js";
import { ownerOf, resolvePeer, type PeerIndex } from "../deps/resolve.js";
import { nodePolicy } from "./bindings.js";

/** The CRD's default, used until a policy says otherwise and when none exists. */
export const DEFAULT_DEPENDENCY_INTERVAL_MS = 10_000;
export const DEFAULT_MAX_DEPENDENCIES = 100;

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

export interface PodName {
  readonly namespace: string;
  readonly name: string;
}

/** The status entry of one edge: the peer named as the API knows it, or by IP. */
function dependencyOf(edge: Edge, from: string, index: PeerIndex | undefined): Dependency {
  const outbound = edge.direction === "outbound";
  // An inbound peer's port is the caller's ephemeral one: it says nothing about a Service.
  const peer = index ? resolvePeer(edge.peer.ip, outbound ? edge.peer.port : null, index) : ({ kind: "External", ip: edge.peer.ip } as const);
  // Workloads let the controller name callers on other nodes without a cluster-wide Pod cache of its own.
  const fromPod = index?.podsByUid.get(edge.fromPodUid);
  const fromOwner = fromPod && index ? ownerOf(fromPod, index) : undefined;
  const toOwner = peer.kind === "Pod" ? peer.owner : undefined;
  return {
    from: from.slice(0, QUALIFIED_NAME_MAX),
    to: (peer.kind === "External" ? peer.ip : `${peer.namespace}/${peer.name}`).slice(0, QUALIFIED_NAME_MAX),
    kind: peer.kind,
    ...(fromOwner ? { fromWorkload: `${fromOwner.kind}/${fromOwner.name}`.slice(0, QUALIFIED_NAME_MAX) } : {}),
    ...(toOwner ? { toWorkload: `${toOwner.kind}/${toOwner.name}`.slice(0, QUALIFIED_NAME_MAX) } : {}),
    port: outbound ? edge.peer.port : edge.localPort,
    direction: edge.direction,
    connections: edge.connections,
    recentConnections: edge.recentConnections,
    firstSeen: new Date(edge.firstSeenMs).toISOString(),
    lastSeen: new Date(edge.lastSeenMs).toISOString(),
  };
}

/** Two peer IPs that name one object (a dual-stack pod) make one entry. ISO times compare as text. */
function mergeInto(prev: Dependency, next: Dependency): void {
  prev.connections = (prev.connections ?? 0) + (next.connections ?? 0);
  prev.recentConnections = (prev.recentConnections ?? 0) + (next.recentConnections ?? 0);
  if ((next.firstSeen ?? "") < (prev.firstSeen ?? "")) prev.firstSeen = next.firstSeen;
  if ((next.lastSeen ?? "") > (prev.lastSeen ?? "")) prev.lastSeen = next.lastSeen;
}

/** Code-unit order, which for ISO times is time order. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Open connections, then recent ones, then the most recently seen. */
function byActivity(a: Dependency, b: Dependency): number {
  return (
    (b.connections ?? 0) - (a.connections ?? 0) ||
    (b.recentConnections ?? 0) - (a.recentConnections ?? 0) ||
    compareText(b.lastSeen ?? "", a.lastSeen ?? "")
  );
}

function byActivityThenName(a: Dependency, b: Dependency): number {
  return byActivity(a, b) || a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || (a.port ?? 0) - (b.port ?? 0);
}

/**
 * NodeFindings.status.dependencies: one entry per (pod, direction, peer, port), peers resolved to Pod or
 * Service names where the index knows them, most active first (open, then recent connections, then most
 * recently seen), at most `max`.
 */
export function dependencyEntries(edges: readonly Edge[], names: ReadonlyMap<string, PodName>, index: PeerIndex | undefined, max: number): Dependency[] {
  const byKey = new Map<string, Dependency>();
  for (const edge of edges) {
    const pod = names.get(edge.fromPodUid);
    const entry = dependencyOf(edge, pod ? `${pod.namespace}/${pod.name}` : edge.fromPodUid, index);
    const key = `${entry.from}|${entry.direction ?? ""}|${entry.kind}|${entry.to}|${entry.port ?? ""}`;
    const prev = byKey.get(key);
    if (prev) mergeInto(prev, entry);
    else byKey.set(key, entry);
  }
  return [...byKey.values()].sort(byActivityThenName).slice(0, Math.max(0, max));
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
