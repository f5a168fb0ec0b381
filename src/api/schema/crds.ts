/** The custom resource definitions: names, schemas and printer columns, which `npm run gen:crds` renders. */
import type { JsonSchema } from "./json-schema.js";
import { nodeFindingsSchema } from "./node-findings.js";
import { starvationPolicySchema } from "./policy.js";

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
