import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { CgroupLayout } from "../../src/cgroup/types.js";
import { CgroupSandbox, randomContainerId, type SandboxPod, type SandboxPodSpec } from "../../src/demo/sandbox.js";
import { allocateArgv } from "../../src/demo/workloads.js";
import type { NodeFinding, NodeFindings } from "../../src/api/types.generated.js";
import {
  createNamespace,
  createNode,
  createPod,
  ensureServiceAccount,
  installCrds,
  kubectl,
  metricsReaderToken,
  mintServiceAccountToken,
  poll,
  repoRoot,
  scrapeMetrics,
  setPodStatus,
} from "../cluster/index.js";
import { requireRealCgroups } from "./support/host.js";
import { freePort, metricValue, startXander, type XanderProcess } from "./support/processes.js";
import { tearDownScenario } from "./support/scenario.js";

const MiB = 1024 * 1024;
const suffix = randomBytes(3).toString("hex");
const nodeName = `e2e-node-${suffix}`;
const policyName = `e2e-${suffix}`;
const controllerNamespace = `xander-e2e-${suffix}`;

let layout: CgroupLayout;
let sandbox: CgroupSandbox | undefined;
let namespace = "";
let dir: string;
let controller: XanderProcess | undefined;
let agent: XanderProcess | undefined;
let agentMetricsPort: number;
const pods = new Map<string, SandboxPod>();
/** Measured onset-to-visible latencies, written next to the test logs and into BENCHMARKS.md by hand. */
const latencies: Record<string, number> = {};

interface PodPlan {
  readonly name: string;
  readonly qosClass: "Burstable" | "BestEffort";
  readonly spec: Omit<SandboxPodSpec, "name" | "qosClass" | "uid" | "containerId">;
}

const plans: PodPlan[] = [
  { name: "noisy", qosClass: "Burstable", spec: { cpuRequestCores: 2 } },
  { name: "victim", qosClass: "Burstable", spec: { cpuRequestCores: 0.1 } },
  { name: "throttled", qosClass: "Burstable", spec: { cpuRequestCores: 1, cpuLimitCores: 0.2 } },
  { name: "hog", qosClass: "Burstable", spec: { memoryLimitBytes: 96 * MiB } },
  { name: "calm", qosClass: "BestEffort", spec: {} },
];

async function nodeFindings(): Promise<NodeFindings | undefined> {
  const result = await kubectl(["get", "nodefindings", nodeName, "-o", "json"]);
  return result.code === 0 ? (JSON.parse(result.stdout) as NodeFindings) : undefined;
}

function findingsOf(nf: NodeFindings | undefined, podName: string): NodeFinding[] {
  return (nf?.status?.findings ?? []).filter((f) => f.pod?.name === podName && f.pod.namespace === namespace);
}

/** Waits for a finding; returns it with the NodeFindings object it was seen in. */
async function waitForFinding(podName: string, rule: string, since: number, timeoutMs = 60_000): Promise<NodeFinding & { seenIn: NodeFindings }> {
  const found = await poll(
    `${rule} on ${podName} in NodeFindings ${nodeName}`,
    async () => {
      const nf = await nodeFindings();
      const finding = findingsOf(nf, podName).find((f) => f.rule === rule);
      return finding && nf ? { ...finding, seenIn: nf } : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  ).catch(async (error: unknown) => {
    // Say what was there instead: the findings the agent did report.
    const seen = ((await nodeFindings())?.status?.findings ?? []).map((f) => `${f.rule} ${f.pod?.name ?? "node"}: ${f.message}`);
    throw new Error(`${String(error)}; NodeFindings had: ${seen.join(" | ") || "nothing"}`);
  });
  latencies[`${rule} (${podName})`] = Date.now() - since;
  return found;
}

beforeAll(async () => {
  layout = await requireRealCgroups();
  dir = mkdtempSync(join(tmpdir(), "xander-e2e-"));
  await installCrds(join(repoRoot, "crds"));
  await createNode(nodeName);
  namespace = await createNamespace(`e2e-${suffix}`);
  const policy = {
    apiVersion: "xander.io/v1alpha1",
    kind: "StarvationPolicy",
    metadata: { name: policyName },
    spec: {
      selector: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } },
      sampling: { interval: "1s", window: "5s" },
      rules: {
        CPUThrottling: { clearAfter: "10s" },
        CPUStarvation: { clearAfter: "10s" },
        OOMKill: { clearAfter: "10s" },
        MemoryNearLimit: { clearAfter: "10s" },
      },
      reporting: { heartbeat: "20s", minInterval: "1s" },
    },
  };
  writeFileSync(join(dir, "policy.json"), JSON.stringify(policy));
  const applied = await kubectl(["apply", "-f", join(dir, "policy.json")]);
  expect(applied.stderr).toBe("");

  sandbox = new CgroupSandbox(layout);
  for (const plan of plans) {
    // The apiserver derives status.qosClass from requests at creation; the cgroup path must agree with it.
    const resources = plan.qosClass === "Burstable" ? { requests: { cpu: "100m" } } : {};
    const apiPod = await createPod({ namespace, name: plan.name, nodeName, containers: [{ name: "main", resources }] });
    expect(apiPod.status?.qosClass).toBe(plan.qosClass);
    const containerId = randomContainerId();
    const uid = apiPod.metadata?.uid ?? "";
    pods.set(plan.name, sandbox.addPod({ name: plan.name, qosClass: plan.qosClass === "Burstable" ? "burstable" : "besteffort", uid, containerId, ...plan.spec }));
    await setPodStatus(namespace, plan.name, {
      phase: "Running",
      podIP: `10.244.0.${plans.indexOf(plan) + 10}`,
      containerStatuses: [{ name: "main", containerID: `containerd://${containerId}`, ready: true, restartCount: 0 }],
    });
  }
  sandbox.start(pods.get("calm")!, ["sleep", "600"]);

  controller = startXander(["controller", "--namespace", controllerNamespace, "--metrics-addr", `127.0.0.1:${await freePort()}`, "--no-leader-elect"], join(dir, "controller.log"));
  agentMetricsPort = await freePort();
  agent = startXander(["agent", "--node", nodeName, "--db", join(dir, "agent.db"), "--metrics-addr", `127.0.0.1:${agentMetricsPort}`], join(dir, "agent.log"));
  // The agent reports (and so has mapped its pods) before any load starts.
  await poll("the agent's first NodeFindings report", async () => ((await nodeFindings())?.status?.agent?.pods === plans.length ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
}, 180_000);

afterAll(async () => {
  const failures = await tearDownScenario({ sandbox, processes: [agent, controller], policies: [policyName], namespaces: [namespace], controllerNamespace, nodes: [nodeName], dir });
  writeFileSync(join(repoRoot, ".cluster", "e2e-latencies.json"), JSON.stringify(latencies, null, 2));
  expect(failures).toEqual([]);
}, 120_000);

describe("agent end to end: real cgroups to NodeFindings status", () => {
  it("reports its agent info and a Reporting condition", async () => {
    const nf = await nodeFindings();
    expect(nf?.status?.agent).toMatchObject({ cgroupLayout: layout.version, pods: plans.length });
    expect(nf?.status?.conditions?.find((c) => c.type === "Reporting")?.status).toBe("True");
    const managers = ((await kubectl(["get", "nodefindings", nodeName, "-o", "jsonpath={.metadata.managedFields[*].manager}", "--show-managed-fields"])).stdout).split(" ");
    expect(managers).toContain("xander-agent");
  });

  it("shows throttling, noisy-neighbour starvation with its culprit, and an OOM kill, and nothing on the calm pod", async () => {
    const onset = Date.now();
    sandbox!.burn(pods.get("noisy")!, 2);
    sandbox!.burn(pods.get("victim")!, 1);
    sandbox!.burn(pods.get("throttled")!, 1);
    const throttling = await waitForFinding("throttled", "CPUThrottling", onset);
    expect(throttling.value).toBeGreaterThanOrEqual(0.25);
    expect(throttling.policy).toBe(policyName);

    const starvation = await waitForFinding("victim", "CPUStarvation", onset);
    expect(starvation.culprit).toMatchObject({ name: "noisy", namespace });
    expect(starvation.culprit?.score).toBeGreaterThan(0.3);
    expect(starvation.message).toMatch(/noisy/);

    const oomOnset = Date.now();
    const hog = sandbox!.start(pods.get("hog")!, allocateArgv(400 * MiB));
    await hog.exited;
    const oom = await waitForFinding("hog", "OOMKill", oomOnset);
    expect(oom.severity).toBe("critical");

    const nf = oom.seenIn;
    expect(findingsOf(nf, "calm")).toEqual([]);
    expect(findingsOf(nf, "throttled").map((f) => f.rule)).not.toContain("CPUStarvation");
    expect(nf.status?.summary?.critical).toBeGreaterThanOrEqual(1);
  });

  it("emits Events on the starved pods, naming the culprit, once", async () => {
    const events = await poll(
      "Events for CPUStarvation and OOMKill",
      async () => {
        const result = await kubectl(["get", "events.events.k8s.io", "-n", namespace, "-o", "json"]);
        const items = (JSON.parse(result.stdout) as { items: { reason: string; note: string; regarding: { name: string } }[] }).items;
        const reasons = new Set(items.map((e) => e.reason));
        return reasons.has("CPUStarvation") && reasons.has("OOMKill") ? items : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    // One Event per finding, not one per tick (other pods may be starved too on a busy machine).
    const starvation = events.filter((e) => e.reason === "CPUStarvation" && e.regarding.name === "victim");
    expect(starvation).toHaveLength(1);
    expect(starvation[0]?.note).toMatch(new RegExp(`Culprit: ${namespace}/noisy`));
    const described = await kubectl(["get", "events", "-n", namespace, "--field-selector", "involvedObject.name=hog"]);
    expect(described.stdout).toMatch(/OOMKill/);
  });

  it("exposes each open finding on /metrics, with the culprit as a series of its own, and counts the incidents", async () => {
    const labels = (pod: string, rule: string, severity: string): string => `{namespace="${namespace}",pod="${pod}",container="main",rule="${rule}",severity="${severity}"}`;
    const page = await poll(
      "the starvation and throttling findings on the agent's /metrics",
      async () => {
        const text = await scrapeMetrics(`http://127.0.0.1:${agentMetricsPort}`);
        return text.includes(`xander_finding_active${labels("victim", "CPUStarvation", "warning")} 1`) && text.includes(`xander_finding_active${labels("throttled", "CPUThrottling", "warning")} 1`) ? text : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    ).catch(async (error: unknown) => {
      const text = await scrapeMetrics(`http://127.0.0.1:${agentMetricsPort}`);
      throw new Error(`${String(error)}; /metrics had: ${text.split("\n").filter((line) => line.startsWith("xander_finding_active")).join(" | ") || "no finding series"}`);
    });
    expect(page).toContain(`xander_finding_culprit_info{namespace="${namespace}",pod="victim",container="main",rule="CPUStarvation",culprit_namespace="${namespace}",culprit_pod="noisy"} 1`);
    expect(metricValue(page, "xander_finding_value", labels("throttled", "CPUThrottling", "warning"))).toBeGreaterThanOrEqual(0.25);
    // The OOM kill's finding may have cleared by now (clearAfter 10s); its incident stays counted.
    expect(metricValue(page, "xander_incidents_total", `{namespace="${namespace}",rule="OOMKill",severity="critical"}`)).toBeGreaterThanOrEqual(1);
  });

  it("serves /metrics, whose series name pods, only to callers allowed get /metrics", async () => {
    const scrape = async (token?: string): Promise<[number, string]> => {
      const response = await fetch(`http://127.0.0.1:${agentMetricsPort}/metrics`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
      return [response.status, await response.text()];
    };
    expect(await scrape()).toEqual([401, expect.stringContaining("no bearer token")]);
    await ensureServiceAccount(namespace, "stranger");
    const [status, body] = await scrape(await mintServiceAccountToken(namespace, "stranger"));
    expect([status, body]).toEqual([403, expect.stringContaining(`system:serviceaccount:${namespace}:stranger may not get /metrics`)]);
    expect(body).not.toContain("xander_finding_active");
    expect(await scrape(await metricsReaderToken())).toEqual([200, expect.stringContaining("xander_agent_ticks_total")]);
  });

  it("writes status at most once per heartbeat unless the findings change", async () => {
    const read = async (): Promise<{ heartbeat: number; change: number }> => {
      const page = await scrapeMetrics(`http://127.0.0.1:${agentMetricsPort}`);
      return {
        heartbeat: metricValue(page, "xander_agent_status_writes_total", '{outcome="written",reason="heartbeat"}'),
        change: metricValue(page, "xander_agent_status_writes_total", '{outcome="written",reason="change"}'),
      };
    };
    const before = await read();
    const spanMs = 45_000;
    await new Promise((resolve) => setTimeout(resolve, spanMs));
    const after = await read();
    const heartbeats = after.heartbeat - before.heartbeat;
    latencies["status writes in 45 s: heartbeat (20 s)"] = heartbeats;
    latencies["status writes in 45 s: material change"] = after.change - before.change;
    // A 20 s heartbeat allows two or three heartbeat writes in 45 s, whatever the span's phase; never one per tick.
    expect(heartbeats).toBeLessThanOrEqual(3);
    expect(heartbeats + after.change - before.change).toBeLessThan(45);
  });

  it("applies a policy edit without a restart: a rule turned off clears its finding, turned on raises it again", async () => {
    const pid = agent!.child.pid;
    const throttled = async (): Promise<boolean> => findingsOf(await nodeFindings(), "throttled").some((f) => f.rule === "CPUThrottling");
    expect(await throttled()).toBe(true); // the burner in the throttled pod still runs
    const setRule = async (enabled: boolean): Promise<void> => {
      const patch = { spec: { rules: { CPUThrottling: { enabled } } } };
      const r = await kubectl(["patch", "starvationpolicy", policyName, "--type=merge", "-p", JSON.stringify(patch)]);
      expect(r.stderr).toBe("");
    };
    const editedAt = Date.now();
    await setRule(false);
    // A subject no longer evaluated counts as "condition absent": it clears after clearAfter (10 s).
    await poll("CPUThrottling on throttled to clear with the rule off", async () => ((await throttled()) ? undefined : true), { timeoutMs: 40_000, intervalMs: 500 });
    latencies["policy edit → finding cleared (rule off, clearAfter 10 s)"] = Date.now() - editedAt;
    await setRule(true);
    await waitForFinding("throttled", "CPUThrottling", Date.now());
    expect(agent!.child.pid).toBe(pid);
    expect(agent!.child.exitCode).toBeNull();
  });

  it("clears the findings after the load stops", async () => {
    await sandbox!.stopAll();
    sandbox!.start(pods.get("calm")!, ["sleep", "600"]);
    const cleared = await poll(
      "findings on the demo pods to clear",
      async () => {
        const nf = await nodeFindings();
        const left = ["victim", "throttled", "hog"].flatMap((name) => findingsOf(nf, name));
        return left.length === 0 ? nf : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(cleared.status?.summary?.critical ?? 0).toBe(0);
    // The gauges are rebuilt every tick, so the cleared findings' series are gone, not left at their last value.
    const page = await scrapeMetrics(`http://127.0.0.1:${agentMetricsPort}`);
    expect(page.split("\n").filter((line) => line.startsWith("xander_finding_") && line.includes(`namespace="${namespace}"`))).toEqual([]);
  });
});
