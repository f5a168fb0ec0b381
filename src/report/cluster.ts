/**
 * What every view needs from the set of NodeFindings: which nodes report, who owns each pod, and who
 * calls whom. Pure.
 */
import type { NodeFinding, NodeFindings } from "../api/types.generated.js";
import { isStale, lastReportMs } from "./findings-view.js";
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
 * NodeFindings from the watch cache are replaced on every change, never edited in place, so what is derived
 * from one object is kept with it: a summary over 1,000 nodes after one of them changed redoes one node's
 * work, not a thousand. Keyed weakly, so an object gone from the cache takes its derived data with it.
 */
const ownersMemo = new WeakMap<NodeFindings, ReadonlyMap<string, string>>();

/**
 * Pod ("namespace/name") → its top-level owner ("Kind/name") for the pods on this node, from the owners its
 * agent wrote beside each connection and each recent incident. A pod on the node is the `from` of each of its
 * connections, inbound or outbound, so another node's entries rarely add anything for it. NodeFinding carries
 * no owner: a pod with neither connections nor incidents stays unknown.
 */
export function nodeOwners(nf: NodeFindings): ReadonlyMap<string, string> {
  let owners = ownersMemo.get(nf);
  if (owners === undefined) {
    const built = new Map<string, string>();
    const deps = nf.status?.dependencies ?? [];
    // A peer's owner only fills a gap: the pod's own entries may have been cut by maxDependencies.
    for (const dep of deps) if (dep.kind === "Pod" && dep.toWorkload !== undefined) built.set(dep.to, dep.toWorkload);
    for (const dep of deps) if (dep.fromWorkload !== undefined) built.set(dep.from, dep.fromWorkload);
    addIncidentOwners(built, nf.status?.recentIncidents ?? []);
    owners = built;
    ownersMemo.set(nf, owners);
  }
  return owners;
}

/** Who owns a pod on a node: (node, "namespace/name") → "Kind/name". */
export type OwnerOf = (node: string, pod: string) => string | undefined;

export function ownerResolver(nodeFindings: readonly NodeFindings[]): OwnerOf {
  const byNode = new Map(nodeFindings.map((nf) => [nodeName(nf), nf]));
  return (node, pod) => {
    const nf = byNode.get(node);
    return nf === undefined ? undefined : nodeOwners(nf).get(pod);
  };
}

/** A pod's owner as any node knows it, for a pod whose node is not known. */
export function ownerAnywhere(nodeFindings: readonly NodeFindings[], pod: string): string | undefined {
  for (const nf of nodeFindings) {
    const owner = nodeOwners(nf).get(pod);
    if (owner !== undefined) return owner;
  }
  return undefined;
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

/** The workload of an incident's pod; undefined for a node-level incident. */
export function incidentWorkload(
  incident: { readonly node: string; readonly pod: { readonly namespace?: string; readonly name?: string }; readonly workload?: string },
  ownerOf: OwnerOf,
): WorkloadRef | undefined {
  const { namespace = "", name } = incident.pod;
  if (name === undefined) return undefined;
  return workloadRef(namespace, name, incident.workload ?? ownerOf(incident.node, `${namespace}/${name}`));
}

type Owned = readonly { readonly pod?: { readonly namespace?: string; readonly name?: string }; readonly workload?: string }[];

function addIncidentOwners(owners: Map<string, string>, incidents: Owned): void {
  for (const i of incidents) if (i.workload !== undefined && i.pod?.name !== undefined) owners.set(`${i.pod.namespace ?? ""}/${i.pod.name}`, i.workload);
}

/** Pod → owner as the incidents name it: the node's tracker saw the pod's ownerReferences. */
export function ownersFromIncidents(incidents: Owned): Map<string, string> {
  const owners = new Map<string, string>();
  addIncidentOwners(owners, incidents);
  return owners;
}
