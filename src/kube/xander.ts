/**
 * Xander-specific operations on the API: the controller's typed informers and the agent's NodeFindings
 * status write.
 */
import type { Logger } from "pino";
import type { KubeObject } from "../api/meta.js";
import { API_VERSION } from "../api/schema.js";
import type { NodeFindings, NodeFindingsStatus, StarvationPolicy } from "../api/types.generated.js";
import type { KubeClient } from "./client.js";
import type { Informer } from "./informer.js";
import { AGENT_FIELD_MANAGER, NODE_FINDINGS_KIND, STARVATION_POLICY_KIND } from "./resources.js";

/** Every StarvationPolicy, list+watch: what the controller turns into the agents' configuration. */
export function policyInformer(client: KubeClient, log?: Logger): Informer<StarvationPolicy> {
  return client.informer<StarvationPolicy>(STARVATION_POLICY_KIND, log === undefined ? {} : { log });
}

/** Every NodeFindings, list+watch; `transform` (e.g. leaving out what cannot be used) applies before the cache. */
export function nodeFindingsInformer(client: KubeClient, log?: Logger, transform?: (nf: NodeFindings) => NodeFindings): Informer<NodeFindings> {
  return client.informer<NodeFindings>(NODE_FINDINGS_KIND, {
    ...(log === undefined ? {} : { log }),
    ...(transform === undefined ? {} : { transform: transform as unknown as (obj: KubeObject) => KubeObject }),
  });
}

/**
 * Server-side applies a node's NodeFindings status as the agent (field manager `xander-agent`). The
 * agent owns status; the controller owns spec and metadata (field manager `xander-controller`), so
 * neither write disturbs the other. The object must exist: the controller creates one per Node.
 * Lists in status are atomic, so each apply replaces findings and dependencies as a whole.
 */
export async function applyNodeFindingsStatus(
  client: KubeClient,
  nodeName: string,
  status: NodeFindingsStatus,
  fieldManager: string = AGENT_FIELD_MANAGER,
): Promise<NodeFindings> {
  const patch = { apiVersion: API_VERSION, kind: "NodeFindings", metadata: { name: nodeName }, status };
  return client.applyStatus(patch as unknown as NodeFindings, { fieldManager, force: true });
}
