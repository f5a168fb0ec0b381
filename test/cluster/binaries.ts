// Locates (and if needed builds) the control-plane binaries through hack/build-k8s.sh,
// the one place that knows versions and cache layout.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./paths.js";

export interface Binaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  /** For the node fixture (node.ts): DaemonSet and Deployment pods are bound by the scheduler. */
  kubeScheduler: string;
  kubelet: string;
  /** kubectl of the same Kubernetes version as the apiserver. */
  kubectl: string;
  helm: string;
}

interface ScriptResult {
  code: number;
  stdout: string;
}

function runScript(args: string[], echo: boolean): Promise<ScriptResult> {
  const script = join(repoRoot, "hack", "build-k8s.sh");
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
      if (echo) process.stderr.write(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
    });
    child.once("error", reject);
    child.once("close", (code) => {
      resolve({ code: code ?? 1, stdout });
    });
  });
}

function parseDirs(stdout: string): Binaries {
  const dir = (key: string): string => {
    const m = new RegExp(`^${key}=(.+)$`, "m").exec(stdout);
    if (!m?.[1]) throw new Error(`hack/build-k8s.sh did not print ${key}=`);
    return m[1];
  };
  const k8s = dir("K8S_BIN");
  return {
    etcd: join(dir("ETCD_BIN"), "etcd"),
    kubeApiserver: join(k8s, "kube-apiserver"),
    kubeControllerManager: join(k8s, "kube-controller-manager"),
    kubeScheduler: join(k8s, "kube-scheduler"),
    kubelet: join(k8s, "kubelet"),
    kubectl: join(k8s, "kubectl"),
    helm: join(dir("HELM_BIN"), "helm"),
  };
}

/**
 * Paths of the cached binaries. Builds whatever is missing unless build is false,
 * in which case a missing binary is an error.
 */
export async function ensureBinaries(build = true): Promise<Binaries> {
  const probe = await runScript(["--print"], false);
  if (probe.code === 0) return parseDirs(probe.stdout);
  if (!build) {
    throw new Error("control-plane binaries are not built; run hack/build-k8s.sh");
  }
  process.stderr.write("building control-plane binaries with hack/build-k8s.sh (cached afterwards)\n");
  const res = await runScript([], true);
  if (res.code !== 0) {
    throw new Error(`hack/build-k8s.sh failed with exit code ${res.code}; its output is above`);
  }
  return parseDirs(res.stdout);
}
