// Starts and stops a long-lived local control plane by hand (npm run cluster:up / cluster:down):
//   tsx hack/cluster.ts up [--no-controller-manager] [--node]
//                                                      start .cluster/dev, write .cluster/kubeconfig;
//                                                      --node adds a real node (needs root; test/cluster/node.ts),
//                                                      --cgroup-root /x gives its kubelet another cgroup root
//   tsx hack/cluster.ts down [--all]                   stop .cluster/dev (or every cluster under .cluster/)
//   tsx hack/cluster.ts status                         list clusters and their processes
import { join, relative } from "node:path";
import { clusterRoot, defaultKubeconfig, repoRoot } from "../test/cluster/paths.js";
import { listClusters, startCluster, stopCluster } from "../test/cluster/cluster.js";
import { isRunning } from "../test/cluster/process.js";

const DEV = join(clusterRoot, "dev");

function flagValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function up(args: string[]): Promise<void> {
  const cluster = await startCluster({
    name: "dev",
    controllerManager: !args.includes("--no-controller-manager"),
    node: args.includes("--node") ? { cgroupRoot: flagValue(args, "--cgroup-root") ?? "/" } : false,
    ownerPid: null,
    sharedKubeconfig: "always",
  });
  const rel = relative(process.cwd(), defaultKubeconfig) || defaultKubeconfig;
  console.log(`control plane running at ${cluster.server}`);
  for (const p of cluster.processes) console.log(`  ${p.name.padEnd(24)} pid ${p.pid}  log ${p.log}`);
  if (cluster.node) {
    console.log(`node ${cluster.node.name} Ready at ${cluster.node.ip}; containerd socket ${cluster.node.containerdSocket}`);
    console.log(`  images: ctr --address ${cluster.node.containerdSocket} -n k8s.io images ls`);
  }
  console.log(`kubeconfig: ${defaultKubeconfig}`);
  console.log(`kubectl of the server's version: ${cluster.binaries.kubectl}`);
  console.log(`export KUBECONFIG=${rel}`);
  console.log("stop with: npm run cluster:down");
}

async function down(args: string[]): Promise<void> {
  const dirs = args.includes("--all") ? listClusters().map((s) => s.stateDir) : [DEV];
  let stopped = 0;
  for (const dir of dirs) {
    if (await stopCluster(dir)) {
      console.log(`stopped ${relative(repoRoot, dir)}`);
      stopped++;
    }
  }
  if (stopped === 0) console.log("no cluster to stop");
}

function status(): void {
  const all = listClusters();
  if (all.length === 0) console.log("no clusters");
  for (const s of all) {
    const procs = s.processes.map((p) => `${p.name}:${p.pid}${isRunning(p) ? "" : "(gone)"}`).join(" ");
    console.log(`${s.name}  ${s.server}  owner ${s.ownerPid ?? "detached"}  ${procs}`);
  }
}

async function main(): Promise<void> {
  const [cmd, ...args] = process.argv.slice(2);
  switch (cmd) {
    case "up":
      await up(args);
      return;
    case "down":
      await down(args);
      return;
    case "status":
      status();
      return;
    default:
      console.error("usage: hack/cluster.ts up [--no-controller-manager] [--node] | down [--all] | status");
      process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
