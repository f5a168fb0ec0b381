/**
 * The cluster-wide view of NodeFindings: what policy status, metrics and (later) the read API show,
 * including who calls each top risk's pod, from the dependency graph of every reporting node.
 * `summarize` is the pure aggregation; FindingsView keeps the latest cluster-wide summary in memory,
 * recomputed from the NodeFindings watch cache when it changes.
 */
import { SEVERITY_RANK } from "../analysis/severity.js";
import { MESSAGE_MAX } from "../api/limits.js";
import { RULE_NAMES, SEVERITIES, type RuleName, type Severity } from "../analysis/types.js";
import type { NodeFinding, NodeFindings, TopRisk } from "../api/types.generated.js";
import { callerNames, type DependencyGraph, type ServiceBackends } from "../deps/dependency-graph.js";
import { dependencyEdgeCount, graphAround } from "../deps/graph-index.js";

/** An agent that has not reported for this many heartbeats is stale. */
export const STALE_AFTER_HEARTBEATS = 3;
export const DEFAULT_TOP_RISKS = 5;

export interface NodeCounts {
  /** NodeFindings objects seen (one per Node). */
  readonly total: number;
  /** Nodes whose agent reported within STALE_AFTER_HEARTBEATS heartbeats. */
  readonly reporting: number;
  /** Nodes whose agent has not reported within STALE_AFTER_HEARTBEATS heartbeats (see isStale). */
  readonly stale: number;
  /** Nodes added recently whose agent has not reported yet: neither reporting nor stale. */
  readonly pending: number;
  readonly staleNodes: readonly string[];
}

export interface FindingsSummary {
  readonly nodes: NodeCounts;
  readonly bySeverity: Readonly<Record<Severity, number>>;
  readonly byRule: Readonly<Record<RuleName, Readonly<Record<Severity, number>>>>;
  /** Worst first: severity, then how far past its threshold, then most recent. */
  readonly topRisks: readonly TopRisk[];
  /** Caller → callee pairs in the cluster dependency graph of the reporting nodes (unless not counted). */
  readonly dependencyEdges: number;
}

export interface SummarizeOptions {
  /** Only findings raised under this StarvationPolicy. Node counts are not filtered. */
  readonly policy?: string;
  readonly topN?: number;
  /** Service → backend pods, so calls through a Service name the pods behind it as callees. */
  readonly backends?: ServiceBackends;
  /** Count the graph's edges (default true); a policy's status does not show them, so it skips the count (0). */
  readonly countEdges?: boolean;
}

/** TopRisk.callers is bounded by the CRD. */
const MAX_CALLERS = 10;

function zeroSeverities(): Record<Severity, number> {
  return Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
}

/** Parsed once per object: every summary asks every node, several times a second at 1,000 nodes. */
const lastReportMemo = new WeakMap<NodeFindings, number | undefined>();

/** Milliseconds of the agent's last report, or undefined if it never reported. */
export function lastReportMs(nf: NodeFindings): number | undefined {
  if (lastReportMemo.has(nf)) return lastReportMemo.get(nf);
  const at = nf.status?.agent?.lastSample;
  const ms = at === undefined ? Number.NaN : Date.parse(at);
  const value = Number.isNaN(ms) ? undefined : ms;
  lastReportMemo.set(nf, value);
  return value;
}

/**
 * Whether the node's agent is overdue: its last report, or for an agent that never reported the creation
 * of the NodeFindings (a node that just joined gets the same grace as a missed heartbeat), is older than
 * STALE_AFTER_HEARTBEATS heartbeats.
 */
export function isStale(nf: NodeFindings, nowMs: number, heartbeatMs: number): boolean {
  const created = nf.metadata.creationTimestamp === undefined ? Number.NaN : Date.parse(nf.metadata.creationTimestamp);
  const since = lastReportMs(nf) ?? (Number.isNaN(created) ? undefined : created);
  return since === undefined || nowMs - since > STALE_AFTER_HEARTBEATS * heartbeatMs;
}

interface Ranked {
  readonly node: string;
  readonly finding: NodeFinding;
}

/** How far past its threshold a finding is; a threshold of 0 ranks by the value itself. */
function excess(f: NodeFinding): number {
  return f.threshold > 0 ? f.value / f.threshold : f.value;
}

function podName(f: NodeFinding): string {
  return f.pod?.name === undefined ? "" : `${f.pod.namespace ?? ""}/${f.pod.name}`;
}

export function compareRisk(a: Ranked, b: Ranked): number {
  return (
    SEVERITY_RANK[a.finding.severity] - SEVERITY_RANK[b.finding.severity] ||
    excess(b.finding) - excess(a.finding) ||
    Date.parse(b.finding.lastSeen) - Date.parse(a.finding.lastSeen) ||
    a.node.localeCompare(b.node) ||
    podName(a.finding).localeCompare(podName(b.finding))
  );
}

function toTopRisk(r: Ranked, graph: DependencyGraph): TopRisk {
  const message = r.finding.message.length > MESSAGE_MAX ? `${r.finding.message.slice(0, MESSAGE_MAX - 3)}...` : r.finding.message;
  const pod = podName(r.finding);
  // Across nodes: a caller on another node may be seen only from its own end (short calls in TIME_WAIT).
  const callers = pod === "" ? [] : callerNames(graph, pod).slice(0, MAX_CALLERS);
  return { node: r.node, rule: r.finding.rule, severity: r.finding.severity, pod, message, ...(callers.length > 0 ? { callers } : {}) };
}

/**
 * The `n` worst in compareRisk's order, without sorting them all: most findings lose to the n-th worst so far
 * on severity alone, so this costs about one comparison per finding where a sort costs a dozen.
 */
function worstFirst(ranked: readonly Ranked[], n: number): Ranked[] {
  const kept: Ranked[] = [];
  for (const r of ranked) {
    const last = kept[kept.length - 1];
    if (kept.length >= n && (last === undefined || compareRisk(r, last) >= 0)) continue;
    let i = kept.length;
    while (i > 0 && compareRisk(r, kept[i - 1] as Ranked) < 0) i--;
    kept.splice(i, 0, r);
    if (kept.length > n) kept.pop();
  }
  return kept;
}

/**
 * Aggregates NodeFindings at `nowMs`. Findings on stale nodes are left out of the counts and top risks:
 * an agent that stopped reporting may be describing a pod that is long gone, and the stale count already
 * says that part of the cluster is not being watched.
 */
export function summarize(nodeFindings: readonly NodeFindings[], nowMs: number, heartbeatMs: number, opts: SummarizeOptions = {}): FindingsSummary {
  const bySeverity = zeroSeverities();
  const byRule = Object.fromEntries(RULE_NAMES.map((r) => [r, zeroSeverities()])) as Record<RuleName, Record<Severity, number>>;
  const staleNodes: string[] = [];
  const ranked: Ranked[] = [];
  const reporting: NodeFindings[] = [];
  for (const nf of nodeFindings) {
    const node = nf.metadata.name ?? nf.spec.nodeName;
    if (isStale(nf, nowMs, heartbeatMs)) {
      staleNodes.push(node);
      continue;
    }
    if (lastReportMs(nf) === undefined) continue; // pending: nothing reported yet
    reporting.push(nf);
    for (const f of nf.status?.findings ?? []) {
      if (opts.policy !== undefined && f.policy !== opts.policy) continue;
      bySeverity[f.severity]++;
      byRule[f.rule][f.severity]++;
      ranked.push({ node, finding: f });
    }
  }
  staleNodes.sort();
  const pending = nodeFindings.length - reporting.length - staleNodes.length;
  return {
    nodes: { total: nodeFindings.length, reporting: reporting.length, stale: staleNodes.length, pending, staleNodes },
    bySeverity,
    byRule,
    topRisks: topRisks(reporting, ranked, opts),
    dependencyEdges: opts.countEdges === false ? 0 : dependencyEdgeCount(reporting, opts.backends),
  };
}

function topRisks(reporting: readonly NodeFindings[], ranked: readonly Ranked[], opts: SummarizeOptions): TopRisk[] {
  const top = worstFirst(ranked, opts.topN ?? DEFAULT_TOP_RISKS);
  // Only the top risks' callers are shown: the graph around their pods has exactly their edges, and costs a
  // few lookups per node where the whole graph (every pair of the cluster) costs hundreds of milliseconds.
  const graph = graphAround(reporting, new Set(top.map((r) => podName(r.finding)).filter((p) => p !== "")), opts.backends);
  return top.map((r) => toTopRisk(r, graph));
}

/**
 * Keeps the cluster-wide summary of the NodeFindings cache in memory. refresh() is cheap to call often:
 * the controller calls it (debounced) on NodeFindings events and on a timer, since staleness changes
 * with time alone.
 */
export class FindingsView {
  private current: FindingsSummary;

  constructor(
    private readonly source: () => readonly NodeFindings[],
    private readonly heartbeatMs: () => number,
    private readonly now: () => number = Date.now,
    private readonly backends: () => ServiceBackends = () => new Map(),
  ) {
    this.current = summarize([], this.now(), this.heartbeatMs());
  }

  /** The cluster-wide summary as of the last refresh. */
  get summary(): FindingsSummary {
    return this.current;
  }

  refresh(): FindingsSummary {
    this.current = summarize(this.source(), this.now(), this.heartbeatMs(), { backends: this.backends() });
    return this.current;
  }

  /** A fresh summary for one policy, judged by that policy's heartbeat. */
  forPolicy(policy: string, heartbeatMs: number, topN = DEFAULT_TOP_RISKS): FindingsSummary {
    return summarize(this.source(), this.now(), heartbeatMs, { policy, topN, backends: this.backends(), countEdges: false });
  }
}
