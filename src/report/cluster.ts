/**
 * What every view needs from the set of NodeFindings: which nodes report, who owns each pod, and who
 * calls whom. Pure.
 */
import type { NodeFinding, NodeFindings } from "../api/types.generated.js";
import { dependencyGraph, type DependencyGraph, type ServiceBackends } from "../controller/dependency-graph.js";
import { isStale, lastReportMs } from "../controller/findings-view.js";
import type { NodeCountsView, WorkloadRef } from "./types.js";

export function nodeName(nf: NodeFindings): string {
  return nf.metadata.name ?? nf.spec.nodeName;
}

/** "namespace/name" of a finding's pod; "" for a node-level finding. */
export function findingPod(f: NodeFinding): string {
  return f.pod?.name === undefined ? "" : `${f.pod.namespace ?? ""}/${f.pod.name}`;
}

export interface NodePartition {
  readonly counts: NodeCountsView;
  /** Nodes whose agent reported within 3 heartbeats: their findings and connections are current. */
  readonly reporting: readonly NodeFindings[];
  readonly staleNames: ReadonlySet<string>;
}

/** The same split as the controller's summarize: stale, pending (never reported, still in grace), reporting. */
export function partitionNodes(nodeFindings: readonly NodeFindings[], nowMs: number, heartbeatMs: number): NodePartition {
  const reporting: NodeFindings[] = [];
  const staleNodes: string[] = [];
  const pendingNodes: string[] = [];
  for (const nf of nodeFindings) {
    if (isStale(nf, nowMs, heartbeatMs)) staleNodes.push(nodeName(nf));
    else if (lastReportMs(nf) === undefined) pendingNodes.push(nodeName(nf));
    else reporting.push(nf);
  }
  staleNodes.sort();
  pendingNodes.sort();
  return {
    counts: { total: nodeFindings.length, reporting: reporting.length, stale: staleNodes.length, pending: pendingNodes.length, staleNodes, pendingNodes },
    reporting,
    staleNames: new Set(staleNodes),
  };
}

/**
 * Pod ("namespace/name") → its top-level owner ("Kind/name"), from the owners agents wrote beside each
 * connection and each recent incident. NodeFinding carries no owner, so a pod with neither stays unknown.
 */
export function workloadIndex(nodeFindings: readonly NodeFindings[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const nf of nodeFindings) {
    for (const dep of nf.status?.dependencies ?? []) {
      if (dep.fromWorkload !== undefined) owners.set(dep.from, dep.fromWorkload);
      if (dep.toWorkload !== undefined && dep.kind === "Pod") owners.set(dep.to, dep.toWorkload);
    }
    for (const [pod, owner] of ownersFromIncidents(nf.status?.recentIncidents ?? [])) owners.set(pod, owner);
  }
  return owners;
}

/** The workload a pod belongs to: its known owner, else the pod itself as "Pod/name". */
export function workloadRef(namespace: string, name: string, owner: string | undefined): WorkloadRef {
  const workload = owner ?? `Pod/${name}`;
  return { namespace, workload, key: `${namespace}/${workload}` };
}

/** Splits "namespace/name"; a bare name has namespace "". */
export function splitPod(pod: string): { readonly namespace: string; readonly name: string } {
  const slash = pod.indexOf("/");
  return slash < 0 ? { namespace: "", name: pod } : { namespace: pod.slice(0, slash), name: pod.slice(slash + 1) };
}

/**
 * The dependency graph restricted to the edges that touch `pods` (as caller or callee). Callers and callees
 * of those pods come out exactly as from the full graph, since an edge's counts depend only on the entries
 * for its own pair; building it costs a pass over the entries instead of the whole cluster's pairs.
 */
export function graphAround(nodeFindings: readonly NodeFindings[], pods: ReadonlySet<string>, backends: ServiceBackends = new Map()): DependencyGraph {
  if (pods.size === 0) return { edges: [] };
  const touches = (to: string, kind: string): boolean =>
    pods.has(to) || (kind === "Service" && (backends.get(to) ?? []).some((pod) => pods.has(pod)));
  const trimmed = nodeFindings.map((nf) => ({
    ...nf,
    status: { dependencies: (nf.status?.dependencies ?? []).filter((dep) => pods.has(dep.from) || touches(dep.to, dep.kind)) },
  }));
  return dependencyGraph(trimmed, backends);
}

/** The workload of an incident's pod; undefined for a node-level incident. */
export function incidentWorkload(
  incident: { readonly pod: { readonly namespace?: string; readonly name?: string }; readonly workload?: string },
  owners: ReadonlyMap<string, string>,
): WorkloadRef | undefined {
  const { namespace = "", name } = incident.pod;
  if (name === undefined) return undefined;
  return workloadRef(namespace, name, incident.workload ?? owners.get(`${namespace}/${name}`));
}

/** Pod → owner as the incidents name it: the node's tracker saw the pod's ownerReferences. */
export function ownersFromIncidents(incidents: readonly { readonly pod?: { readonly namespace?: string; readonly name?: string }; readonly workload?: string }[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const i of incidents) if (i.workload !== undefined && i.pod?.name !== undefined) owners.set(`${i.pod.namespace ?? ""}/${i.pod.name}`, i.workload);
  return owners;
}
