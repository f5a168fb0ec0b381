/**
 * What 1,000 agents write: each node's NodeFindings status as a busy but ordinary cluster shows it, and how
 * it changes when a node's findings do. Pure: the fleet player (fleet-agents.ts) does the writing.
 *
 * A node runs 30 pods of 40 namespaces × 20 Deployments. It has 1 to 4 open findings under one of the
 * bench's two policies (CPUStarvation ones with a culprit on the same node), 12 dependency edges (pods on
 * other nodes, a Service, an external address) and 3 incidents closed in the last day. A change raises a
 * new critical finding that ranks above every finding before it, and closes the node's previous one into
 * its recent incidents, so the policy status and `/api/v1/top` must show the new one first.
 */
import { RULE_NAMES } from "../analysis/types.js";
import type { Condition, Dependency, NodeFinding, NodeFindingsStatus, RecentIncident } from "../api/types.generated.js";

export const PODS_PER_NODE = 30;
const NAMESPACES = 40;
const DEPLOYMENTS = 20;
const DEPENDENCIES = 12;
const RECENT_INCIDENTS = 3;
/** The CRD's default bound on recent incidents is higher; an agent keeps the newest. */
const MAX_RECENT_INCIDENTS = 10;
/** A probe's value over its threshold: above any ordinary finding, and each later probe above the one before. */
const PROBE_EXCESS = 1000;

export const BENCH_POLICIES = ["bench-a", "bench-b"] as const;

export interface BenchPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly workload: string;
}

/** Pod `k` of the cluster (node `k / 30`): namespace, Deployment and a ReplicaSet-style name. */
export function benchPod(k: number): BenchPod {
  const namespace = `team-${k % NAMESPACES}`;
  const deployment = `svc-${Math.floor(k / NAMESPACES) % DEPLOYMENTS}`;
  return { namespace, name: `${deployment}-7d9f8c${(k % 97).toString(16)}-${k.toString(36).padStart(5, "x")}`, uid: `uid-${k}`, workload: `Deployment/${deployment}` };
}

export function nodeName(node: number): string {
  return `bench-node-${String(node).padStart(5, "0")}`;
}

/** What one agent holds between writes: its open findings and recently closed incidents. */
export interface NodeState {
  readonly node: number;
  readonly findings: readonly NodeFinding[];
  readonly recentIncidents: readonly RecentIncident[];
  readonly dependencies: readonly Dependency[];
  /** The probe this node raised last, if any: the finding a change closes. */
  readonly probe?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** How a finding names a pod: no workload, which only incidents carry. */
function podRef(pod: BenchPod): { namespace: string; name: string; uid: string } {
  return { namespace: pod.namespace, name: pod.name, uid: pod.uid };
}

function finding(node: number, j: number, nowMs: number): NodeFinding {
  const pod = benchPod(node * PODS_PER_NODE + j);
  const rule = RULE_NAMES[(node + j) % RULE_NAMES.length] ?? "CPUThrottling";
  const culprit = rule === "CPUStarvation" ? { culprit: { ...podRef(benchPod(node * PODS_PER_NODE + 20)), score: 0.4 + (j % 5) / 10 } } : {};
  return {
    rule,
    severity: (node + j) % 5 === 0 ? "critical" : "warning",
    policy: BENCH_POLICIES[node % BENCH_POLICIES.length] ?? "bench-a",
    pod: podRef(pod),
    container: "app",
    value: 0.3 + ((node * 7 + j) % 60) / 100,
    threshold: 0.25,
    window: "5s",
    firstSeen: iso(nowMs - (j + 1) * 600_000),
    lastSeen: iso(nowMs),
    ...culprit,
    evidence: { cpuStallShare: "0.41", neighbourCores: "2.9" },
    message: `${rule} on app: 41% of the window (threshold 25%)`,
  };
}

function dependency(node: number, j: number, nodes: number, nowMs: number): Dependency {
  const local = benchPod(node * PODS_PER_NODE + (j % 25));
  const peer = benchPod(((node + 1 + j * 37) % nodes) * PODS_PER_NODE + (j % PODS_PER_NODE));
  const base = { from: `${local.namespace}/${local.name}`, fromWorkload: local.workload, port: 8080, connections: 1 + (j % 7), recentConnections: j % 5, firstSeen: iso(nowMs - 3_600_000), lastSeen: iso(nowMs) };
  if (j % 6 === 5) return { ...base, to: `10.${node % 250}.${j}.1`, kind: "External", direction: "outbound" };
  if (j % 6 === 4) return { ...base, to: `${peer.namespace}/svc-${j % DEPLOYMENTS}`, kind: "Service", direction: "outbound" };
  return { ...base, to: `${peer.namespace}/${peer.name}`, toWorkload: peer.workload, kind: "Pod", direction: j % 2 === 0 ? "outbound" : "inbound" };
}

function incident(f: NodeFinding, endMs: number, workload: string | undefined): RecentIncident {
  return {
    rule: f.rule,
    severity: f.severity,
    ...(f.policy === undefined ? {} : { policy: f.policy }),
    ...(f.pod === undefined ? {} : { pod: f.pod }),
    ...(f.container === undefined ? {} : { container: f.container }),
    ...(workload === undefined ? {} : { workload }),
    start: f.firstSeen,
    end: iso(endMs),
    peak: f.value,
    peakAt: iso(endMs - 60_000),
    threshold: f.threshold,
    ...(f.culprit === undefined ? {} : { culprits: [{ ...f.culprit, share: 0.8 }] }),
    message: f.message.slice(0, 512),
  };
}

/** Node `node` of a fleet of `nodes`, as its agent first reports at `nowMs`. */
export function initialNodeState(node: number, nodes: number, nowMs: number): NodeState {
  const findings = Array.from({ length: 1 + (node % 4) }, (_, j) => finding(node, j, nowMs));
  const recentIncidents = Array.from({ length: RECENT_INCIDENTS }, (_, j) => {
    const f = finding(node, 10 + j, nowMs - (j + 1) * 3_600_000);
    return incident(f, nowMs - (j + 1) * 3_000_000, benchPod(node * PODS_PER_NODE + 10 + j).workload);
  });
  return { node, findings, recentIncidents, dependencies: Array.from({ length: DEPENDENCIES }, (_, j) => dependency(node, j, nodes, nowMs)) };
}

/** The pod name of change `seq`'s new finding: what the bench looks for in the policy status and `/top`. */
export function probePodName(seq: number): string {
  return `probe-${seq}`;
}

/** The policy change `seq` raises its finding under. */
export function probePolicy(seq: number): string {
  return BENCH_POLICIES[seq % BENCH_POLICIES.length] ?? "bench-a";
}

/** Change `seq` on a node: its previous probe clears into recent incidents and a new, worse one opens. */
export function changeFindings(state: NodeState, seq: number, nowMs: number): NodeState {
  const closed = state.findings.filter((f) => f.pod?.name === state.probe);
  const open = state.findings.filter((f) => f.pod?.name !== state.probe);
  const pod = benchPod(state.node * PODS_PER_NODE + 25);
  const probe: NodeFinding = {
    rule: "CPUStarvation",
    severity: "critical",
    policy: probePolicy(seq),
    pod: { namespace: pod.namespace, name: probePodName(seq), uid: `probe-uid-${seq}` },
    container: "app",
    value: PROBE_EXCESS + seq,
    threshold: 1,
    window: "5s",
    firstSeen: iso(nowMs),
    lastSeen: iso(nowMs),
    culprit: { ...podRef(benchPod(state.node * PODS_PER_NODE + 20)), score: 0.9 },
    evidence: { cpuStallShare: "0.93", neighbourCores: "3.8" },
    message: `CPUStarvation on app: stalled 93% of the window by a neighbour (change ${seq})`,
  };
  const incidents = [...closed.map((f) => incident(f, nowMs, pod.workload)), ...state.recentIncidents].slice(0, MAX_RECENT_INCIDENTS);
  return { ...state, findings: [probe, ...open], recentIncidents: incidents, probe: probePodName(seq) };
}

/** The status an agent writes at `nowMs`: its state, fresh timestamps, the summary and its Reporting condition. */
export function nodeStatus(state: NodeState, nowMs: number, reportingSinceMs: number): NodeFindingsStatus {
  const now = iso(nowMs);
  const findings = state.findings.map((f) => ({ ...f, lastSeen: now }));
  const critical = findings.filter((f) => f.severity === "critical").length;
  const worst = findings.find((f) => f.severity === "critical") ?? findings[0];
  const conditions: Condition[] = [
    { type: "Reporting", status: "True", lastTransitionTime: iso(reportingSinceMs), reason: "AgentReporting", message: `xander-agent on ${nodeName(state.node)} is sampling and reporting` },
  ];
  return {
    agent: { version: "0.1.0", cgroupLayout: "v2/systemd", lastSample: now, pods: PODS_PER_NODE, samplesStored: 2_000_000 },
    findings,
    dependencies: state.dependencies.map((d) => ({ ...d, lastSeen: now })),
    recentIncidents: [...state.recentIncidents],
    summary: {
      critical,
      warning: findings.length - critical,
      ...(worst === undefined ? {} : { topRisk: `${worst.rule} ${worst.pod?.namespace ?? ""}/${worst.pod?.name ?? ""}`.slice(0, 256) }),
    },
    conditions,
  };
}

/** Images a kubelet lists in Node status (it reports up to 50, the largest first). */
const NODE_IMAGES = 40;

/**
 * The status a kubelet writes on its Node: conditions, addresses, capacity, node info and the images it
 * holds — about 8 KiB of JSON, most of a Node's size, which a watch cache of Nodes holds unless it slims them.
 */
export function kubeletNodeStatus(node: number, nowMs: number): Record<string, unknown> {
  const at = iso(nowMs);
  const condition = (type: string, status: string, reason: string): Record<string, string> => ({ type, status, lastHeartbeatTime: at, lastTransitionTime: at, reason, message: `kubelet reports ${reason}` });
  const ip = `10.${Math.floor(node / 250)}.${node % 250}.10`;
  const resources = { cpu: "16", memory: "65842024Ki", pods: "110", "ephemeral-storage": "203056560Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0" };
  return {
    conditions: [
      condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
      condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
      condition("PIDPressure", "False", "KubeletHasSufficientPID"),
      condition("Ready", "True", "KubeletReady"),
    ],
    addresses: [{ type: "InternalIP", address: ip }, { type: "Hostname", address: nodeName(node) }],
    capacity: resources,
    allocatable: { ...resources, cpu: "15800m", memory: "64690024Ki" },
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: `ec2${String(node).padStart(29, "0")}`,
      systemUUID: `ec2${String(node).padStart(5, "0")}-0000-0000-0000-000000000000`,
      bootID: `b00t${String(node).padStart(4, "0")}-0000-0000-0000-000000000000`,
      kernelVersion: "6.1.0-28-cloud-amd64",
      osImage: "Debian GNU/Linux 12 (bookworm)",
      containerRuntimeVersion: "containerd://1.7.24",
      kubeletVersion: "v1.34.1",
      kubeProxyVersion: "v1.34.1",
      operatingSystem: "linux",
      architecture: "amd64",
    },
    images: Array.from({ length: NODE_IMAGES }, (_, j) => ({
      names: [`registry.example.com/team-${j % NAMESPACES}/svc-${j}@sha256:${(node * 97 + j).toString(16).padStart(64, "0")}`, `registry.example.com/team-${j % NAMESPACES}/svc-${j}:v1.${j}.0`],
      sizeBytes: 20_000_000 + j * 1_000_000,
    })),
  };
}
