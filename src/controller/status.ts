/**
 * StarvationPolicy status, as a pure function of what the controller observed. Conditions follow
 * metav1.Condition conventions: each carries the generation it was computed from, and
 * lastTransitionTime changes only when status (True/False/Unknown) does.
 */
import type { EffectivePolicy } from "../api/policy.js";
import type { Condition, StarvationPolicy, StarvationPolicyStatus } from "../api/types.generated.js";
import { formatFieldErrors, type FieldError } from "../api/validate.js";
import type { Result } from "../util/result.js";
import type { FindingsSummary } from "../report/findings-view.js";
import { STALE_AFTER_HEARTBEATS } from "../report/findings-view.js";
import { POLICY_REPORT_NAME, type PolicyReportsState } from "./policy-reports.js";

export type ConditionStatus = "True" | "False" | "Unknown";

export interface ConditionInput {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

/**
 * Merges `next` into `existing` conditions: the new status, reason, message and generation, keeping the
 * old lastTransitionTime when the status did not change (so `kubectl describe` shows since when a policy
 * has been Ready, not when the controller last looked).
 */
export function setCondition(existing: readonly Condition[] | undefined, next: ConditionInput, generation: number, nowIso: string): Condition {
  const prev = existing?.find((c) => c.type === next.type);
  const lastTransitionTime = prev !== undefined && prev.status === next.status ? prev.lastTransitionTime : nowIso;
  return { type: next.type, status: next.status, observedGeneration: generation, lastTransitionTime, reason: next.reason, message: next.message };
}

/** What the agent side looked like when the status was computed. */
export interface AgentState {
  /** The agent DaemonSet exists (seen in the watch cache). */
  readonly daemonSetPresent: boolean;
  /** Nodes that should run an agent: the DaemonSet's desiredNumberScheduled, else the Node count. */
  readonly desiredNodes: number;
  /** Why applying the DaemonSet or its ConfigMap last failed, if it did. */
  readonly applyError?: string;
  readonly daemonSet: string;
}

export interface PolicyStatusInput {
  readonly policy: StarvationPolicy;
  readonly validation: Result<EffectivePolicy, FieldError[]>;
  readonly agent: AgentState;
  readonly findings: FindingsSummary;
  readonly heartbeatMs: number;
  readonly nowIso: string;
  /** How writing PolicyReports goes; the condition is shown only on policies that ask for them. */
  readonly policyReports?: PolicyReportsState;
}

const MAX_MESSAGE = 1024;

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 3)}...` : text;
}

function readyCondition(input: PolicyStatusInput): ConditionInput {
  const { validation, agent } = input;
  if (!validation.ok) return { type: "Ready", status: "False", reason: "InvalidSpec", message: clip(formatFieldErrors(validation.error)) };
  if (agent.applyError !== undefined) return { type: "Ready", status: "False", reason: "AgentNotApplied", message: clip(agent.applyError) };
  if (!agent.daemonSetPresent) return { type: "Ready", status: "False", reason: "AgentPending", message: `waiting for DaemonSet ${agent.daemonSet}` };
  return { type: "Ready", status: "True", reason: "AgentConfigured", message: `policy is in effect; agents run as DaemonSet ${agent.daemonSet}` };
}

function degradedCondition(input: PolicyStatusInput): ConditionInput {
  if (!input.validation.ok) return { type: "Degraded", status: "Unknown", reason: "InvalidSpec", message: "not evaluated: the policy is not in effect" };
  const { stale, staleNodes, total } = input.findings.nodes;
  if (stale > 0) {
    const names = staleNodes.slice(0, 10).join(", ") + (staleNodes.length > 10 ? ", ..." : "");
    const windowS = Math.round((STALE_AFTER_HEARTBEATS * input.heartbeatMs) / 1000);
    return {
      type: "Degraded",
      status: "True",
      reason: "StaleNodes",
      message: clip(`${stale} of ${total} nodes have not reported in ${windowS}s (${STALE_AFTER_HEARTBEATS} heartbeats): ${names}`),
    };
  }
  return { type: "Degraded", status: "False", reason: "AsExpected", message: "every node's agent is reporting" };
}

function policyReportsCondition(state: PolicyReportsState | undefined): ConditionInput {
  const type = "PolicyReports";
  switch (state?.phase) {
    case "CRDNotInstalled":
      return {
        type,
        status: "False",
        reason: "CRDNotInstalled",
        message: "the PolicyReport CRD (policyreports.wgpolicyk8s.io, v1alpha2) is not installed, so no reports are written; install it (Policy Reporter and Kyverno ship it) and reports follow within a minute",
      };
    case "Reporting":
      return { type, status: "True", reason: "Reporting", message: `open findings are in the PolicyReport "${POLICY_REPORT_NAME}" of each namespace that has some` };
    case "Failed":
      return { type, status: "False", reason: "WriteFailed", message: clip(state.message) };
    default:
      return { type, status: "Unknown", reason: "Pending", message: "PolicyReports have not been written yet" };
  }
}

export function policyStatus(input: PolicyStatusInput): StarvationPolicyStatus {
  const generation = input.policy.metadata.generation ?? 0;
  const existing = input.policy.status?.conditions;
  const f = input.findings;
  return {
    observedGeneration: generation,
    conditions: [
      setCondition(existing, readyCondition(input), generation, input.nowIso),
      setCondition(existing, degradedCondition(input), generation, input.nowIso),
      ...(input.validation.ok && input.policy.spec.reporting?.policyReports === true
        ? [setCondition(existing, policyReportsCondition(input.policyReports), generation, input.nowIso)]
        : []),
    ],
    nodes: { desired: input.agent.desiredNodes, reporting: f.nodes.reporting, stale: f.nodes.stale },
    findings: { critical: f.bySeverity.critical, warning: f.bySeverity.warning },
    topRisks: [...f.topRisks],
  };
}

/** Structural equality of JSON values, ignoring key order and normalising RFC 3339 timestamps. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "string" && typeof b === "string") return sameInstant(a, b);
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) return arraysEqual(a, b);
  return objectsEqual(a as Record<string, unknown>, b as Record<string, unknown>);
}

function arraysEqual(a: unknown, b: unknown): boolean {
  return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
}

/** Absent and undefined are the same field. */
function objectsEqual(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (!jsonEqual(a[k], b[k])) return false;
  return true;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** "2025-01-01T00:00:00Z" and "2025-01-01T00:00:00.000Z" are the same instant (the API drops zero millis). */
function sameInstant(a: string, b: string): boolean {
  return RFC3339.test(a) && RFC3339.test(b) && Date.parse(a) === Date.parse(b);
}

function isZero(v: unknown): boolean {
  return v === false || v === 0 || v === "";
}

/**
 * Whether every field of `desired` has the same value in `live` (which may have more: defaults, status,
 * other managers' fields, and it drops zero values). Lists must match element by element. Used to skip
 * applies that would change nothing; a false negative only costs a no-op apply.
 */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (desired === undefined) return true;
  // Go's omitempty: the API drops false, 0 and "" (hostPID: false comes back absent).
  if (live === undefined && isZero(desired)) return true;
  if (typeof desired !== "object" || desired === null) return jsonEqual(desired, live);
  if (typeof live !== "object" || live === null) return false;
  if (Array.isArray(desired)) {
    return Array.isArray(live) && desired.length === live.length && desired.every((d, i) => isSubset(d, live[i]));
  }
  const l = live as Record<string, unknown>;
  return Object.entries(desired as Record<string, unknown>).every(([k, v]) => isSubset(v, l[k]));
}
