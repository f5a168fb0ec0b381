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
 */
import type { KubeObject } from "../api/meta.js";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../kube/resources.js";

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

const HOST_CGROUP = "/host/sys/fs/cgroup";
const HOST_PROC = "/host/proc";
const STATE_DIR = "/var/lib/xander";

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined || value === "" ? {} : ({ [key]: value } as Record<K, V>);
}

export function agentDaemonSet(cfg: AgentSettings): DaemonSet {
  const httpGet = (path: string): unknown => ({ httpGet: { path, port: "metrics" } });
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: AGENT_NAME, namespace: cfg.namespace, labels: { ...AGENT_LABELS } },
    spec: {
      selector: { matchLabels: { ...AGENT_SELECTOR } },
      updateStrategy: structuredClone(cfg.updateStrategy ?? DEFAULT_UPDATE_STRATEGY),
      template: {
        metadata: { labels: { ...AGENT_LABELS } },
        spec: {
          serviceAccountName: cfg.serviceAccountName,
          ...optional("priorityClassName", cfg.priorityClassName),
          // Not needed for what the agent reads today (cgroup files, /proc/pressure, /proc/stat). Dependency
          // mapping would need it: the kernel prints cgroup.procs in the reader's PID namespace, so from a
          // private one every other pod's pid reads as 0 and /host/proc/<pid>/net/tcp cannot be found.
          hostPID: false,
          tolerations: cfg.tolerations.map((t) => ({ ...t })),
          nodeSelector: { "kubernetes.io/os": "linux", ...cfg.nodeSelector },
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: "agent",
              image: cfg.image,
              imagePullPolicy: cfg.imagePullPolicy,
              args: ["agent", "--cgroup-root", HOST_CGROUP, "--proc-root", HOST_PROC, "--db", `${STATE_DIR}/xander.db`, "--metrics-addr", `:${AGENT_METRICS_PORT}`],
              env: [
                { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                // The name only, never the content: config changes must not roll the DaemonSet.
                { name: "XANDER_AGENT_CONFIG", value: AGENT_CONFIG_MAP },
              ],
              ports: [{ name: "metrics", containerPort: AGENT_METRICS_PORT, protocol: "TCP" }],
              resources: { ...cfg.resources },
              readinessProbe: { ...(httpGet("/readyz") as object), periodSeconds: 10 },
              livenessProbe: { ...(httpGet("/healthz") as object), periodSeconds: 20, failureThreshold: 3 },
              securityContext: {
                // cgroup files, /proc/pressure and /proc/stat are world-readable, so no capability is
                // needed; uid 0 only to write the history in the root-owned hostPath /var/lib/xander.
                // No SYS_PTRACE: with the host /proc mounted it would open every process's environ, mem
                // and root filesystem on the node, and the agent reads no /proc/<pid> entries today
                // (readlink of /proc/<pid>/ns/net for dependency mapping would need it, with hostPID).
                runAsUser: 0,
                privileged: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
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
