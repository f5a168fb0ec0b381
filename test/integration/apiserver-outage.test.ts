// Fault 1 of the reliability tests: the real kube-apiserver goes away while the agent (from dist/) and the
// controller run a throttling scenario on real cgroups, stays down, and comes back on the same etcd. The test
// has a control plane of its own, since stopping the shared one would break the other test files.
//
// XANDER_OUTAGE_SECONDS sets how long the apiserver stays down: 60 s by default, to keep CI short; the soak
// figures in BENCHMARKS.md ("Reliability") were taken with 300, the five minutes of the issue.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { NodeFindings } from "../../src/api/types.generated.js";
import type { CgroupLayout } from "../../src/cgroup/types.js";
import { CgroupSandbox, randomContainerId, type SandboxPod, type SandboxProcess } from "../../src/demo/sandbox.js";
import { createNamespace, createNode, createPod, installCrds, kubectl, poll, repoRoot, setPodStatus, startCluster, type RunningCluster } from "../cluster/index.js";
import { requireRealCgroups } from "./support/host.js";
import { nodeFindings } from "./support/node-findings.js";
import { freePort, metricValue, startXander, type XanderProcess } from "./support/processes.js";

const outageMs = Number(process.env.XANDER_OUTAGE_SECONDS ?? "60") * 1000;
const HEARTBEAT_MS = 20_000;
const suffix = randomBytes(3).toString("hex");
const nodeName = `outage-node-${suffix}`;
const policyName = `outage-${suffix}`;
const controllerNamespace = `xander-outage-${suffix}`;

let layout: CgroupLayout;
let cluster: RunningCluster | undefined;
let savedKubeconfig: string | undefined;
let sandbox: CgroupSandbox | undefined;
let namespace = "";
let dir = "";
let agent: XanderProcess | undefined;
let controller: XanderProcess | undefined;
let agentPort = 0;
let controllerPort = 0;
const pods = new Map<string, SandboxPod>();
const figures: Record<string, number | string> = { outageSeconds: outageMs / 1000 };

/** Once a second: the agent's RSS and whether its /healthz answered 200. */
const probes: { atMs: number; rssBytes: number; healthy: boolean }[] = [];
let probing: NodeJS.Timeout | undefined;

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(line?.split(/\s+/)[1] ?? "0") * 1024;
}

async function probe(): Promise<void> {
  const pid = agent?.child.pid;
  if (pid === undefined) return;
  const healthy = (await fetch(`http://127.0.0.1:${agentPort}/healthz`).catch(() => undefined))?.status === 200;
  probes.push({ atMs: Date.now(), rssBytes: rssBytes(pid), healthy });
}


const throttledIn = (nf: NodeFindings | undefined, pod: string): boolean =>
  (nf?.status?.findings ?? []).some((f) => f.rule === "CPUThrottling" && f.pod?.name === pod && f.pod.namespace === namespace);

async function agentPage(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${agentPort}/metrics`)).text();
}

const activeSeries = (pod: string): string => `xander_finding_active{namespace="${namespace}",pod="${pod}",container="main",rule="CPUThrottling",severity="warning"} 1`;

async function stopBurners(burners: readonly SandboxProcess[]): Promise<void> {
  for (const b of burners) process.kill(-b.pid, "SIGKILL");
  await Promise.all(burners.map((b) => b.exited));
}

const MiB = 1024 * 1024;
const mib = (bytes: number): number => Math.round((bytes / MiB) * 10) / 10;

beforeAll(async () => {
  layout = await requireRealCgroups();
  dir = mkdtempSync(join(tmpdir(), "xander-outage-"));
  cluster = await startCluster({ name: `outage-${process.pid}-${suffix}`, sharedKubeconfig: "never" });
  savedKubeconfig = process.env.KUBECONFIG;
  process.env.KUBECONFIG = cluster.kubeconfigPath;
  await installCrds(join(repoRoot, "crds"));
  await createNode(nodeName);
  namespace = await createNamespace(`outage-${suffix}`);
  const policy = {
    apiVersion: "xander.io/v1alpha1",
    kind: "StarvationPolicy",
    metadata: { name: policyName },
    spec: {
      selector: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } },
      sampling: { interval: "1s", window: "5s" },
      rules: { CPUThrottling: { clearAfter: "10s" } },
      reporting: { heartbeat: `${HEARTBEAT_MS / 1000}s`, minInterval: "1s" },
    },
  };
  const applied = await kubectl(["apply", "-f", "-"], { input: JSON.stringify(policy) });
  expect(applied.stderr).toBe("");

  sandbox = new CgroupSandbox(layout);
  // "steady" is throttled before the outage and stops during it; "during" starts during it.
  for (const [index, name] of ["steady", "during"].entries()) {
    const apiPod = await createPod({ namespace, name, nodeName, containers: [{ name: "main", resources: { requests: { cpu: "100m" } } }] });
    const containerId = randomContainerId();
    pods.set(name, sandbox.addPod({ name, qosClass: "burstable", uid: apiPod.metadata?.uid ?? "", containerId, cpuRequestCores: 1, cpuLimitCores: 0.2 }));
    await setPodStatus(namespace, name, {
      phase: "Running",
      podIP: `10.244.0.${index + 10}`,
      containerStatuses: [{ name: "main", containerID: `containerd://${containerId}`, ready: true, restartCount: 0 }],
    });
  }

  controllerPort = await freePort();
  // /metrics is read while the apiserver is down, when no scrape can be authorized (the guard fails closed):
  // the test's processes serve it on loopback without token reviews.
  controller = startXander(["controller", "--namespace", controllerNamespace, "--lease-duration", "6s", "--metrics-addr", `127.0.0.1:${controllerPort}`, "--metrics-authorization", "none"], join(dir, "controller.log"));
  agentPort = await freePort();
  agent = startXander(["agent", "--node", nodeName, "--db", join(dir, "agent.db"), "--metrics-addr", `127.0.0.1:${agentPort}`, "--metrics-authorization", "none"], join(dir, "agent.log"));
  await poll("the agent's first NodeFindings report", async () => ((await nodeFindings(nodeName))?.status?.agent?.pods === 2 ? true : undefined), { timeoutMs: 90_000, intervalMs: 500 });
  probing = setInterval(() => { probe().catch(() => undefined); }, 1000);
}, 300_000);

afterAll(async () => {
  clearInterval(probing);
  const failures = (await sandbox?.cleanup()) ?? [];
  await agent?.stop();
  await controller?.stop();
  if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = savedKubeconfig;
  // Everything made above lives in this control plane, which goes whole.
  await cluster?.stop();
  writeFileSync(join(repoRoot, ".cluster", "apiserver-outage.json"), JSON.stringify(figures, null, 2));
  if (process.env.XANDER_KEEP_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
  expect(failures).toEqual([]);
}, 120_000);

describe("apiserver outage", () => {
  it("the agent samples every tick and detects locally while the apiserver is down, and tells the truth once it is back", async () => {
    const steadyBurners = sandbox!.burn(pods.get("steady")!, 1);
    await poll("CPUThrottling on steady in NodeFindings", async () => (throttledIn(await nodeFindings(nodeName), "steady") ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
    await poll("the controller to lead", async () => (metricValue(await (await fetch(`http://127.0.0.1:${controllerPort}/metrics`)).text(), "xander_controller_leader") === 1 ? true : undefined), { timeoutMs: 30_000 });
    const agentPid = agent!.child.pid;
    const controllerPid = controller!.child.pid;
    const rssBefore = probes.slice(-10).map((p) => p.rssBytes);

    // Down.
    const downAt = Date.now();
    await cluster!.stopApiserver();
    figures["apiserver stop took (ms)"] = Date.now() - downAt;
    await stopBurners(steadyBurners);
    const duringBurners = sandbox!.burn(pods.get("during")!, 1);
    // Raised and cleared here, with no apiserver: the agent's own /metrics shows it.
    await poll("CPUThrottling on during raised, and on steady cleared, on the agent's /metrics", async () => {
      const page = await agentPage();
      return page.includes(activeSeries("during")) && !page.includes(activeSeries("steady")) ? true : undefined;
    }, { timeoutMs: Math.max(outageMs - (Date.now() - downAt) - 5_000, 30_000), intervalMs: 500 });
    figures["raised and cleared locally after the stop (ms)"] = Date.now() - downAt;
    const leftMs = outageMs - (Date.now() - downAt);
    if (leftMs > 0) await new Promise((resolve) => setTimeout(resolve, leftMs));
    const controllerLeadDuring = metricValue(await (await fetch(`http://127.0.0.1:${controllerPort}/metrics`)).text(), "xander_controller_leader");

    // Back, on the same etcd.
    const restartAt = Date.now();
    await cluster!.startApiserver();
    const upAt = Date.now();
    figures["apiserver restart to ready (ms)"] = upAt - restartAt;
    const duringProbes = probes.filter((p) => p.atMs >= downAt && p.atMs <= upAt);

    const truth = await poll("NodeFindings to show during throttled and steady cleared", async () => {
      const nf = await nodeFindings(nodeName);
      return throttledIn(nf, "during") && !throttledIn(nf, "steady") ? nf : undefined;
    }, { timeoutMs: HEARTBEAT_MS + 30_000, intervalMs: 250 });
    figures["apiserver ready → NodeFindings true (ms)"] = Date.now() - upAt;
    expect(Date.now() - upAt).toBeLessThanOrEqual(HEARTBEAT_MS + 3_000);
    // Written from a tick taken after the restart began, not a status queued before the outage.
    expect(Date.parse(truth.status?.agent?.lastSample ?? "")).toBeGreaterThan(restartAt);

    // The Events of what happened while it was down arrive late, each with its own time, and say so.
    const events = await poll("the Events of the outage", async () => {
      const result = await kubectl(["get", "events.events.k8s.io", "-n", namespace, "-o", "json"]);
      const items = (JSON.parse(result.stdout) as { items: { reason: string; note: string; eventTime: string; regarding: { name: string } }[] }).items;
      const raised = items.find((e) => e.reason === "CPUThrottling" && e.regarding.name === "during");
      const cleared = items.find((e) => e.reason === "StarvationCleared" && e.regarding.name === "steady");
      return raised && cleared ? { raised, cleared } : undefined;
    }, { timeoutMs: HEARTBEAT_MS + 30_000, intervalMs: 500 });
    figures["apiserver ready → outage Events created (ms)"] = Date.now() - upAt;
    for (const e of [events.raised, events.cleared]) {
      expect(Date.parse(e.eventTime)).toBeGreaterThan(downAt);
      expect(Date.parse(e.eventTime)).toBeLessThan(upAt);
      expect(e.note).toMatch(/late, the API server could not be reached/);
    }

    // The controller leads again and its informers watch again, in the same process.
    await poll("the controller to lead again", async () => (metricValue(await (await fetch(`http://127.0.0.1:${controllerPort}/metrics`)).text(), "xander_controller_leader") === 1 ? true : undefined), { timeoutMs: 60_000, intervalMs: 250 });
    figures["apiserver ready → controller leads (ms)"] = Date.now() - upAt;
    const newNode = `${nodeName}-after`;
    const nodeAt = Date.now();
    await createNode(newNode);
    await poll(`NodeFindings for ${newNode}, created after the outage`, async () => ((await kubectl(["get", "nodefindings", newNode])).code === 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 250 });
    figures["node created after the outage → its NodeFindings (ms)"] = Date.now() - nodeAt;
    expect(controller!.child.pid).toBe(controllerPid);
    expect(controller!.child.exitCode).toBeNull();
    expect(agent!.child.pid).toBe(agentPid);
    expect(agent!.child.exitCode).toBeNull();
    await stopBurners(duringBurners);

    // Every tick of the outage is in the history: one a second, no gap.
    const db = new Database(join(dir, "agent.db"), { readonly: true, fileMustExist: true });
    const ticks = db.prepare<[number, number], number>("SELECT wall_ms FROM ticks WHERE wall_ms >= ? AND wall_ms < ? ORDER BY wall_ms").pluck().all(downAt, upAt);
    db.close();
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
    const expected = Math.floor((upAt - downAt) / 1000);
    figures["ticks expected (1 s interval)"] = expected;
    figures["ticks stored during the outage"] = ticks.length;
    figures["longest gap between ticks (ms)"] = Math.max(...gaps);
    expect(ticks.length).toBeGreaterThanOrEqual(expected - 1);
    expect(Math.max(...gaps)).toBeLessThan(2_000);

    // /healthz answered throughout, and memory stayed flat: status writes collapse to the latest.
    const rssAfter = probes.slice(-10).map((p) => p.rssBytes);
    figures["agent RSS before (MiB, max of 10 s)"] = mib(Math.max(...rssBefore));
    figures["agent RSS during the outage (MiB, max)"] = mib(Math.max(...duringProbes.map((p) => p.rssBytes)));
    figures["agent RSS after (MiB, max of 10 s)"] = mib(Math.max(...rssAfter));
    figures["/healthz probes during the outage"] = duringProbes.length;
    figures["/healthz failures during the outage"] = duringProbes.filter((p) => !p.healthy).length;
    figures["controller leader gauge at the end of the outage"] = controllerLeadDuring;
    expect(duringProbes.length).toBeGreaterThanOrEqual(Math.floor(outageMs / 1000) - 5);
    expect(duringProbes.filter((p) => !p.healthy)).toEqual([]);
    expect(Math.max(...duringProbes.map((p) => p.rssBytes))).toBeLessThan(Math.max(...rssBefore) + 48 * MiB);
  }, outageMs + 300_000);
});
