/**
 * Open findings as PolicyReports (wgpolicyk8s.io/v1alpha2, the Kubernetes Policy WG's report format), so
 * Policy Reporter and other report readers show them without knowing Xander. Pure: NodeFindings and
 * policies in, the desired report of each namespace out. One report per namespace with open findings,
 * named `xander`; the reconciler applies them and deletes the rest.
 *
 * Mapping (the report format has results, not severities of our own):
 *   severity critical → result fail, severity high
 *   severity warning  → result warn, severity medium
 *   severity info     → result warn, severity low
 * A finding is a requirement not met, so never pass. fail is what Policy Reporter alerts on by default;
 * warn is shown but, like the WG's "not scored", does not count as a failure. high/medium/low is the
 * severity enum every v1alpha2 CRD accepts (later ones also take critical and info).
 */
import { effectivePolicy } from "../api/policy.js";
import { API_VERSION } from "../api/schema.js";
import type { KubeObject, ObjectMeta, OwnerReference } from "../api/meta.js";
import type { NodeFinding, NodeFindings, StarvationPolicy } from "../api/types.generated.js";
import { MANAGED_BY, MANAGED_BY_LABEL, POLICY_REPORT_KIND } from "../kube/resources.js";
import { isStale, lastReportMs } from "../report/findings-view.js";

export const POLICY_REPORT_NAME = "xander";
export const POLICY_REPORT_SOURCE = "xander";
/** Keeps a report far below the apiserver's 1.5 MB object limit (a result is well under 1 kB). */
export const MAX_RESULTS_PER_REPORT = 1000;

export type PolicyReportResultValue = "pass" | "fail" | "warn" | "error" | "skip";

export interface PolicyReportResult {
  source: string;
  policy: string;
  rule: string;
  category: string;
  result: PolicyReportResultValue;
  severity: "high" | "medium" | "low";
  resources: { apiVersion: string; kind: string; namespace: string; name: string; uid: string }[];
  message: string;
  properties: Record<string, string>;
  timestamp: { seconds: number; nanos: number };
}

export interface PolicyReportSummary {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

export interface PolicyReport extends KubeObject {
  metadata: ObjectMeta & { name: string; namespace: string };
  results?: PolicyReportResult[];
  summary?: PolicyReportSummary;
}

/** Whether a policy asks for reports: valid (a policy not in effect raises nothing) and the flag on. */
export function reportsEnabled(policy: StarvationPolicy): boolean {
  return policy.spec.reporting?.policyReports === true && effectivePolicy(policy).ok;
}

const SEVERITY: Readonly<Record<NodeFinding["severity"], Pick<PolicyReportResult, "result" | "severity">>> = {
  critical: { result: "fail", severity: "high" },
  warning: { result: "warn", severity: "medium" },
  info: { result: "warn", severity: "low" },
};

const RANK: Readonly<Record<NodeFinding["severity"], number>> = { critical: 0, warning: 1, info: 2 };

/** RFC 3339 → the protobuf Timestamp the CRD asks for. */
export function protoTimestamp(iso: string): { seconds: number; nanos: number } {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return { seconds: 0, nanos: 0 };
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

/** Numbers as the agent wrote them, without float noise: 0.6000000000000001 → "0.6". */
function num(v: number): string {
  return String(Number(v.toPrecision(6)));
}

function properties(node: string, f: NodeFinding): Record<string, string> {
  const p: Record<string, string> = { node, value: num(f.value), threshold: num(f.threshold), firstSeen: f.firstSeen };
  if (f.container !== undefined) p.container = f.container;
  if (f.window !== undefined) p.window = f.window;
  if (f.culprit !== undefined) {
    p.culprit = f.culprit.name === undefined ? f.culprit.uid : `${f.culprit.namespace ?? ""}/${f.culprit.name}`;
    p.culpritScore = num(f.culprit.score);
  }
  return p;
}

function toResult(node: string, f: NodeFinding, pod: { namespace: string; name: string; uid: string }): PolicyReportResult {
  return {
    source: POLICY_REPORT_SOURCE,
    policy: f.policy ?? "",
    rule: f.rule,
    category: "Resource starvation",
    ...SEVERITY[f.severity],
    resources: [{ apiVersion: "v1", kind: "Pod", namespace: pod.namespace, name: pod.name, uid: pod.uid }],
    message: f.message,
    properties: properties(node, f),
    timestamp: protoTimestamp(f.firstSeen),
  };
}

interface Entry {
  readonly severity: NodeFinding["severity"];
  readonly result: PolicyReportResult;
}

/** Worst first, then a stable order (pod, container, rule), so an unchanged set is an unchanged report. */
function compareEntries(a: Entry, b: Entry): number {
  const ra = a.result;
  const rb = b.result;
  return (
    RANK[a.severity] - RANK[b.severity] ||
    (ra.resources[0]?.name ?? "").localeCompare(rb.resources[0]?.name ?? "") ||
    (ra.properties.container ?? "").localeCompare(rb.properties.container ?? "") ||
    ra.rule.localeCompare(rb.rule) ||
    ra.policy.localeCompare(rb.policy)
  );
}

export function summaryOf(results: readonly PolicyReportResult[]): PolicyReportSummary {
  const s: PolicyReportSummary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const r of results) s[r.result]++;
  return s;
}

/** Each contributing policy owns the report: the garbage collector removes it once all of them are deleted. */
function policyOwner(policy: StarvationPolicy): OwnerReference {
  return { apiVersion: API_VERSION, kind: "StarvationPolicy", name: policy.metadata.name ?? "", uid: policy.metadata.uid ?? "", blockOwnerDeletion: false };
}

export function policyReport(namespace: string, entries: readonly Entry[], owners: readonly StarvationPolicy[]): PolicyReport {
  const results = [...entries].sort(compareEntries).slice(0, MAX_RESULTS_PER_REPORT).map((e) => e.result);
  const ownerReferences = owners.filter((p) => p.metadata.uid !== undefined).map(policyOwner);
  return {
    ...POLICY_REPORT_KIND,
    metadata: {
      name: POLICY_REPORT_NAME,
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
      ...(ownerReferences.length > 0 ? { ownerReferences } : {}),
    },
    results,
    summary: summaryOf(results),
  };
}

/** The finding's pod, if it has one with a namespace (node-level findings have none). */
function podOf(f: NodeFinding): { namespace: string; name: string; uid: string } | undefined {
  const { namespace, name, uid } = f.pod ?? {};
  return namespace === undefined || name === undefined || uid === undefined ? undefined : { namespace, name, uid };
}

interface NamespaceEntries {
  readonly entries: Entry[];
  readonly owners: Set<StarvationPolicy>;
}

/** Adds a node's reportable findings to their namespaces. */
function collect(nf: NodeFindings, reporting: ReadonlyMap<string, StarvationPolicy>, byNamespace: Map<string, NamespaceEntries>): void {
  const node = nf.metadata.name ?? nf.spec.nodeName;
  for (const f of nf.status?.findings ?? []) {
    const policy = f.policy === undefined ? undefined : reporting.get(f.policy);
    const pod = podOf(f);
    if (policy === undefined || pod === undefined) continue;
    const ns = byNamespace.get(pod.namespace) ?? { entries: [], owners: new Set() };
    ns.entries.push({ severity: f.severity, result: toResult(node, f, pod) });
    ns.owners.add(policy);
    byNamespace.set(pod.namespace, ns);
  }
}

export interface DesiredReportsInput {
  readonly nodeFindings: readonly NodeFindings[];
  readonly policies: readonly StarvationPolicy[];
  readonly nowMs: number;
  /** Findings of nodes silent for 3 heartbeats are left out, as in policy status: the pod may be long gone. */
  readonly heartbeatMs: number;
}

/**
 * The PolicyReport each namespace should have: the open findings about its pods raised under policies
 * with `reporting.policyReports: true`. Node-level findings (no pod) belong to no namespace and are left
 * out. A namespace without such findings is absent from the map: its report should not exist.
 */
export function desiredPolicyReports(input: DesiredReportsInput): Map<string, PolicyReport> {
  const reporting = new Map(input.policies.filter(reportsEnabled).map((p) => [p.metadata.name ?? "", p]));
  if (reporting.size === 0) return new Map();
  const byNamespace = new Map<string, NamespaceEntries>();
  for (const nf of input.nodeFindings) {
    if (lastReportMs(nf) === undefined || isStale(nf, input.nowMs, input.heartbeatMs)) continue;
    collect(nf, reporting, byNamespace);
  }
  const owners = (set: Set<StarvationPolicy>): StarvationPolicy[] => [...set].sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
  return new Map([...byNamespace].map(([ns, { entries, owners: o }]) => [ns, policyReport(ns, entries, owners(o))]));
}

/** What policy status says about reports (the PolicyReports condition of policies that ask for them). */
export type PolicyReportsState =
  | { readonly phase: "Pending" }
  | { readonly phase: "CRDNotInstalled" }
  | { readonly phase: "Reporting" }
  | { readonly phase: "Failed"; readonly message: string };
