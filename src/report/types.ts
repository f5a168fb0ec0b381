/**
 * The read model's inputs and results. Every result is plain JSON (no Maps, no Dates, no undefined where a
 * reader expects a key) and is served as it is by `/api/v1/*` and printed by `xander … -o json`: these
 * field names are part of the documented API. Add fields, never rename or remove one.
 *
 * Times on the wire are RFC 3339 strings; durations are `…Ms`; CPU is in cores, memory in bytes, ratios
 * and shares are 0..1.
 */
import type { Incident, IncidentQuery } from "../analysis/incident.js";
import type { RuleName, Severity } from "../analysis/types.js";
import type { IncidentJson, PodHistory, SeriesPoint } from "../api/history.js";
import type { NodeFindings } from "../api/types.generated.js";
import type { ServiceBackends } from "../deps/dependency-graph.js";

/** What every view reads. */
export interface ReadModelInput {
  readonly nodeFindings: readonly NodeFindings[];
  readonly nowMs: number;
  /** The agents' reporting heartbeat: a node silent for 3 of them is stale. */
  readonly heartbeatMs: number;
  /** Service → backend pods, so calls through a Service count against the pods behind it. */
  readonly backends?: ServiceBackends;
}

/** Views that read incidents take them from the agents' histories; absent, they are derived from NodeFindings. */
export interface WithIncidents {
  readonly incidents?: readonly Incident[];
}

// ---------------------------------------------------------------------------------------------------
// Advice: computed elsewhere and injected, so the read model stays free of any one recipe.

/** One recommendation for one resource of one container, with the numbers it came from. */
export interface AdviceEntry {
  readonly resource: "cpu" | "memory";
  readonly kind: "request" | "limit";
  /** Cores for cpu, bytes for memory; null = unset; absent = not known. */
  readonly current?: number | null;
  /** Cores for cpu, bytes for memory; null = none (e.g. remove the limit). */
  readonly recommended: number | null;
  /** `set`: a value where there was none (a limit on an unlimited container). */
  readonly change: "raise" | "lower" | "keep" | "remove" | "set";
  readonly reason: string;
  readonly basis: Readonly<Record<string, number | string>>;
}

/** A container's usage over the points the stats were taken from; null where no point carried the field. */
export interface ContainerStats {
  /** The container's name, or its id when the runtime gave no name. */
  readonly container: string;
  /** "namespace/name" of the pods whose points were merged (replicas of one workload). */
  readonly pods: readonly string[];
  readonly nodes: readonly string[];
  readonly pointCount: number;
  /** Time the points cover (sum of their intervals). */
  readonly coveredMs: number;
  readonly fromTime: string | null;
  readonly toTime: string | null;
  readonly meanCores: number | null;
  /** 95th percentile of cores, each point weighted by its interval. */
  readonly p95Cores: number | null;
  /** The largest per-sample value (rollups carry their minute's maximum). */
  readonly peakCores: number | null;
  /** The latest limit reported; null = unlimited. */
  readonly cpuLimitCores: number | null;
  readonly p95ThrottleRatio: number | null;
  readonly peakThrottleRatio: number | null;
  readonly peakCpuStallShare: number | null;
  readonly peakMemoryStallShare: number | null;
  readonly peakIoStallShare: number | null;
  readonly peakWorkingSetBytes: number | null;
  /** The latest limit reported; null = unlimited. */
  readonly memoryLimitBytes: number | null;
  readonly oomKills: number;
}

/** What `advise` gets for one container: its stats, the points behind them, and the incidents it had. */
export type AdviceInput = ContainerStats & {
  readonly namespace: string;
  /** "Kind/name"; "Pod/name" for a bare pod. */
  readonly workload: string;
  readonly points: readonly SeriesPoint[];
  readonly incidents: readonly Incident[];
};

export type Advise = (container: AdviceInput) => AdviceEntry[];

/** What `adviseCulprit` gets: a noisy neighbour's container, measured only while its victims starved. */
export type CulpritAdviceInput = ContainerStats & {
  readonly namespace: string;
  readonly workload: string;
  /** Victim workloads' keys ("namespace/Kind/name"). */
  readonly victims: readonly string[];
  /** Share-weighted time it was named culprit, over all victims. */
  readonly blamedMs: number;
  /** How much of that time the victims' tasks waited for a CPU (PSI some, 0..1). */
  readonly victimStallShare: number;
};

export type AdviseCulprit = (culprit: CulpritAdviceInput) => AdviceEntry[];

// ---------------------------------------------------------------------------------------------------
// Shared pieces of results.

/** A workload: the pod's top-level owner, or the pod itself when no owner is known. */
export interface WorkloadRef {
  readonly namespace: string;
  /** "Kind/name", e.g. "Deployment/web"; "Pod/name" for a bare pod or an unknown owner. */
  readonly workload: string;
  /** "namespace/Kind/name": unique across the cluster, used to key and sort. */
  readonly key: string;
}

export interface CulpritRef {
  readonly namespace: string | null;
  readonly name: string | null;
  readonly uid: string;
  readonly score: number;
}

// ---------------------------------------------------------------------------------------------------
// summary

export interface NodeCountsView {
  readonly total: number;
  readonly reporting: number;
  readonly stale: number;
  readonly pending: number;
  readonly staleNodes: readonly string[];
  readonly pendingNodes: readonly string[];
}

export interface WorkloadRisk extends WorkloadRef {
  readonly critical: number;
  readonly warning: number;
  /** Open findings of every severity. */
  readonly openFindings: number;
  /** Union of its pods' incident intervals within the last 24 h, summed over pods. */
  readonly starvedMs24h: number;
  readonly incidents24h: number;
  readonly pods: readonly string[];
}

export interface SummaryView {
  readonly generatedAt: string;
  readonly nodes: NodeCountsView;
  /** Open findings on reporting nodes (a stale node's findings may describe pods long gone). */
  readonly findings: {
    readonly total: number;
    readonly bySeverity: Readonly<Record<Severity, number>>;
    readonly byRule: Readonly<Record<RuleName, number>>;
    /** Sorted by namespace; node-level findings count under "". */
    readonly byNamespace: Readonly<Record<string, number>>;
  };
  readonly incidents24h: {
    /** Incidents open at any time within the last 24 h, open ones included. */
    readonly total: number;
    readonly open: number;
    readonly byRule: Readonly<Record<RuleName, number>>;
  };
  /** Worst first: open critical, then open warning findings, then starved time in the last 24 h. */
  readonly worstWorkloads: readonly WorkloadRisk[];
}

// ---------------------------------------------------------------------------------------------------
// top

export interface TopOptions {
  /** 20 by default. */
  readonly limit?: number;
  readonly namespace?: string;
}

export interface TopRow {
  readonly node: string;
  readonly rule: RuleName;
  readonly severity: Severity;
  readonly namespace: string;
  /** "namespace/name"; "" for a node-level finding. */
  readonly pod: string;
  readonly container: string | null;
  /** "Kind/name"; "Pod/name" when no owner is known; "" for a node-level finding. */
  readonly workload: string;
  readonly value: number;
  readonly threshold: number;
  /** value ÷ threshold: how far past its threshold (the ranking's second key). */
  readonly excess: number;
  /** When the condition was first seen. */
  readonly since: string;
  readonly lastSeen: string;
  readonly culprit: CulpritRef | null;
  /** Who calls the pod, busiest first, as workloads. */
  readonly callers: readonly string[];
  readonly message: string;
}

export interface TopView {
  readonly generatedAt: string;
  /** Matching open findings on reporting nodes, before the limit. */
  readonly total: number;
  readonly risks: readonly TopRow[];
}

// ---------------------------------------------------------------------------------------------------
// incidents

export interface IncidentsView {
  readonly generatedAt: string;
  readonly query: IncidentQuery;
  /** Matching incidents before the limit. */
  readonly total: number;
  /** Newest first; an open incident has no `end` and its duration runs to now. */
  readonly incidents: readonly IncidentJson[];
}

// ---------------------------------------------------------------------------------------------------
// pod

export interface CalleeView {
  /** "namespace/name" of a pod or Service, or an IP. */
  readonly callee: string;
  readonly kind: "Pod" | "Service" | "External";
  readonly via: readonly string[];
  readonly ports: readonly number[];
  readonly connections: number;
  readonly recentConnections: number;
}

export interface ContainerView {
  readonly container: string;
  readonly stats: ContainerStats;
  /** Oldest first, as the agent served them. */
  readonly points: readonly SeriesPoint[];
  readonly advice: readonly AdviceEntry[];
}

export interface PodView {
  readonly found: true;
  readonly generatedAt: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | null;
  readonly workload: string;
  readonly nodes: readonly string[];
  readonly openFindings: readonly TopRow[];
  readonly containers: readonly ContainerView[];
  readonly incidents: readonly IncidentJson[];
  readonly callers: readonly string[];
  readonly callees: readonly CalleeView[];
}

/** Nothing is known of the pod: no history, no incident, no finding, no connection. */
export interface PodNotFound {
  readonly found: false;
  readonly generatedAt: string;
  readonly pod: string;
  readonly message: string;
}

export type PodResult = PodView | PodNotFound;

export interface PodInput extends ReadModelInput, WithIncidents {
  /** "namespace/name" */
  readonly pod: string;
  readonly histories: readonly PodHistory[];
  readonly advise?: Advise;
}

// ---------------------------------------------------------------------------------------------------
// report

export interface SkippedNode {
  readonly node: string;
  readonly reason: string;
}

export interface ReportInput extends ReadModelInput, WithIncidents {
  /** 7 days by default. */
  readonly spanMs?: number;
  /** By "namespace/name". */
  readonly histories?: ReadonlyMap<string, readonly PodHistory[]>;
  readonly advise?: Advise;
  readonly adviseCulprit?: AdviseCulprit;
  /** Nodes whose history could not be read, filled by the caller. */
  readonly skipped?: readonly SkippedNode[];
}

export interface PeakView {
  readonly rule: RuleName;
  readonly severity: Severity;
  readonly value: number;
  readonly threshold: number;
  readonly at: string;
  readonly pod: string;
  readonly container: string | null;
}

export interface BlameView {
  /** The culprit's workload, "namespace/Kind/name". */
  readonly key: string;
  readonly namespace: string;
  readonly workload: string;
  /** The incident's time multiplied by the culprit's share, summed. */
  readonly blamedMs: number;
  readonly maxScore: number;
  readonly incidents: number;
}

export interface EvidenceView {
  readonly incidentId: string;
  readonly rule: RuleName;
  readonly node: string;
  readonly pod: string;
  readonly container: string | null;
  readonly start: string;
  readonly end: string | null;
  readonly message: string;
  readonly evidence: Readonly<Record<string, string | number>>;
}

export interface ContainerAdvice {
  readonly container: string;
  readonly stats: ContainerStats;
  readonly advice: readonly AdviceEntry[];
}

export interface WorkloadReport extends WorkloadRef {
  readonly pods: readonly string[];
  readonly incidents: number;
  readonly openIncidents: number;
  readonly byRule: Readonly<Partial<Record<RuleName, number>>>;
  /** Union of each pod's incident intervals within the span, summed over pods. */
  readonly starvedMs: number;
  readonly worstSeverity: Severity;
  readonly worstPeak: PeakView;
  readonly culprits: readonly BlameView[];
  readonly callers: readonly string[];
  readonly evidence: EvidenceView;
  /** Empty when no history was read for its pods. */
  readonly containers: readonly ContainerAdvice[];
  /** Newest first. */
  readonly incidentList: readonly IncidentJson[];
}

export interface CulpritReport extends WorkloadRef {
  readonly pods: readonly string[];
  readonly blamedMs: number;
  readonly maxScore: number;
  readonly victims: readonly { readonly key: string; readonly incidents: number; readonly blamedMs: number }[];
  /** Its usage while its victims starved; empty when its history was not read. */
  readonly containers: readonly ContainerAdvice[];
}

export interface ReportView {
  readonly generatedAt: string;
  readonly from: string;
  readonly to: string;
  readonly spanMs: number;
  /** Nodes whose history could not be read: the report is incomplete for their pods. */
  readonly skipped: readonly SkippedNode[];
  readonly nodes: NodeCountsView;
  readonly totals: { readonly workloads: number; readonly incidents: number; readonly starvedMs: number };
  /** Worst severity first, then most starved time, then most incidents. */
  readonly workloads: readonly WorkloadReport[];
  /** Most blamed time first. */
  readonly culprits: readonly CulpritReport[];
}
