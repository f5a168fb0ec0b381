/**
 * The cluster's dependency graph from every node's NodeFindings.status.dependencies: who calls whom, by pod.
 *
 * Each node reports the edges it saw from its own pods, so one call between two nodes shows up twice: as
 * the caller's outbound edge on one node and the callee's inbound edge on the other. Both become one
 * caller → callee pair here, with the larger of the two ends' counts (never their sum). An outbound edge
 * to a Service counts against the Service's backend pods (from EndpointSlices), with the Service kept as
 * `via`; a Service whose backends are not known stays the callee. Pure.
 */
import type { KubeObject } from "../api/meta.js";
import type { Dependency, NodeFindings } from "../api/types.generated.js";
import { defined } from "../util/object.js";

export type PeerKind = "Pod" | "Service" | "External";

export interface CallEdge {
  /** "namespace/name" of the calling pod, or its IP when it is not a known pod. */
  readonly caller: string;
  readonly callerKind: "Pod" | "External";
  /** The caller's top-level owner as "Kind/name" (e.g. "Deployment/web"), as either end's agent knew it. */
  readonly callerWorkload?: string;
  /** "namespace/name" of the called pod (or of a Service whose backends are unknown), or an IP. */
  readonly callee: string;
  readonly calleeKind: PeerKind;
  /** Services the calls went through ("namespace/name"). */
  readonly via: readonly string[];
  /** Ports seen: the Service port dialled, and the callee's listen port. */
  readonly ports: readonly number[];
  /** Open connections at the latest scan, the larger of what either end reported. */
  readonly connections: number;
  /** Connections closed within the last minute (TIME_WAIT), the larger of either end. */
  readonly recentConnections: number;
  readonly lastSeen?: string;
  /** Nodes whose agents reported this pair. */
  readonly reportedBy: readonly string[];
}

export interface DependencyGraph {
  /** Busiest first. */
  readonly edges: readonly CallEdge[];
}

/** `namespace/service` → backend pods as `namespace/name`. */
export type ServiceBackends = ReadonlyMap<string, readonly string[]>;

/** The slice of an EndpointSlice this needs (discovery.k8s.io/v1). */
export interface EndpointSliceRef {
  readonly metadata?: { readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly endpoints?: readonly { readonly targetRef?: { readonly kind?: string; readonly name?: string; readonly namespace?: string } }[] | null;
}

const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/**
 * An EndpointSlice trimmed to what serviceBackends reads, plus what the watch cache keys on: the controller
 * caches every slice in the cluster, and addresses, conditions, zones and hints are most of each one.
 */
export function slimEndpointSlice(slice: KubeObject): KubeObject {
  const meta = slice.metadata ?? {};
  const service = meta.labels?.[SERVICE_NAME_LABEL];
  const endpoints = (slice as EndpointSliceRef).endpoints ?? [];
  return {
    ...defined({ apiVersion: slice.apiVersion, kind: slice.kind }),
    metadata: defined({ name: meta.name, namespace: meta.namespace, resourceVersion: meta.resourceVersion, labels: service === undefined ? undefined : { [SERVICE_NAME_LABEL]: service } }),
    endpoints: endpoints.map((ep) => (ep.targetRef === undefined ? {} : { targetRef: defined({ kind: ep.targetRef.kind, name: ep.targetRef.name, namespace: ep.targetRef.namespace }) })),
  } as KubeObject;
}

/**
 * Backends per Service from EndpointSlices, ready or not: a starved pod often fails its readiness probe,
 * and its callers are still its callers.
 */
export function serviceBackends(slices: readonly EndpointSliceRef[]): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const slice of slices) {
    const namespace = slice.metadata?.namespace;
    const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (namespace === undefined || service === undefined) continue;
    const key = `${namespace}/${service}`;
    const set = out.get(key) ?? new Set<string>();
    for (const pod of backendPods(slice, namespace)) set.add(pod);
    out.set(key, set);
  }
  return new Map([...out].map(([key, set]) => [key, [...set].sort()]));
}

function backendPods(slice: EndpointSliceRef, namespace: string): string[] {
  return (slice.endpoints ?? []).flatMap((ep) => {
    const ref = ep.targetRef;
    return ref?.name !== undefined && (ref.kind ?? "Pod") === "Pod" ? [`${ref.namespace ?? namespace}/${ref.name}`] : [];
  });
}

interface Side {
  connections: number;
  recentConnections: number;
}

interface Pair {
  caller: string;
  callerKind: "Pod" | "External";
  callerWorkload?: string;
  callee: string;
  calleeKind: PeerKind;
  via: Set<string>;
  ports: Set<number>;
  /** Per reporting end (`node|direction`), summed over that end's entries. */
  sides: Map<string, Side>;
  lastSeenMs: number;
  reportedBy: Set<string>;
}

interface Call {
  readonly caller: string;
  readonly callerKind: "Pod" | "External";
  readonly callerWorkload?: string;
  readonly callee: string;
  readonly calleeKind: PeerKind;
  readonly via?: string;
}

/** The caller → callee pairs one status entry stands for (several when a Service has several backends). */
function callsOf(dep: Dependency, backends: ServiceBackends): Call[] {
  if (dep.direction === "inbound") {
    // The peer called the pod on this node; an inbound peer is never a Service.
    const workload = dep.toWorkload === undefined ? {} : { callerWorkload: dep.toWorkload };
    return [{ caller: dep.to, callerKind: dep.kind === "Pod" ? "Pod" : "External", ...workload, callee: dep.from, calleeKind: "Pod" }];
  }
  const caller = { caller: dep.from, callerKind: "Pod" as const, ...(dep.fromWorkload === undefined ? {} : { callerWorkload: dep.fromWorkload }) };
  if (dep.kind !== "Service") return [{ ...caller, callee: dep.to, calleeKind: dep.kind }];
  const pods = backends.get(dep.to) ?? [];
  if (pods.length === 0) return [{ ...caller, callee: dep.to, calleeKind: "Service", via: dep.to }];
  return pods.map((pod) => ({ ...caller, callee: pod, calleeKind: "Pod", via: dep.to }));
}

/** The caller → callee pairs one status entry adds to the graph, by their key; several through a Service. */
export function pairKeysOf(dep: Dependency, backends: ServiceBackends): string[] {
  return callsOf(dep, backends).map(pairKey);
}

function pairKey(call: Call): string {
  return `${call.caller}>${call.callee}`;
}

function pairOf(pairs: Map<string, Pair>, call: Call): Pair {
  const key = pairKey(call);
  let pair = pairs.get(key);
  if (!pair) {
    pair = { ...call, via: new Set(), ports: new Set(), sides: new Map(), lastSeenMs: -Infinity, reportedBy: new Set() };
    pairs.set(key, pair);
  }
  return pair;
}

function add(pair: Pair, call: Call, dep: Dependency, node: string): void {
  pair.callerWorkload ??= call.callerWorkload;
  if (call.via !== undefined) pair.via.add(call.via);
  if (dep.port !== undefined) pair.ports.add(dep.port);
  const sideKey = `${node}|${dep.direction ?? "outbound"}`;
  const side = pair.sides.get(sideKey) ?? { connections: 0, recentConnections: 0 };
  side.connections += dep.connections ?? 0;
  side.recentConnections += dep.recentConnections ?? 0;
  pair.sides.set(sideKey, side);
  const seenMs = dep.lastSeen === undefined ? NaN : Date.parse(dep.lastSeen);
  if (!Number.isNaN(seenMs)) pair.lastSeenMs = Math.max(pair.lastSeenMs, seenMs);
  pair.reportedBy.add(node);
}

function toEdge(pair: Pair): CallEdge {
  const sides = [...pair.sides.values()];
  return {
    caller: pair.caller,
    callerKind: pair.callerKind,
    ...(pair.callerWorkload === undefined ? {} : { callerWorkload: pair.callerWorkload }),
    callee: pair.callee,
    calleeKind: pair.calleeKind,
    via: [...pair.via].sort(),
    ports: [...pair.ports].sort((a, b) => a - b),
    connections: Math.max(0, ...sides.map((s) => s.connections)),
    recentConnections: Math.max(0, ...sides.map((s) => s.recentConnections)),
    ...(Number.isFinite(pair.lastSeenMs) ? { lastSeen: new Date(pair.lastSeenMs).toISOString() } : {}),
    reportedBy: [...pair.reportedBy].sort(),
  };
}

export function dependencyGraph(nodeFindings: readonly NodeFindings[], backends: ServiceBackends = new Map()): DependencyGraph {
  const pairs = new Map<string, Pair>();
  for (const nf of nodeFindings) {
    const node = nf.metadata.name ?? nf.spec.nodeName;
    for (const dep of nf.status?.dependencies ?? []) {
      for (const call of callsOf(dep, backends)) add(pairOf(pairs, call), call, dep, node);
    }
  }
  const edges = [...pairs.values()]
    .map(toEdge)
    .sort(
      (a, b) =>
        b.connections - a.connections ||
        b.recentConnections - a.recentConnections ||
        a.caller.localeCompare(b.caller) ||
        a.callee.localeCompare(b.callee),
    );
  return { edges };
}

/** The pairs where `pod` ("namespace/name") is the callee. */
export function callersOf(graph: DependencyGraph, pod: string): CallEdge[] {
  return graph.edges.filter((e) => e.callee === pod);
}

/** The pairs where `pod` ("namespace/name") is the caller. */
export function calleesOf(graph: DependencyGraph, pod: string): CallEdge[] {
  return graph.edges.filter((e) => e.caller === pod);
}

/**
 * Who calls `pod` ("namespace/name"), busiest first, one name per calling workload: "namespace/name" of
 * the caller's top-level owner, else of the calling pod, else its IP. Two callers that would read alike
 * (a Deployment and a StatefulSet both named web) are told apart by kind: "shop/web (StatefulSet)".
 */
export function callerNames(graph: DependencyGraph, pod: string): string[] {
  const callers = new Map<string, { name: string; kind: string }>(); // by identity, busiest first
  for (const e of callersOf(graph, pod)) {
    if (e.callerKind === "External" || e.callerWorkload === undefined) {
      callers.set(`${e.callerKind}|${e.caller}`, { name: e.caller, kind: e.callerKind });
      continue;
    }
    const slash = e.callerWorkload.indexOf("/");
    const kind = e.callerWorkload.slice(0, slash);
    const name = `${e.caller.split("/")[0] ?? ""}/${e.callerWorkload.slice(slash + 1)}`;
    if (!callers.has(`${kind}|${name}`)) callers.set(`${kind}|${name}`, { name, kind });
  }
  const kindsByName = new Map<string, number>();
  for (const { name } of callers.values()) kindsByName.set(name, (kindsByName.get(name) ?? 0) + 1);
  return [...callers.values()].map(({ name, kind }) => ((kindsByName.get(name) ?? 0) > 1 ? `${name} (${kind})` : name));
}
