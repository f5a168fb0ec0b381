/**
 * A container whose cgroup appears only after its Pod's status named it: the agent hears of the Pod, cannot
 * sample it yet, and must find the cgroup on its own, as no further pod event comes. Real apiserver, real
 * cgroups, the agent as a process.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomContainerId, CgroupSandbox } from "../../src/demo/sandbox.js";
import { UNSETTLED_REFRESH_EVERY_TICKS } from "../../src/agent/refresh-schedule.js";
import { createNamespace, createNode, createPod, ensureServiceAccount, installCrds, poll, repoRoot, setPodStatus } from "../cluster/index.js";
import { requireRealCgroups } from "./support/host.js";
import { freePort, metricSum, startXander, type XanderProcess } from "./support/processes.js";
import { applyPolicy } from "./support/sandbox-pods.js";
import { tearDownScenario } from "./support/scenario.js";

const suffix = randomBytes(3).toString("hex");
const nodeName = `late-node-${suffix}`;
const policyName = `late-${suffix}`;

let sandbox: CgroupSandbox | undefined;
let namespace = "";
let dir = "";
let agent: XanderProcess | undefined;
let agentPort = 0;

async function agentMetric(name: string): Promise<number> {
  const page = await (await fetch(`http://127.0.0.1:${agentPort}/metrics`)).text();
  return metricSum(page, name);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  const layout = await requireRealCgroups();
  dir = mkdtempSync(join(tmpdir(), "xander-late-"));
  await installCrds(join(repoRoot, "crds"));
  await createNode(nodeName);
  namespace = await createNamespace(`late-${suffix}`);
  await ensureServiceAccount(namespace);
  await applyPolicy(policyName, namespace, { sampling: { interval: "1s", window: "3s" } });
  sandbox = new CgroupSandbox(layout);
  agentPort = await freePort();
  agent = startXander(["agent", "--node", nodeName, "--db", join(dir, "agent.db"), "--metrics-addr", `127.0.0.1:${agentPort}`, "--metrics-authorization", "none"], join(dir, "agent.log"));
  // No controller: nothing here needs the NodeFindings it would create, only the agent's own counters.
  await poll("the agent's first tick", async () => ((await agentMetric("xander_agent_ticks_total").catch(() => 0)) >= 1 ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
}, 120_000);

afterAll(async () => {
  const failures = await tearDownScenario({ sandbox, processes: [agent], policies: [policyName], namespaces: [namespace], nodes: [nodeName], dir });
  expect(failures).toEqual([]);
}, 120_000);

describe("a cgroup that appears after its Pod named the container", () => {
  it("is found and sampled within the unsettled refresh interval, with no pod event to prompt it", async () => {
    const apiPod = await createPod({ namespace, nodeName, name: "late", containers: [{ name: "main", resources: { requests: { cpu: "100m" } } }] });
    const uid = apiPod.metadata?.uid ?? "";
    const containerId = randomContainerId();
    await setPodStatus(namespace, "late", { phase: "Running", podIP: "10.247.1.10", containerStatuses: [{ name: "main", containerID: `containerd://${containerId}`, ready: true, restartCount: 0 }] });
    await poll("the agent listing the pod", async () => ((await agentMetric("xander_agent_pods")) === 1 ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 });
    // Listed but without a cgroup: nothing to sample.
    const before = await agentMetric("xander_agent_samples_total");
    await sleep(3000);
    expect(await agentMetric("xander_agent_samples_total")).toBe(before);

    sandbox!.addPod({ name: "late", qosClass: "burstable", uid, containerId });
    const createdMs = Date.now();
    await poll("the agent sampling the late cgroup", async () => ((await agentMetric("xander_agent_samples_total")) > before ? true : undefined), {
      timeoutMs: (UNSETTLED_REFRESH_EVERY_TICKS + 10) * 1000,
      intervalMs: 200,
    });
    // A tick primes a target and the next one samples it: one refresh interval plus two ticks and some slack.
    expect(Date.now() - createdMs).toBeLessThan((UNSETTLED_REFRESH_EVERY_TICKS + 4) * 1000);
    expect(agent!.child.exitCode).toBeNull();
  }, 90_000);
});
