/**
 * `pod`: everything known of one pod — its series per container with the stats advice reads, its open
 * findings, its incidents, who calls it and whom it calls, and the advice. Pure; served as
 * `/api/v1/pods/{namespace}/{name}` and printed by `xander pod`.
 */
import { compareIncidents, incidentPodName, type Incident } from "../analysis/incident.js";
import type { PodHistory } from "../api/history.js";
import type { NodeFindings } from "../api/types.generated.js";
import { calleesOf, callerNames } from "../deps/dependency-graph.js";
import { findingPod, ownerAnywhere, ownerResolver, ownersFromIncidents, partitionNodes, splitPod, workloadRef } from "./cluster.js";
import { graphAround } from "../deps/graph-index.js";
import { incidentsFromNodeFindings, incidentToJson } from "./convert.js";
import { containerStats, seriesByContainer } from "./stats.js";
import { rankedFindings, topRow } from "./top.js";
import type { Advise, CalleeView, ContainerView, PodInput, PodNotFound, PodResult } from "./types.js";

function inAnyDependency(nodeFindings: readonly NodeFindings[], pod: string): boolean {
  return nodeFindings.some((nf) => (nf.status?.dependencies ?? []).some((d) => d.from === pod || d.to === pod));
}

function notFound(pod: string, generatedAt: string): PodNotFound {
  return {
    found: false,
    generatedAt,
    pod,
    message: `pod ${pod} is not known to Xander: no agent holds its history, and it has no finding, incident or connection (check the namespace and name, and that a StarvationPolicy selects the pod)`,
  };
}

function containerViews(histories: readonly PodHistory[], own: readonly Incident[], advise: Advise | undefined, namespace: string, workload: string): ContainerView[] {
  return seriesByContainer(histories).map((series) => {
    const stats = containerStats(series);
    const incidents = own.filter((i) => (i.container ?? "") === series.container);
    const advice = advise?.({ ...stats, namespace, workload, points: series.points, incidents }) ?? [];
    return { container: series.container, stats, points: series.points, advice };
  });
}

export function pod(input: PodInput): PodResult {
  const { nodeFindings, nowMs, heartbeatMs } = input;
  const generatedAt = new Date(nowMs).toISOString();
  const { namespace, name } = splitPod(input.pod);
  const key = `${namespace}/${name}`;
  const histories = input.histories.filter((h) => h.pod.namespace === namespace && h.pod.name === name);
  const own = (input.incidents ?? incidentsFromNodeFindings(nodeFindings)).filter((i) => incidentPodName(i) === key).sort(compareIncidents);
  const { reporting } = partitionNodes(nodeFindings, nowMs, heartbeatMs);
  const graph = graphAround(reporting, new Set([key]), input.backends);
  const ownerOf = ownerResolver(nodeFindings);
  const findings = rankedFindings(reporting, namespace).filter((r) => findingPod(r.finding) === key);
  if (histories.length === 0 && own.length === 0 && findings.length === 0 && !inAnyDependency(nodeFindings, key)) return notFound(key, generatedAt);
  const workload = workloadRef(namespace, name, ownersFromIncidents(own).get(key) ?? ownerAnywhere(nodeFindings, key)).workload;
  const containers = containerViews(histories, own, input.advise, namespace, workload);
  const uids = [...histories.map((h) => h.pod.uid), ...findings.map((r) => r.finding.pod?.uid), ...own.map((i) => i.pod.uid)];
  const nodes = new Set([...histories.map((h) => h.node), ...findings.map((r) => r.node), ...own.map((i) => i.node)]);
  const callees = calleesOf(graph, key).map(
    (e): CalleeView => ({ callee: e.callee, kind: e.calleeKind, via: e.via, ports: e.ports, connections: e.connections, recentConnections: e.recentConnections }),
  );
  return {
    found: true,
    generatedAt,
    namespace,
    name,
    uid: uids.find((u) => u !== undefined) ?? null,
    workload,
    nodes: [...nodes].sort(),
    openFindings: findings.map((r) => topRow(r, ownerOf, graph)),
    containers,
    incidents: own.map((i) => incidentToJson(i, nowMs)),
    callers: callerNames(graph, key),
    callees,
  };
}
