import { findingToJson } from "../analysis/report.js";
import type { Finding } from "../analysis/types.js";
import type { Dependency, NodeFinding, NodeFindingsStatus, RecentIncident } from "../api/types.generated.js";

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
    ...(json.container === undefined ? {} : { container: json.container.slice(0, 253) }),
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
    message: json.message.slice(0, 1024),
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
  return {
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
  };
}

function topRiskText(finding: Finding): string {
  const who = finding.pod.uid === "node" ? "node" : finding.pod.name ? `${finding.pod.namespace ?? ""}/${finding.pod.name}` : finding.pod.uid;
  return `${finding.rule} ${who}`.slice(0, 253);
}
