/**
 * A StarvationPolicy as the agent uses it: validated, defaulted, durations in milliseconds, rule
 * settings in the analysis module's RuleConfig shape. Both the controller (for the agent ConfigMap and
 * policy status) and the agent (which watches policies directly) derive it with `effectivePolicy`.
 */
import { RULE_NAMES, type RuleConfig, type RuleName, type Severity } from "../analysis/types.js";
import { err, ok, type Result } from "../util/result.js";
import { ms, RULE_DEFAULTS } from "./schema.js";
import type { LabelSelector, PolicySelector, ReportingSpec, RuleSpec, SamplingSpec, StarvationPolicy } from "./types.generated.js";
import { validatePolicy, type FieldError } from "./validate.js";

export interface EffectivePolicy {
  readonly name: string;
  readonly generation: number;
  readonly selector: {
    readonly namespaceSelector?: LabelSelector;
    readonly podSelector?: LabelSelector;
    readonly excludeNamespaces: readonly string[];
  };
  readonly sampling: {
    readonly intervalMs: number;
    readonly windowMs: number;
    readonly retention: { readonly rawMs: number; readonly rollupMs: number };
    readonly dependencies: { readonly enabled: boolean; readonly intervalMs: number };
  };
  readonly rules: Readonly<Record<RuleName, RuleConfig>>;
  readonly reporting: {
    readonly heartbeatMs: number;
    readonly minIntervalMs: number;
    readonly maxFindings: number;
    readonly maxDependencies: number;
    readonly maxRecentIncidents: number;
  };
}

/** A duration the schema already validated and defaulted; `fallback` only guards against a bypassed schema. */
function durationOr(text: string | undefined, fallback: string): number {
  return ms(text) ?? ms(fallback) ?? 0;
}

function ruleConfig(name: RuleName, spec: RuleSpec | undefined): RuleConfig {
  const d = RULE_DEFAULTS[name];
  return {
    enabled: spec?.enabled ?? true,
    threshold: spec?.threshold ?? d.threshold,
    forMs: durationOr(spec?.for, d.for),
    clearAfterMs: durationOr(spec?.clearAfter, d.clearAfter),
    severity: (spec?.severity ?? d.severity) as Severity,
  };
}

function selectorOf(sel: PolicySelector | undefined): EffectivePolicy["selector"] {
  return {
    excludeNamespaces: sel?.excludeNamespaces ?? ["kube-system"],
    ...(sel?.namespaceSelector === undefined ? {} : { namespaceSelector: sel.namespaceSelector }),
    ...(sel?.podSelector === undefined ? {} : { podSelector: sel.podSelector }),
  };
}

function samplingOf(s: SamplingSpec | undefined): EffectivePolicy["sampling"] {
  return {
    intervalMs: durationOr(s?.interval, "1s"),
    windowMs: durationOr(s?.window, "10s"),
    retention: { rawMs: durationOr(s?.retention?.raw, "1h"), rollupMs: durationOr(s?.retention?.rollup, "24h") },
    dependencies: { enabled: s?.dependencies?.enabled ?? true, intervalMs: durationOr(s?.dependencies?.interval, "10s") },
  };
}

function reportingOf(r: ReportingSpec | undefined): EffectivePolicy["reporting"] {
  return {
    heartbeatMs: durationOr(r?.heartbeat, "60s"),
    minIntervalMs: durationOr(r?.minInterval, "5s"),
    maxFindings: r?.maxFindings ?? 50,
    maxDependencies: r?.maxDependencies ?? 100,
    maxRecentIncidents: r?.maxRecentIncidents ?? 50,
  };
}

/** Converts a policy that has already been validated and defaulted (by the apiserver or validatePolicy). */
export function toEffectivePolicy(policy: StarvationPolicy): EffectivePolicy {
  const s = policy.spec;
  return {
    name: policy.metadata.name ?? "",
    generation: policy.metadata.generation ?? 0,
    selector: selectorOf(s.selector),
    sampling: samplingOf(s.sampling),
    rules: Object.fromEntries(RULE_NAMES.map((n) => [n, ruleConfig(n, s.rules?.[n])])) as Record<RuleName, RuleConfig>,
    reporting: reportingOf(s.reporting),
  };
}

/**
 * Validates a policy read from the API (or a file) and derives its effective form. The apiserver has
 * normally validated it already; checking again catches policies stored before a stricter CRD version.
 */
export function effectivePolicy(obj: unknown): Result<EffectivePolicy, FieldError[]> {
  const validated = validatePolicy(obj);
  return validated.ok ? ok(toEffectivePolicy(validated.value)) : err(validated.error);
}
