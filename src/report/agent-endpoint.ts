/**
 * Whether a NodeFindings' `status.agent.endpoint` is really its node's agent, before anyone sends it a token.
 *
 * Anyone who may write NodeFindings status (one node's agent, or a user granted patch on nodefindings/status)
 * can set that endpoint to a listener of their own; the controller and the CLI send a bearer token with every
 * history request, so an unchecked endpoint hands those tokens out. The agent DaemonSet advertises
 * `$(POD_IP):<port>`, and only the kubelet of the pod's node writes a pod's IP, so an endpoint is accepted only
 * when its host is the IP of a running pod on that node, in Xander's own namespace, controlled by Xander's
 * agent DaemonSet. The namespace and DaemonSet come from the reader's configuration, never from the status.
 */
import type { NodeFindings } from "../api/types.generated.js";

/** Where the agents run, as the reader knows it (the controller's own namespace, the CLI's --xander-namespace). */
export interface AgentIdentity {
  readonly namespace: string;
  readonly daemonSet: string;
  /** The DaemonSet's pod selector labels, to list its pods by. */
  readonly podLabels: Readonly<Record<string, string>>;
}

/** The fields of a Pod the check reads. */
export interface AgentPod {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly ownerReferences?: readonly { readonly apiVersion?: string; readonly kind?: string; readonly name?: string; readonly controller?: boolean }[];
  };
  readonly spec?: { readonly nodeName?: string };
  readonly status?: { readonly phase?: string; readonly podIP?: string; readonly podIPs?: readonly { readonly ip?: string }[] };
}

/** A node's agent as verified: its URL on the pod network, and the pod and port behind it (for a port-forward). */
export interface AgentEndpoint {
  readonly url: string;
  readonly pod: { readonly namespace: string; readonly name: string };
  readonly port: number;
}

export type VerifiedEndpoint = AgentEndpoint | { readonly reason: string };

/** `host:port` or `[v6]:port`, with an IP literal for the host (a pod IP is never a name), else undefined. */
export function parseEndpoint(endpoint: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(endpoint);
  if (match === null) return undefined;
  const host = match[1] ?? match[2];
  const port = Number(match[3]);
  if (host === undefined || port < 1 || port > 65535) return undefined;
  if (match[2] !== undefined && match[2].split(".").some((octet) => Number(octet) > 255)) return undefined;
  return { host, port };
}

/** The selector `kubectl get pods -l` would take for the agent's pods. */
export function agentLabelSelector(agents: AgentIdentity): string {
  return Object.entries(agents.podLabels)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
}

function isAgentPod(pod: AgentPod, node: string, agents: AgentIdentity): boolean {
  return (
    pod.metadata?.namespace === agents.namespace &&
    pod.spec?.nodeName === node &&
    pod.status?.phase === "Running" &&
    (pod.metadata.ownerReferences ?? []).some((o) => o.controller === true && o.kind === "DaemonSet" && o.apiVersion === "apps/v1" && o.name === agents.daemonSet)
  );
}

function podIps(pod: AgentPod): string[] {
  const ips = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)].filter((ip): ip is string => ip !== undefined && ip !== "");
  return [...new Set(ips)];
}

function agentEndpoint(at: { host: string; port: number }, namespace: string, pod: AgentPod): AgentEndpoint {
  const host = at.host.includes(":") ? `[${at.host}]` : at.host;
  return { url: `http://${host}:${at.port}`, pod: { namespace, name: pod.metadata?.name ?? "" }, port: at.port };
}

/**
 * The agent's URL when the NodeFindings' endpoint is the address of its node's agent pod among `pods`, else
 * why not, naming the NodeFindings and the endpoint. No request may go to an endpoint this refuses.
 */
export function verifiedAgentEndpoint(nf: NodeFindings, pods: readonly AgentPod[], agents: AgentIdentity): VerifiedEndpoint {
  const node = nf.spec.nodeName;
  const endpoint = nf.status?.agent?.endpoint;
  if (endpoint === undefined || endpoint === "") return { reason: "its agent publishes no history endpoint (an agent older than this version, or not running)" };
  const parsed = parseEndpoint(endpoint);
  if (parsed === undefined) return { reason: `NodeFindings ${nf.metadata.name ?? node}: endpoint ${JSON.stringify(endpoint)} is not an IP address and port; no request was sent to it` };
  const owner = `DaemonSet ${agents.namespace}/${agents.daemonSet}`;
  const candidates = pods.filter((pod) => isAgentPod(pod, node, agents));
  const agent = candidates.find((pod) => podIps(pod).includes(parsed.host));
  if (agent !== undefined) return agentEndpoint(parsed, agents.namespace, agent);
  const seen = candidates.length === 0 ? `no running pod of ${owner} is on ${node}` : `the agent pods of ${owner} on ${node} have ${[...new Set(candidates.flatMap(podIps))].join(", ") || "no IP yet"}`;
  return { reason: `NodeFindings ${nf.metadata.name ?? node}: endpoint ${endpoint} is not the address of ${node}'s agent pod (${seen}); no request was sent to it` };
}
