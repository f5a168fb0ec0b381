// Helpers for the Helm chart and RBAC suites: helm itself, rendered manifests, raw requests with a
// given token, and Xander processes that run "in a pod" (service account files, no kubeconfig).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { OwnerReference } from "../../../src/api/meta.js";
import { ensureBinaries, loadKubeConfig, repoRoot } from "../../cluster/index.js";
import { trackProcess, type XanderProcess } from "./processes.js";

export const CHART = join(repoRoot, "charts", "xander");
/** The Kubernetes version `helm template` assumes (it defaults to 1.20, below the chart's kubeVersion). */
export const KUBE_VERSION = "1.34.3";

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

let helmPath: string | undefined;

/** The helm built by hack/build-k8s.sh (never builds: the globalSetup did). */
export async function helmBinary(): Promise<string> {
  helmPath ??= (await ensureBinaries(false)).helm;
  return helmPath;
}

export function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, input = ""): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"], timeout: 120_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.once("error", reject);
    child.once("close", (code) => {
      resolve({ stdout, stderr, code: code ?? 1 });
    });
    child.stdin.end(input);
  });
}

/** Runs helm with its caches in a private directory, so runs never share (or leave) state. */
export async function helm(args: readonly string[], kubeconfig?: string): Promise<RunResult> {
  const home = join(repoRoot, ".cluster", "helm-home");
  mkdirSync(home, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    HELM_CACHE_HOME: join(home, "cache"),
    HELM_CONFIG_HOME: join(home, "config"),
    HELM_DATA_HOME: join(home, "data"),
    ...(kubeconfig === undefined ? {} : { KUBECONFIG: kubeconfig }),
  };
  return run(await helmBinary(), args, env);
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: OwnerReference[] };
  [key: string]: unknown;
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
}

/** `helm template` of the chart; throws with helm's stderr when it fails. */
export async function renderChart(release: string, namespace: string, extra: readonly string[] = []): Promise<Manifest[]> {
  const r = await helm(["template", release, CHART, "--namespace", namespace, "--kube-version", KUBE_VERSION, ...extra]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseManifests(r.stdout);
}

export function find(manifests: readonly Manifest[], kind: string, name?: string): Manifest {
  const m = manifests.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (m === undefined) throw new Error(`no ${kind}${name === undefined ? "" : ` ${name}`} in the rendered chart`);
  return m;
}

interface DeploymentLike {
  spec: { template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } };
}

/** The controller container's args from a (rendered or live) Deployment, with --metrics-addr on a loopback port. */
export function controllerArgs(deployment: unknown, metricsPort: number): string[] {
  const container = (deployment as DeploymentLike).spec.template.spec.containers[0];
  if (container === undefined) throw new Error("the Deployment has no container");
  return container.args.map((a) => (a.startsWith("--metrics-addr=") ? `--metrics-addr=127.0.0.1:${metricsPort}` : a));
}

/** Server URL and CA of the current (admin) kubeconfig. */
export function apiServer(kubeconfig?: string): { url: URL; ca: string } {
  const cluster = loadKubeConfig(kubeconfig).getCurrentCluster();
  if (!cluster?.caData) throw new Error("the kubeconfig has no server CA data");
  return { url: new URL(cluster.server), ca: Buffer.from(cluster.caData, "base64").toString("utf8") };
}

export interface RawResponse {
  readonly status: number;
  readonly body: string;
}

/**
 * One HTTP request to the apiserver with a bearer token: the exact verb, with no GET before it (kubectl
 * patch and apply read first, so a denial would be for the read, not for the write under test).
 */
export function rawRequest(token: string, method: string, path: string, body?: unknown, contentType = "application/json"): Promise<RawResponse> {
  const { url, ca } = apiServer();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method, ca, headers: { authorization: `Bearer ${token}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": contentType }) } },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (c: string) => (text += c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: text });
        });
      },
    );
    req.once("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The Status message of an error response, or the body. */
export function messageOf(res: RawResponse): string {
  try {
    return (JSON.parse(res.body) as { message?: string }).message ?? res.body;
  } catch {
    return res.body;
  }
}

export interface InClusterOptions {
  /** A service account token, as the kubelet would project it. */
  readonly token: string;
  /** The pod's namespace (the serviceaccount/namespace file). */
  readonly namespace: string;
  readonly logFile: string;
  /** Where the service account files are written before they are mounted. */
  readonly dir: string;
}

/**
 * Starts `node dist/bin/xander.js <args>` as if in a pod: in a private mount namespace, a tmpfs on /run
 * holds /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}, KUBERNETES_SERVICE_HOST
 * and _PORT point at the apiserver, and there is no KUBECONFIG or ~/.kube/config. So the process takes
 * the in-cluster path (KubeClient.inCluster()): it authenticates with that token only, and takes its
 * namespace from the file rather than creating one. Needs root (unshare, mount).
 */
export function startInCluster(args: readonly string[], opts: InClusterOptions): XanderProcess {
  if (process.getuid?.() !== 0) throw new Error("running a process as if in a pod needs root (unshare --mount, mount -t tmpfs)");
  const sa = join(opts.dir, `sa-${randomBytes(3).toString("hex")}`);
  mkdirSync(sa, { recursive: true });
  const { url, ca } = apiServer();
  writeFileSync(join(sa, "token"), opts.token);
  writeFileSync(join(sa, "ca.crt"), ca);
  writeFileSync(join(sa, "namespace"), opts.namespace);
  const home = join(opts.dir, "home");
  mkdirSync(home, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, XANDER_LOG_LEVEL: "debug" };
  delete env.KUBECONFIG;
  const script = 'mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && cp "$SA_DIR"/token "$SA_DIR"/ca.crt "$SA_DIR"/namespace /run/secrets/kubernetes.io/serviceaccount/ && exec "$@"';
  const child = spawn("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", process.execPath, join(repoRoot, "dist/bin/xander.js"), ...args], {
    env: { ...env, SA_DIR: sa },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // unshare and sh exec in place, so the child's PID is the Xander process itself.
  return trackProcess(child, opts.logFile);
}

/**
 * What the apiserver refused, from a process's log: one "<who> cannot <verb> resource <r> ..." phrase per
 * distinct refusal (RBAC), or the admission message, so a failing assertion names the missing permission.
 */
export function refusals(log: string): string[] {
  const found = new Set<string>();
  for (const line of log.split("\n")) {
    if (!/forbidden|HTTP-Code: 403|"status":403/i.test(line)) continue;
    const rbac = /cannot (\w+) resource \\*"([^"\\]+)\\*" in API group \\*"([^"\\]*)\\*"( in the namespace \\*"[^"\\]+\\*"| at the cluster scope)?/.exec(line);
    found.add(rbac === null ? line.slice(0, 300) : rbac[0].replace(/\\+"/g, '"'));
  }
  return [...found].sort();
}
