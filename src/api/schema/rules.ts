/** The `rules` part of a StarvationPolicy spec: one property per analysis rule, from the rules themselves. */
import { RULES } from "../../analysis/rules/index.js";
import { SEVERITIES, type Rule, type RuleName } from "../../analysis/types.js";
import { cel, cmp } from "./cel.js";
import type { JsonSchema } from "./json-schema.js";
import { duration } from "./shapes.js";

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

function ruleSchema(rule: Rule): JsonSchema {
  const { name, thresholdRange: range, defaults: d } = rule;
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
      threshold: range.wholeNumber === true ? { ...threshold, multipleOf: 1 } : threshold,
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

type RulesValue = Readonly<Record<string, { readonly enabled?: boolean } | undefined>>;

/** The `rules` object of a policy spec for these rules, one property each, in their order. */
export function rulesSchemaFor(rules: readonly Rule[]): JsonSchema {
  const names = rules.map((r) => r.name);
  return {
    type: "object",
    title: "RulesSpec",
    description: "Per-rule settings; a rule left out runs with its defaults.",
    default: {},
    properties: Object.fromEntries(rules.map((r) => [r.name, ruleSchema(r)])),
    "x-kubernetes-validations": [
      cel(
        // Every rule is defaulted (see expandDefaults), so each field is always present.
        names.map((n) => `self.${n}.enabled`).join(" || "),
        "at least one rule must be enabled",
        (self: RulesValue) => names.some((n) => self[n]?.enabled !== false),
      ),
    ],
  };
}
