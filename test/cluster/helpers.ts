// Helpers for suites that run against the real control plane started by the
// integration globalSetup (KUBECONFIG points at it) or by `npm run cluster:up`.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
  setHeaderOptions,
  type KubernetesObject,
  type AuthenticationV1TokenRequest,
  type V1Container,
  type V1ContainerState,
  type V1CustomResourceDefinition,
  type V1Namespace,
  type V1Node,
  type V1OwnerReference,
  type V1Pod,
  type V1ServiceAccount,
  type V1Taint,
} from "@kubernetes/client-node";
import { writeKubeconfig } from "./kubeconfig.js";
import { model, type Plain } from "./model.js";
import { clusterRoot, defaultKubeconfig, repoRoot } from "./paths.js";

export const TEST_FIELD_MANAGER = "xander-tests";

/** The kubeconfig tests use: $KUBECONFIG (set by the integration globalSetup), else .cluster/kubeconfig. */
export function kubeconfigPath(): string {
  return process.env.KUBECONFIG ?? defaultKubeconfig;
}

export function loadKubeConfig(path: string = kubeconfigPath()): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

function core(): CoreV1Api {
  return loadKubeConfig().makeApiClient(CoreV1Api);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface PollOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Calls fn until it returns something other than undefined, or throws after the timeout
 * with `what` and fn's last error. For asynchronous effects (admission policies, GC).
 */
export async function poll<T>(what: string, fn: () => Promise<T | undefined>, opts: PollOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`timed out waiting for ${what}${why}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

/** The HTTP status of a client-node error (ApiException), or undefined. */
export function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface KubectlOptions {
  kubeconfig?: string;
  input?: string;
  timeoutMs?: number;
}

/**
 * The kubectl binary: $KUBECTL, else the one built with the control plane (same
 * version as the apiserver; the integration globalSetup exports XANDER_KUBECTL),
 * else kubectl on PATH.
 */
export function kubectlBinary(): string {
  const built = process.env.XANDER_KUBECTL;
  return process.env.KUBECTL ?? (built && existsSync(built) ? built : "kubectl");
}

/** Runs kubectl against the test cluster. Never throws on a non-zero exit. */
export function kubectl(args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  const env = { ...process.env, KUBECONFIG: opts.kubeconfig ?? kubeconfigPath() };
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlBinary(), args, { env, stdio: ["pipe", "pipe", "pipe"], timeout: opts.timeoutMs ?? 60_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.once("error", reject);
    child.once("close", (code, signal) => {
      resolve({ stdout, stderr: signal ? `${stderr}\nkilled by ${signal}` : stderr, code: code ?? 1 });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** Waits until group/version discovery lists plural (what kubectl and dynamic clients resolve through). */
export async function waitForCrdDiscovery(
  group: string,
  version: string,
  plural: string,
  opts: PollOptions = {},
): Promise<void> {
  const api = loadKubeConfig().makeApiClient(CustomObjectsApi);
  await poll(
    `discovery of ${plural}.${group}/${version}`,
    async () => {
      const list = await api.getAPIResources({ group, version });
      return list.resources.some((r) => r.name === plural) ? true : undefined;
    },
    opts,
  );
}

async function waitForEstablished(name: string, opts: PollOptions): Promise<V1CustomResourceDefinition> {
  const objects = KubernetesObjectApi.makeApiClient(loadKubeConfig());
  return poll(
    `CRD ${name} Established`,
    async () => {
      const crd = await objects.read<V1CustomResourceDefinition>({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name },
      });
      const established = crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
      return established ? crd : undefined;
    },
    opts,
  );
}

/** Server-side applies one object with the given field manager (force: take over conflicts). */
export async function serverSideApply<T extends KubernetesObject>(
  obj: T,
  fieldManager: string = TEST_FIELD_MANAGER,
): Promise<T> {
  const objects = KubernetesObjectApi.makeApiClient(loadKubeConfig());
  return objects.patch<T>(obj, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
}

/**
 * Applies every YAML document in dir (default: the repository's crds/) with
 * server-side apply, then waits until each CRD is Established and each served
 * version is in discovery. Returns the CRD names.
 */
export async function installCrds(dir = "crds", opts: PollOptions = {}): Promise<string[]> {
  const abs = isAbsolute(dir) ? dir : join(repoRoot, dir);
  if (!existsSync(abs)) throw new Error(`no CRD directory ${abs}`);
  const files = readdirSync(abs)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const docs = files.flatMap((f) => loadAllYaml(readFileSync(join(abs, f), "utf8")) as KubernetesObject[]);
  const crds = docs.filter((d): d is V1CustomResourceDefinition => d.kind === "CustomResourceDefinition");
  for (const d of docs) await serverSideApply(d);
  for (const crd of crds) {
    const name = crd.metadata?.name ?? "";
    await waitForEstablished(name, opts);
    for (const v of crd.spec.versions.filter((x) => x.served)) {
      await waitForCrdDiscovery(crd.spec.group, v.name, crd.spec.names.plural, opts);
    }
  }
  return crds.map((c) => c.metadata?.name ?? "");
}

export interface CreateNodeOptions {
  labels?: Record<string, string>;
  /**
   * Mark the Node Ready and drop the node.kubernetes.io/not-ready taint that
   * admission adds (no kubelet or node-lifecycle controller here does it), so
   * that DaemonSets consider the node. Default true.
   */
  ready?: boolean;
  taints?: V1Taint[];
}

export async function createNode(name: string, labels: Record<string, string> = {}, opts: CreateNodeOptions = {}): Promise<V1Node> {
  const api = core();
  const node = await api.createNode({
    body: model<V1Node>({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", ...labels, ...opts.labels } },
      spec: { taints: opts.taints ?? [] },
    }),
  });
  if (opts.ready === false) return node;
  const now = new Date();
  await api.patchNodeStatus(
    {
      name,
      body: {
        status: {
          conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "test node", lastHeartbeatTime: now, lastTransitionTime: now }],
        },
      },
    },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
  const current = await api.readNode({ name });
  const taints = (current.spec?.taints ?? []).filter((t) => t.key !== "node.kubernetes.io/not-ready");
  return api.patchNode(
    { name, body: { spec: { taints } } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
}

/** Deletes a Node (background propagation, so its dependents are garbage-collected). 404 is fine. */
export async function deleteNode(name: string): Promise<void> {
  try {
    await core().deleteNode({ name, propagationPolicy: "Background" });
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
}

/** Creates a namespace (generated name when none is given) and returns its name. */
export async function createNamespace(name = `t-${randomBytes(4).toString("hex")}`): Promise<string> {
  await core().createNamespace({ body: model<V1Namespace>({ metadata: { name } }) });
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  try {
    await core().deleteNamespace({ name });
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
}

/** Ensures a ServiceAccount exists (ServiceAccount admission rejects pods whose account is missing). */
export async function ensureServiceAccount(namespace: string, name = "default"): Promise<void> {
  const api = core();
  try {
    await api.readNamespacedServiceAccount({ namespace, name });
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
    try {
      await api.createNamespacedServiceAccount({ namespace, body: model<V1ServiceAccount>({ metadata: { name } }) });
    } catch (e) {
      if (statusOf(e) !== 409) throw e; // the serviceaccount controller got there first
    }
  }
}

export interface CreatePodInput {
  namespace: string;
  name: string;
  /** The node the pod is "on": set at creation, so no scheduler is needed. */
  nodeName: string;
  /** Default: one container "main" running the pause image; image defaults to pause. */
  containers?: (Plain<V1Container> & { name: string })[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Plain<V1OwnerReference>[];
  hostNetwork?: boolean;
  serviceAccountName?: string;
}

/** Creates a Pod bound to nodeName. The uid is assigned by the server (read it from the result). */
export async function createPod(p: CreatePodInput): Promise<V1Pod> {
  const sa = p.serviceAccountName ?? "default";
  await ensureServiceAccount(p.namespace, sa);
  const containers = (p.containers ?? [{ name: "main" }]).map((c) =>
    model<V1Container>({ image: "registry.k8s.io/pause:3.10", ...c }),
  );
  return core().createNamespacedPod({
    namespace: p.namespace,
    body: model<V1Pod>({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: p.name, namespace: p.namespace, labels: p.labels ?? {}, annotations: p.annotations ?? {}, ...(p.ownerReferences ? { ownerReferences: p.ownerReferences } : {}) },
      spec: {
        nodeName: p.nodeName,
        serviceAccountName: sa,
        hostNetwork: p.hostNetwork ?? false,
        containers,
      },
    }),
  });
}

export interface ContainerStatusInput {
  name: string;
  /** "containerd://<id>" as the kubelet reports it; absent while the container is being created. */
  containerID?: string;
  ready: boolean;
  restartCount: number;
  state?: V1ContainerState;
  image?: string;
  imageID?: string;
}

export interface PodStatusInput {
  phase: "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
  qosClass?: "Guaranteed" | "Burstable" | "BestEffort";
  podIP?: string;
  hostIP?: string;
  containerStatuses?: ContainerStatusInput[];
}

/** Writes what a kubelet would, through the pod's /status subresource (merge patch). */
export async function setPodStatus(namespace: string, name: string, s: PodStatusInput): Promise<V1Pod> {
  const api = core();
  const pod = await api.readNamespacedPod({ namespace, name });
  const images = new Map((pod.spec?.containers ?? []).map((c) => [c.name, c.image ?? ""]));
  const containerStatuses = s.containerStatuses?.map((c) => ({
    image: images.get(c.name) ?? "",
    imageID: "",
    state: model<V1ContainerState>({ running: { startedAt: new Date() } }),
    ...c,
  }));
  const status = {
    phase: s.phase,
    ...(s.qosClass ? { qosClass: s.qosClass } : {}),
    ...(s.podIP ? { podIP: s.podIP, podIPs: [{ ip: s.podIP }] } : {}),
    ...(s.hostIP ? { hostIP: s.hostIP, hostIPs: [{ ip: s.hostIP }] } : {}),
    ...(containerStatuses ? { containerStatuses } : {}),
  };
  return api.patchNamespacedPodStatus(
    { namespace, name, body: { status } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
}

export interface PodBoundTokenInput {
  namespace: string;
  serviceAccount: string;
  podName: string;
  audiences?: string[];
  /** At least 600 (the apiserver's minimum). Default 3600. */
  expirationSeconds?: number;
}

/**
 * A TokenRequest for the ServiceAccount bound to the Pod: valid only while that Pod
 * exists, and (for a Pod with spec.nodeName) carrying the node name claim
 * `kubernetes.io.node.name` / `authentication.kubernetes.io/node-name` in user extras.
 */
export async function mintPodBoundToken(t: PodBoundTokenInput): Promise<string> {
  const api = core();
  const pod = await api.readNamespacedPod({ namespace: t.namespace, name: t.podName });
  const req = await api.createNamespacedServiceAccountToken({
    namespace: t.namespace,
    name: t.serviceAccount,
    body: model<AuthenticationV1TokenRequest>({
      spec: {
        audiences: t.audiences ?? [],
        expirationSeconds: t.expirationSeconds ?? 3600,
        boundObjectRef: { apiVersion: "v1", kind: "Pod", name: t.podName, uid: pod.metadata?.uid },
      },
    }),
  });
  const token = req.status?.token;
  if (!token) throw new Error("TokenRequest returned no token");
  return token;
}

/** A ServiceAccount token for the account itself (not bound to a Pod). */
export async function mintServiceAccountToken(namespace: string, serviceAccount: string, expirationSeconds = 3600): Promise<string> {
  const req = await core().createNamespacedServiceAccountToken({
    namespace,
    name: serviceAccount,
    body: model<AuthenticationV1TokenRequest>({ spec: { audiences: [], expirationSeconds } }),
  });
  const token = req.status?.token;
  if (!token) throw new Error("TokenRequest returned no token");
  return token;
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** Decodes (does not verify) a JWT. */
export function decodeJwt(token: string): DecodedJwt {
  const [h, p] = token.split(".");
  if (h === undefined || p === undefined) throw new Error("not a JWT");
  const part = (s: string): Record<string, unknown> =>
    JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as Record<string, unknown>;
  return { header: part(h), payload: part(p) };
}

/**
 * Writes a kubeconfig that authenticates with token against the same server and CA
 * as the current kubeconfig; returns its path (under the cluster's state directory).
 */
export function kubeconfigForToken(token: string, name = `token-${randomBytes(4).toString("hex")}`): string {
  const kc = loadKubeConfig();
  const cluster = kc.getCurrentCluster();
  if (!cluster?.caData) throw new Error("current kubeconfig has no server CA data");
  const dir = process.env.XANDER_CLUSTER_DIR ?? clusterRoot;
  return writeKubeconfig(join(dir, "tokens", `${name}.kubeconfig`), {
    server: cluster.server,
    token,
    caPem: Buffer.from(cluster.caData, "base64").toString("utf8"),
    user: name,
  });
}
