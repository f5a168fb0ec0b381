/**
 * Incidents grouped by node and pod, each pod with its workload and its incidents by start: the shape the
 * summary walks without allocating per incident. Derived incidents are grouped once per NodeFindings
 * object (see nodeOwners for why that is safe); incidents a caller passes in are grouped on each call.
 */
import type { Incident } from "../analysis/incident.js";
import type { NodeFinding, NodeFindings } from "../api/types.generated.js";
import { findingPod, nodeName, nodeOwners, workloadRef, type OwnerOf } from "./cluster.js";
import { nodeIncidents } from "./convert.js";
import type { WorkloadRef } from "./types.js";

export interface PodIncidents {
  /** "namespace/name" */
  readonly pod: string;
  readonly ref: WorkloadRef;
  /** Oldest start first. */
  readonly incidents: readonly Incident[];
}

export interface IncidentDigest {
  readonly node: string;
  /** Incidents about the node itself (NodePressure): no pod, no workload. */
  readonly nodeLevel: readonly Incident[];
  readonly pods: readonly PodIncidents[];
}

function group(node: string, incidents: readonly Incident[], ownerOf: OwnerOf): IncidentDigest {
  const nodeLevel: Incident[] = [];
  const byPod = new Map<string, { pod: string; ref: WorkloadRef; incidents: Incident[] }>();
  for (const incident of incidents) {
    const { namespace = "", name } = incident.pod;
    if (name === undefined) {
      nodeLevel.push(incident);
      continue;
    }
    const pod = `${namespace}/${name}`;
    let entry = byPod.get(pod);
    if (entry === undefined) {
      entry = { pod, ref: workloadRef(namespace, name, incident.workload ?? ownerOf(node, pod)), incidents: [] };
      byPod.set(pod, entry);
    }
    entry.incidents.push(incident);
  }
  for (const entry of byPod.values()) entry.incidents.sort((a, b) => a.startMs - b.startMs);
  return { node, nodeLevel, pods: [...byPod.values()] };
}

const digestMemo = new WeakMap<NodeFindings, IncidentDigest>();

export function nodeDigest(nf: NodeFindings, ownerOf: OwnerOf): IncidentDigest {
  let digest = digestMemo.get(nf);
  if (digest === undefined) {
    digest = group(nodeName(nf), nodeIncidents(nf), ownerOf);
    digestMemo.set(nf, digest);
  }
  return digest;
}

/** Digests of the given incidents, or of those NodeFindings carry when none are given. */
export function incidentDigests(nodeFindings: readonly NodeFindings[], incidents: readonly Incident[] | undefined, ownerOf: OwnerOf): IncidentDigest[] {
  if (incidents === undefined) return nodeFindings.map((nf) => nodeDigest(nf, ownerOf));
  const byNode = new Map<string, Incident[]>();
  for (const incident of incidents) {
    const list = byNode.get(incident.node) ?? [];
    list.push(incident);
    byNode.set(incident.node, list);
  }
  return [...byNode].map(([node, list]) => group(node, list, ownerOf));
}

export interface FindingRef {
  readonly finding: NodeFinding;
  /** "namespace/name"; "" for a node-level finding. */
  readonly pod: string;
  /** Undefined for a node-level finding. */
  readonly ref: WorkloadRef | undefined;
}

const findingsMemo = new WeakMap<NodeFindings, readonly FindingRef[]>();

/** A node's open findings, each with its pod and workload. */
export function nodeFindingRefs(nf: NodeFindings): readonly FindingRef[] {
  let refs = findingsMemo.get(nf);
  if (refs === undefined) {
    const owners = nodeOwners(nf);
    refs = (nf.status?.findings ?? []).map((finding) => {
      const pod = findingPod(finding);
      const name = finding.pod?.name;
      return { finding, pod, ref: name === undefined ? undefined : workloadRef(finding.pod?.namespace ?? "", name, owners.get(pod)) };
    });
    findingsMemo.set(nf, refs);
  }
  return refs;
}
