/**
 * StarvationPolicies → the agent: the DaemonSet `xander-agent` and the ConfigMap `xander-agent-config` in
 * the controller's namespace, shared by all policies (see daemonset.ts for why one, and why no policy
 * owns it). Runs on a single key: any policy change, and any change to either object, re-applies both with
 * server-side apply, which also undoes drift (an edited image, a deleted DaemonSet).
 */
import type { Logger } from "pino";
import type { KubeObject, OwnerReference } from "../api/meta.js";
import type { StarvationPolicy } from "../api/types.generated.js";
import type { KubeClient } from "../kube/client.js";
import { CONFIG_MAP, CONTROLLER_FIELD_MANAGER, DAEMON_SET, DEPLOYMENT, MANAGED_BY, MANAGED_BY_LABEL } from "../kube/resources.js";
import type { ReconcileResult } from "../kube/workqueue.js";
import { agentConfigMap, type ConfigMap } from "./agent-config.js";
import type { Cache } from "./cache.js";
import { AGENT_CONFIG_MAP, AGENT_NAME, agentDaemonSet, deploymentOwner, type AgentSettings, type DaemonSet } from "./daemonset.js";
import { isSubset } from "./status.js";

export const AGENT_KEY = "agent";

const UNOWNED = "the agent's objects get no owner, so uninstalling the controller will not remove them";

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
  /** The controller's Deployment as last read. */
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
    const owner = await this.currentOwner();
    if (owner === "going") return; // uninstalling: the garbage collector is removing the agents
    await this.applyConfig(all, owner);
    await this.applyDaemonSet(owner);
  }

  /**
   * The ownerReference for the agent's objects: the controller's Deployment, read at every reconcile, since
   * a Deployment deleted and created again (a changed selector, `--cascade=orphan`, a forced replace) has a
   * new UID, and objects owned by the old one would be garbage-collected. "going": the Deployment is being
   * deleted, or is gone after it was seen, so the agents must not be put back. Without a readable
   * Deployment the agents still run, unowned (said once); a transient read error keeps the last owner.
   */
  private async currentOwner(): Promise<OwnerReference | undefined | "going"> {
    const { client, settings } = this.deps;
    const name = settings.ownerDeployment;
    if (name === undefined) return undefined;
    const ref = `Deployment ${settings.namespace}/${name}`;
    let deployment: KubeObject | undefined;
    try {
      deployment = await client.get({ ...DEPLOYMENT, name, namespace: settings.namespace });
    } catch (err) {
      if (this.owner !== undefined) return this.owner;
      this.warnOwner(`${err instanceof Error ? err.message : `cannot get ${ref}: ${String(err)}`}; ${UNOWNED}`);
      return undefined;
    }
    return this.ownerFrom(deployment, ref);
  }

  private ownerFrom(deployment: KubeObject | undefined, ref: string): OwnerReference | undefined | "going" {
    if (deployment?.metadata?.deletionTimestamp !== undefined || (deployment === undefined && this.owner !== undefined)) {
      this.warnOwner(`${ref} is being deleted or is gone; not re-creating the agent's objects`);
      return "going";
    }
    const owner = deployment && deploymentOwner(deployment);
    if (owner === undefined) {
      this.warnOwner(`${ref} not found; ${UNOWNED}`);
      return undefined;
    }
    if (owner.uid !== this.owner?.uid) this.deps.log.info({ owner: ref, uid: owner.uid }, "the agent's DaemonSet and ConfigMap are owned by the controller's Deployment");
    this.owner = owner;
    this.lastOwnerError = undefined;
    return owner;
  }

  private warnOwner(message: string): void {
    if (message === this.lastOwnerError) return;
    this.lastOwnerError = message;
    this.deps.log.warn({ owner: this.deps.settings.ownerDeployment }, message);
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

  private async applyConfig(policies: readonly StarvationPolicy[], owner: OwnerReference | undefined): Promise<void> {
    const { client, settings, configMaps, log } = this.deps;
    const cm = agentConfigMap(settings.namespace, policies, owner);
    if (isSubset(cm, configMaps.get(AGENT_CONFIG_MAP, settings.namespace))) return;
    await client.apply(cm, { fieldManager: CONTROLLER_FIELD_MANAGER, force: true });
    log.info({ configMap: `${settings.namespace}/${AGENT_CONFIG_MAP}`, policies: policies.length }, "applied agent configuration");
  }

  private async applyDaemonSet(owner: OwnerReference | undefined): Promise<void> {
    const { client, settings, daemonSets, log } = this.deps;
    const ds = agentDaemonSet(settings, owner);
    const live = daemonSets.get(AGENT_NAME, settings.namespace);
    if (isSubset(ds, live)) return;
    // The cache may lag our own last apply; a no-op apply leaves resourceVersion (and the log) alone.
    const applied = await client.apply(ds, { fieldManager: CONTROLLER_FIELD_MANAGER, force: true });
    if (applied.metadata?.resourceVersion !== live?.metadata?.resourceVersion) {
      log.info({ daemonSet: `${settings.namespace}/${AGENT_NAME}`, image: settings.image, existed: live !== undefined }, "applied agent DaemonSet");
    }
  }
}
