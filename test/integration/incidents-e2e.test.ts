/**
 * Incidents end to end, on real cgroups and the real apiserver: throttling, noisy-neighbour starvation and an
 * OOM kill run and stop, with an agent restart in the middle. Then the record is read back the ways a person
 * would: `xander incidents`, `recentIncidents`, the StarvationCleared Events, `xander report` with its advice,
 * `kubectl xander` through kubectl's plugin mechanism, and the agent's history API with and without the right.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { CgroupLayout } from "../../src/cgroup/types.js";
import { CgroupSandbox, randomContainerId, type SandboxPod, type SandboxPodSpec } from "../../src/demo/sandbox.js";
import { allocateArgv } from "../../src/demo/workloads.js";
import type { NodeFindings, RecentIncident } from "../../src/api/types.generated.js";
import type { IncidentJson } from "../../src/api/history.js";
import {
  createNamespace,
  createNode,
  createPod,
  ensureServiceAccount,
  installCrds,
  kubectl,
  kubectlBinary,
  mintServiceAccountToken,
  poll,
  repoRoot,
  setPodStatus,
} from "../cluster/index.js";
import { requireRealCgroups } from "./support/host.js";
import { runAgentPod } from "./support/agent-pod.js";
import { tearDownScenario } from "./support/scenario.js";
import { freePort, runCli, startXander, type XanderProcess } from "./support/processes.js";

const MiB = 1024 * 1024;
const HEARTBEAT_MS = 20_000;
const suffix = randomBytes(3).toString("hex");
const nodeName = `inc-node-${suffix}`;
const deadNode = `inc-dead-${suffix}`;
const policyName = `inc-${suffix}`;
const controllerNamespace = `xander-inc-${suffix}`;

let layout: CgroupLayout;
let sandbox: CgroupSandbox | undefined;
let namespace = "";
let dir = "";
let controller: XanderProcess | undefined;
let agent: XanderProcess | undefined;
let agentPort = 0;
let loadStoppedMs = 0;
const onsets: Record<string, number> = {};
const pods = new Map<string, SandboxPod>();

const plans: { name: string; qosClass: "Burstable" | "BestEffort"; spec: Omit<SandboxPodSpec, "name" | "qosClass" | "uid" | "containerId"> }[] = [
  { name: "noisy", qosClass: "Burstable", spec: { cpuRequestCores: 2 } },
  { name: "victim", qosClass: "Burstable", spec: { cpuRequestCores: 0.1 } },
  { name: "throttled", qosClass: "Burstable", spec: { cpuRequestCores: 1, cpuLimitCores: 0.2 } },
  { name: "hog", qosClass: "Burstable", spec: { memoryLimitBytes: 96 * MiB } },
];

/** The CLI against this test's controller namespace, where its agent's pod is. */
function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}, command?: string, prefix?: string[]): ReturnType<typeof runCli> {
  return runCli(args, { XANDER_NAMESPACE: controllerNamespace, ...env }, command, prefix);
}

async function nodeFindings(name = nodeName): Promise<NodeFindings | undefined> {
  const result = await kubectl(["get", "nodefindings", name, "-o", "json"]);
  return result.code === 0 ? (JSON.parse(result.stdout) as NodeFindings) : undefined;
}

async function waitForFinding(pod: string, rule: string, timeoutMs = 90_000): Promise<void> {
  await poll(`${rule} on ${pod}`, async () => ((await nodeFindings())?.status?.findings ?? []).some((f) => f.rule === rule && f.pod?.name === pod && f.pod.namespace === namespace) || undefined, { timeoutMs, intervalMs: 500 });
}

function startAgent(): XanderProcess {
  return startXander(
    ["agent", "--node", nodeName, "--db", join(dir, "agent.db"), "--metrics-addr", `127.0.0.1:${agentPort}`, "--advertise-address", `127.0.0.1:${agentPort}`],
    join(dir, `agent-${Date.now()}.log`),
  );
}

beforeAll(async () => {
  layout = await requireRealCgroups();
  dir = mkdtempSync(join(tmpdir(), "xander-incidents-"));
  await installCrds(join(repoRoot, "crds"));
  await createNode(nodeName);
  await createNode(deadNode);
  namespace = await createNamespace(`inc-${suffix}`);
  const policy = {
    apiVersion: "xander.io/v1alpha1",
    kind: "StarvationPolicy",
    metadata: { name: policyName },
    spec: {
      selector: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } },
      sampling: { interval: "1s", window: "5s" },
      rules: { CPUThrottling: { clearAfter: "10s" }, CPUStarvation: { clearAfter: "10s" }, OOMKill: { clearAfter: "10s" }, MemoryNearLimit: { enabled: false } },
      reporting: { heartbeat: `${HEARTBEAT_MS / 1000}s`, minInterval: "1s" },
    },
  };
  writeFileSync(join(dir, "policy.json"), JSON.stringify(policy));
  expect((await kubectl(["apply", "-f", join(dir, "policy.json")])).stderr).toBe("");

  sandbox = new CgroupSandbox(layout);
  for (const plan of plans) {
    const resources = plan.qosClass === "Burstable" ? { requests: { cpu: "100m" } } : {};
    const apiPod = await createPod({ namespace, name: plan.name, nodeName, containers: [{ name: "main", resources }] });
    const containerId = randomContainerId();
    pods.set(plan.name, sandbox.addPod({ name: plan.name, qosClass: "burstable", uid: apiPod.metadata?.uid ?? "", containerId, ...plan.spec }));
    await setPodStatus(namespace, plan.name, {
      phase: "Running",
      podIP: `10.245.0.${plans.indexOf(plan) + 10}`,
      containerStatuses: [{ name: "main", containerID: `containerd://${containerId}`, ready: true, restartCount: 0 }],
    });
  }
  controller = startXander(["controller", "--namespace", controllerNamespace, "--metrics-addr", `127.0.0.1:${await freePort()}`, "--no-leader-elect"], join(dir, "controller.log"));
  agentPort = await freePort();
  agent = startAgent();
  await poll("the agent's first report", async () => ((await nodeFindings())?.status?.agent?.pods === plans.length ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
  // A node whose agent is down: it reported once, at an endpoint nobody listens on.
  await poll("the dead node's NodeFindings", async () => ((await nodeFindings(deadNode)) ? true : undefined), { timeoutMs: 30_000 });
  const dead = { status: { agent: { version: "test", cgroupLayout: "v2", lastSample: new Date().toISOString(), pods: 0, samplesStored: 0, endpoint: `127.0.0.1:${await freePort()}` } } };
  writeFileSync(join(dir, "dead.json"), JSON.stringify(dead));
  expect((await kubectl(["patch", "nodefindings", deadNode, "--subresource=status", "--type=merge", "--patch-file", join(dir, "dead.json")])).stderr).toBe("");
  // Both agents' pods, as the DaemonSet would run them: readers send tokens only to these addresses.
  for (const node of [nodeName, deadNode]) await runAgentPod({ namespace: controllerNamespace, nodeName: node, podIP: "127.0.0.1" });
}, 180_000);

afterAll(async () => {
  const failures = await tearDownScenario({ sandbox, processes: [agent, controller], policies: [policyName], namespaces: [namespace], controllerNamespace, nodes: [nodeName, deadNode], dir });
  expect(failures).toEqual([]);
}, 120_000);

describe("incidents end to end: real cgroups, a restart mid-incident, and the record read back", () => {
  it("runs throttling, starvation and an OOM kill, with the agent killed and restarted mid-incident", async () => {
    onsets.cpu = Date.now();
    sandbox!.burn(pods.get("noisy")!, 2);
    sandbox!.burn(pods.get("victim")!, 1);
    sandbox!.burn(pods.get("throttled")!, 1);
    await waitForFinding("throttled", "CPUThrottling");
    await waitForFinding("victim", "CPUStarvation");

    // kubectl finds `kubectl-xander` on PATH and runs it: the plugin mechanism, not a direct call.
    const bin = join(dir, "bin");
    mkdirSync(bin);
    symlinkSync(join(repoRoot, "dist/bin/kubectl-xander.js"), join(bin, "kubectl-xander"));
    const plugin = await cli(["xander", "top", "-n", namespace], { PATH: `${bin}:${process.env.PATH ?? ""}` }, kubectlBinary(), []);
    expect(plugin.stderr).toBe("");
    expect(plugin.stdout).toMatch(/throttled/);
    expect(plugin.stdout).toMatch(/CPUThrottling/);

    // SIGKILL mid-incident: the restarted agent resumes the open incidents instead of opening new ones.
    await agent!.stop("SIGKILL");
    agent = startAgent();
    await poll("the restarted agent's report", async () => ((await nodeFindings())?.status?.agent?.lastSample ?? "") > new Date(Date.now() - 2000).toISOString() || undefined, { timeoutMs: 60_000, intervalMs: 500 });
    await waitForFinding("throttled", "CPUThrottling");

    onsets.oom = Date.now();
    const hog = sandbox!.start(pods.get("hog")!, allocateArgv(400 * MiB));
    await hog.exited;
    await waitForFinding("hog", "OOMKill");

    await sandbox!.stopAll();
    loadStoppedMs = Date.now();
    await poll(
      "every incident to close",
      async () => {
        const nf = await nodeFindings();
        const open = (nf?.status?.findings ?? []).filter((f) => f.pod?.namespace === namespace);
        return open.length === 0 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
  });

  it("keeps one incident per finding's life in recentIncidents, with start, end, peak and culprit", async () => {
    const recent = await poll(
      "recentIncidents for the three pods",
      async () => {
        const list = ((await nodeFindings())?.status?.recentIncidents ?? []).filter((r) => r.pod?.namespace === namespace);
        const names = new Set(list.map((r) => `${r.rule}:${r.pod?.name ?? ""}`));
        return ["CPUThrottling:throttled", "CPUStarvation:victim", "OOMKill:hog"].every((k) => names.has(k)) ? list : undefined;
      },
      { timeoutMs: 2 * HEARTBEAT_MS },
    );
    const byKey = (rule: string, pod: string): RecentIncident[] => recent.filter((r) => r.rule === rule && r.pod?.name === pod);
    // The agent was killed in the middle of this one: still one incident.
    expect(byKey("CPUThrottling", "throttled")).toHaveLength(1);
    const throttling = byKey("CPUThrottling", "throttled")[0]!;
    expect(Date.parse(throttling.start)).toBeGreaterThanOrEqual(onsets.cpu! - 2000);
    expect(Date.parse(throttling.start)).toBeLessThan(onsets.cpu! + 15_000);
    expect(Math.abs(Date.parse(throttling.end) - loadStoppedMs)).toBeLessThanOrEqual(HEARTBEAT_MS);
    expect(throttling.peak).toBeGreaterThanOrEqual(0.25);
    const starvation = byKey("CPUStarvation", "victim")[0]!;
    expect(starvation.culprits?.[0]).toMatchObject({ name: "noisy", namespace });
    expect(byKey("OOMKill", "hog")[0]?.severity).toBe("critical");
  });

  it("lists the incidents with `xander incidents`, newest first, and marks each clear with a StarvationCleared Event", async () => {
    const listed = await cli(["incidents", "-n", namespace, "--since", "1h", "-o", "json"]);
    expect(listed.stderr).toBe("");
    expect(listed.code).toBe(0);
    const incidents = (JSON.parse(listed.stdout) as { incidents: IncidentJson[] }).incidents;
    expect(incidents.filter((i) => i.rule === "CPUThrottling" && i.pod?.name === "throttled")).toHaveLength(1);
    const starvation = incidents.find((i) => i.rule === "CPUStarvation" && i.pod?.name === "victim");
    expect(starvation?.culprits[0]?.name).toBe("noisy");
    expect(starvation?.end).toBeDefined();
    const table = await cli(["incidents", "-n", namespace, "--since", "1h"]);
    expect(table.stdout).toMatch(/CPUStarvation/);

    const events = await poll(
      "StarvationCleared Events",
      async () => {
        const r = await kubectl(["get", "events.events.k8s.io", "-n", namespace, "-o", "json"]);
        const items = (JSON.parse(r.stdout) as { items: { reason: string; type: string; note: string; regarding: { name: string } }[] }).items.filter((e) => e.reason === "StarvationCleared");
        return items.some((e) => e.regarding.name === "throttled") ? items : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const cleared = events.find((e) => e.regarding.name === "throttled");
    expect(cleared?.type).toBe("Normal");
    expect(cleared?.note).toMatch(/CPUThrottling cleared after \d/);
    // One Event for the one (resumed) incident.
    expect(events.filter((e) => e.regarding.name === "throttled")).toHaveLength(1);
  });

  it("reports what to change: a higher CPU limit for the throttled container, a higher memory limit after the OOM kill", async () => {
    const result = await cli(["report", "-n", namespace, "--since", "1h", "-o", "json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      skipped: { node: string; reason: string }[];
      workloads: { pods: string[]; containers: { advice: { resource: string; kind: string; recommended: number | null; current?: number | null; change: string }[] }[] }[];
    };
    // The node whose agent is down is named, and the rest is still reported.
    expect(report.skipped.map((s) => s.node)).toContain(deadNode);
    // The live node's history is read (its reason shows here when it is not), and it holds the throttled container.
    expect(report.skipped.filter((s) => s.node === nodeName)).toEqual([]);
    expect(report.workloads.find((w) => w.pods.includes(`${namespace}/throttled`))?.containers.length).toBe(1);
    const adviceFor = (pod: string, resource: string, kind: string) =>
      report.workloads.find((w) => w.pods.includes(`${namespace}/${pod}`))?.containers.flatMap((c) => c.advice).find((a) => a.resource === resource && a.kind === kind);
    const cpuLimit = adviceFor("throttled", "cpu", "limit");
    expect(cpuLimit).toBeDefined();
    // Raised above the 0.2 cores it had.
    expect(cpuLimit?.change).toBe("raise");
    expect(cpuLimit?.recommended).toBeGreaterThan(0.2);
    const memoryLimit = adviceFor("hog", "memory", "limit");
    expect(memoryLimit?.recommended).toBeGreaterThan(96 * MiB);
    const markdown = await cli(["report", "-n", namespace, "--since", "1h", "-o", "md"]);
    expect(markdown.stdout).toMatch(/throttled/);
    expect(markdown.stdout).toContain(deadNode);
  });

  it("serves the node's history only to callers the cluster allows", async () => {
    await ensureServiceAccount(namespace, "stranger");
    const token = await mintServiceAccountToken(namespace, "stranger");
    const url = `http://127.0.0.1:${agentPort}/api/v1/history/incidents?since=1h`;
    expect((await fetch(url)).status).toBe(401);
    const refused = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(/may not get nodefindings\/history\.xander\.io/);
    const series = await fetch(`http://127.0.0.1:${agentPort}/api/v1/history/pods/${namespace}/throttled?since=10m`, { headers: { authorization: `Bearer ${token}` } });
    expect(series.status).toBe(403);
  });

  it("answers bad input with a clear error and a non-zero exit, never a stack trace", async () => {
    const unknown = await cli(["pod", `${namespace}/nobody`]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(new RegExp(`${namespace}/nobody`));
    const banana = await cli(["incidents", "--since", "banana"]);
    expect(banana.code).not.toBe(0);
    expect(banana.stderr).toMatch(/banana/);
    const closed = await freePort();
    writeFileSync(
      join(dir, "unreachable.kubeconfig"),
      JSON.stringify({ apiVersion: "v1", kind: "Config", clusters: [{ name: "c", cluster: { server: `https://127.0.0.1:${closed}` } }], users: [{ name: "u", user: { token: "x" } }], contexts: [{ name: "x", context: { cluster: "c", user: "u" } }], "current-context": "x" }),
    );
    const unreachable = await cli(["summary", "--kubeconfig", join(dir, "unreachable.kubeconfig")]);
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toMatch(new RegExp(`cannot reach https://127.0.0.1:${closed}`));
    for (const r of [unknown, banana, unreachable]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
