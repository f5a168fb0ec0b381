/**
 * Parts of the cluster dependency graph without building all of it: each node's entries indexed by either
 * end, the graph around a few pods, and how many caller → callee pairs the whole graph has. What is derived
 * from one NodeFindings object is kept with it (weakly), as the watch cache replaces an object on every
 * change and never edits one: after one node of 1,000 wrote, one node's work is redone, not a thousand. Pure.
 */
import type { Dependency, NodeFindings } from "../api/types.generated.js";
import { dependencyGraph, pairKeysOf, type DependencyGraph, type ServiceBackends } from "./dependency-graph.js";

const depsMemo = new WeakMap<NodeFindings, ReadonlyMap<string, readonly Dependency[]>>();

/** A node's dependency entries by either end ("namespace/name", a Service, or an IP). */
export function depsByEnd(nf: NodeFindings): ReadonlyMap<string, readonly Dependency[]> {
  let index = depsMemo.get(nf);
  if (index === undefined) {
    const built = new Map<string, Dependency[]>();
    const add = (key: string, dep: Dependency): void => {
      const list = built.get(key);
      if (list === undefined) built.set(key, [dep]);
      else if (list[list.length - 1] !== dep) list.push(dep);
    };
    for (const dep of nf.status?.dependencies ?? []) {
      add(dep.from, dep);
      add(dep.to, dep);
    }
    index = built;
    depsMemo.set(nf, index);
  }
  return index;
}

/**
 * The dependency graph restricted to the edges that touch `pods` (as caller or callee). Callers and callees
 * of those pods come out exactly as from the full graph, since an edge's counts depend only on the entries
 * for its own pair; building it costs a few lookups per node instead of the whole cluster's pairs.
 */
export function graphAround(nodeFindings: readonly NodeFindings[], pods: ReadonlySet<string>, backends: ServiceBackends = new Map()): DependencyGraph {
  if (pods.size === 0) return { edges: [] };
  // Calls through a Service count against its backends: entries naming such a Service touch the pods too.
  const ends = new Set(pods);
  for (const [service, backendPods] of backends) if (backendPods.some((pod) => pods.has(pod))) ends.add(service);
  // Only the nodes with an entry for one of the ends: the rest add nothing, and most nodes are the rest.
  const trimmed = nodeFindings.flatMap((nf) => {
    const index = depsByEnd(nf);
    const dependencies = new Set<Dependency>();
    for (const end of ends) for (const dep of index.get(end) ?? []) dependencies.add(dep);
    return dependencies.size === 0 ? [] : [{ ...nf, status: { dependencies: [...dependencies] } }];
  });
  return dependencyGraph(trimmed, backends);
}

/** One empty map, so callers without backends hit the memo. */
const NO_BACKENDS: ServiceBackends = new Map();

const pairKeysMemo = new WeakMap<NodeFindings, { readonly backends: ServiceBackends; readonly keys: readonly string[] }>();

/** The caller → callee pairs a node's entries add to the graph, by key. */
function nodePairKeys(nf: NodeFindings, backends: ServiceBackends): readonly string[] {
  const memo = pairKeysMemo.get(nf);
  if (memo?.backends === backends) return memo.keys;
  const keys = (nf.status?.dependencies ?? []).flatMap((dep) => pairKeysOf(dep, backends));
  pairKeysMemo.set(nf, { backends, keys });
  return keys;
}

/** dependencyGraph(nodeFindings, backends).edges.length, without building the edges. */
export function dependencyEdgeCount(nodeFindings: readonly NodeFindings[], backends: ServiceBackends = NO_BACKENDS): number {
  const pairs = new Set<string>();
  for (const nf of nodeFindings) for (const key of nodePairKeys(nf, backends)) pairs.add(key);
  return pairs.size;
}
