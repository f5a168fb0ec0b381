/** The JSON Schema that structural CRD schemas use, and the defaulting the apiserver needs spelled out. */

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
