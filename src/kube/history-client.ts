/**
 * Reads node histories from the agents that hold them (`status.agent.endpoint` of each NodeFindings), with
 * the caller's own Kubernetes credentials: the agent asks the cluster whether this caller may read them
 * (see agent/history-api.ts), so the CLI can read no more than its user may, and the controller no more than
 * its role grants. A node whose agent cannot be read is reported by name, never silently dropped.
 *
 * The credential goes only to an endpoint that is verifiably the node's agent pod (report/agent-endpoint.ts):
 * the pods are looked up in the API first, and an endpoint that is not theirs gets no request at all. It is
 * reached on the pod network or through the apiserver's port-forward (kube/agent-access.ts).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { IncidentList, PodHistory } from "../api/history.js";
import type { NodeFindings } from "../api/types.generated.js";
import { verifiedAgentEndpoint, type AgentIdentity, type VerifiedEndpoint } from "../report/agent-endpoint.js";
import { AgentPodCache, agentPodLister, type AgentPodLister } from "./agent-pods.js";
import { agentAccess, directAccess, type AgentAccess, type AgentAccessMode } from "./agent-access.js";
import type { KubeClient } from "./client.js";

export interface HistoryQuery {
  readonly sinceMs: number;
  readonly namespace?: string;
  readonly rule?: string;
  readonly pod?: string;
}

export type NodeRead<T> = { readonly ok: true; readonly node: string; readonly value: T } | { readonly ok: false; readonly node: string; readonly reason: string };

const REQUEST_TIMEOUT_MS = 10_000;

export class HistoryClient {
  private readonly agentPods: AgentPodCache;

  constructor(
    private readonly authorization: () => Promise<string | undefined>,
    listAgentPods: AgentPodLister,
    private readonly agents: AgentIdentity,
    private readonly access: AgentAccess = directAccess,
    now: () => number = Date.now,
  ) {
    this.agentPods = new AgentPodCache(listAgentPods, now);
  }

  /**
   * Sends whatever credential the kubeconfig's current user carries (a token, or one an exec plugin mints),
   * and finds the agent pods, and port-forwards to them where `mode` says so, with that same user.
   */
  static forAgents(client: KubeClient, agents: AgentIdentity, mode: AgentAccessMode = "direct"): HistoryClient {
    const kc: KubeConfig = client.kubeConfig;
    const authorization = async (): Promise<string | undefined> => {
      const init = await kc.applyToFetchOptions({});
      const headers = init.headers as Headers | undefined;
      return headers?.get("authorization") ?? undefined;
    };
    return new HistoryClient(authorization, agentPodLister(client, agents), agents, agentAccess(mode, kc));
  }

  async podHistory(nf: NodeFindings, namespace: string, name: string, sinceMs: number): Promise<NodeRead<PodHistory>> {
    const path = `/api/v1/history/pods/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}?since=${Math.round(sinceMs)}ms`;
    return this.get<PodHistory>(nf, path);
  }

  async incidents(nf: NodeFindings, query: HistoryQuery): Promise<NodeRead<IncidentList>> {
    const params = new URLSearchParams({ since: `${Math.round(query.sinceMs)}ms` });
    if (query.namespace !== undefined) params.set("namespace", query.namespace);
    if (query.rule !== undefined) params.set("rule", query.rule);
    if (query.pod !== undefined) params.set("pod", query.pod);
    return this.get<IncidentList>(nf, `/api/v1/history/incidents?${params.toString()}`);
  }

  /** Every node at once, each answer or failure named by its node. */
  async fromEach<T>(nodeFindings: readonly NodeFindings[], read: (nf: NodeFindings) => Promise<NodeRead<T>>): Promise<NodeRead<T>[]> {
    this.agentPods.prefetch(nodeFindings.filter((nf) => nf.status?.agent?.endpoint).map((nf) => nf.spec.nodeName));
    return Promise.all(nodeFindings.map(read));
  }

  private async get<T>(nf: NodeFindings, path: string): Promise<NodeRead<T>> {
    const node = nf.metadata.name ?? nf.spec.nodeName;
    const endpoint = await this.verifiedEndpoint(nf);
    if ("reason" in endpoint) return { ok: false, node, reason: endpoint.reason };
    try {
      const authorization = await this.authorization();
      const headers = { accept: "application/json", ...(authorization === undefined ? {} : { authorization }) };
      const response = await this.access.get(endpoint, path, headers, REQUEST_TIMEOUT_MS);
      const body = response.body as (T & { message?: string }) | undefined;
      if (response.status < 200 || response.status > 299) return { ok: false, node, reason: `agent at ${endpoint.url} answered ${response.status}${body?.message ? `: ${body.message}` : ""}` };
      if (body === undefined) return { ok: false, node, reason: `agent at ${endpoint.url} sent no JSON` };
      return { ok: true, node, value: body };
    } catch (error) {
      return { ok: false, node, reason: `cannot reach its agent at ${endpoint.url}: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  private async verifiedEndpoint(nf: NodeFindings): Promise<VerifiedEndpoint> {
    if (!nf.status?.agent?.endpoint) return verifiedAgentEndpoint(nf, [], this.agents);
    try {
      const verified = verifiedAgentEndpoint(nf, await this.agentPods.on(nf.spec.nodeName), this.agents);
      return "url" in verified ? verified : verifiedAgentEndpoint(nf, await this.agentPods.again(nf.spec.nodeName), this.agents);
    } catch (error) {
      return { reason: error instanceof Error ? error.message : String(error) };
    }
  }
}
