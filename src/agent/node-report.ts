/**
 * What one tick tells the API: the active findings with their callers joined on, incidents opened and
 * closed, dependencies and the agent's own state, as a NodeFindings status and the Events it deserves.
 */
import type { AnalysisResult } from "../analysis/analyzer.js";
import { podLabel } from "../analysis/format.js";
import type { EffectivePolicy } from "../api/policy.js";
import { DEFAULT_MAX_RECENT_INCIDENTS, type IncidentRecorder } from "../engine/incidents.js";
import type { Logger } from "../util/log.js";
import { nodePolicy } from "./bindings.js";
import type { AgentDependencies } from "./dependencies.js";
import { maxDependenciesOf } from "./dependency-status.js";
import type { NodeReport } from "./report-writer.js";
import { buildStatus, materialFingerprint, type AgentInfo } from "./status.js";

/** Used until a policy says otherwise, and when none exists. */
export const DEFAULT_REPORTING = { heartbeatMs: 60_000, minIntervalMs: 5000, maxFindings: 50, maxRecentIncidents: DEFAULT_MAX_RECENT_INCIDENTS };
export type Reporting = typeof DEFAULT_REPORTING;

/** Reporting follows the node policy, as status is per node. */
export function reportingOf(policies: readonly EffectivePolicy[]): Reporting {
  const policy = nodePolicy(policies);
  if (!policy) return DEFAULT_REPORTING;
  const { heartbeatMs, minIntervalMs, maxFindings, maxRecentIncidents } = policy.reporting;
  return { heartbeatMs, minIntervalMs, maxFindings, maxRecentIncidents };
}

export interface NodeReportSources {
  readonly dependencies: AgentDependencies;
  readonly incidents: IncidentRecorder;
  readonly logger: Logger;
}

/** Builds the report of one tick's analysis; records incidents on the way, as they are part of it. */
export function nodeReport(sources: NodeReportSources, analysis: AnalysisResult, nowMs: number, agent: AgentInfo, reporting: Reporting, policies: readonly EffectivePolicy[]): NodeReport {
  const { dependencies, incidents, logger } = sources;
  // The blast radius joins the message here, at the report edge: the rules know nothing of callers.
  const active = dependencies.withCallers(analysis.active);
  for (const finding of analysis.raised) logger.info({ rule: finding.rule, pod: podLabel(finding.pod), container: finding.container, value: finding.value, onsetMs: nowMs - finding.firstSeenMs }, `raised ${finding.rule}: ${finding.message}`);
  for (const finding of analysis.cleared) logger.info({ rule: finding.rule, pod: podLabel(finding.pod), container: finding.container }, `cleared ${finding.rule}`);
  const update = incidents.update(analysis, nowMs);
  // A finding raised again after a restart continues its open incident: its Event was sent by the earlier run.
  const resumed = new Set(update.resumed.map((incident) => `${incident.rule}|${incident.pod.uid}|${incident.container ?? ""}`));
  const fresh = analysis.raised.filter((f) => !resumed.has(`${f.rule}|${f.pod.uid}|${f.container ?? ""}`));
  const dependencyStatus = dependencies.status(maxDependenciesOf(policies));
  const status = buildStatus({
    findings: active,
    dependencies: dependencyStatus,
    agent,
    maxFindings: reporting.maxFindings,
    recentIncidents: incidents.recent(nowMs, reporting.maxRecentIncidents),
  });
  return { status, fingerprint: materialFingerprint(active, dependencyStatus), raised: dependencies.withCallers(fresh), cleared: update.closed };
}
