/**
 * What every view derives from one NodeFindings object — its pods' owners, its findings with their
 * workloads, its incidents grouped by pod, its dependency index — derived once, when the object arrives.
 * Each is kept with the object (see nodeOwners), so the first `summary` or `top` after a controller starts
 * costs what a later one does instead of deriving a thousand nodes at once while a person waits. Pure.
 */
import type { NodeFindings } from "../api/types.generated.js";
import { nodeOwners } from "./cluster.js";
import { depsByEnd } from "../deps/graph-index.js";
import { nodeDigest, nodeFindingRefs } from "./digest.js";

export function prepareNodeFindings(nf: NodeFindings): void {
  const owners = nodeOwners(nf);
  nodeFindingRefs(nf);
  // A digest only ever asks for the owners of its own node's pods (see ownerResolver).
  nodeDigest(nf, (_node, pod) => owners.get(pod));
  depsByEnd(nf);
}

/**
 * `next`, with each object whose resourceVersion has not changed since `previous` replaced by the earlier
 * object, so what was derived from it is reused: a re-list returns new objects even for nodes nobody wrote.
 */
export function keepUnchanged(previous: readonly NodeFindings[], next: readonly NodeFindings[]): NodeFindings[] {
  const known = new Map<string, NodeFindings>();
  for (const nf of previous) {
    const version = nf.metadata.resourceVersion;
    if (version !== undefined) known.set(`${nf.metadata.name ?? ""}@${version}`, nf);
  }
  return next.map((nf) => {
    const version = nf.metadata.resourceVersion;
    return (version === undefined ? undefined : known.get(`${nf.metadata.name ?? ""}@${version}`)) ?? nf;
  });
}
