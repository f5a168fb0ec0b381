/**
 * The agent DaemonSet, as a pure function of the controller's flags.
 *
 * One DaemonSet serves every StarvationPolicy: there is one agent per node whatever the number of
 * policies, and each agent applies all policies itself. So no single policy owns it (an ownerReference to
 * one policy would delete the agents with that policy); it is labelled managed-by=xander, the controller
 * keeps it while at least one policy exists and deletes it when the last one goes.
 *
 * The pod template depends on flags only, never on policy contents: rule and threshold changes reach the
 * agents through the API (agents watch StarvationPolicies, see agent-config.ts), so editing a policy never
 * restarts a pod. Nothing here hashes policy data into an annotation, on purpose.
 *
 * Dependency mapping (on by default, `--no-agent-dependency-mapping` turns it off) is the one switch that
 * changes the pod's privileges; see agentDaemonSet.
 *
 * In a Helm install the controller's own Deployment owns the DaemonSet and the agent ConfigMap
 * (`--owner-deployment`), so `helm uninstall`, which deletes that Deployment, lets the garbage collector
 * remove the agents too. The reference is not a controller reference and does not block deletion.
 */
import type { KubeObject, OwnerReference } from "../api/meta.js";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../kube/resources.js";
import type { AgentIdentity } from "../report/agent-endpoint.js";
import type { MetricsAuthorization } from "../server/api.js";
import { RUNTIME_ENV } from "../util/runtime-env.js";

export const AGENT_NAME = "xander-agent";
export const AGENT_CONFIG_MAP = "xander-agent-config";
export const AGENT_METRICS_PORT = 9464;

export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  tolerationSeconds?: number;
}

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

/** apps/v1 DaemonSetUpdateStrategy. */
export interface UpdateStrategy {
  type?: "RollingUpdate" | "OnDelete";
  rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string };
}

/** A node without its agent only loses visibility; roll 10% of nodes at a time. */
export const DEFAULT_UPDATE_STRATEGY: UpdateStrategy = { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } };

export interface AgentSettings {
  readonly namespace: string;
  readonly image: string;
  readonly imagePullPolicy: "Always" | "IfNotPresent" | "Never";
  readonly serviceAccountName: string;
  readonly priorityClassName?: string;
  readonly tolerations: readonly Toleration[];
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly resources: ResourceRequirements;
  /** Default: DEFAULT_UPDATE_STRATEGY. */
  readonly updateStrategy?: UpdateStrategy;
  /**
   * Run the agent with what dependency mapping needs: hostPID and CAP_SYS_PTRACE (see agentDaemonSet).
   * False: neither, and the agent runs with --no-dependency-mapping. Default true.
   */
  readonly dependencyMapping?: boolean;
  /** The controller's Deployment in `namespace`, owner of the DaemonSet and ConfigMap (see above). */
  readonly ownerDeployment?: string;
  /** Who may read the agents' /metrics; default `rbac`, which the agent does without a flag. */
  readonly metricsAuthorization?: MetricsAuthorization;
}

/** The ownerReference from the agent's objects to the controller's Deployment. */
export function deploymentOwner(deployment: KubeObject): OwnerReference | undefined {
  const { name, uid } = deployment.metadata ?? {};
  return name === undefined || uid === undefined ? undefined : { apiVersion: "apps/v1", kind: "Deployment", name, uid };
}

export interface DaemonSet extends KubeObject {
  spec?: {
    selector: { matchLabels: Record<string, string> };
    updateStrategy?: unknown;
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: PodSpec;
    };
  };
  status?: {
    desiredNumberScheduled?: number;
    currentNumberScheduled?: number;
    numberReady?: number;
    numberAvailable?: number;
    numberUnavailable?: number;
    observedGeneration?: number;
  };
}

export interface PodSpec {
  serviceAccountName?: string;
  priorityClassName?: string;
  hostPID?: boolean;
  tolerations?: Toleration[];
  nodeSelector?: Record<string, string>;
  containers: {
    name: string;
    image: string;
    imagePullPolicy?: string;
    args?: string[];
    env?: unknown[];
    ports?: unknown[];
    resources?: ResourceRequirements;
    volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; mountPropagation?: string }[];
    securityContext?: unknown;
    readinessProbe?: unknown;
    livenessProbe?: unknown;
  }[];
  volumes?: { name: string; hostPath?: { path: string; type?: string } }[];
  [key: string]: unknown;
}

/** Labels that select the agent pods; part of the (immutable) DaemonSet selector, so never change them. */
export const AGENT_SELECTOR: Readonly<Record<string, string>> = {
  "app.kubernetes.io/name": "xander",
  "app.kubernetes.io/component": "agent",
};

export const AGENT_LABELS: Readonly<Record<string, string>> = {
  ...AGENT_SELECTOR,
  "app.kubernetes.io/part-of": "xander",
  [MANAGED_BY_LABEL]: MANAGED_BY,
};

/** How a reader recognises the agent pods in `namespace`, before it sends them a token (report/agent-endpoint.ts). */
export function agentIdentity(namespace: string): AgentIdentity {
  return { namespace, daemonSet: AGENT_NAME, podLabels: AGENT_SELECTOR };
}

const HOST_CGROUP = "/host/sys/fs/cgroup";
const HOST_PROC = "/host/proc";
const STATE_DIR = "/var/lib/xander";

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined || value === "" ? {} : ({ [key]: value } as Record<K, V>);
}

/**
 * The agent DaemonSet. With dependency mapping on (the default) the pod gets exactly two privileges more
 * than sampling needs, both for reading other pods' network namespaces (docs/dependencies.md):
 *
 * - hostPID: the kernel prints cgroup.procs in the reader's PID namespace, so from a private one every
 *   other pod's PID reads as 0 (v2) or is left out (v1), and /host/proc/<pid> cannot be found;
 * - CAP_SYS_PTRACE: readlink of another process's /proc/<pid>/ns/net is a PTRACE_MODE_READ access check
 *   (proc(5)), which fails for a process holding capabilities the agent dropped, without it.
 *
 * The agent reads only /proc/<pid>/ns/net links and /proc/<pid>/net/tcp{,6} with them. But with the host's
 * /proc mounted, SYS_PTRACE and hostPID let the agent read any process's environment and memory on the
 * node, so this is a deliberate switch: `dependencyMapping: false` renders the pod without either, and
 * the agent with --no-dependency-mapping.
 */
export function agentDaemonSet(cfg: AgentSettings, owner?: OwnerReference): DaemonSet {
  const httpGet = (path: string): unknown => ({ httpGet: { path, port: "metrics" } });
  const mapping = cfg.dependencyMapping ?? true;
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: AGENT_NAME, namespace: cfg.namespace, labels: { ...AGENT_LABELS }, ...(owner ? { ownerReferences: [{ ...owner }] } : {}) },
    spec: {
      selector: { matchLabels: { ...AGENT_SELECTOR } },
      updateStrategy: structuredClone(cfg.updateStrategy ?? DEFAULT_UPDATE_STRATEGY),
      template: {
        metadata: { labels: { ...AGENT_LABELS } },
        spec: {
          serviceAccountName: cfg.serviceAccountName,
          ...optional("priorityClassName", cfg.priorityClassName),
          // Only for dependency mapping (see above): sampling reads cgroup files, /proc/pressure and /proc/stat.
          hostPID: mapping,
          tolerations: cfg.tolerations.map((t) => ({ ...t })),
          nodeSelector: { "kubernetes.io/os": "linux", ...cfg.nodeSelector },
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: "agent",
              image: cfg.image,
              imagePullPolicy: cfg.imagePullPolicy,
              args: [
                "agent",
                "--cgroup-root",
                HOST_CGROUP,
                "--proc-root",
                HOST_PROC,
                "--db",
                `${STATE_DIR}/xander.db`,
                "--metrics-addr",
                `:${AGENT_METRICS_PORT}`,
                // Published in NodeFindings so the controller's read API and the CLI find this node's history.
                "--advertise-address",
                `$(POD_IP):${AGENT_METRICS_PORT}`,
                // With hostPID, pid 1 is the node's init: its network namespace is the host's.
                ...(mapping ? ["--host-pid-for-netns", "1"] : ["--no-dependency-mapping"]),
                ...(cfg.metricsAuthorization === "none" ? ["--metrics-authorization", "none"] : []),
              ],
              env: [
                { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
                ...Object.entries(RUNTIME_ENV).map(([name, value]) => ({ name, value })),
              ],
              ports: [{ name: "metrics", containerPort: AGENT_METRICS_PORT, protocol: "TCP" }],
              resources: { ...cfg.resources },
              readinessProbe: { ...(httpGet("/readyz") as object), periodSeconds: 10 },
              livenessProbe: { ...(httpGet("/healthz") as object), periodSeconds: 20, failureThreshold: 3 },
              securityContext: {
                // cgroup files, /proc/pressure and /proc/stat are world-readable, so sampling needs no
                // capability; uid 0 only to write the history in the root-owned hostPath /var/lib/xander.
                // SYS_PTRACE only for dependency mapping (readlink /proc/<pid>/ns/net, see above), and
                // nothing else: every other capability stays dropped.
                runAsUser: 0,
                privileged: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: mapping ? { drop: ["ALL"], add: ["SYS_PTRACE"] } : { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
              },
              volumeMounts: [
                { name: "host-cgroup", mountPath: HOST_CGROUP, readOnly: true, mountPropagation: "HostToContainer" },
                { name: "host-proc", mountPath: HOST_PROC, readOnly: true },
                { name: "state", mountPath: STATE_DIR },
              ],
            },
          ],
          volumes: [
            { name: "host-cgroup", hostPath: { path: "/sys/fs/cgroup", type: "Directory" } },
            { name: "host-proc", hostPath: { path: "/proc", type: "Directory" } },
            // Node-local history survives agent restarts and upgrades.
            { name: "state", hostPath: { path: STATE_DIR, type: "DirectoryOrCreate" } },
          ],
        },
      },
    },
  };
}
