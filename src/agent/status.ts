import { findingToJson } from "../analysis/report.js";
import type { Finding } from "../analysis/types.js";
import type { Dependency, NodeFinding, NodeFindingsStatus, RecentIncident } from "../api/types.generated.js";
import { MESSAGE_MAX, NAME_MAX, TOP_RISK_MAX } from "../api/limits.js";

export interface AgentInfo {
  readonly version: string;
  readonly cgroupLayout: string;
  readonly lastSampleMs?: number;
  readonly pods: number;
  readonly samplesStored: number;
  /** Where the agent serves its history API (host:port). */
  readonly endpoint?: string;
}

/** NodeFindings.status.findings[] entry: evidence values become strings, as the CRD's map of string says. */
export function nodeFinding(finding: Finding): NodeFinding {
  const json = findingToJson(finding);
  return {
    rule: finding.rule,
    severity: finding.severity,
    ...(json.policy === undefined ? {} : { policy: json.policy }),
    // Node-scoped findings (NodePressure) are about no pod.
    ...(finding.pod.uid === "node" ? {} : { pod: finding.pod }),
    ...(json.container === undefined ? {} : { container: json.container.slice(0, NAME_MAX) }),
    value: json.value,
    threshold: json.threshold,
    window: json.window,
    firstSeen: json.firstSeen,
    lastSeen: json.lastSeen,
    ...(finding.culprit ? { culprit: { ...finding.culprit.pod, score: finding.culprit.score } } : {}),
    ...(finding.evidence || finding.culprit
      ? {
          evidence: {
            ...Object.fromEntries(Object.entries(finding.evidence ?? {}).map(([key, value]) => [key, String(value)])),
            ...(finding.culprit ? { culprit: finding.culprit.evidence } : {}),
          },
        }
      : {}),
    message: json.message.slice(0, MESSAGE_MAX),
  };
}

/**
 * What makes a write worth doing before the heartbeat: a finding appearing or clearing, or its
 * severity, policy or culprit changing. Values and lastSeen move every tick; they ride on the heartbeat.
 */
export function materialFingerprint(findings: readonly Finding[], dependencies: readonly Dependency[] = []): string {
  const findingKeys = findings.map((f) => [f.rule, f.pod.uid, f.container ?? "", f.severity, f.policy ?? "", f.culprit?.pod.uid ?? ""].join("|")).sort();
  const dependencyKeys = dependencies.map((d) => `${d.from}>${d.to}:${d.port ?? ""}`).sort();
  return JSON.stringify([findingKeys, dependencyKeys]);
}

export function buildStatus(args: {
  readonly findings: readonly Finding[];
  readonly dependencies?: readonly Dependency[];
  readonly agent: AgentInfo;
  readonly maxFindings: number;
  readonly recentIncidents?: readonly RecentIncident[];
}): Omit<NodeFindingsStatus, "conditions"> {
  // Findings arrive most severe first; the bound keeps the object small and the worst visible.
  const findings = args.findings.slice(0, args.maxFindings).map(nodeFinding);
  const critical = args.findings.filter((f) => f.severity === "critical").length;
  const warning = args.findings.filter((f) => f.severity === "warning").length;
  const top = args.findings[0];
  return withinBudget({
    agent: {
      version: args.agent.version,
      cgroupLayout: args.agent.cgroupLayout,
      ...(args.agent.lastSampleMs === undefined ? {} : { lastSample: new Date(args.agent.lastSampleMs).toISOString() }),
      pods: args.agent.pods,
      samplesStored: args.agent.samplesStored,
      ...(args.agent.endpoint === undefined ? {} : { endpoint: args.agent.endpoint }),
    },
    findings,
    dependencies: [...(args.dependencies ?? [])],
    recentIncidents: [...(args.recentIncidents ?? [])],
    summary: {
      critical,
      warning,
      ...(top ? { topRisk: topRiskText(top) } : {}),
    },
  });
}

/**
 * At most a third of etcd's 1.5 MiB request limit (`--max-request-bytes`), however long the names and
 * messages: the object is rewritten at every heartbeat and watched by every controller replica.
 */
export const STATUS_BUDGET_BYTES = 512 * 1024;
/** Below this many list entries a status cannot reach the budget (each entry is at most ~6 KiB), so it is not measured. */
const ENTRIES_ALWAYS_WITHIN = 64;

type StatusBody = Omit<NodeFindingsStatus, "conditions"> & { findings: NodeFinding[]; dependencies: Dependency[]; recentIncidents: RecentIncident[] };

/**
 * Trims a status that would exceed the budget, least valuable first: the oldest recent incidents (their
 * record stays in the node's history), then the last dependency edges, then the least severe findings (the
 * summary counts still count them).
 */
export function withinBudget(status: StatusBody, budgetBytes = STATUS_BUDGET_BYTES): StatusBody {
  if (status.findings.length + status.dependencies.length + status.recentIncidents.length <= ENTRIES_ALWAYS_WITHIN) return status;
  let excess = Buffer.byteLength(JSON.stringify(status)) - budgetBytes;
  if (excess <= 0) return status;
  const trimmed = { ...status, findings: [...status.findings], dependencies: [...status.dependencies], recentIncidents: [...status.recentIncidents] };
  for (const list of [trimmed.recentIncidents, trimmed.dependencies, trimmed.findings] as unknown[][]) {
    while (excess > 0 && list.length > 0) excess -= Buffer.byteLength(JSON.stringify(list.pop())) + 1;
  }
  return trimmed;
}

function topRiskText(finding: Finding): string {
  const who = finding.pod.uid === "node" ? "node" : finding.pod.name ? `${finding.pod.namespace ?? ""}/${finding.pod.name}` : finding.pod.uid;
  return `${finding.rule} ${who}`.slice(0, TOP_RISK_MAX);
}
