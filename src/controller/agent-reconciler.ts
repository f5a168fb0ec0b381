/**
 * StarvationPolicies → the agent: the DaemonSet `xander-agent` and the ConfigMap `xander-agent-config` in
 * the controller's namespace, shared by all policies (see daemonset.ts for why one, and why no policy
 * owns it). Runs on a single key: any policy change, and any change to either object, re-applies both with
 * server-side apply, which also undoes drift (an edited image, a deleted DaemonSet).
 */
import type { Logger } from "pino";
import type { OwnerReference } from "../api/meta.js";
import type { StarvationPolicy } from "../api/types.generated.js";
import type { KubeClient } from "../kube/client.js";
import { CONFIG_MAP, CONTROLLER_FIELD_MANAGER, DAEMON_SET, DEPLOYMENT, MANAGED_BY, MANAGED_BY_LABEL } from "../kube/resources.js";
import type { ReconcileResult } from "../kube/workqueue.js";
import { agentConfigMap, type ConfigMap } from "./agent-config.js";
import type { Cache } from "./cache.js";
import { AGENT_CONFIG_MAP, AGENT_NAME, agentDaemonSet, deploymentOwner, type AgentSettings, type DaemonSet } from "./daemonset.js";
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
  /** The controller's Deployment, once read; it does not change while this process runs in one of its pods. */
  private owner: OwnerReference | undefined;
  private lastOwnerError: string | undefined;

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
    const all = this.deps.policies.list();
    if (all.length === 0) {
      await this.removeAgent();
      return;
    }
    await this.resolveOwner();
    await this.applyConfig(all);
    await this.applyDaemonSet();
  }

  /**
   * Reads the controller's Deployment for the agent's ownerReference. Without it the agents still run (and
   * are retried for an owner at every reconcile); they would only outlive `helm uninstall`, which is said once.
   */
  private async resolveOwner(): Promise<void> {
    const { client, settings, log } = this.deps;
    const name = settings.ownerDeployment;
    if (name === undefined || this.owner !== undefined) return;
    const ref = `Deployment ${settings.namespace}/${name}`;
    let problem: string;
    try {
      const deployment = await client.get({ ...DEPLOYMENT, name, namespace: settings.namespace });
      this.owner = deployment && deploymentOwner(deployment);
      if (this.owner !== undefined) {
        log.info({ owner: ref }, "the agent's DaemonSet and ConfigMap are owned by the controller's Deployment");
        return;
      }
      problem = `${ref} not found`;
    } catch (err) {
      problem = err instanceof Error ? err.message : `cannot get ${ref}: ${String(err)}`;
    }
    if (problem === this.lastOwnerError) return;
    this.lastOwnerError = problem;
    log.warn({ owner: ref }, `${problem}; the agent's objects get no owner, so uninstalling the controller will not remove them`);
  }

  /** No policy, nothing to watch: remove the agents (ours only, by label). */
  private async removeAgent(): Promise<void> {
    const { client, settings, daemonSets, configMaps, log } = this.deps;
    const ns = settings.namespace;
    const owned = [
      [DAEMON_SET, daemonSets.get(AGENT_NAME, ns)],
      [CONFIG_MAP, configMaps.get(AGENT_CONFIG_MAP, ns)],
    ] as const;
    for (const [kind, live] of owned) {
      if (live?.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY) continue;
      if (await client.delete({ ...kind, name: live.metadata.name ?? "", namespace: ns })) log.info({ kind: kind.kind }, "no StarvationPolicy left; deleted the agent's objects");
    }
  }

  private async applyConfig(policies: readonly StarvationPolicy[]): Promise<void> {
    const { client, settings, configMaps, log } = this.deps;
    const cm = agentConfigMap(settings.namespace, policies, this.owner);
    if (isSubset(cm, configMaps.get(AGENT_CONFIG_MAP, settings.namespace))) return;
    await client.apply(cm, { fieldManager: CONTROLLER_FIELD_MANAGER, force: true });
    log.info({ configMap: `${settings.namespace}/${AGENT_CONFIG_MAP}`, policies: policies.length }, "applied agent configuration");
  }

  private async applyDaemonSet(): Promise<void> {
    const { client, settings, daemonSets, log } = this.deps;
    const ds = agentDaemonSet(settings, this.owner);
    const live = daemonSets.get(AGENT_NAME, settings.namespace);
    if (isSubset(ds, live)) return;
    // The cache may lag our own last apply; a no-op apply leaves resourceVersion (and the log) alone.
    const applied = await client.apply(ds, { fieldManager: CONTROLLER_FIELD_MANAGER, force: true });
    if (applied.metadata?.resourceVersion !== live?.metadata?.resourceVersion) {
      log.info({ daemonSet: `${settings.namespace}/${AGENT_NAME}`, image: settings.image, existed: live !== undefined }, "applied agent DaemonSet");
    }
  }
}
