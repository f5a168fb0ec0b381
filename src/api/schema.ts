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
 *
 * The parts live in schema/: names, json-schema, cel, shapes, rules, policy, node-findings, crds. This
 * file gathers them; a module that needs only the group and version imports schema/names.ts, which
 * does not load the analysis rules.
 */

export { API_VERSION, GROUP, VERSION } from "./schema/names.js";
export { expandDefaults, type JsonSchema, type ValidationRule } from "./schema/json-schema.js";
export { celCheck, CRD_DURATION_PATTERN, ms, type CelCheck } from "./schema/cel.js";
export { conditionSchema, labelSelectorSchema } from "./schema/shapes.js";
export { RULE_DEFAULTS, rulesSchemaFor } from "./schema/rules.js";
export { starvationPolicySchema, starvationPolicySchemaFor } from "./schema/policy.js";
export { MAX_RECENT_INCIDENTS, nodeFindingsSchema, nodeFindingsSchemaFor } from "./schema/node-findings.js";
export { CRDS, crdsFor, NODE_FINDINGS, STARVATION_POLICY, type CrdDefinition, type PrinterColumn } from "./schema/crds.js";
