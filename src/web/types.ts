/**
 * The parts of the read API's JSON the pages read. The server's own types (src/report/types.ts,
 * src/api/history.ts, src/controller/dependency-view.ts) pull in Node-side modules, so the browser build
 * declares what it needs here; src/server/web-types.test.ts fails to compile when the two drift apart.
 */

export type Severity = "critical" | "warning" | "info";

export interface SummaryView {
  readonly generatedAt: string;
  readonly nodes: {
    readonly total: number;
    readonly reporting: number;
    readonly stale: number;
    readonly pending: number;
    readonly staleNodes: readonly string[];
    readonly pendingNodes: readonly string[];
  };
  readonly findings: {
    readonly total: number;
    readonly bySeverity: Readonly<Record<string, number>>;
    readonly byRule: Readonly<Record<string, number>>;
    readonly byNamespace: Readonly<Record<string, number>>;
  };
  readonly incidents24h: { readonly total: number; readonly open: number };
}

export interface CulpritRef {
  readonly namespace: string | null;
  readonly name: string | null;
  readonly score: number;
}

export interface TopRow {
  readonly node: string;
  readonly rule: string;
  readonly severity: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string | null;
  readonly workload: string;
  readonly value: number;
  readonly threshold: number;
  readonly since: string;
  readonly culprit: CulpritRef | null;
  readonly callers: readonly string[];
  readonly message: string;
}

export interface TopView {
  readonly generatedAt: string;
  readonly total: number;
  readonly risks: readonly TopRow[];
}

export interface IncidentJson {
  readonly id: string;
  readonly node: string;
  readonly rule: string;
  readonly severity: string;
  readonly pod?: { readonly namespace?: string; readonly name?: string };
  readonly container?: string;
  readonly workload?: string;
  readonly start: string;
  readonly end?: string;
  readonly durationMs: number;
  readonly peak: number;
  readonly culprits: readonly { readonly namespace?: string; readonly name?: string; readonly score: number }[];
  readonly callers: readonly string[];
  readonly message: string;
}

export interface IncidentsView {
  readonly generatedAt: string;
  readonly total: number;
  readonly incidents: readonly IncidentJson[];
  readonly skipped: readonly { readonly node: string; readonly reason: string }[];
}

export interface SeriesPoint {
  readonly t: string;
  readonly intervalMs: number;
  readonly cpuCores?: number;
  readonly cpuLimitCores?: number | null;
  readonly throttleRatio?: number;
  readonly cpuStallShare?: number;
  readonly memoryStallShare?: number;
  readonly ioStallShare?: number;
  readonly workingSetBytes?: number;
  readonly memoryLimitBytes?: number | null;
  readonly oomKills: number;
}

export interface AdviceEntry {
  readonly resource: "cpu" | "memory";
  readonly kind: "request" | "limit";
  readonly current?: number | null;
  readonly recommended: number | null;
  readonly change: string;
  readonly reason: string;
}

export interface ContainerView {
  readonly container: string;
  readonly points: readonly SeriesPoint[];
  readonly advice: readonly AdviceEntry[];
}

export interface CalleeView {
  readonly callee: string;
  readonly kind: string;
  readonly ports: readonly number[];
  readonly connections: number;
}

export interface PodView {
  readonly found: true;
  readonly generatedAt: string;
  readonly namespace: string;
  readonly name: string;
  readonly workload: string;
  readonly nodes: readonly string[];
  readonly openFindings: readonly TopRow[];
  readonly containers: readonly ContainerView[];
  readonly incidents: readonly IncidentJson[];
  readonly callers: readonly string[];
  readonly callees: readonly CalleeView[];
  readonly skipped: readonly { readonly node: string; readonly reason: string }[];
}

export interface PodNotFound {
  readonly found: false;
  readonly pod: string;
  readonly message: string;
}

export type PodResult = PodView | PodNotFound;

export interface PoliciesView {
  readonly known: boolean;
  readonly names: readonly string[];
  readonly namespace?: { readonly name: string; readonly selectedBy: readonly string[] };
}

export interface WorkloadNodeView {
  readonly id: string;
  readonly kind: "Workload" | "Service" | "External";
  readonly namespace: string;
  readonly name: string;
  readonly pods: readonly string[];
  readonly starved: Severity | null;
  readonly rules: readonly string[];
  readonly callsStarved: boolean;
}

export interface WorkloadEdgeView {
  readonly from: string;
  readonly to: string;
  readonly connections: number;
  readonly recentConnections: number;
}

export interface DependenciesView {
  readonly namespace: string | null;
  readonly nodes: readonly WorkloadNodeView[];
  readonly edges: readonly WorkloadEdgeView[];
  readonly omittedEdges: number;
}
