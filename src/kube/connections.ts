/**
 * client-node 1.x builds a new HTTP(S) agent for every request, so every request opens a new TCP connection
 * and a new TLS handshake: on a 1,000-node cluster that is a handshake per status write, per lease renewal,
 * per list page. Here each KubeConfig keeps one keep-alive agent per TLS identity (server, proxy, CA, client
 * certificate and key) and hands it out again, so requests share a few warm connections. A new identity — an
 * exec plugin that rotates client certificates — gets its own agent, and the oldest beyond a handful is closed.
 */
import { createHash } from "node:crypto";
import type { Agent as HttpAgent } from "node:http";
import type { Cluster, KubeConfig } from "@kubernetes/client-node";

/** Identities kept at once; more than one only while a rotated certificate replaces its predecessor. */
const MAX_AGENTS = 4;
/** Connections per agent: an agent's watches each hold one, and requests beside them share the rest. */
const MAX_FREE_SOCKETS = 8;

type AgentOptions = Record<string, unknown> & { keepAlive?: boolean; maxFreeSockets?: number };
type CreateAgent = (cluster: Cluster | null, options: AgentOptions) => HttpAgent;

const REUSING = Symbol("xander.reusingConnections");

function identity(cluster: Cluster | null, options: AgentOptions): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify([cluster?.server, cluster?.proxyUrl, cluster?.skipTLSVerify, cluster?.tlsServerName]));
  for (const field of ["ca", "cert", "key", "pfx", "passphrase", "servername", "rejectUnauthorized"]) {
    const value = options[field];
    hash.update(`\0${field}=`);
    if (Buffer.isBuffer(value) || typeof value === "string") hash.update(value);
    else hash.update(JSON.stringify(value ?? null));
  }
  return hash.digest("hex");
}

/** Makes `kc` hand out shared keep-alive agents; calling it again on the same KubeConfig changes nothing. */
export function reuseConnections(kc: KubeConfig): void {
  // createAgent is private in the typings; it is the one place every request, watch and fetch gets its agent.
  const target = kc as unknown as { createAgent: CreateAgent; [REUSING]?: true };
  if (target[REUSING]) return;
  const create = target.createAgent.bind(kc);
  const agents = new Map<string, HttpAgent>();
  target.createAgent = (cluster, options) => {
    const key = identity(cluster, options);
    const known = agents.get(key);
    if (known !== undefined) return known;
    const agent = create(cluster, { ...options, keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS });
    agents.set(key, agent);
    for (const [oldKey, old] of agents) {
      if (agents.size <= MAX_AGENTS) break;
      agents.delete(oldKey);
      old.destroy();
    }
    return agent;
  };
  target[REUSING] = true;
}
