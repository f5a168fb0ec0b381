// A real, kubelet-less Kubernetes control plane for tests and local development:
// etcd + kube-apiserver (+ kube-controller-manager) on loopback ports, built from
// Go modules by hack/build-k8s.sh. Every process is recorded in a state file
// (.cluster/<name>/state.json) so that any process, not only the one that started
// the cluster, can stop exactly those processes and remove their directories.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { ensureBinaries, type Binaries } from "./binaries.js";
import { probe } from "./https.js";
import { writeKubeconfig } from "./kubeconfig.js";
import { nodePreflight, startNode, teardownNodeHost, type NodeOptions, type NodeState } from "./node.js";
import { clusterRoot, defaultKubeconfig } from "./paths.js";
import {
  freePorts,
  isRunning,
  signalGroup,
  spawnDetached,
  stopProcess,
  tail,
  type ProcessRecord,
} from "./process.js";

export const SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";
export const SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16";
export const ADMIN_USER = "xander-admin";

/** What kube-controller-manager runs: enough for ownerReference GC, namespaces, SAs and workloads. */
export const CONTROLLERS = [
  "garbagecollector",
  "namespace",
  "serviceaccount",
  "serviceaccount-token",
  "root-ca-certificate-publisher-controller",
  "clusterrole-aggregation",
  "daemonset",
  "deployment",
  "replicaset",
  "endpointslice",
];

/** Added with a node: lifts the not-ready taint once the kubelet reports Ready, as in any cluster. */
export const NODE_CONTROLLERS = ["node-lifecycle-controller"];

/** The node's processes, stopped before the control plane and in this order. */
const NODE_PROCESSES = ["kubelet", "kube-scheduler", "containerd"];

export interface ClusterOptions {
  /** Names the state directory .cluster/<name>; default "dev". */
  name?: string;
  /** Start kube-controller-manager (garbage collection, namespaces, DaemonSets); default true. */
  controllerManager?: boolean;
  /** Build missing binaries with hack/build-k8s.sh; default true. */
  build?: boolean;
  /**
   * The process whose death orphans the cluster (see reapOrphanedClusters); null for
   * a cluster meant to outlive its starter, such as `npm run cluster:up`. Default: this process.
   */
  ownerPid?: number | null;
  /**
   * Also write .cluster/kubeconfig: "always", "if-free" (only when no running
   * cluster owns it), or "never". Default "if-free".
   */
  sharedKubeconfig?: "always" | "if-free" | "never";
  /** Progress lines; default: stderr. */
  log?: (line: string) => void;
  /** How long each component may take to become ready; default 180 s. */
  readyTimeoutMs?: number;
  /** Extra kube-apiserver flags, e.g. ["--feature-gates=..."]; later flags win. */
  apiserverArgs?: string[];
  /**
   * Also run a real node (node.ts): kube-scheduler, containerd and a kubelet, with the apiserver on
   * the node's address so pods reach it. Needs root; `true` for the defaults.
   */
  node?: NodeOptions | boolean;
}

export interface ClusterState {
  name: string;
  stateDir: string;
  /** Temporary directory with etcd data, keys, certificates and the component logs. */
  workDir: string;
  kubeconfigPath: string;
  server: string;
  adminToken: string;
  caFile: string;
  ownerPid: number | null;
  ownsSharedKubeconfig: boolean;
  createdAt: string;
  ports: { etcdClient: number; etcdPeer: number; apiserver: number; controllerManager: number };
  processes: ProcessRecord[];
  /** Present while a node runs, and from before its first host change until teardown undid them all. */
  node?: NodeState;
}

export interface RunningCluster {
  name: string;
  /** .cluster/<name>/kubeconfig, admin identity (system:masters). */
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  adminToken: string;
  /** PEM file that verifies the apiserver's serving certificate. */
  caFile: string;
  stateDir: string;
  workDir: string;
  binaries: Binaries;
  processes: readonly ProcessRecord[];
  /** The node, when started with `node`. */
  node?: NodeState;
  /** Stops kube-apiserver alone; etcd, its data and the controller manager stay: an outage, as in an upgrade. */
  stopApiserver(): Promise<void>;
  /** Starts kube-apiserver again on the same etcd, port and certificates; resolves once it is ready. */
  startApiserver(): Promise<void>;
  /** Stops exactly the processes this cluster started and removes its directories. Idempotent. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function stateFile(stateDir: string): string {
  return join(stateDir, "state.json");
}

/** Written to a temporary name and renamed, so another process never reads half a file. */
function saveState(state: ClusterState): void {
  const file = stateFile(state.stateDir);
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + "\n");
  renameSync(`${file}.tmp`, file);
}

export function readClusterState(stateDir: string): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(stateDir), "utf8")) as ClusterState;
  } catch {
    return undefined;
  }
}

/** Every cluster with a state file under .cluster/. */
export function listClusters(): ClusterState[] {
  if (!existsSync(clusterRoot)) return [];
  return readdirSync(clusterRoot, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => readClusterState(join(clusterRoot, d.name)))
    .filter((s): s is ClusterState => s !== undefined);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function sharedKubeconfigIsFree(): boolean {
  if (!existsSync(defaultKubeconfig)) return true;
  const current = readFileSync(defaultKubeconfig, "utf8");
  return !listClusters().some(
    (s) =>
      s.ownsSharedKubeconfig &&
      s.processes.some(isRunning) &&
      existsSync(s.kubeconfigPath) &&
      readFileSync(s.kubeconfigPath, "utf8") === current,
  );
}

function releaseSharedKubeconfig(state: ClusterState): void {
  if (!state.ownsSharedKubeconfig || !existsSync(defaultKubeconfig)) return;
  try {
    if (readFileSync(defaultKubeconfig, "utf8") === readFileSync(state.kubeconfigPath, "utf8")) {
      rmSync(defaultKubeconfig, { force: true });
    }
  } catch {
    // the cluster's own kubeconfig is already gone; leave the shared one alone
  }
}

const WORKDIR_PREFIX = "xander-cluster-";

function removeDirs(state: ClusterState): void {
  releaseSharedKubeconfig(state);
  // Only ever delete directories of the shapes this module creates.
  if (resolve(dirname(state.workDir)) === resolve(tmpdir()) && basename(state.workDir).startsWith(WORKDIR_PREFIX)) {
    rmSync(state.workDir, { recursive: true, force: true });
  }
  if (resolve(dirname(state.stateDir)) === resolve(clusterRoot)) rmSync(state.stateDir, { recursive: true, force: true });
}

/**
 * Stops the cluster recorded in stateDir: SIGTERM to each recorded process group
 * (controller-manager, apiserver, then etcd), SIGKILL after a grace period, waits
 * for each to exit, then removes the work and state directories.
 * Returns false when there is no state file.
 */
export async function stopCluster(stateDir: string): Promise<boolean> {
  const state = readClusterState(stateDir);
  if (!state) return false;
  let nodeFailures: string[] = [];
  if (state.node) {
    for (const name of NODE_PROCESSES) {
      for (const p of state.processes.filter((x) => x.name === name)) await stopProcess(p);
    }
    nodeFailures = teardownNodeHost(state.node);
  }
  for (const p of [...state.processes].reverse()) {
    await stopProcess(p);
  }
  if (nodeFailures.length > 0) {
    // Keep the work directory: something may still be mounted in it.
    releaseSharedKubeconfig(state);
    throw new Error(`the node's teardown left host changes behind (work directory ${state.workDir} kept):\n  ${nodeFailures.join("\n  ")}`);
  }
  removeDirs(state);
  return true;
}

/**
 * Synchronous last resort for process "exit" handlers: SIGKILL every recorded
 * process group and remove the directories. Prefer stopCluster.
 */
export function killClusterSync(stateDir: string): void {
  const state = readClusterState(stateDir);
  if (!state) return;
  for (const p of state.processes) signalGroup(p, "SIGKILL");
  if (state.node && teardownNodeHost(state.node).length > 0) return;
  removeDirs(state);
}

/**
 * Stops clusters whose owner process has died (e.g. a test run killed with SIGKILL)
 * and detached clusters none of whose processes still runs.
 */
export async function reapOrphanedClusters(): Promise<string[]> {
  const reaped: string[] = [];
  for (const s of listClusters()) {
    // An owned cluster lives as long as its owner; a detached one (cluster:up) as long as
    // any of its processes does.
    const orphaned = s.ownerPid !== null ? !pidAlive(s.ownerPid) : !s.processes.some(isRunning);
    if (orphaned) {
      await stopCluster(s.stateDir);
      reaped.push(s.name);
    }
  }
  return reaped;
}

async function waitFor(
  what: string,
  timeoutMs: number,
  watched: readonly ProcessRecord[],
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const died = watched.find((p) => !isRunning(p));
    if (died) throw new Error(`${died.name} exited while waiting for ${what}`);
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

interface Layout {
  workDir: string;
  etcdData: string;
  pki: string;
  kcmPki: string;
  saKey: string;
  saPub: string;
  tokens: string;
}

function prepareWorkDir(adminToken: string, extraTokens: readonly string[] = []): Layout {
  const workDir = mkdtempSync(join(tmpdir(), WORKDIR_PREFIX));
  const l: Layout = {
    workDir,
    etcdData: join(workDir, "etcd"),
    pki: join(workDir, "pki"),
    kcmPki: join(workDir, "kcm-pki"),
    saKey: join(workDir, "sa.key"),
    saPub: join(workDir, "sa.pub"),
    tokens: join(workDir, "tokens.csv"),
  };
  mkdirSync(l.pki, { mode: 0o700 });
  mkdirSync(l.kcmPki, { mode: 0o700 });
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  writeFileSync(l.saKey, privateKey, { mode: 0o600 });
  writeFileSync(l.saPub, publicKey);
  writeFileSync(l.tokens, [`${adminToken},${ADMIN_USER},${ADMIN_USER},"system:masters"`, ...extraTokens].join("\n") + "\n", { mode: 0o600 });
  return l;
}

function etcdArgs(l: Layout, client: number, peer: number): string[] {
  const c = `http://127.0.0.1:${client}`;
  const p = `http://127.0.0.1:${peer}`;
  return [
    "--name=xander",
    `--data-dir=${l.etcdData}`,
    `--listen-client-urls=${c}`,
    `--advertise-client-urls=${c}`,
    `--listen-peer-urls=${p}`,
    `--initial-advertise-peer-urls=${p}`,
    `--initial-cluster=xander=${p}`,
    "--initial-cluster-state=new",
    "--unsafe-no-fsync",
    "--log-level=warn",
  ];
}

function apiserverArgs(l: Layout, etcdClient: number, port: number, address: string): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    `--bind-address=${address}`,
    `--advertise-address=${address}`,
    `--secure-port=${port}`,
    `--cert-dir=${l.pki}`,
    "--authorization-mode=Node,RBAC",
    `--token-auth-file=${l.tokens}`,
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${l.saPub}`,
    `--service-account-signing-key-file=${l.saKey}`,
    `--api-audiences=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    "--allow-privileged=true",
    // The defaults include ValidatingAdmissionPolicy, ServiceAccount, NamespaceLifecycle,
    // webhooks and ResourceQuota. Nothing here needs a kubelet.
    "--disable-admission-plugins=StorageObjectInUseProtection,PersistentVolumeClaimResize",
    // With no kubelet and a loopback address, keeping the `kubernetes` Endpoints is pointless;
    // with a node, pods reach the apiserver through that Service.
    `--endpoint-reconciler-type=${address === "127.0.0.1" ? "none" : "lease"}`,
    // A node's name does not resolve here; logs and exec reach the kubelet at its InternalIP.
    "--kubelet-preferred-address-types=InternalIP",
    "--profiling=false",
  ];
}

function controllerManagerArgs(l: Layout, kubeconfig: string, caFile: string, port: number, controllers: readonly string[]): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    `--cert-dir=${l.kcmPki}`,
    `--controllers=${controllers.join(",")}`,
    `--service-account-private-key-file=${l.saKey}`,
    `--root-ca-file=${caFile}`,
    "--use-service-account-credentials=false",
    "--leader-elect=false",
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    "--profiling=false",
  ];
}

/** The PEM the apiserver serves with (leaf + its self-signed CA), from --cert-dir. */
function servingBundle(pki: string): string {
  return readFileSync(join(pki, "apiserver.crt"), "utf8");
}

interface Ctx {
  state: ClusterState;
  layout: Layout;
  bins: Binaries;
  log: (line: string) => void;
  timeout: number;
  extraApiserverArgs: string[];
  address: string;
  controllers: readonly string[];
}

function start(ctx: Ctx, name: string, bin: string, args: string[]): ProcessRecord {
  const logFile = join(ctx.layout.workDir, `${name}.log`);
  const rec = spawnDetached(name, bin, args, logFile);
  ctx.state.processes.push(rec);
  saveState(ctx.state);
  ctx.log(`${name} started (pid ${rec.pid}), log ${logFile}`);
  return rec;
}

async function bringUpEtcd(ctx: Ctx): Promise<void> {
  const { etcdClient, etcdPeer } = ctx.state.ports;
  const etcd = start(ctx, "etcd", ctx.bins.etcd, etcdArgs(ctx.layout, etcdClient, etcdPeer));
  await waitFor("etcd /health", ctx.timeout, [etcd], async () => {
    const r = await probe(`http://127.0.0.1:${etcdClient}/health`);
    return r.status === 200 && r.body.includes('"health":"true"');
  });
}

async function bringUpApiserver(ctx: Ctx): Promise<void> {
  const { state, layout } = ctx;
  const args = [...apiserverArgs(layout, state.ports.etcdClient, state.ports.apiserver, ctx.address), ...ctx.extraApiserverArgs];
  const api = start(ctx, "kube-apiserver", ctx.bins.kubeApiserver, args);
  // The serving certificate appears in --cert-dir shortly after start.
  await waitFor("kube-apiserver serving certificate", ctx.timeout, [api], () =>
    Promise.resolve(existsSync(join(layout.pki, "apiserver.crt"))),
  );
  writeFileSync(state.caFile, servingBundle(layout.pki));
  const ca = readFileSync(state.caFile, "utf8");
  const opts = { token: state.adminToken, ca };
  await waitFor("kube-apiserver /readyz", ctx.timeout, [api], async () => (await probe(`${state.server}/readyz`, opts)).status === 200);
  await waitFor("the default namespace", ctx.timeout, [api], async () =>
    (await probe(`${state.server}/api/v1/namespaces/default`, opts)).status === 200,
  );
}

async function bringUpControllerManager(ctx: Ctx): Promise<void> {
  const { state, layout } = ctx;
  const args = controllerManagerArgs(layout, state.kubeconfigPath, state.caFile, state.ports.controllerManager, ctx.controllers);
  const kcm = start(ctx, "kube-controller-manager", ctx.bins.kubeControllerManager, args);
  const opts = { token: state.adminToken, ca: readFileSync(state.caFile, "utf8") };
  await waitFor("kube-controller-manager /healthz", ctx.timeout, [kcm], async () =>
    (await probe(`https://127.0.0.1:${state.ports.controllerManager}/healthz`)).status === 200,
  );
  // The serviceaccount controller creating default/default shows the controllers are running.
  await waitFor("the default ServiceAccount", ctx.timeout, [kcm], async () =>
    (await probe(`${state.server}/api/v1/namespaces/default/serviceaccounts/default`, opts)).status === 200,
  );
}

/**
 * The error for a failed start: the cause plus each component's log tail. The logs
 * are copied to .cluster/last-failure/ because the work directory is removed.
 */
function failureReport(err: unknown, state: ClusterState): Error {
  const keep = join(clusterRoot, "last-failure");
  rmSync(keep, { recursive: true, force: true });
  mkdirSync(keep, { recursive: true });
  const parts = [`control plane failed to start: ${(err as Error).message}`];
  for (const p of state.processes) {
    const kept = join(keep, basename(p.log));
    if (existsSync(p.log)) copyFileSync(p.log, kept);
    parts.push(`--- ${p.name} (pid ${p.pid}) log ${kept}, last lines:\n${tail(p.log, 40)}`);
  }
  return new Error(parts.join("\n"));
}

/** Starts etcd, kube-apiserver and (by default) kube-controller-manager; resolves when ready. */
export async function startCluster(opts: ClusterOptions = {}): Promise<RunningCluster> {
  const name = opts.name ?? "dev";
  const log = opts.log ?? ((line: string) => process.stderr.write(`[cluster ${name}] ${line}\n`));
  const stateDir = join(clusterRoot, name);
  const previous = readClusterState(stateDir);
  if (previous?.processes.some(isRunning)) {
    throw new Error(`a cluster named "${name}" is already running (state ${stateDir}); stop it first`);
  }
  if (previous) await stopCluster(stateDir);

  const nodeOpts = opts.node === true ? {} : opts.node === false ? undefined : opts.node;
  // Before anything starts: a missing containerd or a kubelet already running is an error up front.
  const nodeIp = nodeOpts ? nodePreflight(nodeOpts.cgroupRoot) : undefined;
  const nodeName = nodeOpts?.name ?? "xander-node";
  const bins = await ensureBinaries(opts.build ?? true);
  const [etcdClient, etcdPeer, apiserver, controllerManager, kubelet, kubeletHealthz, scheduler] = (await freePorts(7)) as [number, number, number, number, number, number, number];
  const adminToken = randomBytes(24).toString("hex");
  // The kubelet authenticates as its Node (system:node:<name> in system:nodes), so the Node authorizer applies.
  const kubeletToken = randomBytes(24).toString("hex");
  const layout = prepareWorkDir(adminToken, nodeOpts ? [`${kubeletToken},system:node:${nodeName},system:node:${nodeName},"system:nodes"`] : []);
  const address = nodeIp ?? "127.0.0.1";
  mkdirSync(stateDir, { recursive: true });
  const state: ClusterState = {
    name,
    stateDir,
    workDir: layout.workDir,
    kubeconfigPath: join(stateDir, "kubeconfig"),
    server: `https://${address}:${apiserver}`,
    adminToken,
    caFile: join(stateDir, "ca.crt"),
    // While starting, this process owns the cluster, so an interrupted start is reaped.
    ownerPid: process.pid,
    ownsSharedKubeconfig: false,
    createdAt: new Date().toISOString(),
    ports: { etcdClient, etcdPeer, apiserver, controllerManager },
    processes: [],
  };
  saveState(state);
  const ctx: Ctx = {
    state,
    layout,
    bins,
    log,
    timeout: opts.readyTimeoutMs ?? 180_000,
    extraApiserverArgs: opts.apiserverArgs ?? [],
    address,
    controllers: nodeOpts ? [...CONTROLLERS, ...NODE_CONTROLLERS] : CONTROLLERS,
  };

  try {
    await bringUpEtcd(ctx);
    await bringUpApiserver(ctx);
    writeKubeconfig(state.kubeconfigPath, {
      server: state.server,
      token: adminToken,
      caPem: readFileSync(state.caFile, "utf8"),
      user: ADMIN_USER,
    });
    if (opts.controllerManager ?? true) await bringUpControllerManager(ctx);
    if (nodeOpts && nodeIp) {
      state.node = await startNode(
        {
          workDir: layout.workDir,
          server: state.server,
          adminToken,
          caFile: state.caFile,
          adminKubeconfig: state.kubeconfigPath,
          apiserverPort: apiserver,
          bins,
          log,
          start: (n, bin, args) => start(ctx, n, bin, args),
          save: (node) => {
            state.node = node;
            saveState(state);
          },
          watched: () => state.processes,
        },
        nodeOpts,
        nodeIp,
        { kubelet, kubeletHealthz, scheduler },
        kubeletToken,
      );
      saveState(state);
    }
  } catch (err) {
    const report = failureReport(err, state);
    await stopCluster(stateDir).catch((teardown: unknown) => {
      report.message += `\n${(teardown as Error).message}`;
    });
    throw report;
  }

  const shared = opts.sharedKubeconfig ?? "if-free";
  if (shared === "always" || (shared === "if-free" && sharedKubeconfigIsFree())) {
    writeFileSync(defaultKubeconfig, readFileSync(state.kubeconfigPath));
    state.ownsSharedKubeconfig = true;
  }
  state.ownerPid = opts.ownerPid === undefined ? process.pid : opts.ownerPid;
  saveState(state);
  log(`ready: ${state.server}, kubeconfig ${state.kubeconfigPath}`);

  let stopping: Promise<void> | undefined;
  return {
    name,
    kubeconfigPath: state.kubeconfigPath,
    server: state.server,
    adminToken,
    caFile: state.caFile,
    stateDir,
    workDir: state.workDir,
    binaries: bins,
    processes: state.processes,
    ...(state.node ? { node: state.node } : {}),
    stopApiserver: async () => {
      const running = state.processes.filter((p) => p.name === "kube-apiserver");
      for (const p of running) await stopProcess(p);
      // Forgotten once gone, so the state file lists only what teardown must stop.
      for (const p of running) state.processes.splice(state.processes.indexOf(p), 1);
      saveState(state);
    },
    startApiserver: async () => {
      if (state.processes.some((p) => p.name === "kube-apiserver" && isRunning(p))) throw new Error(`kube-apiserver of cluster ${name} is already running`);
      await bringUpApiserver(ctx);
    },
    stop: () => (stopping ??= stopCluster(stateDir).then(() => undefined)),
  };
}
