/** Field builders and the shapes that both custom resources share: durations, label selectors, conditions. */
import { cel, CRD_DURATION_PATTERN } from "./cel.js";
import type { JsonSchema } from "./json-schema.js";

export function duration(description: string, dflt?: string): JsonSchema {
  const base: JsonSchema = { type: "string", description, pattern: CRD_DURATION_PATTERN, maxLength: 32 };
  return dflt === undefined ? base : { ...base, default: dflt };
}

export const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
export const DATE_TIME: JsonSchema = { type: "string", format: "date-time", maxLength: 64 };

export function str(description: string, maxLength: number, extra: JsonSchema = {}): JsonSchema {
  return { type: "string", description, maxLength, ...extra };
}

export function int(description: string, minimum = 0, extra: JsonSchema = {}): JsonSchema {
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

export function conditions(description: string): JsonSchema {
  return {
    type: "array",
    description,
    maxItems: 8,
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
    items: conditionSchema,
  };
}
