/**
 * Hidden dependencies end to end, on the real apiserver: real network namespaces with real TCP
 * connections, in kubelet-style cgroups that match API Pods, read by a real `xander agent` process and
 * published in its node's NodeFindings status; then `xander deps`, and a starved server's finding
 * naming its callers.
 *
 * The pods: "server" (a node TCP server on :8080, behind Service "api" with an explicit ClusterIP),
 * "web" (2 connections straight to the server's pod IP), "checkout" (3 connections to the ClusterIP,
 * DNATed to the server as kube-proxy would), and "hostnet" (hostNetwork: true, a process in this test's
 * own namespace, which also holds this test's connections to the apiserver: none may become its edges).
 *
 * Needs root, iproute2, iptables and cgroups with PSI; fails (never skips) without them.
 */
import { execFile } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import type { CgroupLayout } from "../../src/cgroup/types.js";
import { CgroupSandbox, randomContainerId, type SandboxPod } from "../../src/demo/sandbox.js";
import type { Dependency, NodeFindings, StarvationPolicy } from "../../src/api/types.generated.js";
import { createNamespace, createNode, createPod, deleteNamespace, deleteNode, installCrds, kubectl, poll, repoRoot, scrapeMetrics, setPodStatus } from "../cluster/index.js";
import { requireRealCgroups } from "./support/host.js";
import { CLIENT_JS, IDLE_JS, NetnsLab, leftoverNamespaces, requireNetnsTools, serverJs } from "./support/netns.js";
import { freePort, metricValue, startXander, type XanderProcess } from "./support/processes.js";

const suffix = randomBytes(3).toString("hex");
const RUN = `xander-deps-${suffix}`;
const nodeName = `deps-node-${suffix}`;
/** A second node, whose agent is played by this test: it reports one caller of the server's Service. */
const remoteNode = `deps-remote-${suffix}`;
const policyName = `deps-${suffix}`;
const controllerNamespace = `xander-deps-${suffix}`;
// A subnet of its own per run, so pods left Terminating by an earlier run (no kubelet finishes them) never share an IP.
const SUBNET = `10.244.${randomInt(100, 250)}`;
const IPS = { server: `${SUBNET}.2`, web: `${SUBNET}.3`, checkout: `${SUBNET}.4` } as const;
const SERVER_PORT = 8080;
const SERVICE_PORT = 80;

let layout: CgroupLayout;
let sandbox: CgroupSandbox | undefined;
const lab = new NetnsLab();
let namespace = "";
let clusterIp = "";
let dir = "";
let controller: XanderProcess | undefined;
let agent: XanderProcess | undefined;
let controllerMetricsPort = 0;
const pods = new Map<string, SandboxPod>();

interface PodPlan {
  readonly name: "server" | "web" | "checkout" | "hostnet";
  readonly hostNetwork?: boolean;
  readonly cpuLimitCores?: number;
}

const plans: readonly PodPlan[] = [
  // The server can be starved by its own limit: CPUThrottling once something burns CPU in it.
  { name: "server", cpuLimitCores: 0.1 },
  { name: "web" },
  { name: "checkout" },
  { name: "hostnet", hostNetwork: true },
];

/** Every hierarchy the sandbox made the pod's cgroups in, as the sandbox enters them. */
function mounts(): string[] {
  const { cpu, cpuacct, memory } = layout.v1;
  return [...new Set([cpu, cpuacct, memory, layout.unified].filter((m): m is string => m !== undefined))];
}

function pod(name: string): SandboxPod {
  const found = pods.get(name);
  if (!found) throw new Error(`pod ${name} was not set up`);
  return found;
}

async function nodeFindings(): Promise<NodeFindings | undefined> {
  const result = await kubectl(["get", "nf", nodeName, "-o", "json"]);
  return result.code === 0 ? (JSON.parse(result.stdout) as NodeFindings) : undefined;
}

const key = (d: Dependency): string => `${d.from} ${d.direction ?? "?"} ${d.kind} ${d.to}:${d.port ?? "-"} open=${d.connections ?? 0}`;

async function apply(object: unknown): Promise<void> {
  const result = await kubectl(["apply", "-f", "-"], { input: JSON.stringify(object) });
  if (result.code !== 0) throw new Error(`kubectl apply failed: ${result.stderr}`);
}

/** A Service without a selector (so no controller manages its endpoints), on a ClusterIP of our choosing. */
async function createService(): Promise<string> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const ip = `10.96.${randomInt(100, 250)}.${randomInt(2, 250)}`;
    const service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "api", namespace },
      spec: { clusterIP: ip, ports: [{ name: "http", port: SERVICE_PORT, targetPort: SERVER_PORT, protocol: "TCP" }] },
    };
    const result = await kubectl(["create", "-f", "-"], { input: JSON.stringify(service) });
    if (result.code === 0) return ip;
    if (!/already allocated/.test(result.stderr)) throw new Error(`cannot create Service api: ${result.stderr}`);
  }
  throw new Error("no free ClusterIP found in 10 tries");
}

async function startPods(): Promise<void> {
  const node = `${RUN}-node`;
  lab.addNode(node);
  for (const name of ["server", "web", "checkout"] as const) lab.plugIn(node, `${RUN}-${name}`, `v-${name}`, IPS[name]);
  lab.clusterIp(`${RUN}-checkout`, clusterIp, SERVICE_PORT, IPS.server, SERVER_PORT);
  const dirsOf = (name: string): string[] => mounts().map((m) => join(m, pod(name).containerRelPath));
  await lab.start({ cgroupDirs: dirsOf("server"), netns: `${RUN}-server`, argv: [process.execPath, "-e", serverJs(SERVER_PORT)], readyLine: "ready" });
  await lab.start({ cgroupDirs: dirsOf("web"), netns: `${RUN}-web`, argv: [process.execPath, "-e", CLIENT_JS, IPS.server, String(SERVER_PORT), "2"], readyLine: "connected" });
  await lab.start({ cgroupDirs: dirsOf("checkout"), netns: `${RUN}-checkout`, argv: [process.execPath, "-e", CLIENT_JS, clusterIp, String(SERVICE_PORT), "3"], readyLine: "connected" });
  await lab.start({ cgroupDirs: dirsOf("hostnet"), argv: [process.execPath, "-e", IDLE_JS], readyLine: "ready" });
}

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
/** The watchdog removes namespaces, processes and cgroups once this process is gone; our children go now. */
const onSignal = (signal: NodeJS.Signals): void => {
  agent?.child.kill("SIGKILL");
  controller?.child.kill("SIGKILL");
  process.exit(signal === "SIGINT" ? 130 : 143);
};

beforeAll(async () => {
  requireNetnsTools();
  layout = await requireRealCgroups();
  for (const s of SIGNALS) process.once(s, onSignal);
  dir = mkdtempSync(join(tmpdir(), "xander-deps-e2e-"));
  await installCrds(join(repoRoot, "crds"));
  await createNode(nodeName);
  namespace = await createNamespace(`deps-${suffix}`);
  clusterIp = await createService();

  sandbox = new CgroupSandbox(layout);
  for (const plan of plans) {
    // A CPU request makes the pod Burstable, which the apiserver decides at creation (qosClass is immutable).
    const limits = plan.cpuLimitCores === undefined ? {} : { limits: { cpu: `${plan.cpuLimitCores * 1000}m` } };
    const containers = [{ name: "main", resources: { requests: { cpu: "100m" }, ...limits } }];
    const apiPod = await createPod({ namespace, name: plan.name, nodeName, hostNetwork: plan.hostNetwork ?? false, containers });
    const containerId = randomContainerId();
    const uid = apiPod.metadata?.uid ?? "";
    pods.set(plan.name, sandbox.addPod({ name: plan.name, qosClass: "burstable", uid, containerId, cpuRequestCores: 0.1, ...(plan.cpuLimitCores === undefined ? {} : { cpuLimitCores: plan.cpuLimitCores }) }));
    await setPodStatus(namespace, plan.name, {
      phase: "Running",
      qosClass: "Burstable",
      // A hostNetwork pod carries the node's IP; it never names a peer.
      podIP: plan.hostNetwork === true ? "192.0.2.10" : IPS[plan.name as keyof typeof IPS],
      containerStatuses: [{ name: "main", containerID: `containerd://${containerId}`, ready: true, restartCount: 0 }],
    });
  }
  lab.startWatchdog({
    namespaces: ["node", "server", "web", "checkout"].map((n) => `${RUN}-${n}`),
    cgroupRoots: [...pods.values()].flatMap((p) => mounts().map((m) => join(m, p.podRelPath))),
    emptyParents: mounts().flatMap((m) => [join(m, "kubepods", "burstable"), join(m, "kubepods")]),
  });
  await startPods();

  await apply({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "api-1", namespace, labels: { "kubernetes.io/service-name": "api" } },
    addressType: "IPv4",
    endpoints: [{ addresses: [IPS.server], conditions: { ready: true }, targetRef: { kind: "Pod", name: "server", namespace, uid: pod("server").uid } }],
    ports: [{ name: "http", port: SERVER_PORT, protocol: "TCP" }],
  });
  await apply({
    apiVersion: "xander.io/v1alpha1",
    kind: "StarvationPolicy",
    metadata: { name: policyName },
    spec: {
      selector: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } },
      sampling: { interval: "1s", window: "5s", dependencies: { interval: "2s" } },
      rules: { CPUThrottling: { clearAfter: "10s" } },
      reporting: { heartbeat: "20s", minInterval: "1s" },
    },
  });

  controllerMetricsPort = await freePort();
  controller = startXander(["controller", "--namespace", controllerNamespace, "--metrics-addr", `127.0.0.1:${controllerMetricsPort}`, "--no-leader-elect"], join(dir, "controller.log"));
  agent = startXander(
    ["agent", "--node", nodeName, "--db", join(dir, "agent.db"), "--metrics-addr", `127.0.0.1:${await freePort()}`, "--host-pid-for-netns", String(process.pid)],
    join(dir, "agent.log"),
  );
  await poll("the agent's first NodeFindings report", async () => ((await nodeFindings())?.status?.agent?.pods === plans.length ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
}, 180_000);

afterAll(async () => {
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  // The pods' processes first: a cgroup with a live process in it cannot be removed.
  const failures = [...(await lab.cleanup()), ...((await sandbox?.cleanup()) ?? [])];
  lab.stopWatchdog();
  await agent?.stop();
  await controller?.stop();
  await kubectl(["delete", "starvationpolicy", policyName, "--ignore-not-found"]);
  if (namespace) await deleteNamespace(namespace);
  await kubectl(["delete", "namespace", controllerNamespace, "--ignore-not-found", "--wait=false"]);
  await deleteNode(nodeName);
  await deleteNode(remoteNode);
  if (process.env.XANDER_KEEP_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
  const cgroupsLeft = [...pods.values()].flatMap((p) => mounts().map((m) => join(m, p.podRelPath))).filter((d) => existsSync(d));
  expect({ failures, namespaces: leftoverNamespaces(RUN), cgroupsLeft }).toEqual({ failures: [], namespaces: [], cgroupsLeft: [] });
}, 120_000);

describe("dependencies end to end: real namespaces to NodeFindings, xander deps and the blast radius", () => {
  it("publishes the node's edges with peers named as Pods and the Service, and none for the hostNetwork pod", async () => {
    const expected = [
      `${namespace}/checkout outbound Service ${namespace}/api:${SERVICE_PORT} open=3`,
      `${namespace}/server inbound Pod ${namespace}/checkout:${SERVER_PORT} open=3`,
      `${namespace}/server inbound Pod ${namespace}/web:${SERVER_PORT} open=2`,
      `${namespace}/web outbound Pod ${namespace}/server:${SERVER_PORT} open=2`,
    ];
    // Until the cluster-wide informers have synced, peers show as IPs; the next poll names them.
    const deps = await poll(
      "resolved dependencies in NodeFindings status",
      async () => {
        const found = ((await nodeFindings())?.status?.dependencies ?? []).map(key).sort();
        return JSON.stringify(found) === JSON.stringify(expected) ? found : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(deps).toEqual(expected);
    const nf = await nodeFindings();
    expect(nf?.status?.dependencies?.every((d) => !d.from.endsWith("/hostnet") && d.firstSeen !== undefined && d.lastSeen !== undefined)).toBe(true);
  });

  it("keeps the edges in the node-local history", () => {
    const db = new Database(join(dir, "agent.db"), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare("SELECT pod_uid, direction, peer_ip, port, connections FROM edges ORDER BY pod_uid, direction, peer_ip").all() as { pod_uid: string; direction: string; peer_ip: string; port: number; connections: number }[];
      const byPod = (name: string): string[] => rows.filter((r) => r.pod_uid === pod(name).uid).map((r) => `${r.direction} ${r.peer_ip}:${r.port} open=${r.connections}`);
      expect(byPod("checkout")).toEqual([`outbound ${clusterIp}:${SERVICE_PORT} open=3`]);
      expect(byPod("server")).toEqual([`inbound ${IPS.web}:${SERVER_PORT} open=2`, `inbound ${IPS.checkout}:${SERVER_PORT} open=3`].sort());
      expect(byPod("hostnet")).toEqual([]);
    } finally {
      db.close();
    }
  });

  it("xander deps NAMESPACE/POD prints the pod's callers, through the Service too", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, "dist/bin/xander.js"), "deps", `${namespace}/server`], { env: process.env });
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^CALLER\s+CALLEE\s+VIA\s+PORTS\s+OPEN\s+RECENT\s+LAST SEEN$/);
    const rows = lines.slice(1).map((l) => l.split(/\s+/).slice(0, 5));
    expect(rows).toEqual([
      [`${namespace}/checkout`, `${namespace}/server`, `${namespace}/api`, `${SERVICE_PORT},${SERVER_PORT}`, "3"],
      [`${namespace}/web`, `${namespace}/server`, "-", String(SERVER_PORT), "2"],
    ]);
    const json = JSON.parse((await promisify(execFile)(process.execPath, [join(repoRoot, "dist/bin/xander.js"), "deps", "-o", "json"], { env: process.env })).stdout) as { edges: { caller: string; callee: string }[] };
    expect(json.edges.filter((e) => e.callee === `${namespace}/server`).map((e) => e.caller).sort()).toEqual([`${namespace}/checkout`, `${namespace}/web`]);
  });

  it("xander scan --deps reads the same edges without the API, peers by IP, the hostNetwork pod listed apart", async () => {
    const args = [join(repoRoot, "dist/bin/xander.js"), "scan", "--deps", "--deps-interval", "1s", "--duration", "2s", "--no-history", "-o", "json"];
    const { stdout } = await promisify(execFile)(process.execPath, args, { env: process.env, maxBuffer: 16 * 1024 * 1024 });
    type ScanEdge = { fromPodUid: string; direction: string; peer: { ip: string; port: number | null }; localPort: number | null; connections: number };
    const result = JSON.parse(stdout) as { dependencies: ScanEdge[]; hostNetworkPods: string[] };
    const ours = new Map([...pods].map(([name, p]) => [p.uid, name]));
    const edges = result.dependencies
      .filter((e) => ours.has(e.fromPodUid))
      .map((e) => `${ours.get(e.fromPodUid) ?? ""} ${e.direction} ${e.peer.ip}:${e.peer.port ?? e.localPort ?? "-"} open=${e.connections}`)
      .sort();
    expect(edges).toEqual(
      [
        `checkout outbound ${clusterIp}:${SERVICE_PORT} open=3`,
        `server inbound ${IPS.checkout}:${SERVER_PORT} open=3`,
        `server inbound ${IPS.web}:${SERVER_PORT} open=2`,
        `web outbound ${IPS.server}:${SERVER_PORT} open=2`,
      ].sort(),
    );
    expect(result.hostNetworkPods).toContain(pod("hostnet").uid);
  });

  it("a starved server's finding lists its callers, in status and in the Event", async () => {
    // Two busy loops: on a loaded machine one may not get even its 0.1 core, and then it is not throttled.
    sandbox!.burn(pod("server"), 2);
    const finding = await poll(
      "CPUThrottling on the server in NodeFindings",
      async () => (await nodeFindings())?.status?.findings?.find((f) => f.rule === "CPUThrottling" && f.pod?.name === "server" && f.pod.namespace === namespace),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(finding.message).toMatch(/^throttled .*; 2 callers affected: checkout, web$/);
    const note = await poll(
      "the CPUThrottling Event on the server",
      async () => {
        const result = await kubectl(["get", "events.events.k8s.io", "-n", namespace, "-o", "json"]);
        const items = (JSON.parse(result.stdout) as { items: { reason: string; note: string; regarding: { name: string } }[] }).items;
        return items.find((e) => e.reason === "CPUThrottling" && e.regarding.name === "server")?.note;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    expect(note).toMatch(/; 2 callers affected: checkout, web\.$/);
  });

  it("the controller names the server's callers across nodes in the policy's top risks, calls through the Service included", async () => {
    // The server's CPUThrottling finding from the test above is still open: its burner runs until cleanup.
    await createNode(remoteNode);
    await poll(`NodeFindings ${remoteNode}`, async () => ((await kubectl(["get", "nf", remoteNode])).code === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 });
    // What the remote node's agent would write: short calls from a CronJob's pod to the api Service,
    // seen only from the caller's end (TIME_WAIT); the server's own agent never saw them open.
    const now = new Date().toISOString();
    const remoteStatus = {
      status: {
        agent: { version: "test", lastSample: now },
        dependencies: [
          { from: `${namespace}/report-29012345-x7k2p`, to: `${namespace}/api`, kind: "Service", fromWorkload: "CronJob/report", direction: "outbound", port: SERVICE_PORT, connections: 0, recentConnections: 4, lastSeen: now },
        ],
      },
    };
    const patched = await kubectl(["patch", "nf", remoteNode, "--subresource=status", "--type=merge", "-p", JSON.stringify(remoteStatus)]);
    expect(patched.stderr).toBe("");
    const callers = await poll(
      "the server's callers in the policy's top risks",
      async () => {
        const p = JSON.parse((await kubectl(["get", "sp", policyName, "-o", "json"])).stdout) as StarvationPolicy;
        const risk = p.status?.topRisks?.find((r) => r.pod === `${namespace}/server`);
        return risk?.callers?.includes(`${namespace}/report`) === true ? risk.callers : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    // Busiest first: open connections, then recent ones. Bare pods are named as themselves, the CronJob's pod by its CronJob.
    expect(callers).toEqual([`${namespace}/checkout`, `${namespace}/web`, `${namespace}/report`]);
    const page = await scrapeMetrics(`http://127.0.0.1:${controllerMetricsPort}`);
    expect(metricValue(page, "xander_dependency_edges")).toBeGreaterThanOrEqual(3);
  });
});
