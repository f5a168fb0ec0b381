import type { Rule, RuleConfig, RuleConfigs, RuleName } from "../types.js";
import { durationMs } from "../../util/duration.js";
import { cpuStarvation } from "./cpu-starvation.js";
import { cpuThrottling } from "./cpu-throttling.js";
import { ioPressure } from "./io-pressure.js";
import { memoryNearLimit } from "./memory-near-limit.js";
import { memoryPressure } from "./memory-pressure.js";
import { nodePressure } from "./node-pressure.js";
import { oomKill } from "./oom-kill.js";

/** Every rule, in the order findings of equal severity are listed. Adding a rule: one file plus one line here. */
export const RULES: readonly Rule[] = [oomKill, cpuStarvation, cpuThrottling, memoryNearLimit, memoryPressure, ioPressure, nodePressure];

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
