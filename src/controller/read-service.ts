/**
 * Gathers what the read model needs and runs it: NodeFindings (from a watch cache in the controller, from
 * one list in the CLI), and, where a view needs more than the cluster view holds, the node histories from
 * the agents. The CLI, `kubectl xander` and the controller's `/api/v1/*` all answer through this, so the
 * three can never disagree.
 *
 * Incidents of the last 24 hours are in NodeFindings (`status.recentIncidents` plus the open findings);
 * longer spans are read from the agents. A node whose agent cannot be read is named in `skipped`, and its
 * NodeFindings still count for what they hold.
 */
import type { Incident, IncidentQuery } from "../analysis/incident.js";
import type { IncidentList, PodHistory } from "../api/history.js";
import type { NodeFindings, StarvationPolicy } from "../api/types.generated.js";
import { effectivePolicy } from "../api/policy.js";
import { matchesSelector, type Labels } from "../agent/selector.js";
import type { HistoryClient, NodeRead } from "../kube/history-client.js";
import { adviseCulpritEntries, adviseEntries } from "./advice-adapter.js";
import type { ServiceBackends } from "../deps/dependency-graph.js";
import { dependencyView, type DependenciesView } from "./dependency-view.js";
import { incidentFromJson, incidentsFromNodeFindings } from "../report/convert.js";
import { incidents as incidentsView } from "../report/incidents.js";
import { pod as podView } from "../report/pod.js";
import { report as reportView, DEFAULT_REPORT_SPAN_MS } from "../report/report.js";
import { summary as summaryView } from "../report/summary.js";
import { top as topView } from "../report/top.js";
import type { IncidentsView, PodResult, ReadModelInput, ReportView, SkippedNode, SummaryView, TopOptions, TopView } from "../report/types.js";

export interface ReadSources {
  nodeFindings(): Promise<readonly NodeFindings[]>;
  backends?(): Promise<ServiceBackends>;
  /** The heartbeat agents report at; a node silent for three is stale. */
  heartbeatMs(): number;
  readonly history: HistoryClient;
  /** The StarvationPolicies, for the dashboard's "nothing is watched" state; absent = not known here. */
  policies?(): Promise<readonly StarvationPolicy[]>;
  /** A namespace's labels, to tell which policies select it; absent, only its name label is matched. */
  namespaceLabels?(namespace: string): Promise<Labels | undefined>;
  /** The node a pod is scheduled on, when the views cannot tell from what agents reported. */
  podNode?(namespace: string, name: string): Promise<string | undefined>;
  now?(): number;
}

/** What NodeFindings carry: the last day of closed incidents. Longer spans need the agents. */
const CLUSTER_VIEW_SPAN_MS = 24 * 3_600_000;
const DEFAULT_POD_SINCE_MS = 3_600_000;

export interface PoliciesView {
  readonly generatedAt: string;
  readonly known: boolean;
  readonly names: readonly string[];
  readonly namespace?: { readonly name: string; readonly selectedBy: readonly string[] };
}

export type WithSkipped<T> = T & { readonly skipped: readonly SkippedNode[] };

export class ReadService {
  constructor(private readonly sources: ReadSources) {}

  async summary(): Promise<SummaryView> {
    return summaryView(await this.input());
  }

  async top(options: TopOptions = {}): Promise<TopView> {
    return topView(await this.input(), options);
  }

  async incidents(query: Omit<IncidentQuery, "sinceMs"> & { readonly sinceAgoMs: number }): Promise<WithSkipped<IncidentsView>> {
    const input = await this.input();
    const { sinceAgoMs, ...rest } = query;
    const q: IncidentQuery = { ...rest, sinceMs: input.nowMs - sinceAgoMs };
    const gathered = await this.gatherIncidents(input, q, sinceAgoMs);
    return { ...incidentsView({ ...input, incidents: gathered.incidents }, q), skipped: gathered.skipped };
  }

  async pod(namespace: string, name: string, sinceAgoMs = DEFAULT_POD_SINCE_MS): Promise<WithSkipped<PodResult>> {
    const input = await this.input();
    const key = `${namespace}/${name}`;
    const nodes = await this.nodesOf(input.nodeFindings, key);
    const reads = await Promise.all(nodes.map((nf) => this.sources.history.podHistory(nf, namespace, name, sinceAgoMs)));
    const histories = reads.flatMap((r) => (r.ok ? [r.value] : []));
    // A node without this pod's history answers 404: that is not a node we failed to read.
    const skipped = reads.flatMap((r) => (r.ok || / 404/.test(r.reason) ? [] : [{ node: r.node, reason: r.reason }]));
    const incidentReads = await Promise.all(nodes.map((nf) => this.sources.history.incidents(nf, { sinceMs: sinceAgoMs, pod: key })));
    const incidents = mergeIncidents(input, incidentReads, { sinceMs: input.nowMs - sinceAgoMs, pod: key });
    const partial = incidentReads.flatMap((r) => (r.ok ? unreadOrPartial(r) : []));
    return { ...podView({ ...input, pod: key, histories, incidents, advise: adviseEntries }), skipped: dedupeSkipped([...skipped, ...partial]) };
  }

  async report(options: { readonly spanMs?: number; readonly namespace?: string } = {}): Promise<ReportView> {
    const input = await this.input();
    const spanMs = options.spanMs ?? DEFAULT_REPORT_SPAN_MS;
    const q: IncidentQuery = { sinceMs: input.nowMs - spanMs, ...(options.namespace === undefined ? {} : { namespace: options.namespace }) };
    const gathered = await this.gatherIncidents(input, q, spanMs, true);
    const histories = await this.histories(input.nodeFindings, gathered.incidents, spanMs);
    const skipped = dedupeSkipped([...gathered.skipped, ...histories.skipped]);
    return reportView({
      ...input,
      spanMs,
      // The namespace picks the victims; their culprits are reported wherever they run.
      incidents: gathered.incidents.filter((i) => options.namespace === undefined || i.pod.namespace === options.namespace),
      histories: histories.byPod,
      advise: adviseEntries,
      adviseCulprit: adviseCulpritEntries,
      skipped,
    });
  }

  async dependencies(options: { readonly namespace?: string; readonly limit?: number } = {}): Promise<DependenciesView> {
    return dependencyView(await this.input(), options);
  }

  /**
   * The StarvationPolicies by name and, for a namespace, the ones that select it (for at least some of its
   * pods); `known: false` where this service has no way to list them.
   */
  async policies(namespace?: string): Promise<PoliciesView> {
    const list = await this.sources.policies?.();
    const names = (list ?? []).map((p) => p.metadata.name ?? "").sort();
    const base: PoliciesView = { generatedAt: new Date(this.sources.now?.() ?? Date.now()).toISOString(), known: list !== undefined, names };
    if (namespace === undefined || list === undefined) return base;
    // The apiserver sets the name label on every namespace; other labels need a read the caller may lack.
    const labels = (await this.sources.namespaceLabels?.(namespace).catch(() => undefined)) ?? { "kubernetes.io/metadata.name": namespace };
    const selectedBy = list.flatMap((p) => {
      const e = effectivePolicy(p);
      return e.ok && !e.value.selector.excludeNamespaces.includes(namespace) && matchesSelector(e.value.selector.namespaceSelector, labels) ? [e.value.name] : [];
    });
    return { ...base, namespace: { name: namespace, selectedBy: selectedBy.sort() } };
  }

  private async input(): Promise<ReadModelInput> {
    const [nodeFindings, backends] = await Promise.all([this.sources.nodeFindings(), this.sources.backends?.()]);
    return { nodeFindings, nowMs: this.sources.now?.() ?? Date.now(), heartbeatMs: this.sources.heartbeatMs(), ...(backends ? { backends } : {}) };
  }

  /** The cluster view for the last day; the agents' histories beyond it (or always, with `always`). */
  private async gatherIncidents(input: ReadModelInput, query: IncidentQuery, spanMs: number, always = false): Promise<{ incidents: Incident[]; skipped: SkippedNode[] }> {
    if (spanMs <= CLUSTER_VIEW_SPAN_MS && !always) return { incidents: incidentsFromNodeFindings(input.nodeFindings), skipped: [] };
    const history = { sinceMs: spanMs, ...(query.rule === undefined ? {} : { rule: query.rule }), ...(query.pod === undefined ? {} : { pod: query.pod }) };
    const reads = await this.sources.history.fromEach(input.nodeFindings, (nf) => this.sources.history.incidents(nf, history));
    return { incidents: mergeIncidents(input, reads, query), skipped: reads.flatMap(unreadOrPartial) };
  }

  /** Series of every pod with an incident, and of every culprit, from the node that holds them. */
  private async histories(nodeFindings: readonly NodeFindings[], incidents: readonly Incident[], spanMs: number): Promise<{ byPod: Map<string, PodHistory[]>; skipped: SkippedNode[] }> {
    const byNode = new Map(nodeFindings.map((nf) => [nf.metadata.name ?? nf.spec.nodeName, nf]));
    const wanted = new Map<string, { nf: NodeFindings; namespace: string; name: string }>();
    for (const incident of incidents) {
      const nf = byNode.get(incident.node);
      if (!nf) continue;
      for (const pod of [incident.pod, ...incident.culprits.map((c) => c.pod)]) {
        if (pod.namespace === undefined || pod.name === undefined) continue;
        wanted.set(`${incident.node}|${pod.namespace}/${pod.name}`, { nf, namespace: pod.namespace, name: pod.name });
      }
    }
    const reads = await Promise.all([...wanted.values()].map(async (w) => ({ w, read: await this.sources.history.podHistory(w.nf, w.namespace, w.name, spanMs) })));
    const byPod = new Map<string, PodHistory[]>();
    const skipped: SkippedNode[] = [];
    for (const { w, read } of reads) {
      if (read.ok) byPod.set(`${w.namespace}/${w.name}`, [...(byPod.get(`${w.namespace}/${w.name}`) ?? []), read.value]);
      else if (!/ 404/.test(read.reason)) skipped.push({ node: read.node, reason: read.reason });
    }
    return { byPod, skipped };
  }

  /** The nodes that may hold a pod's history: those whose NodeFindings mention it, else where it is scheduled. */
  private async nodesOf(nodeFindings: readonly NodeFindings[], pod: string): Promise<NodeFindings[]> {
    const mentions = nodeFindings.filter((nf) => mentionsPod(nf, pod));
    if (mentions.length > 0) return mentions;
    const [namespace = "", name = ""] = pod.split("/");
    const node = await this.sources.podNode?.(namespace, name);
    return nodeFindings.filter((nf) => (nf.metadata.name ?? nf.spec.nodeName) === node);
  }
}

function mentionsPod(nf: NodeFindings, pod: string): boolean {
  const named = (p: { namespace?: string; name?: string } | undefined): boolean => p !== undefined && `${p.namespace ?? ""}/${p.name ?? ""}` === pod;
  const status = nf.status;
  return (
    (status?.findings ?? []).some((f) => named(f.pod)) ||
    (status?.recentIncidents ?? []).some((r) => named(r.pod)) ||
    (status?.dependencies ?? []).some((d) => d.from === pod)
  );
}

/** A node whose agent did not answer, or answered only its newest incidents: what is missing, by node. */
export function unreadOrPartial(read: NodeRead<IncidentList>): SkippedNode[] {
  if (!read.ok) return [{ node: read.node, reason: read.reason }];
  if (read.value.truncated !== true) return [];
  const limit = read.value.limit ?? read.value.incidents.length;
  return [{ node: read.node, reason: `its agent answered only its newest ${limit} incidents since ${read.value.since}; older ones are not counted` }];
}

/** Agents' incidents where they answered; the cluster view's for the nodes that did not. */
function mergeIncidents(input: ReadModelInput, reads: readonly NodeRead<IncidentList>[], query: IncidentQuery): Incident[] {
  const answered = new Set(reads.filter((r) => r.ok).map((r) => r.node));
  const fromAgents = reads.flatMap((r) => (r.ok ? r.value.incidents.flatMap((json) => {
    // An entry this build cannot read (a newer agent's rule, say) is left out rather than misread.
    const incident = incidentFromJson(json);
    return incident.ok ? [incident.value] : [];
  }) : []));
  const fallback = incidentsFromNodeFindings(input.nodeFindings.filter((nf) => !answered.has(nf.metadata.name ?? nf.spec.nodeName)));
  return [...fromAgents, ...fallback].filter((i) => i.lastSeenMs >= query.sinceMs || i.endMs === undefined);
}

function dedupeSkipped(skipped: readonly SkippedNode[]): SkippedNode[] {
  const seen = new Map<string, SkippedNode>();
  for (const s of skipped) if (!seen.has(s.node)) seen.set(s.node, s);
  return [...seen.values()].sort((a, b) => a.node.localeCompare(b.node));
}
