/**
 * The analysis vocabulary in one import: the rule contract (rule.ts), the rule names (from the rules
 * themselves, rules/index.ts), and findings.
 */
import type { Culprit, PodRef, Severity } from "./rule.js";
import type { RuleName } from "./rules/index.js";

export { SEVERITIES } from "./rule.js";
export type {
  ContainerRule,
  ContainerWindow,
  Culprit,
  NodeContext,
  NodeRule,
  NodeWindow,
  Observation,
  PodRef,
  Rule,
  RuleConfig,
  RuleDefaults,
  Severity,
  ThresholdRange,
} from "./rule.js";
export { RULE_NAMES, type RuleConfigs, type RuleName } from "./rules/index.js";

/** A raised (or, for OOMKill, recorded) finding. */
export interface Finding {
  readonly rule: RuleName;
  readonly severity: Severity;
  readonly policy?: string;
  readonly pod: PodRef;
  readonly container?: string;
  readonly value: number;
  readonly threshold: number;
  readonly windowMs: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  readonly culprit?: Culprit;
  readonly evidence?: Readonly<Record<string, string | number>>;
  readonly message: string;
}
