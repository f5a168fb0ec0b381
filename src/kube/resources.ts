import { API_VERSION } from "../api/schema/names.js";

/** A kind the adapter can read, list, watch and apply. */
export interface ResourceKind {
  readonly apiVersion: string;
  readonly kind: string;
}

export const NODE: ResourceKind = { apiVersion: "v1", kind: "Node" };
export const POD: ResourceKind = { apiVersion: "v1", kind: "Pod" };
export const NAMESPACE: ResourceKind = { apiVersion: "v1", kind: "Namespace" };
export const SERVICE: ResourceKind = { apiVersion: "v1", kind: "Service" };
export const ENDPOINT_SLICE: ResourceKind = { apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice" };
export const CONFIG_MAP: ResourceKind = { apiVersion: "v1", kind: "ConfigMap" };
export const DAEMON_SET: ResourceKind = { apiVersion: "apps/v1", kind: "DaemonSet" };
export const DEPLOYMENT: ResourceKind = { apiVersion: "apps/v1", kind: "Deployment" };
export const LEASE: ResourceKind = { apiVersion: "coordination.k8s.io/v1", kind: "Lease" };
export const EVENT: ResourceKind = { apiVersion: "events.k8s.io/v1", kind: "Event" };
export const STARVATION_POLICY_KIND: ResourceKind = { apiVersion: API_VERSION, kind: "StarvationPolicy" };
export const NODE_FINDINGS_KIND: ResourceKind = { apiVersion: API_VERSION, kind: "NodeFindings" };
/** The Kubernetes Policy WG's report; its CRD is optional (Policy Reporter, Kyverno and others install it). */
export const POLICY_REPORT_KIND: ResourceKind = { apiVersion: "wgpolicyk8s.io/v1alpha2", kind: "PolicyReport" };

/** Field managers: server-side apply tracks which fields each one owns, so agent and controller never fight. */
export const CONTROLLER_FIELD_MANAGER = "xander-controller";
export const AGENT_FIELD_MANAGER = "xander-agent";

/** Labels on everything the controller creates. */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "xander";
