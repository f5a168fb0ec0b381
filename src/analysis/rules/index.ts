import type { RuleConfig, Rule } from "../rule.js";
import { durationMs } from "../../util/duration.js";
import { cpuStarvation } from "./cpu-starvation.js";
import { cpuThrottling } from "./cpu-throttling.js";
import { ioPressure } from "./io-pressure.js";
import { memoryNearLimit } from "./memory-near-limit.js";
import { memoryPressure } from "./memory-pressure.js";
import { nodePressure } from "./node-pressure.js";
import { oomKill } from "./oom-kill.js";

/**
 * Every rule. Adding a rule: one file plus one line here; its name, policy settings and CRD properties
 * follow from it. The order is the order of the rules in the CRD and of their evaluation on each tick.
 */
export const RULES = [cpuThrottling, cpuStarvation, memoryNearLimit, memoryPressure, oomKill, ioPressure, nodePressure] as const;

/** Stable rule names, used in findings, policies, metrics and events. */
export type RuleName = (typeof RULES)[number]["name"];
export const RULE_NAMES: readonly RuleName[] = RULES.map((rule) => rule.name);

export type RuleConfigs = Readonly<Record<RuleName, RuleConfig>>;

export function defaultRuleConfig(rule: Rule): RuleConfig {
  return {
    enabled: true,
    threshold: rule.defaults.threshold,
    forMs: durationMs(rule.defaults.for),
    clearAfterMs: durationMs(rule.defaults.clearAfter),
    severity: rule.defaults.severity,
  };
}

const DEFAULT_CONFIGS: RuleConfigs = Object.freeze(Object.fromEntries(RULES.map((rule) => [rule.name, defaultRuleConfig(rule)])) as Record<RuleName, RuleConfig>);

/** The built-in rule settings (shared and frozen: callers never modify them). */
export function defaultRuleConfigs(): RuleConfigs {
  return DEFAULT_CONFIGS;
}
