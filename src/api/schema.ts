/**
 * The OpenAPI v3 schemas of Xander's custom resources, as data. This file is the one source of truth:
 * `npm run gen:crds` renders `crds/*.yaml` and `src/api/types.generated.ts` from it, and the controller
 * and agent validate policies with ajv against the very same objects (see validate.ts), so the CRD,
 * the TypeScript types and the in-process validation cannot drift apart (a unit test checks the
 * generated files are current).
 *
 * Semantic checks are CEL rules (`x-kubernetes-validations`) that the apiserver evaluates; each one is
 * declared with `cel(...)`, which also registers an equivalent TypeScript predicate for ajv-side
 * validation, so both sides carry the same message and field path.
 */
import { RULES } from "../analysis/rules/index.js";
import { RULE_NAMES, SEVERITIES, type RuleName } from "../analysis/types.js";
import { parseDuration } from "../util/duration.js";

export const GROUP = "xander.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A CEL validation rule as the apiextensions.k8s.io/v1 API spells it. */
export interface ValidationRule {
  readonly rule: string;
  readonly message: string;
  readonly fieldPath?: string;
  readonly reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps that structural CRD schemas use here. */
export interface JsonSchema {
  readonly type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  /** Names the generated TypeScript interface; the apiserver keeps it as documentation. */
  readonly title?: string;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: JsonSchema;
  readonly items?: JsonSchema;
  readonly enum?: readonly (string | number)[];
  readonly default?: unknown;
  readonly format?: "date-time" | "int64" | "int32";
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly multipleOf?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly maxProperties?: number;
  readonly "x-kubernetes-validations"?: readonly ValidationRule[];
  readonly "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  readonly "x-kubernetes-list-map-keys"?: readonly string[];
  readonly "x-kubernetes-map-type"?: "atomic" | "granular";
}

/**
 * The TypeScript side of a CEL rule: it receives the value at the schema node the rule sits on
 * (after defaulting) and returns whether it is valid. Returning undefined means "cannot tell"
 * (e.g. a duration that failed its pattern, which the schema already reports).
 */
export type CelCheck = (self: never) => boolean | undefined;

const celChecks = new Map<string, CelCheck>();

/** Declares a CEL rule and its TypeScript twin. The rule text is the key that links the two. */
function cel(rule: string, message: string, check: CelCheck, fieldPath?: string): ValidationRule {
  celChecks.set(rule, check);
  return fieldPath === undefined ? { rule, message } : { rule, message, fieldPath };
}

/** The TypeScript predicate for a CEL rule declared in this file, or undefined for transition rules. */
export function celCheck(rule: string): CelCheck | undefined {
  return celChecks.get(rule);
}

/** Milliseconds of a duration string, or undefined when it does not parse (the pattern reports that). */
export function ms(text: unknown): number | undefined {
  if (typeof text !== "string" || !CRD_DURATION.test(text)) return undefined;
  const parsed = parseDuration(text);
  return parsed.ok ? parsed.value : undefined;
}

/** True/false when both durations parse, undefined otherwise. */
function cmp(a: unknown, b: unknown, ok: (aMs: number, bMs: number) => boolean): boolean | undefined {
  const aMs = ms(a);
  const bMs = ms(b);
  return aMs === undefined || bMs === undefined ? undefined : ok(aMs, bMs);
}

// CEL's duration() is Go's time.ParseDuration: units h, m, s, ms, us/µs, ns. It has no `d`, so the
// CRD only admits the units both CEL and util/duration.ts understand (util/duration also reads `d`
// for flags). A unit is required: "0" is a valid Go duration but ambiguous to people.
export const CRD_DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";
const CRD_DURATION = new RegExp(CRD_DURATION_PATTERN);

function duration(description: string, dflt?: string): JsonSchema {
  const base: JsonSchema = { type: "string", description, pattern: CRD_DURATION_PATTERN, maxLength: 32 };
  return dflt === undefined ? base : { ...base, default: dflt };
}

/** The most closed incidents a NodeFindings status carries; BENCHMARKS.md measures the largest status this allows. */
export const MAX_RECENT_INCIDENTS = 100;
const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const DATE_TIME: JsonSchema = { type: "string", format: "date-time", maxLength: 64 };

function str(description: string, maxLength: number, extra: JsonSchema = {}): JsonSchema {
  return { type: "string", description, maxLength, ...extra };
}

function int(description: string, minimum = 0, extra: JsonSchema = {}): JsonSchema {
  return { type: "integer", format: "int64", description, minimum, ...extra };
}

// ---------------------------------------------------------------------------------------------
// Shared shapes
// ---------------------------------------------------------------------------------------------

interface MatchExpression {
  readonly operator?: string;
  readonly values?: readonly string[];
}

/** metav1.LabelSelector, spelled out so the schema stays structural (no preserve-unknown-fields). */
export const labelSelectorSchema: JsonSchema = {
  type: "object",
  title: "LabelSelector",
  description: "A label query (metav1.LabelSelector). An empty selector matches everything.",
  "x-kubernetes-map-type": "atomic",
  properties: {
    matchLabels: {
      type: "object",
      description: "Labels that must all be present with these values.",
      maxProperties: 64,
      additionalProperties: { type: "string", maxLength: 63 },
    },
    matchExpressions: {
      type: "array",
      description: "Requirements that must all hold.",
      maxItems: 32,
      "x-kubernetes-list-type": "atomic",
      items: {
        type: "object",
        title: "LabelSelectorRequirement",
        required: ["key", "operator"],
        properties: {
          key: str("The label key.", 317, { minLength: 1 }),
          operator: { type: "string", enum: ["In", "NotIn", "Exists", "DoesNotExist"], description: "How key relates to values." },
          values: {
            type: "array",
            description: "Values for In and NotIn; empty for Exists and DoesNotExist.",
            maxItems: 64,
            "x-kubernetes-list-type": "atomic",
            items: { type: "string", maxLength: 63 },
          },
        },
        "x-kubernetes-validations": [
          cel(
            "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
            "values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist",
            (self: MatchExpression) => {
              const n = self.values?.length ?? 0;
              return self.operator === "In" || self.operator === "NotIn" ? n > 0 : n === 0;
            },
            ".values",
          ),
        ],
      },
    },
  },
};

/** metav1.Condition, with the validation kubebuilder generates for it. */
export const conditionSchema: JsonSchema = {
  type: "object",
  title: "Condition",
  description: "A metav1.Condition: one aspect of the object's current state.",
  required: ["type", "status", "lastTransitionTime", "reason", "message"],
  properties: {
    type: str("The condition type, e.g. Ready.", 316, {
      pattern: "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
    }),
    status: { type: "string", enum: ["True", "False", "Unknown"], description: "True, False or Unknown." },
    observedGeneration: int("The metadata.generation the condition was computed from."),
    lastTransitionTime: { ...DATE_TIME, description: "When status last changed." },
    reason: str("A CamelCase reason for the last transition.", 1024, {
      minLength: 1,
      pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
    }),
    message: str("A human-readable explanation.", 32768),
  },
};

function conditions(description: string): JsonSchema {
  return {
    type: "array",
    description,
    maxItems: 8,
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
    items: conditionSchema,
  };
}

// ---------------------------------------------------------------------------------------------
// StarvationPolicy
// ---------------------------------------------------------------------------------------------

/** The value range of each rule's threshold: stall and limit shares are 0..1, OOM kills are a count. */
export const THRESHOLD_RANGES: Readonly<Record<RuleName, { readonly min: number; readonly max: number; readonly unit: string }>> = {
  CPUThrottling: { min: 0, max: 1, unit: "share of CFS periods throttled (0..1)" },
  CPUStarvation: { min: 0, max: 1, unit: "share of wall time stalled on CPU, PSI some (0..1)" },
  MemoryNearLimit: { min: 0, max: 1, unit: "working set as a share of the memory limit (0..1)" },
  MemoryPressure: { min: 0, max: 1, unit: "share of wall time stalled on memory, PSI some (0..1)" },
  OOMKill: { min: 1, max: 1000, unit: "OOM kills within the window (a count)" },
  IOPressure: { min: 0, max: 1, unit: "share of wall time stalled on IO, PSI some (0..1)" },
  NodePressure: { min: 0, max: 1, unit: "node-level PSI stall share, the worst of cpu/memory/io (0..1)" },
};

/** Per-rule defaults come from the analysis rules themselves, so the CRD and `xander scan` agree. */
export const RULE_DEFAULTS: Readonly<Record<RuleName, { threshold: number; for: string; clearAfter: string; severity: string }>> =
  Object.fromEntries(RULES.map((r) => [r.name, { ...r.defaults }])) as Record<
    RuleName,
    { threshold: number; for: string; clearAfter: string; severity: string }
  >;

interface RuleSpecValue {
  readonly for?: string;
  readonly clearAfter?: string;
}

function ruleSchema(name: RuleName): JsonSchema {
  const range = THRESHOLD_RANGES[name];
  const d = RULE_DEFAULTS[name];
  const threshold: JsonSchema = {
    type: "number",
    description: "Raise when the value reaches this (the unit is in the rule's description).",
    minimum: range.min,
    maximum: range.max,
    default: d.threshold,
  };
  return {
    type: "object",
    title: "RuleSpec",
    description: `Settings of the ${name} rule. Threshold: ${range.unit}.`,
    default: {},
    properties: {
      enabled: { type: "boolean", description: "Whether the rule runs.", default: true },
      threshold: name === "OOMKill" ? { ...threshold, multipleOf: 1 } : threshold,
      for: duration("The condition must hold this long before a finding is raised (0s = at once).", d.for),
      clearAfter: duration("A raised finding clears after its condition has been absent this long.", d.clearAfter),
      severity: { type: "string", enum: [...SEVERITIES], description: "Severity of the finding.", default: d.severity },
    },
    "x-kubernetes-validations": [
      // `for` is a CEL reserved word: the apiserver exposes the property as __for__.
      cel("duration(self.__for__) <= duration('1h')", "for must be at most 1h", (s: RuleSpecValue) => cmp(s.for, "1h", (a, b) => a <= b), ".for"),
      cel(
        "duration(self.clearAfter) <= duration('24h')",
        "clearAfter must be at most 24h",
        (s: RuleSpecValue) => cmp(s.clearAfter, "24h", (a, b) => a <= b),
        ".clearAfter",
      ),
    ],
  };
}

type RulesValue = Partial<Record<RuleName, { readonly enabled?: boolean }>>;

const rulesSchema: JsonSchema = {
  type: "object",
  title: "RulesSpec",
  description: "Per-rule settings; a rule left out runs with its defaults.",
  default: {},
  properties: Object.fromEntries(RULE_NAMES.map((n) => [n, ruleSchema(n)])),
  "x-kubernetes-validations": [
    cel(
      // Every rule is defaulted (see expandDefaults), so each field is always present.
      RULE_NAMES.map((n) => `self.${n}.enabled`).join(" || "),
      "at least one rule must be enabled",
      (self: RulesValue) => RULE_NAMES.some((n) => self[n]?.enabled !== false),
    ),
  ],
};

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

const topRiskSchema: JsonSchema = {
  type: "object",
  title: "TopRisk",
  description: "One of the most severe open findings.",
  required: ["node", "rule", "severity", "pod"],
  properties: {
    node: str("The node the finding is on.", 253),
    rule: { type: "string", enum: [...RULE_NAMES], description: "The rule that raised it." },
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

const policyStatusSchema: JsonSchema = {
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
      items: topRiskSchema,
    },
  },
};

function isEmptyObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

/**
 * Replaces each `default: {}` on an object with the object its properties' defaults make up, bottom up.
 * The apiserver checks a default against the schema, CEL rules included, as written: without applying
 * the defaults nested inside it. So `default: {}` on `sampling` would fail `duration(self.interval) >= ...`
 * ("no such key"). Spelled out in full, the defaults also read better in `kubectl explain` and the YAML.
 */
export function expandDefaults(schema: JsonSchema): JsonSchema {
  if (schema.properties === undefined) return schema;
  const properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, expandDefaults(v)]));
  const expanded = { ...schema, properties };
  if (!isEmptyObject(schema.default)) return expanded;
  const dflt = Object.fromEntries(Object.entries(properties).flatMap(([k, v]) => (v.default === undefined ? [] : [[k, v.default]])));
  return { ...expanded, default: dflt };
}

export const starvationPolicySchema: JsonSchema = expandDefaults({
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
        rules: rulesSchema,
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
    status: policyStatusSchema,
  },
});

// ---------------------------------------------------------------------------------------------
// NodeFindings
// ---------------------------------------------------------------------------------------------

const podRefSchema: JsonSchema = {
  type: "object",
  title: "PodReference",
  description: "A pod, by namespace, name and uid.",
  required: ["uid"],
  properties: {
    namespace: str("The pod's namespace.", 63),
    name: str("The pod's name.", 253),
    uid: str("The pod's uid.", 64),
  },
};

const findingSchema: JsonSchema = {
  type: "object",
  title: "NodeFinding",
  description: "An open finding about one container or pod on this node.",
  required: ["rule", "severity", "value", "threshold", "firstSeen", "lastSeen", "message"],
  properties: {
    rule: { type: "string", enum: [...RULE_NAMES], description: "The rule that raised it." },
    severity: { type: "string", enum: [...SEVERITIES], description: "Its severity." },
    policy: str("The StarvationPolicy whose thresholds applied.", 253),
    pod: podRefSchema,
    container: str("The container's name.", 253),
    value: { type: "number", description: "The observed value, in the rule's unit." },
    threshold: { type: "number", description: "The threshold it crossed." },
    window: duration("The window the value was computed over."),
    firstSeen: { ...DATE_TIME, description: "When the condition was first seen." },
    lastSeen: { ...DATE_TIME, description: "When it was last seen." },
    culprit: {
      type: "object",
      title: "Culprit",
      description: "The neighbour most likely responsible, for contention findings.",
      required: ["uid", "score"],
      properties: {
        namespace: str("The neighbour's namespace.", 63),
        name: str("The neighbour's name.", 253),
        uid: str("The neighbour's uid.", 64),
        score: { type: "number", minimum: 0, maximum: 1, description: "0..1: how strongly the evidence points at it." },
      },
    },
    evidence: {
      type: "object",
      description: "The numbers behind the finding.",
      maxProperties: 32,
      additionalProperties: { type: "string", maxLength: 256 },
    },
    message: str("What the rule saw, for people.", 1024),
  },
};

const dependencySchema: JsonSchema = {
  type: "object",
  title: "Dependency",
  description: "A connection seen between a pod on this node and a peer.",
  required: ["from", "to", "kind"],
  properties: {
    from: str('The pod on this node as "namespace/name".', 317),
    to: str('The peer: "namespace/name" for pods and services, the IP address for external peers.', 317),
    kind: { type: "string", enum: ["Pod", "Service", "External"], description: "What the peer is." },
    fromWorkload: str('The top-level owner of the pod on this node as "Kind/name", e.g. "Deployment/web"; absent for a bare pod.', 317),
    toWorkload: str('The top-level owner of a Pod peer as "Kind/name"; absent for a bare pod and for other peers.', 317),
    port: {
      type: "integer",
      format: "int32",
      minimum: 0,
      maximum: 65535,
      description: "The server port: the port dialled (a Service's own port) when outbound, the local listen port when inbound.",
    },
    direction: { type: "string", enum: ["inbound", "outbound"], description: "Who opened the connection: outbound when the pod on this node did." },
    connections: int("Open connections seen in the last scan."),
    recentConnections: int("Connections closed within the last minute (TIME_WAIT) seen in the last scan: how short calls show."),
    firstSeen: { ...DATE_TIME, description: "When the edge was first seen." },
    lastSeen: { ...DATE_TIME, description: "When the edge was last seen." },
  },
};

const incidentCulpritSchema: JsonSchema = {
  type: "object",
  title: "IncidentCulprit",
  description: "A neighbour named as culprit during the incident.",
  required: ["uid", "score", "share"],
  properties: {
    namespace: str("The neighbour's namespace.", 63),
    name: str("The neighbour's name.", 253),
    uid: str("The neighbour's uid.", 64),
    score: { type: "number", minimum: 0, maximum: 1, description: "The highest score attribution gave it." },
    share: { type: "number", minimum: 0, maximum: 1, description: "The share of the incident's stalled time it was the culprit for." },
  },
};

const recentIncidentSchema: JsonSchema = {
  type: "object",
  title: "RecentIncident",
  description: "A closed incident: one finding's life from raise to clear.",
  required: ["rule", "severity", "start", "end", "peak", "threshold"],
  properties: {
    rule: { type: "string", enum: [...RULE_NAMES], description: "The rule that raised it." },
    severity: { type: "string", enum: [...SEVERITIES], description: "Its severity." },
    policy: str("The StarvationPolicy whose thresholds applied.", 253),
    pod: podRefSchema,
    container: str("The container's name.", 253),
    workload: str('The pod\'s top-level owner as "Kind/name", e.g. "Deployment/web".', 317),
    start: { ...DATE_TIME, description: "When the condition began." },
    end: { ...DATE_TIME, description: "When the condition was last seen before it cleared." },
    peak: { type: "number", description: "The worst value seen, in the rule's unit." },
    peakAt: { ...DATE_TIME, description: "When the peak was seen." },
    threshold: { type: "number", description: "The threshold in force." },
    culprits: {
      type: "array",
      description: "Neighbours named as culprit, the largest share first.",
      maxItems: 5,
      "x-kubernetes-list-type": "atomic",
      items: incidentCulpritSchema,
    },
    callers: {
      type: "array",
      description: 'Callers of the pod that felt it, as workloads "namespace/name".',
      maxItems: 10,
      "x-kubernetes-list-type": "atomic",
      items: { type: "string", maxLength: 317 },
    },
    message: str("What the rule saw at the peak.", 512),
  },
};

const nodeFindingsStatusSchema: JsonSchema = {
  type: "object",
  title: "NodeFindingsStatus",
  description: "Written by the node's agent.",
  properties: {
    agent: {
      type: "object",
      title: "AgentStatus",
      description: "The agent on this node.",
      properties: {
        version: str("The agent's version.", 64),
        cgroupLayout: str("The detected cgroup layout, e.g. v2/systemd.", 64),
        lastSample: { ...DATE_TIME, description: "When the agent last sampled." },
        pods: int("Pods the agent watches."),
        samplesStored: int("Samples in the node-local history."),
        endpoint: str("Where the agent serves its node's history (host:port), to callers that pass TokenReview and SubjectAccessReview.", 64),
      },
    },
    findings: {
      type: "array",
      description: "Open findings, most severe first (bounded by the policy's maxFindings).",
      maxItems: 200,
      "x-kubernetes-list-type": "atomic",
      items: findingSchema,
    },
    dependencies: {
      type: "array",
      description: "Connections seen from pods on this node (bounded by the policy's maxDependencies).",
      maxItems: 200,
      "x-kubernetes-list-type": "atomic",
      items: dependencySchema,
    },
    recentIncidents: {
      type: "array",
      description: "Incidents that closed in the last 24 hours, newest first (bounded by the policy's maxRecentIncidents).",
      maxItems: MAX_RECENT_INCIDENTS,
      "x-kubernetes-list-type": "atomic",
      items: recentIncidentSchema,
    },
    summary: {
      type: "object",
      title: "FindingsSummary",
      description: "Counts, for printer columns and quick looks.",
      properties: {
        critical: int("Critical findings."),
        warning: int("Warning findings."),
        topRisk: str("A one-line description of the worst finding.", 256),
      },
    },
    conditions: conditions("Reporting: whether the agent is writing this object."),
  },
};

export const nodeFindingsSchema: JsonSchema = {
  type: "object",
  title: "NodeFindings",
  description: "What the Xander agent found on one node. One per Node, named after it.",
  required: ["spec"],
  properties: {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object" },
    spec: {
      type: "object",
      title: "NodeFindingsSpec",
      description: "Which node this is about.",
      required: ["nodeName"],
      properties: {
        nodeName: {
          ...str("The node, equal to metadata.name.", 253, { minLength: 1 }),
          "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "nodeName is immutable" }],
        },
      },
    },
    status: nodeFindingsStatusSchema,
  },
  "x-kubernetes-validations": [
    cel(
      "self.metadata.name == self.spec.nodeName",
      "nodeName must equal metadata.name",
      (s: { metadata?: { name?: string }; spec?: { nodeName?: string } }) => (s.metadata?.name === undefined ? undefined : s.metadata.name === s.spec?.nodeName),
      ".spec.nodeName",
    ),
  ],
};

// ---------------------------------------------------------------------------------------------
// CRD definitions
// ---------------------------------------------------------------------------------------------

export interface PrinterColumn {
  readonly name: string;
  readonly type: "string" | "integer" | "number" | "boolean" | "date";
  readonly jsonPath: string;
  readonly description?: string;
  readonly priority?: number;
}

export interface CrdDefinition {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly schema: JsonSchema;
  readonly printerColumns: readonly PrinterColumn[];
}

export const STARVATION_POLICY: CrdDefinition = {
  kind: "StarvationPolicy",
  plural: "starvationpolicies",
  singular: "starvationpolicy",
  shortNames: ["sp"],
  categories: ["xander"],
  schema: starvationPolicySchema,
  printerColumns: [
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: "Nodes", type: "integer", jsonPath: ".status.nodes.reporting", description: "Nodes reporting" },
    { name: "Critical", type: "integer", jsonPath: ".status.findings.critical" },
    { name: "Warning", type: "integer", jsonPath: ".status.findings.warning" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};

export const NODE_FINDINGS: CrdDefinition = {
  kind: "NodeFindings",
  plural: "nodefindings",
  singular: "nodefindings",
  shortNames: ["nf"],
  categories: ["xander"],
  schema: nodeFindingsSchema,
  printerColumns: [
    { name: "Critical", type: "integer", jsonPath: ".status.summary.critical" },
    { name: "Warning", type: "integer", jsonPath: ".status.summary.warning" },
    { name: "Top Risk", type: "string", jsonPath: ".status.summary.topRisk" },
    { name: "Last Sample", type: "date", jsonPath: ".status.agent.lastSample" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};

export const CRDS: readonly CrdDefinition[] = [STARVATION_POLICY, NODE_FINDINGS];
