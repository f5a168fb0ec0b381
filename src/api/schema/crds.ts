/** The custom resource definitions: names, schemas and printer columns, which `npm run gen:crds` renders. */
import type { Rule } from "../../analysis/types.js";
import type { JsonSchema } from "./json-schema.js";
import { nodeFindingsSchema, nodeFindingsSchemaFor } from "./node-findings.js";
import { starvationPolicySchema, starvationPolicySchemaFor } from "./policy.js";

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

function starvationPolicyCrd(schema: JsonSchema): CrdDefinition {
  return {
    kind: "StarvationPolicy",
    plural: "starvationpolicies",
    singular: "starvationpolicy",
    shortNames: ["sp"],
    categories: ["xander"],
    schema,
    printerColumns: [
      { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: "Nodes", type: "integer", jsonPath: ".status.nodes.reporting", description: "Nodes reporting" },
      { name: "Critical", type: "integer", jsonPath: ".status.findings.critical" },
      { name: "Warning", type: "integer", jsonPath: ".status.findings.warning" },
      { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
    ],
  };
}

function nodeFindingsCrd(schema: JsonSchema): CrdDefinition {
  return {
    kind: "NodeFindings",
    plural: "nodefindings",
    singular: "nodefindings",
    shortNames: ["nf"],
    categories: ["xander"],
    schema,
    printerColumns: [
      { name: "Critical", type: "integer", jsonPath: ".status.summary.critical" },
      { name: "Warning", type: "integer", jsonPath: ".status.summary.warning" },
      { name: "Top Risk", type: "string", jsonPath: ".status.summary.topRisk" },
      { name: "Last Sample", type: "date", jsonPath: ".status.agent.lastSample" },
      { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
    ],
  };
}

export const STARVATION_POLICY: CrdDefinition = starvationPolicyCrd(starvationPolicySchema);
export const NODE_FINDINGS: CrdDefinition = nodeFindingsCrd(nodeFindingsSchema);
export const CRDS: readonly CrdDefinition[] = [STARVATION_POLICY, NODE_FINDINGS];

/** The CRDs for a set of rules: what `npm run gen:crds` writes when RULES is that set. */
export function crdsFor(rules: readonly Rule[]): CrdDefinition[] {
  return [starvationPolicyCrd(starvationPolicySchemaFor(rules)), nodeFindingsCrd(nodeFindingsSchemaFor(rules.map((r) => r.name)))];
}
