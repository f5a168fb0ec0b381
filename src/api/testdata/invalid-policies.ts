/**
 * Policies that must be rejected, each with the field and the words of the rejection. The unit test runs
 * them through validatePolicy (ajv + the CEL twins), the integration test through `kubectl apply` against
 * the real apiserver, so both validators are held to the same cases.
 */
export interface InvalidPolicyCase {
  /** Also the policy name suffix: lowercase, dashes. */
  readonly name: string;
  readonly spec: Record<string, unknown>;
  /** The field path both the apiserver and validatePolicy name. */
  readonly field: string;
  /** A part of the message both produce. */
  readonly message: string;
}

export const INVALID_POLICIES: readonly InvalidPolicyCase[] = [
  {
    name: "interval-below-1s",
    spec: { sampling: { interval: "500ms" } },
    field: "spec.sampling.interval",
    message: "interval must be at least 1s",
  },
  {
    name: "window-shorter-than-interval",
    spec: { sampling: { interval: "10s", window: "5s" } },
    field: "spec.sampling.window",
    message: "window must be at least the sampling interval",
  },
  {
    name: "duration-in-days",
    spec: { sampling: { retention: { rollup: "7d" } } },
    field: "spec.sampling.retention.rollup",
    message: "should match",
  },
  {
    name: "rollup-shorter-than-raw",
    spec: { sampling: { retention: { raw: "2h", rollup: "1h" } } },
    field: "spec.sampling.retention.rollup",
    message: "rollup retention must be at least the raw retention",
  },
  {
    name: "min-interval-above-heartbeat",
    spec: { reporting: { heartbeat: "30s", minInterval: "1m" } },
    field: "spec.reporting.minInterval",
    message: "minInterval must not exceed heartbeat",
  },
  {
    name: "heartbeat-below-interval",
    spec: { sampling: { interval: "30s", window: "30s" }, reporting: { heartbeat: "10s" } },
    field: "spec.reporting.heartbeat",
    message: "heartbeat must be at least the sampling interval",
  },
  {
    name: "share-threshold-above-1",
    spec: { rules: { CPUThrottling: { threshold: 1.5 } } },
    field: "spec.rules.CPUThrottling.threshold",
    message: "should be less than or equal to 1",
  },
  {
    name: "negative-threshold",
    spec: { rules: { MemoryPressure: { threshold: -0.1 } } },
    field: "spec.rules.MemoryPressure.threshold",
    message: "should be greater than or equal to 0",
  },
  {
    name: "oomkill-threshold-below-one",
    spec: { rules: { OOMKill: { threshold: 0 } } },
    field: "spec.rules.OOMKill.threshold",
    message: "should be greater than or equal to 1",
  },
  {
    name: "unknown-severity",
    spec: { rules: { OOMKill: { severity: "fatal" } } },
    field: "spec.rules.OOMKill.severity",
    message: 'Unsupported value: "fatal"',
  },
  {
    name: "for-longer-than-1h",
    spec: { rules: { CPUStarvation: { for: "2h" } } },
    field: "spec.rules.CPUStarvation.for",
    message: "for must be at most 1h",
  },
  {
    name: "all-rules-disabled",
    spec: {
      rules: {
        CPUThrottling: { enabled: false },
        CPUStarvation: { enabled: false },
        MemoryNearLimit: { enabled: false },
        MemoryPressure: { enabled: false },
        OOMKill: { enabled: false },
        IOPressure: { enabled: false },
        NodePressure: { enabled: false },
      },
    },
    field: "spec.rules",
    message: "at least one rule must be enabled",
  },
  {
    name: "duplicate-excluded-namespace",
    spec: { selector: { excludeNamespaces: ["kube-system", "kube-system"] } },
    field: "spec.selector.excludeNamespaces[1]",
    message: 'Duplicate value: "kube-system"',
  },
  {
    name: "bad-namespace-name",
    spec: { selector: { excludeNamespaces: ["Kube_System"] } },
    field: "spec.selector.excludeNamespaces[0]",
    message: "should match",
  },
  {
    name: "in-without-values",
    spec: { selector: { podSelector: { matchExpressions: [{ key: "app", operator: "In" }] } } },
    field: "spec.selector.podSelector.matchExpressions[0].values",
    message: "values must be non-empty for In and NotIn",
  },
  {
    name: "max-findings-above-200",
    spec: { reporting: { maxFindings: 500 } },
    field: "spec.reporting.maxFindings",
    message: "should be less than or equal to 200",
  },
  {
    name: "misspelled-rule",
    spec: { rules: { CPUThrotling: { threshold: 0.5 } } },
    field: "spec.rules.CPUThrotling",
    message: 'unknown field "spec.rules.CPUThrotling"',
  },
];
