/**
 * The agent DaemonSet's pods, which readers check an agent's advertised address against before sending it a
 * token (report/agent-endpoint.ts). Listed with the reader's own credentials, and kept briefly: a report that
 * reads every node lists them once, not once per node and again for each pod it reads.
 *
 * A kept list is trusted for AGENT_PODS_TTL_MS. An address it does not vouch for is looked up again (at most
 * once a second per node) before it is refused: the agent may have restarted, with a new pod and IP, since.
 */
import type { KubeObject } from "../api/meta.js";
import { agentLabelSelector, type AgentIdentity, type AgentPod } from "../report/agent-endpoint.js";
import type { KubeClient } from "./client.js";
import { KubeError } from "./errors.js";
import { POD } from "./resources.js";

/** Agent pods on one node, or on every node when `node` is undefined; throws, naming the permission it lacked. */
export type AgentPodLister = (node?: string) => Promise<readonly AgentPod[]>;

export const AGENT_PODS_TTL_MS = 5_000;
const RELIST_AFTER_MS = 1_000;

/** Lists the agent DaemonSet's pods through the API, with the caller's own credentials. */
export function agentPodLister(client: KubeClient, agents: AgentIdentity): AgentPodLister {
  return async (node) => {
    try {
      const list = await client.list<KubeObject & Pick<AgentPod, "spec" | "status">>(POD, {
        namespace: agents.namespace,
        labelSelector: agentLabelSelector(agents),
        ...(node === undefined ? {} : { fieldSelector: `spec.nodeName=${node}` }),
      });
      return list.items;
    } catch (error) {
      if (error instanceof KubeError && (error.status === 401 || error.status === 403)) {
        throw new Error(`cannot verify its agent's address: listing pods in namespace ${agents.namespace} was refused (${error.status}); this needs "list pods" in ${agents.namespace} (the chart's xander-viewer Role there)`, { cause: error });
      }
      throw error;
    }
  };
}

interface Listed {
  readonly atMs: number;
  readonly pods: Promise<readonly AgentPod[]>;
}

export class AgentPodCache {
  private readonly byNode = new Map<string, Listed>();

  constructor(
    private readonly list: AgentPodLister,
    private readonly now: () => number = Date.now,
  ) {}

  /** The agent pods on `node`, from a list at most AGENT_PODS_TTL_MS old (or `maxAgeMs`). */
  on(node: string, maxAgeMs = AGENT_PODS_TTL_MS): Promise<readonly AgentPod[]> {
    const kept = this.byNode.get(node);
    if (kept !== undefined && this.now() - kept.atMs <= maxAgeMs) return kept.pods;
    return this.keep(node, this.list(node));
  }

  /** Looks `node` up again unless its list is under a second old: for an address the kept list did not vouch for. */
  again(node: string): Promise<readonly AgentPod[]> {
    return this.on(node, RELIST_AFTER_MS);
  }

  /** One list for many nodes, kept per node; nodes whose lists are still fresh are not asked about again. */
  prefetch(nodes: readonly string[]): void {
    const stale = nodes.filter((node) => {
      const kept = this.byNode.get(node);
      return kept === undefined || this.now() - kept.atMs > AGENT_PODS_TTL_MS;
    });
    if (stale.length < 2) return;
    const all = this.list();
    for (const node of stale) void this.keep(node, all.then((pods) => pods.filter((pod) => pod.spec?.nodeName === node)));
  }

  private keep(node: string, pods: Promise<readonly AgentPod[]>): Promise<readonly AgentPod[]> {
    const entry = { atMs: this.now(), pods };
    this.byNode.set(node, entry);
    // A failed list is not kept: the next read asks again.
    pods.catch(() => {
      if (this.byNode.get(node) === entry) this.byNode.delete(node);
    });
    return pods;
  }
}
