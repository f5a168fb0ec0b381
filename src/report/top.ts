/**
 * `top`: the open findings that matter most, worst first, each with its culprit and the callers that feel
 * it. Ranked exactly as the controller ranks policy status topRisks (compareRisk). Pure; served as
 * `/api/v1/top` and printed by `xander top`.
 */
import type { NodeFinding, NodeFindings } from "../api/types.generated.js";
import { callerNames, type DependencyGraph } from "../controller/dependency-graph.js";
import { compareRisk } from "../controller/findings-view.js";
import { findingPod, graphAround, nodeName, partitionNodes, workloadIndex } from "./cluster.js";
import type { CulpritRef, ReadModelInput, TopOptions, TopRow, TopView } from "./types.js";

export const DEFAULT_TOP_LIMIT = 20;
/** As in TopRisk.callers: enough to see who is hit, bounded for tables. */
const MAX_CALLERS = 10;

interface Ranked {
  readonly node: string;
  readonly finding: NodeFinding;
}

function culpritRef(f: NodeFinding): CulpritRef | null {
  const c = f.culprit;
  return c === undefined ? null : { namespace: c.namespace ?? null, name: c.name ?? null, uid: c.uid, score: c.score };
}

/** One open finding as a row; exported for the pod view, which lists the pod's own. */
export function topRow(r: Ranked, owners: ReadonlyMap<string, string>, graph: DependencyGraph): TopRow {
  const f = r.finding;
  const pod = findingPod(f);
  const owner = pod === "" ? "" : (owners.get(pod) ?? `Pod/${f.pod?.name ?? ""}`);
  return {
    node: r.node,
    rule: f.rule,
    severity: f.severity,
    namespace: f.pod?.namespace ?? "",
    pod,
    container: f.container ?? null,
    workload: owner,
    value: f.value,
    threshold: f.threshold,
    excess: f.threshold > 0 ? f.value / f.threshold : f.value,
    since: f.firstSeen,
    lastSeen: f.lastSeen,
    culprit: culpritRef(f),
    callers: pod === "" ? [] : callerNames(graph, pod).slice(0, MAX_CALLERS),
    message: f.message,
  };
}

/** Open findings of reporting nodes, ranked; `namespace` narrows to one namespace's pods. */
export function rankedFindings(reporting: readonly NodeFindings[], namespace?: string): Ranked[] {
  const ranked: Ranked[] = [];
  for (const nf of reporting) {
    const node = nodeName(nf);
    for (const finding of nf.status?.findings ?? []) {
      if (namespace === undefined || finding.pod?.namespace === namespace) ranked.push({ node, finding });
    }
  }
  return ranked.sort(compareRisk);
}

export function top(input: ReadModelInput, options: TopOptions = {}): TopView {
  const { nodeFindings, nowMs, heartbeatMs } = input;
  const { reporting } = partitionNodes(nodeFindings, nowMs, heartbeatMs);
  const ranked = rankedFindings(reporting, options.namespace);
  const shown = ranked.slice(0, Math.max(0, options.limit ?? DEFAULT_TOP_LIMIT));
  // Callers from reporting nodes only, as in policy status: a stale agent's connections may be long closed.
  const graph = graphAround(reporting, new Set(shown.map((r) => findingPod(r.finding)).filter((p) => p !== "")), input.backends);
  const owners = workloadIndex(nodeFindings);
  return { generatedAt: new Date(nowMs).toISOString(), total: ranked.length, risks: shown.map((r) => topRow(r, owners, graph)) };
}
