/** The StarvationPolicy schema: which pods Xander watches, with which thresholds, and how agents report. */
import { RULES } from "../../analysis/rules/index.js";
import { SEVERITIES, type Rule } from "../../analysis/types.js";
import { cel, cmp } from "./cel.js";
import { expandDefaults, type JsonSchema } from "./json-schema.js";
import { MAX_RECENT_INCIDENTS } from "./node-findings.js";
import { rulesSchemaFor } from "./rules.js";
import { conditions, DNS_LABEL, duration, int, labelSelectorSchema, str } from "./shapes.js";

interface SamplingValue {
  readonly interval?: string;
  readonly window?: string;
  readonly retention?: { readonly raw?: string };
}

interface ReportingValue {
  readonly heartbeat?: string;
  readonly minInterval?: string;
}

interface SpecValue {
  readonly sampling?: { readonly interval?: string };
  readonly reporting?: { readonly heartbeat?: string };
}

const samplingSchema: JsonSchema = {
  type: "object",
  title: "SamplingSpec",
  description: "How often and how far back the agent samples.",
  default: {},
  properties: {
    interval: duration("Time between two samples of every cgroup.", "1s"),
    window: duration("The rolling window rules look at.", "10s"),
    retention: {
      type: "object",
      description: "How long the node-local history keeps data.",
      default: {},
      properties: {
        raw: duration("Raw samples are kept this long.", "1h"),
        rollup: duration("Per-minute rollups are kept this long.", "24h"),
      },
      "x-kubernetes-validations": [
        cel(
          "duration(self.rollup) >= duration(self.raw)",
          "rollup retention must be at least the raw retention",
          (s: { raw?: string; rollup?: string }) => cmp(s.rollup, s.raw, (a, b) => a >= b),
          ".rollup",
        ),
      ],
    },
    dependencies: {
      type: "object",
      description: "Mapping of pod-to-pod connections.",
      default: {},
      properties: {
        enabled: { type: "boolean", description: "Whether connections are mapped.", default: true },
        interval: duration("Time between two scans of the connection tables.", "10s"),
      },
      "x-kubernetes-validations": [
        cel(
          "duration(self.interval) >= duration('1s')",
          "dependencies interval must be at least 1s",
          (s: { interval?: string }) => cmp(s.interval, "1s", (a, b) => a >= b),
          ".interval",
        ),
      ],
    },
  },
  "x-kubernetes-validations": [
    cel(
      "duration(self.interval) >= duration('1s')",
      "interval must be at least 1s",
      (s: SamplingValue) => cmp(s.interval, "1s", (a, b) => a >= b),
      ".interval",
    ),
    cel(
      "duration(self.interval) <= duration('1m')",
      "interval must be at most 1m",
      (s: SamplingValue) => cmp(s.interval, "1m", (a, b) => a <= b),
      ".interval",
    ),
    cel(
      "duration(self.window) >= duration(self.interval)",
      "window must be at least the sampling interval",
      (s: SamplingValue) => cmp(s.window, s.interval, (a, b) => a >= b),
      ".window",
    ),
    cel(
      "duration(self.window) <= duration(self.retention.raw)",
      "window must not exceed retention.raw",
      (s: SamplingValue) => cmp(s.window, s.retention?.raw, (a, b) => a <= b),
      ".window",
    ),
  ],
};

const reportingSchema: JsonSchema = {
  type: "object",
  title: "ReportingSpec",
  description: "How the agent writes NodeFindings.",
  default: {},
  properties: {
    heartbeat: duration("Write NodeFindings at least this often, even without changes.", "60s"),
    minInterval: duration("Never write NodeFindings more often than this.", "5s"),
    maxFindings: int("At most this many findings per node, most severe first.", 1, { maximum: 200, default: 50 }),
    maxDependencies: int("At most this many dependency edges per node.", 0, { maximum: 200, default: 100 }),
    maxRecentIncidents: int("At most this many closed incidents of the last 24 hours per node, newest first.", 0, {
      maximum: MAX_RECENT_INCIDENTS,
      default: 50,
    }),
    policyReports: {
      type: "boolean",
      description:
        "Also keep one wgpolicyk8s.io/v1alpha2 PolicyReport per namespace with this policy's open findings (for Policy Reporter and other PolicyReport readers). Needs the PolicyReport CRD; without it the controller writes none and says so in the PolicyReports condition.",
      default: false,
    },
  },
  "x-kubernetes-validations": [
    cel(
      "duration(self.minInterval) <= duration(self.heartbeat)",
      "minInterval must not exceed heartbeat",
      (s: ReportingValue) => cmp(s.minInterval, s.heartbeat, (a, b) => a <= b),
      ".minInterval",
    ),
    cel(
      "duration(self.minInterval) >= duration('1s')",
      "minInterval must be at least 1s",
      (s: ReportingValue) => cmp(s.minInterval, "1s", (a, b) => a >= b),
      ".minInterval",
    ),
    cel(
      "duration(self.heartbeat) <= duration('1h')",
      "heartbeat must be at most 1h",
      (s: ReportingValue) => cmp(s.heartbeat, "1h", (a, b) => a <= b),
      ".heartbeat",
    ),
  ],
};

const selectorSchema: JsonSchema = {
  type: "object",
  title: "PolicySelector",
  description: "Which pods the policy watches.",
  default: {},
  properties: {
    namespaceSelector: { ...labelSelectorSchema, description: "Namespaces whose pods are watched; empty matches all." },
    podSelector: { ...labelSelectorSchema, description: "Pods that are watched; empty matches all." },
    excludeNamespaces: {
      type: "array",
      description: "Namespaces never watched, whatever the selectors say.",
      default: ["kube-system"],
      maxItems: 64,
      // A set: the apiserver rejects duplicates itself, with a field-level "Duplicate value" error.
      // (uniqueItems is not allowed in structural schemas.)
      "x-kubernetes-list-type": "set",
      items: str("A namespace name.", 63, { pattern: DNS_LABEL }),
    },
  },
};

function topRiskSchema(ruleNames: readonly string[]): JsonSchema {
  return {
    type: "object",
    title: "TopRisk",
    description: "One of the most severe open findings.",
    required: ["node", "rule", "severity", "pod"],
    properties: {
      node: str("The node the finding is on.", 253),
      rule: { type: "string", enum: [...ruleNames], description: "The rule that raised it." },
      severity: { type: "string", enum: [...SEVERITIES], description: "Its severity." },
      pod: str('The starved pod as "namespace/name" (node-level findings: empty).', 317),
      message: str("What the rule saw.", 1024),
      callers: {
        type: "array",
        description:
          'Who calls the starved pod, across the cluster, busiest first: workloads as "namespace/name" (a bare pod by its own name, an unknown caller by IP). Calls through a Service count against its backend pods.',
        maxItems: 10,
        "x-kubernetes-list-type": "atomic",
        items: { type: "string", maxLength: 317 },
      },
    },
  };
}

function policyStatusSchema(ruleNames: readonly string[]): JsonSchema {
  return {
    type: "object",
    title: "StarvationPolicyStatus",
    description: "What the controller observed for this policy.",
    properties: {
      observedGeneration: int("The metadata.generation this status describes."),
      conditions: conditions("Ready and Degraded."),
      nodes: {
        type: "object",
        description: "Agents expected and heard from.",
        properties: {
          desired: int("Nodes that should run an agent."),
          reporting: int("Nodes whose agent reported within 3 heartbeats."),
          stale: int("Nodes whose agent has not reported within 3 heartbeats."),
        },
      },
      findings: {
        type: "object",
        description: "Open findings raised under this policy, cluster-wide.",
        properties: {
          critical: int("Critical findings."),
          warning: int("Warning findings."),
        },
      },
      topRisks: {
        type: "array",
        description: "The most severe open findings, worst first.",
        maxItems: 10,
        "x-kubernetes-list-type": "atomic",
        items: topRiskSchema(ruleNames),
      },
    },
  };
}

/** The StarvationPolicy schema for these rules: their settings in the spec, their names in the status. */
export function starvationPolicySchemaFor(rules: readonly Rule[]): JsonSchema {
  return expandDefaults({
    type: "object",
    title: "StarvationPolicy",
    description: "Which pods Xander watches for starvation, with which thresholds, and how agents report.",
    required: ["spec"],
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      spec: {
        type: "object",
        title: "StarvationPolicySpec",
        description: "The desired policy.",
        properties: {
          selector: selectorSchema,
          sampling: samplingSchema,
          rules: rulesSchemaFor(rules),
          reporting: reportingSchema,
        },
        "x-kubernetes-validations": [
          cel(
            "!has(self.reporting) || !has(self.sampling) || duration(self.reporting.heartbeat) >= duration(self.sampling.interval)",
            "heartbeat must be at least the sampling interval",
            (s: SpecValue) => cmp(s.reporting?.heartbeat, s.sampling?.interval, (a, b) => a >= b),
            ".reporting.heartbeat",
          ),
        ],
      },
      status: policyStatusSchema(rules.map((r) => r.name)),
    },
  });
}

export const starvationPolicySchema: JsonSchema = starvationPolicySchemaFor(RULES);
