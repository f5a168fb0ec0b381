/** The NodeFindings schema: what one node's agent found, written by that agent only. */
import { RULE_NAMES, SEVERITIES } from "../../analysis/types.js";
import { cel } from "./cel.js";
import type { JsonSchema } from "./json-schema.js";
import { conditions, DATE_TIME, duration, int, str } from "./shapes.js";

/** The most closed incidents a NodeFindings status carries; BENCHMARKS.md measures the largest status this allows. */
export const MAX_RECENT_INCIDENTS = 100;

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

function findingSchema(ruleNames: readonly string[]): JsonSchema {
  return {
    type: "object",
    title: "NodeFinding",
    description: "An open finding about one container or pod on this node.",
    required: ["rule", "severity", "value", "threshold", "firstSeen", "lastSeen", "message"],
    properties: {
      rule: { type: "string", enum: [...ruleNames], description: "The rule that raised it." },
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
}

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

function recentIncidentSchema(ruleNames: readonly string[]): JsonSchema {
  return {
    type: "object",
    title: "RecentIncident",
    description: "A closed incident: one finding's life from raise to clear.",
    required: ["rule", "severity", "start", "end", "peak", "threshold"],
    properties: {
      rule: { type: "string", enum: [...ruleNames], description: "The rule that raised it." },
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
}

function nodeFindingsStatusSchema(ruleNames: readonly string[]): JsonSchema {
  return {
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
        items: findingSchema(ruleNames),
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
        items: recentIncidentSchema(ruleNames),
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
      conditions: conditions("Reporting: whether the agent is writing this object. HistoryWritable: whether its ticks reach the node-local history (False, reason DiskFull or WriteFailed, while they do not; detection goes on from memory)."),
    },
  };
}

/** The NodeFindings schema for rules with these names. */
export function nodeFindingsSchemaFor(ruleNames: readonly string[]): JsonSchema {
  return {
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
      status: nodeFindingsStatusSchema(ruleNames),
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
}

export const nodeFindingsSchema: JsonSchema = nodeFindingsSchemaFor(RULE_NAMES);
