/**
 * The dependency graph by workload, for the dashboard: who calls whom with pods folded into their
 * top-level owners, each workload marked when one of its pods is starved (an open finding on a reporting
 * node) or when it calls a starved workload. Pure; served as `/api/v1/dependencies`.
 *
 * Only reporting nodes count, as for callers in policy status: a stale agent's connections may be long
 * closed. The busiest edges are kept when there are more than `limit`, so a big cluster still draws.
 */
import type { NodeFindings } from "../api/types.generated.js";
import { SEVERITIES, type Severity } from "../analysis/types.js";
import { findingPod, nodeOwners, partitionNodes, splitPod, workloadRef } from "../report/cluster.js";
import { dependencyGraph, type CallEdge, type ServiceBackends } from "../deps/dependency-graph.js";

export interface WorkloadNodeView {
  /** "namespace/Kind/name" for a workload or a Service whose backends are unknown; the IP for an external peer. */
  readonly id: string;
  readonly kind: "Workload" | "Service" | "External";
  readonly namespace: string;
  /** "Kind/name"; the IP for an external peer. */
  readonly name: string;
  readonly pods: readonly string[];
  /** The worst open finding's severity on any of its pods; null when none is starved. */
  readonly starved: Severity | null;
  /** The rules of its pods' open findings. */
  readonly rules: readonly string[];
  /** It calls a starved workload: it feels the starvation. */
  readonly callsStarved: boolean;
}

export interface WorkloadEdgeView {
  readonly from: string;
  readonly to: string;
  readonly connections: number;
  readonly recentConnections: number;
  readonly via: readonly string[];
  readonly ports: readonly number[];
}

export interface DependenciesView {
  readonly generatedAt: string;
  readonly namespace: string | null;
  readonly nodes: readonly WorkloadNodeView[];
  /** Busiest first. */
  readonly edges: readonly WorkloadEdgeView[];
  /** Edges left out to stay within the limit. */
  readonly omittedEdges: number;
}

export interface DependencyViewInput {
  readonly nodeFindings: readonly NodeFindings[];
  readonly nowMs: number;
  readonly heartbeatMs: number;
  readonly backends?: ServiceBackends;
}

export const DEFAULT_DEPENDENCY_EDGES = 300;

/** Negative when `a` is worse than `b`. */
function compareSeverity(a: Severity, b: Severity): number {
  return SEVERITIES.indexOf(a) - SEVERITIES.indexOf(b);
}

interface Ends {
  readonly from: { id: string; kind: WorkloadNodeView["kind"]; pod?: string };
  readonly to: { id: string; kind: WorkloadNodeView["kind"]; pod?: string };
}

function podEnd(pod: string, owners: ReadonlyMap<string, string>, owner?: string): { id: string; kind: "Workload"; pod: string } {
  const { namespace, name } = splitPod(pod);
  return { id: workloadRef(namespace, name, owner ?? owners.get(pod)).key, kind: "Workload", pod };
}

function endsOf(edge: CallEdge, owners: ReadonlyMap<string, string>): Ends {
  const from = edge.callerKind === "Pod" ? podEnd(edge.caller, owners, edge.callerWorkload) : { id: edge.caller, kind: "External" as const };
  if (edge.calleeKind === "Pod") return { from, to: podEnd(edge.callee, owners) };
  if (edge.calleeKind === "Service") {
    const { namespace, name } = splitPod(edge.callee);
    return { from, to: { id: `${namespace}/Service/${name}`, kind: "Service" } };
  }
  return { from, to: { id: edge.callee, kind: "External" } };
}

function nodeOf(id: string, kind: WorkloadNodeView["kind"]): { id: string; kind: WorkloadNodeView["kind"]; namespace: string; name: string } {
  if (kind === "External") return { id, kind, namespace: "", name: id };
  const slash = id.indexOf("/");
  return { id, kind, namespace: id.slice(0, slash), name: id.slice(slash + 1) };
}

/** Open findings by pod, from reporting nodes: the worst severity and every rule. */
function starvedPods(reporting: readonly NodeFindings[]): Map<string, { severity: Severity; rules: Set<string> }> {
  const out = new Map<string, { severity: Severity; rules: Set<string> }>();
  for (const nf of reporting) {
    for (const f of nf.status?.findings ?? []) {
      const pod = findingPod(f);
      if (pod === "") continue;
      const seen = out.get(pod) ?? { severity: f.severity, rules: new Set<string>() };
      seen.rules.add(f.rule);
      if (compareSeverity(f.severity, seen.severity) < 0) seen.severity = f.severity;
      out.set(pod, seen);
    }
  }
  return out;
}

interface NodeAcc {
  base: ReturnType<typeof nodeOf>;
  pods: Set<string>;
  starved: Severity | null;
  rules: Set<string>;
}

function addStarved(acc: NodeAcc, s: { severity: Severity; rules: Set<string> } | undefined): void {
  if (s === undefined) return;
  for (const r of s.rules) acc.rules.add(r);
  if (acc.starved === null || compareSeverity(s.severity, acc.starved) < 0) acc.starved = s.severity;
}

function touch(nodes: Map<string, NodeAcc>, end: Ends["from"], starved: ReturnType<typeof starvedPods>): NodeAcc {
  const acc = nodes.get(end.id) ?? { base: nodeOf(end.id, end.kind), pods: new Set<string>(), starved: null, rules: new Set<string>() };
  nodes.set(end.id, acc);
  if (end.pod === undefined) return acc;
  acc.pods.add(end.pod);
  addStarved(acc, starved.get(end.pod));
  return acc;
}

function foldEdges(edges: readonly CallEdge[], owners: ReadonlyMap<string, string>, starved: ReturnType<typeof starvedPods>, nodes: Map<string, NodeAcc>): Map<string, WorkloadEdgeView> {
  const folded = new Map<string, { from: string; to: string; connections: number; recentConnections: number; via: Set<string>; ports: Set<number> }>();
  for (const edge of edges) {
    const ends = endsOf(edge, owners);
    touch(nodes, ends.from, starved);
    touch(nodes, ends.to, starved);
    if (ends.from.id === ends.to.id) continue; // replicas calling each other: no arrow to draw
    const key = `${ends.from.id}>${ends.to.id}`;
    const acc = folded.get(key) ?? { from: ends.from.id, to: ends.to.id, connections: 0, recentConnections: 0, via: new Set<string>(), ports: new Set<number>() };
    acc.connections += edge.connections;
    acc.recentConnections += edge.recentConnections;
    for (const v of edge.via) acc.via.add(v);
    for (const p of edge.ports) acc.ports.add(p);
    folded.set(key, acc);
  }
  return new Map([...folded].map(([k, e]) => [k, { ...e, via: [...e.via].sort(), ports: [...e.ports].sort((a, b) => a - b) }]));
}

export function dependencyView(input: DependencyViewInput, options: { readonly namespace?: string; readonly limit?: number } = {}): DependenciesView {
  const { reporting } = partitionNodes(input.nodeFindings, input.nowMs, input.heartbeatMs);
  const owners = new Map(input.nodeFindings.flatMap((nf) => [...nodeOwners(nf)]));
  const starved = starvedPods(reporting);
  const nodes = new Map<string, NodeAcc>();
  const all = [...foldEdges(dependencyGraph(reporting, input.backends).edges, owners, starved, nodes).values()];
  const ns = options.namespace;
  const inNamespace = (id: string): boolean => ns === undefined || nodes.get(id)?.base.namespace === ns;
  const matching = all.filter((e) => inNamespace(e.from) || inNamespace(e.to)).sort((a, b) => b.connections + b.recentConnections - (a.connections + a.recentConnections) || a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  const edges = matching.slice(0, options.limit ?? DEFAULT_DEPENDENCY_EDGES);
  const starvedIds = new Set([...nodes.values()].filter((n) => n.starved !== null).map((n) => n.base.id));
  const callsStarved = new Set(all.filter((e) => starvedIds.has(e.to)).map((e) => e.from));
  const shown = new Set(edges.flatMap((e) => [e.from, e.to]));
  const views = [...shown].map((id): WorkloadNodeView => {
    const n = nodes.get(id) ?? { base: nodeOf(id, "External"), pods: new Set<string>(), starved: null, rules: new Set<string>() };
    return { ...n.base, pods: [...n.pods].sort(), starved: n.starved, rules: [...n.rules].sort(), callsStarved: callsStarved.has(id) };
  });
  return {
    generatedAt: new Date(input.nowMs).toISOString(),
    namespace: ns ?? null,
    nodes: views.sort((a, b) => a.id.localeCompare(b.id)),
    edges,
    omittedEdges: matching.length - edges.length,
  };
}
