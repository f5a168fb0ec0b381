/** The controller's configuration, from flags; parsing and checks are here so the CLI only wires. */
import { hostname } from "node:os";
import { VERSION } from "../version.js";
import { parseDuration } from "../util/duration.js";
import { METRICS_AUTHORIZATIONS, type MetricsAuthorization } from "../server/api.js";
import { DEFAULT_UPDATE_STRATEGY, type AgentSettings, type ResourceRequirements, type Toleration, type UpdateStrategy } from "./daemonset.js";

export const DEFAULT_NAMESPACE = "xander-system";

export interface ControllerConfig {
  readonly namespace: string;
  /** Whether the namespace was chosen by flag or default while running outside a cluster (we create it then). */
  readonly createNamespace: boolean;
  readonly identity: string;
  readonly metricsAddr: string;
  /** Who may read /metrics, the controller's and the agents'. */
  readonly metricsAuthorization: MetricsAuthorization;
  readonly leaderElect: boolean;
  readonly leaseName: string;
  readonly leaseDurationMs: number;
  readonly resyncMs: number;
  readonly agent: AgentSettings;
}

/** The flags as commander hands them over (strings and booleans). */
export interface ControllerFlags {
  namespace?: string;
  metricsAddr: string;
  /** rbac or none; absent means rbac. */
  metricsAuthorization?: string;
  leaderElect: boolean;
  leaseName: string;
  leaseDuration: string;
  resync: string;
  identity?: string;
  agentImage: string;
  agentImagePullPolicy: string;
  agentServiceAccount: string;
  agentPriorityClass?: string;
  agentTolerations: string;
  agentNodeSelector: string;
  agentResources: string;
  /** JSON; absent means DEFAULT_UPDATE_STRATEGY. */
  agentUpdateStrategy?: string;
  /** Agent pods with hostPID and CAP_SYS_PTRACE, for dependency mapping; absent means true. */
  agentDependencyMapping?: boolean;
  /** The controller's own Deployment, owner of the agent's objects. */
  ownerDeployment?: string;
}

export const DEFAULT_AGENT_IMAGE = `ghcr.io/xander/xander:${VERSION}`;
export const DEFAULT_AGENT_TOLERATIONS = '[{"operator":"Exists"}]';
export const DEFAULT_AGENT_UPDATE_STRATEGY = JSON.stringify(DEFAULT_UPDATE_STRATEGY);
export const DEFAULT_AGENT_RESOURCES = '{"requests":{"cpu":"50m","memory":"64Mi"},"limits":{"memory":"256Mi"}}';

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

function metricsAuthorizationFlag(text: string): MetricsAuthorization {
  const mode = METRICS_AUTHORIZATIONS.find((m) => m === text);
  if (mode === undefined) throw new ConfigError(`--metrics-authorization: "${text}" is not one of ${METRICS_AUTHORIZATIONS.join(", ")}`);
  return mode;
}

function durationFlag(flag: string, text: string, minMs: number): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new ConfigError(`--${flag}: ${parsed.error}`);
  if (parsed.value < minMs) throw new ConfigError(`--${flag}: must be at least ${minMs}ms, got ${text}`);
  return parsed.value;
}

function jsonFlag(flag: string, text: string, example: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(`--${flag}: not valid JSON (${(err as Error).message}); e.g. --${flag} '${example}'`);
  }
}

function isStringMap(v: unknown): v is Record<string, string> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
}

export function parseTolerations(text: string): Toleration[] {
  const v = jsonFlag("agent-tolerations", text, DEFAULT_AGENT_TOLERATIONS);
  if (!Array.isArray(v) || !v.every((t) => typeof t === "object" && t !== null && !Array.isArray(t))) {
    throw new ConfigError(`--agent-tolerations: expected a JSON array of tolerations, e.g. '${DEFAULT_AGENT_TOLERATIONS}'`);
  }
  return v as Toleration[];
}

export function parseNodeSelector(text: string): Record<string, string> {
  const v = jsonFlag("agent-node-selector", text, '{"kubernetes.io/os":"linux"}');
  if (!isStringMap(v)) throw new ConfigError('--agent-node-selector: expected a JSON object of strings, e.g. \'{"node-role.kubernetes.io/worker":""}\'');
  return v;
}

export function parseResources(text: string): ResourceRequirements {
  const v = jsonFlag("agent-resources", text, DEFAULT_AGENT_RESOURCES);
  const r = v as { requests?: unknown; limits?: unknown } | null;
  const ok =
    typeof r === "object" &&
    r !== null &&
    !Array.isArray(r) &&
    Object.keys(r).every((k) => k === "requests" || k === "limits") &&
    (r.requests === undefined || isStringMap(r.requests)) &&
    (r.limits === undefined || isStringMap(r.limits));
  if (!ok) throw new ConfigError(`--agent-resources: expected {"requests": {...}, "limits": {...}} with string quantities, e.g. '${DEFAULT_AGENT_RESOURCES}'`);
  return r as ResourceRequirements;
}

const intOrPercent = (v: unknown): boolean => v === undefined || (typeof v === "number" && Number.isInteger(v) && v >= 0) || (typeof v === "string" && /^\d+%?$/.test(v));

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function validRollingUpdate(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isObject(v) || !Object.keys(v).every((k) => k === "maxUnavailable" || k === "maxSurge")) return false;
  return intOrPercent(v.maxUnavailable) && intOrPercent(v.maxSurge);
}

/** A DaemonSetUpdateStrategy: RollingUpdate (maxUnavailable/maxSurge as a count or a percentage) or OnDelete. */
export function parseUpdateStrategy(text: string): UpdateStrategy {
  const v = jsonFlag("agent-update-strategy", text, DEFAULT_AGENT_UPDATE_STRATEGY);
  const ok =
    isObject(v) &&
    Object.keys(v).every((k) => k === "type" || k === "rollingUpdate") &&
    (v.type === "RollingUpdate" ? validRollingUpdate(v.rollingUpdate) : v.type === "OnDelete" && v.rollingUpdate === undefined);
  if (!ok) throw new ConfigError(`--agent-update-strategy: expected {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}} or {"type": "OnDelete"}, e.g. '${DEFAULT_AGENT_UPDATE_STRATEGY}'`);
  return v;
}

function pullPolicy(text: string): AgentSettings["imagePullPolicy"] {
  if (text === "Always" || text === "IfNotPresent" || text === "Never") return text;
  throw new ConfigError(`--agent-image-pull-policy: expected Always, IfNotPresent or Never, got ${text}`);
}

/**
 * The namespace: the flag, else the pod's own namespace in a cluster, else xander-system. Outside a
 * cluster the controller creates it if missing (in a cluster, the manifests do, with its RBAC).
 */
export function resolveNamespace(flag: string | undefined, podNamespace: string | undefined): { namespace: string; create: boolean } {
  if (flag !== undefined && flag !== "") return { namespace: flag, create: podNamespace === undefined };
  if (podNamespace !== undefined) return { namespace: podNamespace, create: false };
  return { namespace: DEFAULT_NAMESPACE, create: true };
}

export function controllerConfig(flags: ControllerFlags, podNamespace: string | undefined): ControllerConfig {
  const { namespace, create } = resolveNamespace(flags.namespace, podNamespace);
  const leaseDurationMs = durationFlag("lease-duration", flags.leaseDuration, 1000);
  const metricsAuthorization = metricsAuthorizationFlag(flags.metricsAuthorization ?? "rbac");
  return {
    namespace,
    createNamespace: create,
    identity: flags.identity ?? `${hostname()}-${process.pid}`,
    metricsAddr: flags.metricsAddr,
    metricsAuthorization,
    leaderElect: flags.leaderElect,
    leaseName: flags.leaseName,
    leaseDurationMs,
    resyncMs: durationFlag("resync", flags.resync, 1000),
    agent: {
      namespace,
      image: flags.agentImage,
      imagePullPolicy: pullPolicy(flags.agentImagePullPolicy),
      serviceAccountName: flags.agentServiceAccount,
      ...(flags.agentPriorityClass === undefined || flags.agentPriorityClass === "" ? {} : { priorityClassName: flags.agentPriorityClass }),
      tolerations: parseTolerations(flags.agentTolerations),
      nodeSelector: parseNodeSelector(flags.agentNodeSelector),
      resources: parseResources(flags.agentResources),
      updateStrategy: parseUpdateStrategy(flags.agentUpdateStrategy ?? DEFAULT_AGENT_UPDATE_STRATEGY),
      dependencyMapping: flags.agentDependencyMapping ?? true,
      metricsAuthorization,
      ...(flags.ownerDeployment === undefined || flags.ownerDeployment === "" ? {} : { ownerDeployment: flags.ownerDeployment }),
    },
  };
}
