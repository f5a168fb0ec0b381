/**
 * The agent configuration ConfigMap `xander-agent-config`: the merged, validated, defaulted view of every
 * StarvationPolicy, as the controller sees it.
 *
 * Where agents get their policies from: agents list+watch StarvationPolicies from the API themselves
 * (src/kube/xander.ts policyInformer) and apply them with the same validation (src/api/policy.ts), so a
 * threshold edit reaches every agent within a watch event, with no pod restart and without the kubelet's
 * ConfigMap-volume sync delay (up to a minute or more). This ConfigMap is the controller's record of what
 * it considers in effect — which policies are valid, at which generation, with every default filled in —
 * for people (`kubectl get cm xander-agent-config -o yaml`), for support bundles, and as a fallback an
 * agent may read at start when it cannot list policies. It is referenced from the pod template by name
 * only; its content is never hashed into the template.
 */
import type { KubeObject, OwnerReference } from "../api/meta.js";
import { effectivePolicy, type EffectivePolicy } from "../api/policy.js";
import type { StarvationPolicy } from "../api/types.generated.js";
import { formatFieldErrors } from "../api/validate.js";
import { AGENT_CONFIG_MAP, AGENT_LABELS } from "./daemonset.js";

export const AGENT_CONFIG_KEY = "policies.json";

export interface AgentConfig {
  /** Valid policies with defaults applied, by name. */
  readonly policies: readonly EffectivePolicy[];
  /** Policies left out, and why. */
  readonly rejected: readonly { readonly name: string; readonly generation: number; readonly reason: string }[];
}

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export function agentConfig(policies: readonly StarvationPolicy[]): AgentConfig {
  const valid: EffectivePolicy[] = [];
  const rejected: { name: string; generation: number; reason: string }[] = [];
  const sorted = [...policies].sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
  for (const p of sorted) {
    const result = effectivePolicy(p);
    if (result.ok) valid.push(result.value);
    else rejected.push({ name: p.metadata.name ?? "", generation: p.metadata.generation ?? 0, reason: formatFieldErrors(result.error) });
  }
  return { policies: valid, rejected };
}

/** `owner`: the controller's Deployment, as for the DaemonSet (see daemonset.ts). */
export function agentConfigMap(namespace: string, policies: readonly StarvationPolicy[], owner?: OwnerReference): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: AGENT_CONFIG_MAP, namespace, labels: { ...AGENT_LABELS }, ...(owner ? { ownerReferences: [{ ...owner }] } : {}) },
    data: { [AGENT_CONFIG_KEY]: `${JSON.stringify(agentConfig(policies), null, 2)}\n` },
  };
}
