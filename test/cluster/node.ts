// A real node beside the test control plane: containerd (private root, state and socket), a CNI
// bridge, kube-scheduler and a kubelet on the cgroupfs driver, registered as a Node that becomes Ready.
//
// The kubelet, containerd and CNI change the host as they run: sysctls, iptables chains, the
// /kubepods cgroups, a bridge, network namespaces, /var/lib/cni, /run/containerd, /var/log/containers.
// Before it changes anything, the fixture records what was there (NodeState.host, saved in the
// cluster's state file), and teardown puts each back from that record, synchronously, so the same code
// runs from stopCluster, from a process "exit" hook and from a later run that reaps an orphaned cluster.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { probe } from "./https.js";
import { PAUSE_IMAGE, writeNodeImages } from "./images.js";
import { writeKubeconfig } from "./kubeconfig.js";
import { isRunning, tail, type ProcessRecord } from "./process.js";

/** The pod network: one bridge, addresses from host-local. */
export const POD_SUBNET = "10.244.7.0/24";
export const POD_BRIDGE = "xander-br0";
/** The `kubernetes` Service's ClusterIP (the first address of the service range). */
export const KUBERNETES_SERVICE_IP = "10.96.0.1";
/** Where pods reach the apiserver: a DNAT from the `kubernetes` Service, standing in for kube-proxy. */
const SERVICES_CHAIN = "XANDER-NODE-SERVICES";

export interface NodeOptions {
  /** The Node's name; default "xander-node". */
  name?: string;
  /** OCI image archives to import into containerd's k8s.io namespace before the kubelet starts. */
  images?: string[];
  /** How long the kubelet may take to register a Ready, untainted Node; default 180 s. */
  readyTimeoutMs?: number;
  /**
   * The kubelet's --cgroup-root; default "/", so pods live in /kubepods as on most nodes. Another root
   * (e.g. "/kube-xander") keeps this node's pods apart from a /kubepods that something else uses.
   */
  cgroupRoot?: string;
}

/** What the host looked like before the node started; teardown restores it from this. */
export interface HostRecord {
  sysctls: Record<string, string>;
  /** Paths the node may create, and whether each existed before. */
  existed: Record<string, boolean>;
  netns: string[];
  containerLogLinks: string[];
  /** iptables binary -> table -> chains that existed. */
  iptablesChains: Record<string, Record<string, string[]>>;
  cgroupMountShared: boolean;
  bridgeExisted: boolean;
  /** Every cgroup hierarchy's mount point; <cgroupRoot>/kubepods under each is the kubelet's. */
  cgroupMounts: string[];
  /** The kubelet's cgroup root, and whether it existed (in any hierarchy) before. */
  cgroupRoot: string;
  cgroupRootExisted: boolean;
}

export interface NodeState {
  name: string;
  /** The Node's InternalIP (--node-ip): a non-loopback address of this host. */
  ip: string;
  dir: string;
  containerdSocket: string;
  containerdLog: string;
  kubeletLog: string;
  kubeletRootDir: string;
  kubeletToken: string;
  ports: { kubelet: number; kubeletHealthz: number; scheduler: number };
  images: string[];
  host: HostRecord;
}

/** What the control plane gives the node fixture. */
export interface NodeHost {
  workDir: string;
  server: string;
  adminToken: string;
  caFile: string;
  adminKubeconfig: string;
  apiserverPort: number;
  bins: { kubelet: string; kubeScheduler: string };
  log: (line: string) => void;
  start: (name: string, bin: string, args: string[]) => ProcessRecord;
  /** Saves the node state into the cluster's state file. */
  save: (node: NodeState) => void;
  watched: () => readonly ProcessRecord[];
}

const SYSCTLS = [
  // The kubelet sets these (protectKernelDefaults: false).
  "vm.overcommit_memory",
  "vm.panic_on_oom",
  "kernel.panic",
  "kernel.panic_on_oops",
  "kernel.keys.root_maxkeys",
  "kernel.keys.root_maxbytes",
  // The bridge plugin turns forwarding on for its gateway.
  "net.ipv4.ip_forward",
];

/** Host paths that containerd, CNI, the kubelet or a hostPath volume of the agent may create. */
const HOST_PATHS = ["/run/containerd", "/var/lib/cni", "/var/log/containers", "/var/log/pods", "/var/lib/xander", "/run/netns", "/var/lib/kubelet"];
const IPTABLES = ["iptables", "ip6tables"];
const TABLES = ["filter", "nat", "mangle"];
const NETNS_DIR = "/run/netns";
const CONTAINER_LOGS = "/var/log/containers";
const CGROUP_MOUNT = "/sys/fs/cgroup";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

function sysctlPath(key: string): string {
  return join("/proc/sys", ...key.split("."));
}

function readSysctl(key: string): string | undefined {
  try {
    return readFileSync(sysctlPath(key), "utf8").trim();
  } catch {
    return undefined;
  }
}

function commandExists(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

interface MountInfo {
  mountPoint: string;
  fsType: string;
  shared: boolean;
}

/** /proc/self/mountinfo: mount point (octal escapes undone), filesystem type, and whether it is shared. */
export function mounts(): MountInfo[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => {
      const [pre, post] = line.split(" - ");
      const fields = (pre ?? "").split(" ");
      const mountPoint = (fields[4] ?? "").replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
      return { mountPoint, fsType: (post ?? "").split(" ")[0] ?? "", shared: fields.slice(6).some((f) => f.startsWith("shared:")) };
    });
}

function cgroupMounts(): string[] {
  return mounts()
    .filter((m) => m.fsType === "cgroup" || m.fsType === "cgroup2")
    .map((m) => m.mountPoint);
}

function iptablesChains(bin: string, table: string): string[] | undefined {
  const r = spawnSync(bin, ["-w", "5", "-t", table, "-S"], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  return r.stdout.split("\n").filter((l) => l.startsWith("-N ")).map((l) => l.slice(3).trim());
}

/** Splits an `iptables -S` rule into arguments: words, and "quoted strings" as one. */
export function splitRule(rule: string): string[] {
  const args: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(rule); m !== null; m = re.exec(rule)) args.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]!);
  return args;
}

/** The first global IPv4 address of an interface that is up, for --node-ip. */
function nodeAddress(): string {
  const r = spawnSync("ip", ["-j", "-4", "addr", "show", "up"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cannot list this host's addresses (ip -j -4 addr): ${r.stderr.trim()}`);
  const links = JSON.parse(r.stdout) as { ifname: string; addr_info?: { local: string; scope: string }[] }[];
  for (const link of links) {
    if (link.ifname === "lo" || link.ifname === POD_BRIDGE) continue;
    const a = link.addr_info?.find((x) => x.scope === "global");
    if (a) return a.local;
  }
  throw new Error("this host has no non-loopback IPv4 address; the kubelet needs one for --node-ip");
}

/**
 * Checks what the node needs before anything is started or changed. Returns the node IP.
 * Each failure names the way out.
 */
export function nodePreflight(cgroupRoot = "/"): string {
  if (process.getuid?.() !== 0) throw new Error("the node fixture needs root (containerd, the kubelet, cgroups, iptables)");
  const apt = "apt-get install -y containerd runc containernetworking-plugins busybox-static iptables";
  const missing = ["containerd", "containerd-shim-runc-v2", "runc", "ctr", "iptables", "ip", "mount", "umount", "tar"].filter((c) => !commandExists(c));
  if (missing.length > 0) throw new Error(`the node fixture needs ${missing.join(", ")} on PATH (${apt})`);
  for (const plugin of ["bridge", "host-local", "loopback"]) {
    if (!existsSync(join("/usr/lib/cni", plugin))) throw new Error(`CNI plugin /usr/lib/cni/${plugin} not found (${apt})`);
  }
  const hierarchies = cgroupMounts();
  if (hierarchies.length === 0) throw new Error("no cgroup hierarchy is mounted; the kubelet needs /sys/fs/cgroup");
  const existing = hierarchies.map((m) => join(m, cgroupRoot, "kubepods")).filter((d) => existsSync(d));
  // Empty kubepods trees are what a run that was killed leaves behind: no task, so nobody uses them.
  // rmdir only ever removes a cgroup without tasks; one with processes in it keeps the node from starting.
  const busy = existing.filter((root) => pidsIn(cgroupTree(root)).length > 0);
  if (busy.length === 0) for (const root of existing) for (const d of cgroupTree(root)) removeCgroupSync(d);
  const taken = existing.filter((d) => existsSync(d));
  if (taken.length > 0) {
    const pids = pidsIn(taken.flatMap(cgroupTree));
    throw new Error(
      `${taken.join(", ")} exists with processes in it (${pids.slice(0, 10).join(", ")}): another kubelet, node fixture or test sandbox is using the kubepods cgroups, ` +
        "and this node's teardown removes them. Stop it first (npx tsx hack/cluster.ts down --all stops clusters of this checkout), " +
        "or give the node another cgroup root (XANDER_NODE_CGROUP_ROOT=/kube-xander, or --cgroup-root with cluster:up)",
    );
  }
  if (existsSync(`/sys/class/net/${POD_BRIDGE}`)) {
    throw new Error(`network interface ${POD_BRIDGE} exists: another node fixture is running (or left it; ip link del ${POD_BRIDGE})`);
  }
  return nodeAddress();
}

function recordHost(cgroupRoot: string): HostRecord {
  const sysctls: Record<string, string> = {};
  for (const k of SYSCTLS) {
    const v = readSysctl(k);
    if (v !== undefined) sysctls[k] = v;
  }
  const existed: Record<string, boolean> = {};
  for (const p of HOST_PATHS) existed[p] = existsSync(p);
  const iptablesChains_: Record<string, Record<string, string[]>> = {};
  for (const bin of IPTABLES) {
    if (!commandExists(bin)) continue;
    const tables: Record<string, string[]> = {};
    for (const t of TABLES) {
      const chains = iptablesChains(bin, t);
      if (chains !== undefined) tables[t] = chains;
    }
    iptablesChains_[bin] = tables;
  }
  const cgroupMount = mounts().filter((m) => m.mountPoint === CGROUP_MOUNT).at(-1);
  return {
    sysctls,
    existed,
    netns: existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR) : [],
    containerLogLinks: existsSync(CONTAINER_LOGS) ? readdirSync(CONTAINER_LOGS) : [],
    iptablesChains: iptablesChains_,
    cgroupMountShared: cgroupMount?.shared ?? false,
    bridgeExisted: existsSync(`/sys/class/net/${POD_BRIDGE}`),
    cgroupMounts: cgroupMounts(),
    cgroupRoot,
    cgroupRootExisted: cgroupRoot === "/" || cgroupMounts().some((m) => existsSync(join(m, cgroupRoot))),
  };
}

function run(cmd: string, args: string[], timeoutMs = 30_000): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr || (r.error ? String(r.error) : "") };
}

function containerdConfig(dir: string, socket: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = "${join(dir, "root")}"
state = "${join(dir, "state")}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${socket}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dir, "opt")}"

[${cri}]
  sandbox_image = "${PAUSE_IMAGE}"
  # Without CAP_SYS_RESOURCE nothing here may lower its OOM score; the sandbox would fail
  # "failed to update /proc/self/oom_score_adj: Permission denied".
  restrict_oom_score_adj = true
  enable_selinux = false
  # Pod network namespaces under the private state directory rather than /run/netns.
  netns_mounts_under_state_dir = true

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  # No systemd on these machines: the cgroupfs driver, as the kubelet's.
  SystemdCgroup = false
  Root = "${join(dir, "runc")}"

[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${join(dir, "net.d")}"
`;
}

function cniConfig(dir: string): string {
  return JSON.stringify(
    {
      cniVersion: "0.4.0",
      name: "xander",
      plugins: [
        {
          type: "bridge",
          bridge: POD_BRIDGE,
          isGateway: true,
          // Pods only talk to each other and to this host (the apiserver): nothing to masquerade.
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: "host-local", ranges: [[{ subnet: POD_SUBNET }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: join(dir, "ipam") },
        },
      ],
    },
    null,
    2,
  );
}

function kubeletConfig(node: NodeState, socket: string, podLogs: string): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# No systemd here; containerd 1.6 cannot report its driver, so the kubelet uses this one.
cgroupDriver: cgroupfs
cgroupRoot: ${node.host.cgroupRoot}
# cgroup v1 (hybrid here) is still accepted by 1.34 when asked for.
failCgroupV1: false
# Without CAP_SYS_RESOURCE the kubelet may not lower its own OOM score.
oomScoreAdj: 0
containerRuntimeEndpoint: unix://${socket}
address: ${node.ip}
port: ${node.ports.kubelet}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${node.ports.kubeletHealthz}
# The apiserver has no kubelet client certificate here; kubectl logs and exec reach the kubelet anonymously.
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
podLogsDir: ${podLogs}
failSwapOn: false
serializeImagePulls: false
# A shared, busy development machine: evict only when it is nearly out of memory or disk.
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
  nodefs.inodesFree: "1%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
staticPodPath: ""
syncFrequency: 10s
nodeStatusReportFrequency: 10s
`;
}

async function waitFor(what: string, timeoutMs: number, watched: () => readonly ProcessRecord[], check: () => Promise<boolean>, hint: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const died = watched().find((p) => !isRunning(p));
    if (died) throw new Error(`${died.name} exited while waiting for ${what}; see ${died.log}:\n${tail(died.log, 20)}`);
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}; ${hint}`);
    await sleep(500);
  }
}

function ctr(node: NodeState, args: string[], timeoutMs = 300_000): { code: number; stdout: string; stderr: string } {
  return run("ctr", ["--address", node.containerdSocket, "--namespace", "k8s.io", ...args], timeoutMs);
}

/** Imports an OCI image archive into the node's containerd (k8s.io namespace), where the kubelet finds it. */
export function importImage(node: NodeState, archive: string): void {
  const r = ctr(node, ["images", "import", "--all-platforms", archive]);
  if (r.code !== 0) {
    throw new Error(`importing ${archive} into containerd failed (ctr exit ${r.code}): ${(r.stderr || r.stdout).trim()}; containerd log ${node.containerdLog}`);
  }
}

/** The image names containerd holds for the kubelet. */
export function listImages(node: NodeState): string[] {
  const r = ctr(node, ["images", "ls", "-q"]);
  return r.code === 0 ? r.stdout.split("\n").filter(Boolean) : [];
}

interface NodeObject {
  metadata?: { name?: string };
  spec?: { taints?: { key: string; effect: string }[] };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/**
 * Starts kube-scheduler, containerd and the kubelet, and waits until the Node is Ready and no longer
 * tainted not-ready. The state is saved before each host change, so a failure part-way is undone by
 * the same teardown.
 */
export async function startNode(h: NodeHost, opts: NodeOptions, ip: string, ports: NodeState["ports"], kubeletToken: string): Promise<NodeState> {
  const name = opts.name ?? "xander-node";
  const dir = join(h.workDir, "node");
  const cdir = join(dir, "containerd");
  mkdirSync(join(cdir, "net.d"), { recursive: true });
  const node: NodeState = {
    name,
    ip,
    dir,
    containerdSocket: join(cdir, "containerd.sock"),
    containerdLog: join(h.workDir, "containerd.log"),
    kubeletLog: join(h.workDir, "kubelet.log"),
    kubeletRootDir: join(dir, "kubelet"),
    kubeletToken,
    ports,
    images: [],
    host: recordHost(opts.cgroupRoot ?? "/"),
  };
  h.save(node);

  h.start("kube-scheduler", h.bins.kubeScheduler, [
    `--kubeconfig=${h.adminKubeconfig}`,
    `--authentication-kubeconfig=${h.adminKubeconfig}`,
    `--authorization-kubeconfig=${h.adminKubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${ports.scheduler}`,
    "--leader-elect=false",
    "--profiling=false",
  ]);
  await waitFor("kube-scheduler /healthz", 120_000, h.watched, async () => (await probe(`https://127.0.0.1:${ports.scheduler}/healthz`)).status === 200, "see the kube-scheduler log");

  // The agent mounts the host's /sys/fs/cgroup with HostToContainer propagation, which needs a shared mount.
  if (!node.host.cgroupMountShared) execFileSync("mount", ["--make-shared", CGROUP_MOUNT]);
  // Pods reach the apiserver at the `kubernetes` Service's ClusterIP, as in any cluster; with no
  // kube-proxy, one DNAT rule does its job for that one Service.
  const nat = (args: string[]): void => {
    execFileSync("iptables", ["-w", "5", "-t", "nat", ...args]);
  };
  nat(["-N", SERVICES_CHAIN]);
  nat(["-A", SERVICES_CHAIN, "-d", `${KUBERNETES_SERVICE_IP}/32`, "-p", "tcp", "--dport", "443", "-j", "DNAT", "--to-destination", `${ip}:${h.apiserverPort}`]);
  nat(["-I", "PREROUTING", "-j", SERVICES_CHAIN]);
  nat(["-I", "OUTPUT", "-j", SERVICES_CHAIN]);

  writeFileSync(join(cdir, "config.toml"), containerdConfig(cdir, node.containerdSocket));
  writeFileSync(join(cdir, "net.d", "10-xander.conflist"), cniConfig(cdir));
  h.start("containerd", "containerd", ["--config", join(cdir, "config.toml")]);
  await waitFor(`containerd on ${node.containerdSocket}`, 60_000, h.watched, () => Promise.resolve(existsSync(node.containerdSocket) && ctr(node, ["version"], 10_000).code === 0), `see ${node.containerdLog}`);

  const built = writeNodeImages(join(dir, "images"));
  for (const archive of [built.pause, built.busybox, ...(opts.images ?? [])]) {
    importImage(node, archive);
    node.images.push(archive);
  }
  const held = listImages(node);
  if (!held.includes(PAUSE_IMAGE)) throw new Error(`containerd does not list ${PAUSE_IMAGE} after importing it (it lists: ${held.join(", ")}); containerd log ${node.containerdLog}`);
  h.save(node);

  // The kubelet requires its --cgroup-root in every hierarchy; "/" always is. Teardown removes a root it made.
  if (!node.host.cgroupRootExisted) for (const m of node.host.cgroupMounts) makeCgroupRoot(join(m, node.host.cgroupRoot));
  const kubeconfig = join(dir, "kubelet.kubeconfig");
  writeKubeconfig(kubeconfig, { server: h.server, token: kubeletToken, caPem: readFileSync(h.caFile, "utf8"), user: `system:node:${name}` });
  const config = join(dir, "kubelet.yaml");
  const podLogs = join(dir, "pod-logs");
  mkdirSync(podLogs, { recursive: true });
  writeFileSync(config, kubeletConfig(node, node.containerdSocket, podLogs));
  h.start("kubelet", h.bins.kubelet, [
    `--config=${config}`,
    `--kubeconfig=${kubeconfig}`,
    `--root-dir=${node.kubeletRootDir}`,
    `--hostname-override=${name}`,
    `--node-ip=${ip}`,
    "--v=2",
  ]);
  const auth = { token: h.adminToken, ca: readFileSync(h.caFile, "utf8") };
  let last: NodeObject | undefined;
  await waitFor(
    `Node ${name} to be Ready without the not-ready taint`,
    opts.readyTimeoutMs ?? 180_000,
    h.watched,
    async () => {
      const r = await probe(`${h.server}/api/v1/nodes/${name}`, auth);
      if (r.status !== 200) return false;
      last = JSON.parse(r.body) as NodeObject;
      const ready = last.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
      const tainted = (last.spec?.taints ?? []).some((t) => t.key.startsWith("node.kubernetes.io/not-ready"));
      return ready && !tainted;
    },
    `see the kubelet log ${node.kubeletLog} and the containerd log ${node.containerdLog}`,
  ).catch((err: unknown) => {
    const conditions = (last?.status?.conditions ?? []).map((c) => `${c.type}=${c.status} (${c.reason ?? ""}: ${c.message ?? ""})`).join("; ");
    throw new Error(`${(err as Error).message}. The Node's conditions: ${conditions || "no Node registered"}; taints: ${JSON.stringify(last?.spec?.taints ?? [])}`);
  });
  h.log(`node ${name} Ready (${ip}); containerd ${node.containerdSocket}`);
  return node;
}

// ---------------------------------------------------------------------------------------------------
// Teardown. Synchronous, so a process "exit" hook can run it; every step runs even if one fails.

/** A cgroup directory and every one below it, deepest first. */
function cgroupTree(root: string): string[] {
  const dirs: string[] = [];
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
    } catch {
      return;
    }
    for (const e of entries) walk(e);
    dirs.push(dir);
  };
  walk(root);
  return dirs;
}

/**
 * A --cgroup-root of the node's own is for a machine shared with other work (on a node, / is the
 * kubelet's). Every task in / weighs as much as this whole tree, so a dozen busy jobs beside it
 * would leave the node's pods a sliver of the CPU, and their contention would be the machine's, not
 * each other's. The largest CPU weight lets the node's pods share the CPU among themselves, as on a
 * node of their own.
 */
function makeCgroupRoot(dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (existsSync(join(dir, "cpu.shares"))) writeFileSync(join(dir, "cpu.shares"), "262144");
  if (existsSync(join(dir, "cpu.weight"))) writeFileSync(join(dir, "cpu.weight"), "10000");
}

/** Every cgroup directory under <cgroupRoot>/kubepods (and a root of our own) in every hierarchy, deepest first. */
function kubepodsCgroups(host: HostRecord): string[] {
  return host.cgroupMounts.map((m) => join(m, host.cgroupRoot, host.cgroupRootExisted ? "kubepods" : "")).filter((root) => existsSync(root)).flatMap(cgroupTree);
}

function procsOf(dir: string): number[] {
  try {
    return readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return []; // gone already
  }
}

function pidsIn(dirs: readonly string[]): number[] {
  return [...new Set(dirs.flatMap(procsOf))];
}

/** rmdir with retries: the kernel takes a moment to release a cgroup whose last task was killed. */
function removeCgroupSync(dir: string): boolean {
  for (let i = 0; i < 50; i++) {
    try {
      rmdirSync(dir);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return true;
      sleepSync(20);
    }
  }
  return false;
}

/** containerd's shims outlive containerd; ours carry our containerd's socket in their arguments. */
function shimPids(node: NodeState): number[] {
  const pids: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
      if (argv[0]?.includes("containerd-shim") && argv.includes(node.containerdSocket)) pids.push(Number(e));
    } catch {
      // exited
    }
  }
  return pids;
}

function kill(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

function unmountUnder(prefixes: readonly string[]): string[] {
  const failures: string[] = [];
  for (let pass = 0; pass < 5; pass++) {
    const targets = mounts()
      .map((m) => m.mountPoint)
      .filter((p) => prefixes.some((pre) => p === pre || p.startsWith(`${pre}/`)))
      .sort((a, b) => b.length - a.length);
    if (targets.length === 0) return [];
    for (const t of targets) {
      if (run("umount", [t]).code !== 0 && run("umount", ["-l", t]).code !== 0) failures.push(`umount ${t}`);
    }
  }
  const left = mounts().map((m) => m.mountPoint).filter((p) => prefixes.some((pre) => p === pre || p.startsWith(`${pre}/`)));
  return left.length > 0 ? [...new Set(failures), `still mounted: ${left.join(", ")}`] : [];
}

function removeNewChains(bin: string, table: string, before: readonly string[]): string[] {
  const failures: string[] = [];
  const ipt = (args: string[]): boolean => run(bin, ["-w", "5", "-t", table, ...args]).code === 0;
  const listing = run(bin, ["-w", "5", "-t", table, "-S"]);
  if (listing.code !== 0) return [];
  const lines = listing.stdout.split("\n");
  const created = lines
    .filter((l) => l.startsWith("-N "))
    .map((l) => l.slice(3).trim())
    .filter((c) => !before.includes(c) && (c.startsWith("KUBE-") || c.startsWith("XANDER-")));
  if (created.length === 0) return [];
  // Rules in chains we keep that jump to a chain we remove.
  for (const l of lines) {
    if (!l.startsWith("-A ")) continue;
    const args = splitRule(l);
    const chain = args[1] ?? "";
    const target = args[args.indexOf("-j") + 1] ?? "";
    if (!created.includes(chain) && created.includes(target) && !ipt(["-D", ...args.slice(1)])) failures.push(`${bin} -t ${table} -D ${args.slice(1).join(" ")}`);
  }
  for (const c of created) ipt(["-F", c]);
  for (const c of created) if (!ipt(["-X", c])) failures.push(`${bin} -t ${table} -X ${c}`);
  return failures;
}

/**
 * Puts the host back as the node found it. The node's processes (kubelet, scheduler, containerd) must
 * be stopped already. Returns what could not be undone (empty when all went well).
 */
export function teardownNodeHost(node: NodeState): string[] {
  const failures: string[] = [];
  const step = (what: string, fn: () => string[]): void => {
    try {
      failures.push(...fn());
    } catch (err) {
      failures.push(`${what}: ${(err as Error).message}`);
    }
  };
  const { host } = node;

  step("stop containers", () => {
    // The container processes (in the kubelet's /kubepods cgroups, which did not exist before) and the
    // shims of our containerd; then wait for them to be gone, so the cgroups can be removed.
    const victims = [...pidsIn(kubepodsCgroups(host)), ...shimPids(node)];
    kill(victims);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (victims.some(alive) || pidsIn(kubepodsCgroups(host)).length > 0)) {
      kill(pidsIn(kubepodsCgroups(host)));
      sleepSync(100);
    }
    const left = pidsIn(kubepodsCgroups(host));
    return left.length > 0 ? [`processes still in /kubepods: ${left.join(", ")}`] : [];
  });
  const newNetns = (): string[] => (existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR).filter((n) => !host.netns.includes(n)).map((n) => join(NETNS_DIR, n)) : []);
  step("unmount", () => unmountUnder([node.dir, ...newNetns(), ...(host.existed["/run/containerd"] ? [] : ["/run/containerd"])]));
  step("network namespaces", () => {
    for (const ns of newNetns()) rmSync(ns, { force: true });
    return [];
  });
  step("cgroups", () => {
    const left = kubepodsCgroups(host).filter((d) => !removeCgroupSync(d));
    return left.length > 0 ? [`cgroups not removed: ${left.join(", ")}`] : [];
  });
  step("bridge", () => {
    if (!host.bridgeExisted && existsSync(`/sys/class/net/${POD_BRIDGE}`) && run("ip", ["link", "del", POD_BRIDGE]).code !== 0) return [`ip link del ${POD_BRIDGE}`];
    return [];
  });
  step("iptables", () => {
    const out: string[] = [];
    for (const [bin, tables] of Object.entries(host.iptablesChains)) {
      for (const t of TABLES) if (tables[t] !== undefined) out.push(...removeNewChains(bin, t, tables[t]));
    }
    return out;
  });
  step("sysctls", () => {
    const out: string[] = [];
    for (const [k, v] of Object.entries(host.sysctls)) {
      if (readSysctl(k) === v) continue;
      try {
        writeFileSync(sysctlPath(k), v);
      } catch (err) {
        out.push(`sysctl ${k}=${v}: ${(err as Error).message}`);
      }
    }
    return out;
  });
  step("container log links", () => {
    if (!existsSync(CONTAINER_LOGS)) return [];
    if (!host.existed[CONTAINER_LOGS]) rmSync(CONTAINER_LOGS, { recursive: true, force: true });
    else for (const l of readdirSync(CONTAINER_LOGS)) if (!host.containerLogLinks.includes(l) && lstatSync(join(CONTAINER_LOGS, l)).isSymbolicLink()) rmSync(join(CONTAINER_LOGS, l));
    return [];
  });
  step("host directories", () => {
    for (const p of HOST_PATHS) {
      if (p === CONTAINER_LOGS || host.existed[p] !== false || !existsSync(p)) continue;
      // Never delete through a mount that is still there.
      if (mounts().some((m) => m.mountPoint.startsWith(`${p}/`))) throw new Error(`${p} still has mounts; not removed`);
      rmSync(p, { recursive: true, force: true });
    }
    return [];
  });
  step("cgroup mount propagation", () => {
    if (!host.cgroupMountShared && mounts().filter((m) => m.mountPoint === CGROUP_MOUNT).at(-1)?.shared) execFileSync("mount", ["--make-private", CGROUP_MOUNT]);
    return [];
  });
  return failures;
}
