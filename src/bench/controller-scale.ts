/**
 * The controller at 1,000 nodes (`npm run bench -- controller-scale`): a real `xander controller` process
 * against a real apiserver, while the bench plays the fleet's agents (fleet-agents.ts).
 *
 * Method. A control plane of the test harness (or $KUBECONFIG), the CRDs, two StarvationPolicies at a 60 s
 * heartbeat, and N Nodes with their NodeFindings, each node's status written as its agent would
 * (fleet-status.ts). The fleet then writes a heartbeat per node per interval, spread over it, and changes
 * 1 % of the nodes' findings per minute. The controller runs with leader election, as deployed, and
 * `--metrics-authorization none` so the bench can scrape it. Once both policies count every node as
 * reporting, the bench waits out a warm-up, then over the window reads the controller's utime+stime and
 * VmRSS (every second) from /proc, VmHWM at the end, its request counter from /metrics at both ends, the
 * read API's latency (one round of summary, top and incidents per second, with a viewer's token), and when
 * each change first shows in its policy's status and in `/api/v1/top`.
 *
 * Environment: XANDER_BENCH_NODES (1000), XANDER_BENCH_WARMUP_S (60), XANDER_BENCH_WINDOW_S (300),
 * XANDER_BENCH_HEARTBEAT_S (60), XANDER_BENCH_CHANGE_SHARE (0.01 per minute), XANDER_BENCH_CPU_PROF (a
 * directory for the controller's V8 CPU profile), XANDER_BENCH_KEEP_LOGS, KUBECONFIG (default: start one).
 */
import { mkdtempSync, openSync, rmSync } from "node:fs";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AuthenticationV1TokenRequest, CoreV1Api, KubeConfig, V1TokenRequestSpec } from "@kubernetes/client-node";
import type { KubeObject } from "../api/meta.js";
import type { StarvationPolicy } from "../api/types.generated.js";
import { KubeClient } from "../kube/client.js";
import { STARVATION_POLICY_KIND } from "../kube/resources.js";
import { ProbeSightings, ReadApiProbe } from "./controller-observers.js";
import { scaleResults, scaleTable, type ScaleMeasures } from "./controller-scale-results.js";
import { FleetAgents, type Probe } from "./fleet-agents.js";
import { BENCH_POLICIES } from "./fleet-status.js";
import { median } from "./process.js";
import { installCrds, startBenchCluster } from "./process-cluster.js";
import { waitFor } from "./process-contenders.js";
import { freePort } from "../util/ports.js";
import { readLoadAverage, readProcUsage } from "./proc-usage.js";
import type { BenchResult } from "./types.js";
import { positiveNumber } from "./env.js";
import { RUNTIME_ENV } from "../util/runtime-env.js";

const XANDER = fileURLToPath(new URL("../bin/xander.js", import.meta.url));
const BENCH_MANAGER = "xander-bench";
const READER = "xander-bench-reader";
/** After the window, changes written in it get this long to show up before they count as never seen. */
const LAG_GRACE_MS = 15_000;

interface Settings {
  readonly nodes: number;
  readonly warmupS: number;
  readonly windowS: number;
  readonly heartbeatS: number;
  readonly changeShare: number;
  readonly cpuProfDir?: string;
}

function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  const num = (name: string, fallback: number): number => positiveNumber(env, name, fallback);
  return {
    nodes: Math.round(num("XANDER_BENCH_NODES", 1000)),
    warmupS: num("XANDER_BENCH_WARMUP_S", 60),
    windowS: num("XANDER_BENCH_WINDOW_S", 300),
    heartbeatS: num("XANDER_BENCH_HEARTBEAT_S", 60),
    changeShare: num("XANDER_BENCH_CHANGE_SHARE", 0.01),
    ...(env.XANDER_BENCH_CPU_PROF ? { cpuProfDir: env.XANDER_BENCH_CPU_PROF } : {}),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Two policies, as a cluster with a default and a stricter one would have. */
async function applyPolicies(client: KubeClient, heartbeatS: number): Promise<void> {
  for (const name of BENCH_POLICIES) {
    const policy = { ...STARVATION_POLICY_KIND, metadata: { name }, spec: { selector: { namespaceSelector: { matchLabels: { "xander.io/policy": name } } }, reporting: { heartbeat: `${heartbeatS}s` } } };
    await client.apply(policy, { fieldManager: BENCH_MANAGER });
  }
}

/** A ServiceAccount allowed what the read API asks (`list nodefindings.xander.io`), and a token for it. */
async function readerToken(kubeconfig: string, client: KubeClient): Promise<string> {
  await client.apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: READER, namespace: "default" } }, { fieldManager: BENCH_MANAGER });
  await client.apply({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: READER }, rules: [{ apiGroups: ["xander.io"], resources: ["nodefindings"], verbs: ["get", "list", "watch"] }] } as KubeObject, { fieldManager: BENCH_MANAGER });
  await client.apply(
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: READER },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: READER },
      subjects: [{ kind: "ServiceAccount", name: READER, namespace: "default" }],
    } as KubeObject,
    { fieldManager: BENCH_MANAGER },
  );
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const spec = new V1TokenRequestSpec();
  spec.audiences = [];
  spec.expirationSeconds = 7200;
  const body = new AuthenticationV1TokenRequest();
  body.spec = spec;
  const request = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({ namespace: "default", name: READER, body });
  const token = request.status?.token;
  if (token === undefined || token === "") throw new Error(`no token for ServiceAccount default/${READER}`);
  return token;
}

/** On a cluster the bench did not start: what it applied besides the fleet. */
async function removeBenchObjects(client: KubeClient): Promise<void> {
  for (const name of BENCH_POLICIES) await client.delete({ ...STARVATION_POLICY_KIND, name });
  await client.delete({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", name: READER });
  await client.delete({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", name: READER });
  await client.delete({ apiVersion: "v1", kind: "ServiceAccount", name: READER, namespace: "default" });
}

interface Controller {
  readonly pid: number;
  readonly base: string;
  stop(): Promise<void>;
}

function startController(kubeconfig: string, dir: string, namespace: string, port: number, cpuProfDir: string | undefined): Controller {
  const log = openSync(join(dir, "controller.log"), "a");
  const prof = cpuProfDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`];
  const args = [...prof, XANDER, "controller", "--namespace", namespace, "--metrics-addr", `127.0.0.1:${port}`, "--metrics-authorization", "none", "--log-level", "info"];
  // With RUNTIME_ENV, as the chart's Deployment runs it.
  const child = spawn(process.execPath, args, { env: { ...process.env, ...RUNTIME_ENV, KUBECONFIG: kubeconfig }, stdio: ["ignore", log, log] });
  if (child.pid === undefined) throw new Error("could not start xander controller");
  const exited = new Promise<void>((resolve) => child.once("exit", () => { resolve(); }));
  return {
    pid: child.pid,
    base: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** xander_controller_api_requests_total by "METHOD resource", from the controller's /metrics. */
async function controllerRequests(base: string): Promise<Record<string, number>> {
  const page = await (await fetch(`${base}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of page.matchAll(/^xander_controller_api_requests_total\{method="([A-Z]+)",resource="([^"]*)"\} (\S+)$/gm)) counts[`${match[1] ?? ""} ${match[2] ?? ""}`] = Number(match[3]);
  return counts;
}

async function everyNodeReporting(client: KubeClient, nodes: number): Promise<boolean> {
  for (const name of BENCH_POLICIES) {
    const policy = await client.get<StarvationPolicy>({ ...STARVATION_POLICY_KIND, name });
    if (policy?.status?.nodes?.reporting !== nodes) return false;
  }
  return true;
}

function lags(probes: readonly Probe[], seen: ReadonlyMap<string, number>): number[] {
  return probes.map((p) => {
    const at = seen.get(p.pod);
    return at === undefined ? Infinity : Math.max(0, at - p.writtenAtMs) / 1000;
  });
}

interface Window {
  readonly cpuCores: number;
  readonly rss: number[];
  readonly hwmKiB: number;
  readonly requests: Record<string, number>;
  /** The fleet's writes inside the window. */
  readonly agentHeartbeatWrites: number;
  readonly agentChangeWrites: number;
  readonly agentWriteFailures: number;
  readonly loadBefore: number;
  readonly loadAfter: number;
  readonly startMs: number;
  readonly endMs: number;
}

async function measureWindow(controller: Controller, fleet: FleetAgents, windowS: number): Promise<Window> {
  const loadBefore = readLoadAverage();
  const writesBefore = { ...fleet.writes };
  const before = readProcUsage(controller.pid);
  const requestsBefore = await controllerRequests(controller.base);
  const startMs = Date.now();
  const rss: number[] = [];
  while (Date.now() - startMs < windowS * 1000) {
    await sleep(1000);
    rss.push(readProcUsage(controller.pid).rssKiB);
  }
  const after = readProcUsage(controller.pid);
  const requestsAfter = await controllerRequests(controller.base);
  const endMs = Date.now();
  const requests = Object.fromEntries(Object.entries(requestsAfter).map(([k, v]) => [k, v - (requestsBefore[k] ?? 0)]));
  return {
    cpuCores: (after.cpuMs - before.cpuMs) / (endMs - startMs),
    rss,
    hwmKiB: after.hwmKiB,
    requests,
    agentHeartbeatWrites: fleet.writes.heartbeats - writesBefore.heartbeats,
    agentChangeWrites: fleet.writes.changes - writesBefore.changes,
    agentWriteFailures: fleet.writes.failures - writesBefore.failures,
    loadBefore,
    loadAfter: readLoadAverage(),
    startMs,
    endMs,
  };
}

export async function benchControllerScale(env: NodeJS.ProcessEnv = process.env): Promise<BenchResult[]> {
  const settings = settingsFromEnv(env);
  const log = (line: string): void => { console.error(`[controller-scale] ${line}`); };
  const dir = mkdtempSync(join(tmpdir(), "xander-bench-ctlscale-"));
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const control = await startBenchCluster(log);
    cleanups.unshift(() => control.stop());
    const kc = new KubeConfig();
    kc.loadFromFile(control.kubeconfig);
    const client = new KubeClient(kc);
    await installCrds(client);
    await applyPolicies(client, settings.heartbeatS);
    if (env.KUBECONFIG) cleanups.unshift(() => removeBenchObjects(client));
    const token = await readerToken(control.kubeconfig, client);
    const fleet = new FleetAgents(client, { nodes: settings.nodes, heartbeatMs: settings.heartbeatS * 1000, changeShare: settings.changeShare }, log);
    if (env.KUBECONFIG) cleanups.unshift(() => fleet.remove());
    await fleet.seed();
    fleet.start();
    cleanups.unshift(() => fleet.stop());
    const namespace = `xander-bench-${process.pid}`;
    const controller = startController(control.kubeconfig, dir, namespace, await freePort(), settings.cpuProfDir);
    cleanups.unshift(() => controller.stop());
    log(`controller pid ${controller.pid}, log ${join(dir, "controller.log")}`);
    await waitFor("the controller's /readyz", async () => (await fetch(`${controller.base}/readyz`)).ok, 120_000);
    await waitFor(`both policies to count ${settings.nodes} nodes as reporting`, () => everyNodeReporting(client, settings.nodes), 180_000);
    const sightings = new ProbeSightings(client, controller.base, token);
    await sightings.start();
    cleanups.unshift(() => sightings.stop());
    const reads = new ReadApiProbe(controller.base, token);
    log(`every node reporting; ${settings.warmupS} s warm-up, then a ${settings.windowS} s window`);
    await sleep(settings.warmupS * 1000);
    reads.start();
    const window = await measureWindow(controller, fleet, settings.windowS);
    await reads.stop();
    await sleep(LAG_GRACE_MS);
    if (fleet.error !== undefined && fleet.writes.heartbeats === 0) throw new Error(`the fleet could not write: ${fleet.error instanceof Error ? fleet.error.message : JSON.stringify(fleet.error)}`);
    const probes = fleet.probes.filter((p) => p.writtenAtMs >= window.startMs && p.writtenAtMs <= window.endMs);
    const measures: ScaleMeasures = {
      nodes: settings.nodes,
      windowS: (window.endMs - window.startMs) / 1000,
      heartbeatS: settings.heartbeatS,
      cpuCores: window.cpuCores,
      rssMiB: median(window.rss) / 1024,
      rssMaxMiB: Math.max(...window.rss) / 1024,
      hwmMiB: window.hwmKiB / 1024,
      policyLagS: lags(probes, sightings.inPolicy),
      topLagS: lags(probes, sightings.inTop),
      readLatenciesMs: reads.latenciesMs,
      readFailures: reads.failures,
      controllerRequests: window.requests,
      agentHeartbeatWrites: window.agentHeartbeatWrites,
      agentChangeWrites: window.agentChangeWrites,
      agentWriteFailures: window.agentWriteFailures,
      loadBefore: window.loadBefore,
      loadAfter: window.loadAfter,
    };
    const method = `${settings.nodes} nodes, 2 policies, ${settings.heartbeatS} s heartbeat, ${settings.changeShare * 100} % of nodes changing per minute; ${settings.warmupS} s warm-up after every node reported, ${Math.round(measures.windowS)} s window`;
    const results = scaleResults(measures, method);
    log(`\n${scaleTable(results)}`);
    return results;
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error: unknown) => { log(`cleanup failed: ${String(error)}`); });
    if (env.XANDER_BENCH_KEEP_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
    else log(`logs kept in ${dir}`);
  }
}
