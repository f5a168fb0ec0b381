/**
 * Reads node histories from the agents that hold them (`status.agent.endpoint` of each NodeFindings), with
 * the caller's own Kubernetes credentials: the agent asks the cluster whether this caller may read them
 * (see agent/history-api.ts), so the CLI can read no more than its user may, and the controller no more than
 * its role grants. A node whose agent cannot be read is reported by name, never silently dropped.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { IncidentList, PodHistory } from "../api/history.js";
import type { NodeFindings } from "../api/types.generated.js";

export interface HistoryQuery {
  readonly sinceMs: number;
  readonly namespace?: string;
  readonly rule?: string;
  readonly pod?: string;
}

export type NodeRead<T> = { readonly ok: true; readonly node: string; readonly value: T } | { readonly ok: false; readonly node: string; readonly reason: string };

const REQUEST_TIMEOUT_MS = 10_000;

/** `http://<endpoint>` of the node's agent, or why there is none. */
export function agentEndpoint(nf: NodeFindings): { url: string } | { reason: string } {
  const endpoint = nf.status?.agent?.endpoint;
  if (endpoint === undefined || endpoint === "") return { reason: "its agent publishes no history endpoint (an agent older than this version, or not running)" };
  return { url: `http://${endpoint}` };
}

export class HistoryClient {
  constructor(private readonly authorization: () => Promise<string | undefined>) {}

  /** Sends whatever credential the kubeconfig's current user carries (a token, or one an exec plugin mints). */
  static fromKubeConfig(kc: KubeConfig): HistoryClient {
    return new HistoryClient(async () => {
      const init = await kc.applyToFetchOptions({});
      const headers = init.headers as Headers | undefined;
      return headers?.get("authorization") ?? undefined;
    });
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
    return Promise.all(nodeFindings.map(read));
  }

  private async get<T>(nf: NodeFindings, path: string): Promise<NodeRead<T>> {
    const node = nf.metadata.name ?? nf.spec.nodeName;
    const endpoint = agentEndpoint(nf);
    if ("reason" in endpoint) return { ok: false, node, reason: endpoint.reason };
    try {
      const authorization = await this.authorization();
      const response = await fetch(`${endpoint.url}${path}`, {
        headers: { accept: "application/json", ...(authorization === undefined ? {} : { authorization }) },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const body = (await response.json().catch(() => undefined)) as (T & { message?: string }) | undefined;
      if (!response.ok) return { ok: false, node, reason: `agent at ${endpoint.url} answered ${response.status}${body?.message ? `: ${body.message}` : ""}` };
      if (body === undefined) return { ok: false, node, reason: `agent at ${endpoint.url} sent no JSON` };
      return { ok: true, node, value: body };
    } catch (error) {
      const cause = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      return { ok: false, node, reason: `cannot reach its agent at ${endpoint.url}: ${cause}` };
    }
  }
}
