/**
 * Dependency mapping on real network namespaces.
 *
 * Three "pods", each its own network namespace joined by veth pairs to a bridge that lives in a
 * fourth namespace (the "node"), so no address or route is added to the host's namespace and all
 * traffic stays inside namespaces this test created. Each pod's processes sit in a throwaway cgroup
 * (pod<uid>/<container>), placed there before exec the way the kubelet's runtime does. A real node TCP
 * server runs in one pod, real clients keeping connections open in the others; one client reaches
 * the server through a DNAT rule standing in for kube-proxy's ClusterIP. A fourth pod runs in the
 * host's namespace (hostNetwork). Everything is then read the agent's way: cgroup.procs → live PID →
 * network namespace → tcp/tcp6 → connections → edges.
 *
 * Needs root, iproute2 and iptables; fails (never skips) without them.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";
import { blastRadius, blastRadiusPhrase } from "../../src/deps/blast-radius.js";
import { EdgeTracker, edgesFromPlan, planNamespaces, type NamespacePlan, type ObservedEdge, type PodNamespace } from "../../src/deps/edges.js";
import { buildPeerIndex, resolvePeer, type PodLike } from "../../src/deps/resolve.js";
import type { Socket } from "../../src/procfs/net.js";
import { hostNetnsId, netnsId, pickLivePid, readNamespaceSockets } from "../../src/procfs/netns.js";
import { CLIENT_JS, IDLE_JS, NetnsLab, leftoverNamespaces, requireNetnsTools, serverJs, waitForOutput, type LabProcess } from "./support/netns.js";

const RUN = `xander-test-${randomBytes(4).toString("hex")}`;
const SUBNET = "10.244.7";
const SERVER_IP = `${SUBNET}.2`;
const WEB_IP = `${SUBNET}.3`;
const CHECKOUT_IP = `${SUBNET}.4`;
const SERVER_PORT = 8080;
const CLUSTER_IP = "10.96.0.10";
const SERVICE_PORT = 80;

interface Container extends LabProcess {
  readonly dir: string;
}

interface TestPod {
  readonly name: string;
  readonly uid: string;
  /** Network namespace name; undefined for the hostNetwork pod. */
  readonly netns?: string;
  readonly ip?: string;
  readonly containers: Container[];
}

const lab = new NetnsLab();
let cgroupRoot = "";
const pods: Record<"api" | "web" | "checkout" | "host", TestPod | undefined> = { api: undefined, web: undefined, checkout: undefined, host: undefined };

function requirePrerequisites(): void {
  requireNetnsTools();
  // The v1 cpu hierarchy where it is mounted on its own (this project's test VMs), else pure cgroup v2.
  if (existsSync("/sys/fs/cgroup/cpu/cgroup.procs")) cgroupRoot = "/sys/fs/cgroup/cpu";
  else if (existsSync("/sys/fs/cgroup/cgroup.controllers")) cgroupRoot = "/sys/fs/cgroup";
  else throw new Error("this test needs a writable cgroup hierarchy: neither /sys/fs/cgroup/cpu (v1) nor /sys/fs/cgroup (v2) is mounted");
}

/** Starts argv in a new container cgroup of the pod (pod<uid>/<id>, placed before exec) and its namespace. */
async function startContainer(pod: { uid: string; netns?: string }, argv: readonly string[], readyLine: string): Promise<Container> {
  const podDir = path.join(cgroupRoot, RUN, `pod${pod.uid}`);
  const dir = path.join(podDir, randomBytes(8).toString("hex"));
  lab.mkdirs([path.join(cgroupRoot, RUN), podDir, dir]);
  const started = await lab.start({ cgroupDirs: [dir], ...(pod.netns === undefined ? {} : { netns: pod.netns }), argv, readyLine });
  return { ...started, dir };
}

function cgroupPathOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cgroup`, "utf8").trim().split("\n");
}

function makePod(name: string, netns?: string, ip?: string): TestPod {
  return { name, uid: randomUUID(), ...(netns ? { netns } : {}), ...(ip ? { ip } : {}), containers: [] };
}

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} was not set up`);
  return value;
}

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
const onSignal = (signal: NodeJS.Signals): void => {
  void lab
    .cleanup()
    .then(() => {
      lab.stopWatchdog();
    })
    .finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
};

// ---- reading the pods the agent's way ----

interface Snapshot {
  readonly plan: NamespacePlan;
  readonly edges: ObservedEdge[];
  readonly podNamespaces: PodNamespace[];
  readonly socketsByNetns: Map<number, Socket[]>;
}

async function snapshot(): Promise<Snapshot> {
  const podNamespaces: PodNamespace[] = [];
  const pidByNetns = new Map<number, number>();
  for (const pod of Object.values(pods)) {
    for (const c of pod?.containers ?? []) {
      const pid = pickLivePid(path.join(c.dir, "cgroup.procs"));
      if (!pid.ok) throw new Error(pid.error.message);
      const netns = netnsId("/proc", pid.value);
      if (!netns.ok) throw new Error(netns.error.message);
      podNamespaces.push({ podUid: must(pod, "pod").uid, netns: netns.value });
      pidByNetns.set(netns.value, pid.value);
    }
  }
  // The node's namespace is the one this test runs in. pid 1 would be the usual reference, but on the
  // test VMs it is the VM's supervisor, whose namespace links are unreadable even to root.
  const host = hostNetnsId("/proc", process.pid);
  if (!host.ok) throw new Error(host.error.message);
  const plan = planNamespaces(podNamespaces, host.value);
  const socketsByNetns = new Map<number, Socket[]>();
  for (const ns of plan.read) {
    const read = await readNamespaceSockets("/proc", must(pidByNetns.get(ns.netns), `pid of netns ${ns.netns}`));
    if (!read.ok) throw new Error(read.error.message);
    expect(read.value.skipped).toEqual([]);
    socketsByNetns.set(ns.netns, read.value.sockets);
  }
  return { plan, edges: edgesFromPlan(plan, socketsByNetns), podNamespaces, socketsByNetns };
}

function edgesOf(edges: readonly ObservedEdge[], pod: TestPod | undefined): string[] {
  const uid = must(pod, "pod").uid;
  return edges
    .filter((e) => e.fromPodUid === uid)
    .map((e) => (e.direction === "inbound" ? `in ${e.peer.ip} → :${e.localPort}` : `out → ${e.peer.ip}:${e.peer.port}`) + ` open=${e.connections} recent=${e.recentConnections}`)
    .sort();
}

// ---- setup ----

beforeAll(async () => {
  requirePrerequisites();
  for (const s of SIGNALS) process.once(s, onSignal);
  const node = `${RUN}-node`;
  lab.startWatchdog({ namespaces: [node, `${RUN}-api`, `${RUN}-web`, `${RUN}-checkout`], cgroupRoots: [path.join(cgroupRoot, RUN)] });
  lab.addNode(node);

  const api = (pods.api = makePod("api", `${RUN}-api`, SERVER_IP));
  const web = (pods.web = makePod("web", `${RUN}-web`, WEB_IP));
  const checkout = (pods.checkout = makePod("checkout", `${RUN}-checkout`, CHECKOUT_IP));
  const host = (pods.host = makePod("host-agent"));
  for (const [pod, veth] of [[api, "v-api"], [web, "v-web"], [checkout, "v-checkout"]] as const) lab.plugIn(node, must(pod.netns, "netns"), veth, must(pod.ip, "ip"));
  lab.clusterIp(must(checkout.netns, "netns"), CLUSTER_IP, SERVICE_PORT, SERVER_IP, SERVER_PORT);

  api.containers.push(await startContainer(api, [process.execPath, "-e", serverJs(SERVER_PORT)], "ready"));
  // A second container in the same pod (same namespace): the namespace must still be read once.
  api.containers.push(await startContainer(api, [process.execPath, "-e", IDLE_JS], "ready"));
  web.containers.push(await startContainer(web, [process.execPath, "-e", CLIENT_JS, SERVER_IP, String(SERVER_PORT), "2"], "connected"));
  checkout.containers.push(await startContainer(checkout, [process.execPath, "-e", CLIENT_JS, CLUSTER_IP, String(SERVICE_PORT), "3"], "connected"));
  host.containers.push(await startContainer(host, [process.execPath, "-e", IDLE_JS], "ready"));
}, 60_000);

afterAll(async () => {
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  const failures = await lab.cleanup();
  lab.stopWatchdog();
  expect({ failures, leftovers: leftoverNamespaces(RUN), cgroup: existsSync(path.join(cgroupRoot, RUN)) }).toEqual({ failures: [], leftovers: [], cgroup: false });
}, 60_000);

// ---- tests ----

describe("dependency edges from real network namespaces", () => {
  it("each process stayed in the cgroup it was placed in before exec, under the same PID", () => {
    for (const pod of Object.values(pods)) {
      for (const c of must(pod, "pod").containers) {
        const rel = path.relative(cgroupRoot, c.dir);
        expect(cgroupPathOf(c.pid).some((line) => line.endsWith(`:/${rel}`))).toBe(true);
        expect(readFileSync(path.join(c.dir, "cgroup.procs"), "utf8").split("\n")).toContain(String(c.pid));
        expect(path.basename(readlinkSync(`/proc/${c.pid}/exe`))).toBe(path.basename(process.execPath));
      }
    }
  });

  it("reads each network namespace once and lists the hostNetwork pod without edges", async () => {
    const { plan, podNamespaces } = await snapshot();
    const api = must(pods.api, "api");
    expect(podNamespaces.filter((p) => p.podUid === api.uid)).toHaveLength(2);
    expect(plan.read.map((r) => r.podUid).sort()).toEqual([api.uid, must(pods.web, "web").uid, must(pods.checkout, "checkout").uid].sort());
    expect(plan.hostNetwork).toEqual([must(pods.host, "host").uid]);
    expect(new Set(plan.read.map((r) => r.netns)).size).toBe(3);
  });

  it("the server sees inbound from both clients on its listen port; clients see outbound to the server and to the ClusterIP", async () => {
    const { edges } = await snapshot();
    expect(edgesOf(edges, pods.api)).toEqual([`in ${WEB_IP} → :${SERVER_PORT} open=2 recent=0`, `in ${CHECKOUT_IP} → :${SERVER_PORT} open=3 recent=0`]);
    expect(edgesOf(edges, pods.web)).toEqual([`out → ${SERVER_IP}:${SERVER_PORT} open=2 recent=0`]);
    // kube-proxy's DNAT rewrites the packets, not the socket: the client keeps the ClusterIP as its peer.
    expect(edgesOf(edges, pods.checkout)).toEqual([`out → ${CLUSTER_IP}:${SERVICE_PORT} open=3 recent=0`]);
    expect(edgesOf(edges, pods.host)).toEqual([]);
  });

  it("resolves the ClusterIP to the Service and names both calling workloads as the server's blast radius", async () => {
    const { edges } = await snapshot();
    const [api, web, checkout] = [must(pods.api, "api"), must(pods.web, "web"), must(pods.checkout, "checkout")];
    const asPod = (p: TestPod, workload: string, hash: string): PodLike => ({
      metadata: {
        namespace: "shop",
        name: `${workload}-${hash}-x1`,
        uid: p.uid,
        labels: { "pod-template-hash": hash },
        ownerReferences: [{ kind: "ReplicaSet", name: `${workload}-${hash}`, controller: true }],
      },
      status: { podIP: must(p.ip, "ip"), phase: "Running" },
    });
    const index = buildPeerIndex({
      pods: [asPod(api, "api", "6f7c"), asPod(web, "web", "58d9"), asPod(checkout, "checkout", "7b4c")],
      services: [{ metadata: { namespace: "shop", name: "api" }, spec: { clusterIP: CLUSTER_IP, ports: [{ name: "http", port: SERVICE_PORT, targetPort: SERVER_PORT }] } }],
      endpointSlices: [
        {
          metadata: { namespace: "shop", name: "api-1", labels: { "kubernetes.io/service-name": "api" } },
          endpoints: [{ addresses: [SERVER_IP], targetRef: { kind: "Pod", name: "api-6f7c-x1", uid: api.uid } }],
          ports: [{ name: "http", port: SERVER_PORT }],
        },
      ],
    });
    expect(resolvePeer(CLUSTER_IP, SERVICE_PORT, index)).toEqual({ kind: "Service", namespace: "shop", name: "api", port: SERVICE_PORT, targetPort: SERVER_PORT });
    expect(resolvePeer(WEB_IP, null, index)).toMatchObject({ kind: "Pod", uid: web.uid, owner: { kind: "Deployment", name: "web" } });

    const tracker = new EdgeTracker({ ttlMs: 60_000 });
    tracker.observe(Date.now(), edges);
    const radius = blastRadius(api.uid, tracker.edges(), index);
    expect(radius.callers.map((c) => [c.name, c.connections, [...c.seenFrom].sort().join("+")])).toEqual([
      ["checkout", 3, "caller+victim"],
      ["web", 2, "caller+victim"],
    ]);
    expect(blastRadiusPhrase(radius)).toBe("2 callers affected: checkout, web");
  });

  it("after a client closes, its side keeps the calls as recent (TIME_WAIT) while the server's side lets them go", async () => {
    const tracker = new EdgeTracker({ ttlMs: 60_000 });
    tracker.observe(1_000, (await snapshot()).edges);
    const web = must(pods.web, "web");
    const client = must(web.containers[0], "web client");
    const closed = waitForOutput(client.child, "closed");
    process.kill(client.pid, "SIGUSR2");
    await closed;
    // The FIN exchange on a local bridge takes well under a millisecond; allow for scheduling.
    await new Promise((r) => setTimeout(r, 500));
    const { edges } = await snapshot();
    expect(edgesOf(edges, web)).toEqual([`out → ${SERVER_IP}:${SERVER_PORT} open=0 recent=2`]);
    expect(edgesOf(edges, pods.api)).toEqual([`in ${CHECKOUT_IP} → :${SERVER_PORT} open=3 recent=0`]);

    tracker.observe(11_000, edges);
    const byPeer = new Map(tracker.edges().map((e) => [`${e.fromPodUid}|${e.peer.ip}`, e]));
    expect(byPeer.get(`${web.uid}|${SERVER_IP}`)).toMatchObject({ connections: 0, recentConnections: 2, peakConnections: 2, observations: 2, lastSeenMs: 11_000 });
    // The server no longer sees web, so its inbound edge is stale: no open connections, last seen at the first poll.
    expect(byPeer.get(`${must(pods.api, "api").uid}|${WEB_IP}`)).toMatchObject({ connections: 0, lastSeenMs: 1_000, observations: 1 });
  });
});
