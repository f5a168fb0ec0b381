/**
 * StarvationPolicy → its status: validity (the same schema and CEL twins the CRD has, so a policy stored
 * before a stricter CRD version is still caught), the agent's state, and what the findings view sees for
 * this policy. Written through /status with server-side apply, and only when it changed.
 */
import type { Logger } from "pino";
import { effectivePolicy } from "../api/policy.js";
import { API_VERSION } from "../api/schema/names.js";
import type { StarvationPolicy } from "../api/types.generated.js";
import type { KubeClient } from "../kube/client.js";
import { CONTROLLER_FIELD_MANAGER, MANAGED_BY, MANAGED_BY_LABEL } from "../kube/resources.js";
import type { ReconcileResult } from "../kube/workqueue.js";
import type { Cache, Node } from "./cache.js";
import { AGENT_NAME, type DaemonSet } from "./daemonset.js";
import type { FindingsView } from "../report/findings-view.js";
import type { PolicyReportsState } from "./policy-reports.js";
import { jsonEqual, policyStatus, type AgentState } from "./status.js";

const DEFAULT_HEARTBEAT_MS = 60_000;

export interface PolicyReconcilerDeps {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly policies: Cache<StarvationPolicy>;
  readonly daemonSets: Cache<DaemonSet>;
  readonly nodes: Cache<Node>;
  readonly view: FindingsView;
  readonly agentApplyError: () => string | undefined;
  readonly policyReports?: () => PolicyReportsState;
  readonly resyncMs: number;
  readonly log: Logger;
  readonly now?: () => number;
}

export class PolicyReconciler {
  static readonly kind = "StarvationPolicy";

  constructor(private readonly deps: PolicyReconcilerDeps) {}

  private agentState(): AgentState {
    const { daemonSets, namespace, nodes } = this.deps;
    const ds = daemonSets.get(AGENT_NAME, namespace);
    const present = ds?.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;
    const applyError = this.deps.agentApplyError();
    return {
      daemonSetPresent: present,
      // The DaemonSet controller knows which nodes match the agent's selector and tolerations.
      desiredNodes: (present ? ds.status?.desiredNumberScheduled : undefined) ?? nodes.list().length,
      daemonSet: `${namespace}/${AGENT_NAME}`,
      ...(applyError === undefined ? {} : { applyError }),
    };
  }

  async reconcile(name: string): Promise<ReconcileResult | undefined> {
    const { client, policies, view, resyncMs, log } = this.deps;
    const policy = policies.get(name);
    if (policy === undefined) return undefined; // deleted; the agent reconciler drops it from the config
    const validation = effectivePolicy(policy);
    const heartbeatMs = validation.ok ? validation.value.reporting.heartbeatMs : DEFAULT_HEARTBEAT_MS;
    const status = policyStatus({
      policy,
      validation,
      agent: this.agentState(),
      findings: view.forPolicy(name, heartbeatMs),
      heartbeatMs,
      ...(this.deps.policyReports === undefined ? {} : { policyReports: this.deps.policyReports() }),
      nowIso: new Date((this.deps.now ?? Date.now)()).toISOString().replace(/\.\d{3}Z$/, "Z"),
    });
    if (!jsonEqual(policy.status, status)) {
      await client.applyStatus({ apiVersion: API_VERSION, kind: "StarvationPolicy", metadata: { name }, status }, { fieldManager: CONTROLLER_FIELD_MANAGER, force: true });
      const ready = status.conditions?.find((c) => c.type === "Ready");
      log.debug({ policy: name, generation: status.observedGeneration, ready: ready?.status, reason: ready?.reason }, "updated policy status");
    }
    // Staleness changes with time alone: look again within a heartbeat even without events.
    return { requeueAfterMs: Math.min(resyncMs, heartbeatMs) };
  }
}
