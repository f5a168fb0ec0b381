// What the integration project's globalSetup/globalTeardown do: one real control
// plane per jest run. Workers inherit KUBECONFIG (and XANDER_CLUSTER_DIR) from the
// jest process. (Loaded through global-setup.ts / global-teardown.ts, see there.)
//
// Environment:
//   XANDER_CLUSTER=reuse  run against the cluster of `npm run cluster:up` and leave it running
//   XANDER_CLUSTER_CONTROLLER_MANAGER=0  start no kube-controller-manager
//   XANDER_CLUSTER_APISERVER_ARGS="--flag=x --other=y"  extra kube-apiserver flags
//   XANDER_NODE_CGROUP_ROOT=/kube-xander  the node suite's kubelet --cgroup-root (default /, as on most nodes)
import { join } from "node:path";
import { ensureBinaries } from "./binaries.js";
import { clusterRoot } from "./paths.js";
import { killClusterSync, readClusterState, reapOrphanedClusters, startCluster, stopCluster } from "./cluster.js";
import { buildXanderImage } from "./xander-image.js";

interface Registration {
  stateDir: string;
  onSignal: (signal: NodeJS.Signals) => void;
  onExit: () => void;
}

const REGISTRATION = Symbol.for("xander.test.cluster");

type WithRegistration = typeof globalThis & { [REGISTRATION]?: Registration };

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

function register(stateDir: string): void {
  // Interrupted run: stop the cluster gracefully, then exit as the signal would have.
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\n[cluster] ${signal}: stopping the test control plane\n`);
    stopCluster(stateDir)
      .catch(() => {
        killClusterSync(stateDir);
      })
      .finally(() => process.exit(SIGNAL_EXIT[signal] ?? 1));
  };
  // Last resort if jest exits without running globalTeardown (a crash): SIGKILL + rm, synchronously.
  const onExit = (): void => {
    killClusterSync(stateDir);
  };
  for (const s of SIGNALS) process.once(s, onSignal);
  process.once("exit", onExit);
  (globalThis as WithRegistration)[REGISTRATION] = { stateDir, onSignal, onExit };
}

function unregister(): Registration | undefined {
  const g = globalThis as WithRegistration;
  const reg = g[REGISTRATION];
  if (!reg) return undefined;
  for (const s of SIGNALS) process.removeListener(s, reg.onSignal);
  process.removeListener("exit", reg.onExit);
  g[REGISTRATION] = undefined;
  return reg;
}

async function reuseDevCluster(): Promise<void> {
  const state = readClusterState(join(clusterRoot, "dev"));
  if (!state) throw new Error("XANDER_CLUSTER=reuse but no `npm run cluster:up` cluster is running");
  process.env.KUBECONFIG = state.kubeconfigPath;
  process.env.XANDER_CLUSTER_DIR = state.stateDir;
  const bins = await ensureBinaries(false).catch(() => undefined);
  if (bins) process.env.XANDER_KUBECTL = bins.kubectl;
  process.stderr.write(`\n[cluster] reusing ${state.server} (${state.kubeconfigPath})\n`);
}

export async function setup(): Promise<void> {
  if (process.env.XANDER_CLUSTER === "reuse") {
    await reuseDevCluster();
    return;
  }
  const reaped = await reapOrphanedClusters();
  if (reaped.length > 0) process.stderr.write(`[cluster] stopped orphaned clusters: ${reaped.join(", ")}\n`);

  const name = `jest-${process.pid}`;
  register(join(clusterRoot, name));
  process.stderr.write("\n");
  const extra = process.env.XANDER_CLUSTER_APISERVER_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const cluster = await startCluster({
    name,
    ownerPid: process.pid,
    sharedKubeconfig: "if-free",
    controllerManager: process.env.XANDER_CLUSTER_CONTROLLER_MANAGER !== "0",
    apiserverArgs: extra,
  });
  process.env.KUBECONFIG = cluster.kubeconfigPath;
  process.env.XANDER_CLUSTER_DIR = cluster.stateDir;
  process.env.XANDER_KUBECTL = cluster.binaries.kubectl;
}

export async function teardown(): Promise<void> {
  const reg = unregister();
  if (!reg) return; // XANDER_CLUSTER=reuse, or setup never started a cluster
  await stopCluster(reg.stateDir);
  process.stderr.write(`[cluster] stopped ${reg.stateDir}\n`);
}

/** What jest hands a globalSetup; only the project selection is read. */
export interface GlobalConfigLike {
  selectProjects?: string[];
}

/** The values after jest's --selectProjects (which takes several) in the jest process's arguments. */
export function selectedProjects(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = argv.indexOf("--selectProjects") + 1; i > 0 && i < argv.length && !argv[i]!.startsWith("-"); i++) out.push(argv[i]!);
  return out;
}

/**
 * The `node` project's globalSetup: the Xander image built from the Dockerfile, then a control plane
 * with a real node (containerd, kubelet, scheduler) that has the image. Run it on its own
 * (npm run test:node): its kubelet owns /kubepods and would remove the cgroups that the integration
 * tests make there.
 */
export async function setupNode(globalConfig: GlobalConfigLike = {}): Promise<void> {
  const selected = globalConfig.selectProjects ?? selectedProjects(process.argv);
  if (selected.length !== 1 || selected[0] !== "node") {
    throw new Error(
      "the node suite runs on its own: npm run test:node (jest --selectProjects node). Its kubelet owns the " +
        "/kubepods cgroups and would remove the ones the integration tests make in the same run.",
    );
  }
  const reaped = await reapOrphanedClusters();
  if (reaped.length > 0) process.stderr.write(`[cluster] stopped orphaned clusters: ${reaped.join(", ")}\n`);
  process.stderr.write("\n");
  const image = await buildXanderImage();
  const name = `node-${process.pid}`;
  register(join(clusterRoot, name));
  const cgroupRoot = process.env.XANDER_NODE_CGROUP_ROOT ?? "/";
  // The workers read it too: the suite finds the agent pod's cgroup under this root.
  process.env.XANDER_NODE_CGROUP_ROOT = cgroupRoot;
  const cluster = await startCluster({ name, ownerPid: process.pid, sharedKubeconfig: "never", node: { images: [image.archive], cgroupRoot } });
  process.env.KUBECONFIG = cluster.kubeconfigPath;
  process.env.XANDER_CLUSTER_DIR = cluster.stateDir;
  process.env.XANDER_KUBECTL = cluster.binaries.kubectl;
  process.env.XANDER_IMAGE_REPOSITORY = image.repository;
  process.env.XANDER_IMAGE_TAG = image.tag;
  process.env.XANDER_NODE_NAME = cluster.node?.name ?? "";
}
