/**
 * Xander-specific operations on the API, shared by the controller and the agent: the typed informers,
 * the agent's NodeFindings status write, and Events on starved pods.
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { KubeObject } from "../api/meta.js";
import { API_VERSION } from "../api/schema.js";
import type { NodeFindings, NodeFindingsStatus, StarvationPolicy } from "../api/types.generated.js";
import type { KubeClient } from "./client.js";
import type { Informer } from "./informer.js";
import { microTime } from "./leader.js";
import { AGENT_FIELD_MANAGER, EVENT, NODE_FINDINGS_KIND, POD, STARVATION_POLICY_KIND } from "./resources.js";

/** The fields of a Pod the agent and controller read, as plain JSON. */
export interface Pod extends KubeObject {
  spec?: {
    nodeName?: string;
    containers?: { name: string; resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[];
  };
  status?: {
    phase?: string;
    qosClass?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    containerStatuses?: { name: string; containerID?: string; restartCount?: number }[];
  };
}

/** Every StarvationPolicy, list+watch. The agent hot-reloads rule settings from this cache. */
export function policyInformer(client: KubeClient, log?: Logger): Informer<StarvationPolicy> {
  return client.informer<StarvationPolicy>(STARVATION_POLICY_KIND, log === undefined ? {} : { log });
}

export function nodeFindingsInformer(client: KubeClient, log?: Logger): Informer<NodeFindings> {
  return client.informer<NodeFindings>(NODE_FINDINGS_KIND, log === undefined ? {} : { log });
}

/**
 * The pods bound to one node, list+watch with the field selector `spec.nodeName=<node>`, so an agent
 * never caches the whole cluster's pods (and the apiserver filters, not the agent).
 */
export function podsOnNodeInformer(client: KubeClient, nodeName: string, log?: Logger): Informer<Pod> {
  return client.informer<Pod>(POD, { fieldSelector: `spec.nodeName=${nodeName}`, ...(log === undefined ? {} : { log }) });
}

export async function listPolicies(client: KubeClient): Promise<StarvationPolicy[]> {
  return (await client.list<StarvationPolicy>(STARVATION_POLICY_KIND)).items;
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

export interface EventInput {
  /** The object the event is about, usually the starved Pod. */
  readonly regarding: { readonly apiVersion?: string; readonly kind: string; readonly namespace?: string; readonly name: string; readonly uid?: string };
  readonly type: "Normal" | "Warning";
  /** CamelCase, e.g. the rule name: CPUStarvation. */
  readonly reason: string;
  /** What was done or seen, CamelCase: Detected, Cleared. */
  readonly action: string;
  /** For people; truncated to the API's 1 kB. */
  readonly note: string;
  /** e.g. xander.io/agent */
  readonly reportingController: string;
  /** e.g. the agent pod's name or the node name. */
  readonly reportingInstance: string;
  readonly related?: { readonly kind: string; readonly namespace?: string; readonly name: string; readonly uid?: string };
}

/** The events.k8s.io/v1 Event for `ev`, named like client-go names them (<object>.<unique hex>). */
export function eventObject(ev: EventInput, nowMs: number = Date.now()): KubeObject & Record<string, unknown> {
  const namespace = ev.regarding.namespace ?? "default";
  return {
    ...EVENT,
    metadata: { name: `${ev.regarding.name}.${nowMs.toString(16)}${randomBytes(4).toString("hex")}`, namespace },
    eventTime: microTime(nowMs),
    type: ev.type,
    reason: ev.reason,
    action: ev.action,
    note: ev.note.length > 1024 ? `${ev.note.slice(0, 1021)}...` : ev.note,
    reportingController: ev.reportingController,
    reportingInstance: ev.reportingInstance,
    regarding: { apiVersion: ev.regarding.apiVersion ?? "v1", ...ev.regarding },
    ...(ev.related === undefined ? {} : { related: { apiVersion: "v1", ...ev.related } }),
  };
}

/** Records an Event (shown by `kubectl describe pod` and `kubectl events`). */
export async function createEvent(client: KubeClient, ev: EventInput): Promise<void> {
  await client.create(eventObject(ev));
}
