import type { PolicyBinding } from "../analysis/analyzer.js";
import type { EffectivePolicy } from "../api/policy.js";
import { matchesSelector, type Labels } from "./selector.js";

export interface PodIdentity {
  readonly namespace: string;
  readonly labels: Labels;
}

/**
 * Chooses the policy that governs a pod. Several may select it; the most specific wins (a pod
 * selector beats a namespace selector beats neither), then the name, so the choice is stable and
 * the same on every node.
 */
export function policyFor(pod: PodIdentity, namespaceLabels: Labels | undefined, policies: readonly EffectivePolicy[]): EffectivePolicy | undefined {
  const matching = policies.filter(
    (policy) =>
      !policy.selector.excludeNamespaces.includes(pod.namespace) &&
      // A namespace we have not seen yet is matched on its name label alone, which the API always sets.
      matchesSelector(policy.selector.namespaceSelector, namespaceLabels ?? { "kubernetes.io/metadata.name": pod.namespace }) &&
      matchesSelector(policy.selector.podSelector, pod.labels),
  );
  return matching.sort((a, b) => specificity(b) - specificity(a) || a.name.localeCompare(b.name))[0];
}

function specificity(policy: EffectivePolicy): number {
  return (policy.selector.podSelector ? 2 : 0) + (policy.selector.namespaceSelector ? 1 : 0);
}

export function bindingOf(policy: EffectivePolicy): PolicyBinding {
  return { policy: policy.name, configs: policy.rules };
}

/**
 * Node-scoped rules (NodePressure) are not about any pod: they follow the policy that selects the
 * most, i.e. the least specific one, by name among equals.
 */
export function nodePolicy(policies: readonly EffectivePolicy[]): EffectivePolicy | undefined {
  return [...policies].sort((a, b) => specificity(a) - specificity(b) || a.name.localeCompare(b.name))[0];
}

/**
 * The agent samples at the shortest interval any policy asks for and keeps the longest window,
 * so one sampler serves every policy on the node.
 */
export function samplingFor(policies: readonly EffectivePolicy[], fallback: { intervalMs: number; windowMs: number }): { intervalMs: number; windowMs: number } {
  if (policies.length === 0) return fallback;
  return {
    intervalMs: Math.min(...policies.map((p) => p.sampling.intervalMs)),
    windowMs: Math.max(...policies.map((p) => p.sampling.windowMs)),
  };
}
