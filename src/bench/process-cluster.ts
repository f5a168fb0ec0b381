import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../api/meta.js";
import type { CgroupSandbox, SandboxPod } from "../demo/sandbox.js";
import { KubeClient } from "../kube/client.js";
import { NODE, NODE_FINDINGS_KIND, POD, STARVATION_POLICY_KIND } from "../kube/resources.js";
import { createClusterPods, ensurePodNamespace } from "./cluster-pods.js";
import { addBenchPods, PODS } from "./pod-tree.js";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const FIELD_MANAGER = "xander-bench";

/** A control plane the agent can report to, with a Node and the bench's pods as the apiserver knows them. */
export interface BenchCluster {
  readonly kubeconfig: string;
  readonly nodeName: string;
  /** Removes what the bench created, and stops the control plane if the bench started it. */
  close(): Promise<void>;
}

/**
 * The apiserver of $KUBECONFIG when it is set; otherwise a control plane of the test harness started for the
 * run (`hack/cluster.ts up`, about 15 s: etcd and kube-apiserver, no controller manager) and stopped after it.
 */
export async function startBenchCluster(log: (line: string) => void): Promise<{ kubeconfig: string; stop: () => Promise<void> }> {
  const given = process.env.KUBECONFIG;
  if (given !== undefined && given !== "") return { kubeconfig: given, stop: async () => {} };
  const tsx = `${REPO}node_modules/.bin/tsx`;
  log("starting a control plane (hack/cluster.ts up --no-controller-manager) ...");
  await run(tsx, ["hack/cluster.ts", "up", "--no-controller-manager"], { cwd: REPO });
  return {
    kubeconfig: `${REPO}.cluster/kubeconfig`,
    stop: async () => { await run(tsx, ["hack/cluster.ts", "down"], { cwd: REPO }); },
  };
}

/**
 * Installs the CRDs, creates a Node, a namespace with the bench's pods bound to that Node (their status written
 * as a kubelet would, with the container IDs of the cgroups made here), and a StarvationPolicy selecting them:
 * 1 s sampling, the default window, dependency mapping on at its default interval. `otherPods` more Pods on other
 * nodes make up the rest of the cluster, which the agent's cluster-wide Pod watch caches.
 */
export async function populateBenchCluster(
  kubeconfig: string,
  sandbox: CgroupSandbox,
  otherPods: number,
  log: (line: string) => void,
): Promise<{ pods: SandboxPod[]; cluster: Omit<BenchCluster, "kubeconfig"> }> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new KubeClient(kc);
  const suffix = randomBytes(3).toString("hex");
  const nodeName = `bench-node-${suffix}`;
  const namespace = `bench-${suffix}`;
  const policyName = `bench-${suffix}`;
  await installCrds(client);
  await client.create({ ...NODE, metadata: { name: nodeName, labels: { "kubernetes.io/hostname": nodeName, "kubernetes.io/os": "linux" } } }, FIELD_MANAGER);
  await ensurePodNamespace(client, namespace, FIELD_MANAGER);
  const uids: string[] = [];
  for (let i = 0; i < PODS; i++) uids.push(await createPod(client, namespace, nodeName, i));
  const pods = addBenchPods(sandbox, uids);
  for (const [i, pod] of pods.entries()) await writePodStatus(client, namespace, pod, i);
  if (otherPods > 0) log(`creating ${otherPods} Pods on other nodes, the rest of a ${PODS + otherPods}-pod cluster ...`);
  const others = otherPods > 0 ? await createClusterPods(client, namespace, otherPods, FIELD_MANAGER) : { namespaces: [] };
  await client.apply(
    {
      ...STARVATION_POLICY_KIND,
      metadata: { name: policyName },
      spec: {
        selector: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } },
        sampling: { interval: "1s", dependencies: { enabled: true } },
      },
    } as KubeObject,
    { fieldManager: FIELD_MANAGER },
  );
  return {
    pods,
    cluster: {
      nodeName,
      close: async () => {
        await client.delete({ ...STARVATION_POLICY_KIND, name: policyName });
        await client.delete({ ...NODE_FINDINGS_KIND, name: nodeName });
        for (const name of [namespace, ...others.namespaces]) await client.delete({ apiVersion: "v1", kind: "Namespace", name });
        await client.delete({ ...NODE, name: nodeName });
      },
    },
  };
}

export async function installCrds(client: KubeClient): Promise<void> {
  const dir = `${REPO}crds`;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml"))) {
    for (const doc of parseAllDocuments(readFileSync(`${dir}/${file}`, "utf8"))) {
      await client.apply(doc.toJS() as KubeObject, { fieldManager: FIELD_MANAGER });
    }
  }
  const deadline = Date.now() + 60_000;
  while (!(await client.serves(STARVATION_POLICY_KIND)) || !(await client.serves(NODE_FINDINGS_KIND))) {
    if (Date.now() > deadline) throw new Error("the Xander CRDs were not served within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The apiserver derives status.qosClass from requests, so a Burstable pod requests CPU and a BestEffort one nothing. */
async function createPod(client: KubeClient, namespace: string, nodeName: string, i: number): Promise<string> {
  const resources = i % 3 === 0 ? {} : { requests: { cpu: "100m" } };
  const containers = ["c0", "c1", "c2"].map((name) => ({ name, image: "registry.k8s.io/pause:3.10", resources }));
  const pod = await client.create({ ...POD, metadata: { name: `bench-${i}`, namespace, labels: { app: `bench-${i % 10}` } }, spec: { nodeName, containers } } as KubeObject, FIELD_MANAGER);
  const uid = pod.metadata?.uid;
  if (uid === undefined) throw new Error(`pod bench-${i} has no uid`);
  return uid;
}

async function writePodStatus(client: KubeClient, namespace: string, pod: SandboxPod, i: number): Promise<void> {
  const startedAt = new Date().toISOString();
  const containerStatuses = pod.containerRelPaths.map((rel, c) => ({
    name: `c${c}`,
    containerID: `containerd://${rel.slice(rel.lastIndexOf("/") + 1)}`,
    image: "registry.k8s.io/pause:3.10",
    imageID: "",
    ready: true,
    restartCount: 0,
    started: true,
    state: { running: { startedAt } },
  }));
  const status = { phase: "Running", podIP: `10.244.${Math.floor(i / 250)}.${(i % 250) + 2}`, podIPs: [{ ip: `10.244.${Math.floor(i / 250)}.${(i % 250) + 2}` }], containerStatuses };
  await client.applyStatus({ ...POD, metadata: { name: pod.name, namespace }, status } as KubeObject, { fieldManager: FIELD_MANAGER, force: true });
}
