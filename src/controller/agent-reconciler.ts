/**
 * StarvationPolicies → the agent: the DaemonSet `xander-agent` and the ConfigMap `xander-agent-config` in
 * the controller's namespace, shared by all policies (see daemonset.ts for why one, and why no policy
 * owns it). Runs on a single key: any policy change, and any change to either object, re-applies both with
 * server-side apply, which also undoes drift (an edited image, a deleted DaemonSet).
 */
import type { Logger } from "pino";
import type { StarvationPolicy } from "../api/types.generated.js";
import type { KubeClient } from "../kube/client.js";
import { CONFIG_MAP, CONTROLLER_FIELD_MANAGER, DAEMON_SET, MANAGED_BY, MANAGED_BY_LABEL } from "../kube/resources.js";
import type { ReconcileResult } from "../kube/workqueue.js";
import { agentConfigMap, type ConfigMap } from "./agent-config.js";
import type { Cache } from "./cache.js";
import { AGENT_CONFIG_MAP, AGENT_NAME, agentDaemonSet, type AgentSettings, type DaemonSet } from "./daemonset.js";
import { isSubset } from "./status.js";

export const AGENT_KEY = "agent";

export interface AgentReconcilerDeps {
  readonly client: KubeClient;
  readonly settings: AgentSettings;
  readonly policies: Cache<StarvationPolicy>;
  readonly daemonSets: Cache<DaemonSet>;
  readonly configMaps: Cache<ConfigMap>;
  readonly log: Logger;
  /** Called when the outcome policies report in their Ready condition changes. */
  readonly onStateChange: () => void;
}

export class AgentReconciler {
  static readonly kind = "DaemonSet";
  private lastError: string | undefined;

  constructor(private readonly deps: AgentReconcilerDeps) {}

  /** Why the last apply failed, for policy status; undefined after a success. */
  get applyError(): string | undefined {
    return this.lastError;
  }

  async reconcile(): Promise<ReconcileResult | undefined> {
    try {
      await this.converge();
      this.setError(undefined);
    } catch (err) {
      this.setError(err instanceof Error ? err.message : String(err));
      throw err;
    }
    return undefined;
  }

  private setError(message: string | undefined): void {
    if (message === this.lastError) return;
    this.lastError = message;
    this.deps.onStateChange();
  }

  private async converge(): Promise<void> {
    const { client, settings, policies, daemonSets, configMaps, log } = this.deps;
    const ns = settings.namespace;
    const all = policies.list();
    if (all.length === 0) {
      // No policy, nothing to watch: remove the agents (ours only, by label).
      for (const [kind, live] of [
        [DAEMON_SET, daemonSets.get(AGENT_NAME, ns)],
        [CONFIG_MAP, configMaps.get(AGENT_CONFIG_MAP, ns)],
      ] as const) {
        if (live?.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY) continue;
        if (await client.delete({ ...kind, name: live.metadata.name ?? "", namespace: ns })) log.info({ kind: kind.kind }, "no StarvationPolicy left; deleted the agent's objects");
      }
      return;
    }
    const cm = agentConfigMap(ns, all);
    if (!isSubset(cm, configMaps.get(AGENT_CONFIG_MAP, ns))) {
      await client.apply(cm, { fieldManager: CONTROLLER_FIELD_MANAGER, force: true });
      log.info({ configMap: `${ns}/${AGENT_CONFIG_MAP}`, policies: all.length }, "applied agent configuration");
    }
    const ds = agentDaemonSet(settings);
    const live = daemonSets.get(AGENT_NAME, ns);
    if (!isSubset(ds, live)) {
      await client.apply(ds, { fieldManager: CONTROLLER_FIELD_MANAGER, force: true });
      log.info({ daemonSet: `${ns}/${AGENT_NAME}`, image: settings.image }, live === undefined ? "created agent DaemonSet" : "repaired agent DaemonSet drift");
    }
  }
}
