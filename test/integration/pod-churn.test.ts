/**
 * Pod churn on one node: 1,000 Pods created and deleted in batches on the real apiserver, each with real
 * cgroups (a few of them throttled, so findings come and go), while the agent and the controller run. The
 * agent's RSS and open descriptors are read from /proc before, during and after; the descriptors it keeps
 * open on cgroup files must be gone once their pod is; and no finding may stay behind for a deleted Pod.
 *
 * XANDER_CHURN_PODS sets the count (default 1000), in batches of XANDER_CHURN_BATCH (default 50).
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { CgroupSandbox, type SandboxPod } from "../../src/demo/sandbox.js";
import { createNamespace, createNode, ensureServiceAccount, installCrds, loadKubeConfig, poll, repoRoot } from "../cluster/index.js";
import { requireRealCgroups } from "./support/host.js";
import { nodeFindings } from "./support/node-findings.js";
import { freePort, metricSum, startXander, type XanderProcess } from "./support/processes.js";
import { addApiPod, applyPolicy } from "./support/sandbox-pods.js";
import { tearDownScenario } from "./support/scenario.js";

const PODS = Number(process.env.XANDER_CHURN_PODS ?? 1000);
const BATCH = Number(process.env.XANDER_CHURN_BATCH ?? 50);
/** Every this many pods of a batch runs a throttled busy loop, so findings are raised for pods that then go. */
const THROTTLED_EVERY = 25;
const CLEAR_AFTER_S = 5;
const suffix = randomBytes(3).toString("hex");
const nodeName = `churn-node-${suffix}`;
const policyName = `churn-${suffix}`;
const controllerNamespace = `xander-churn-${suffix}`;

let sandbox: CgroupSandbox | undefined;
let namespace = "";
let dir = "";
let controller: XanderProcess | undefined;
let agent: XanderProcess | undefined;
let agentPort = 0;
const deletedUids = new Set<string>();

interface Usage {
  readonly rssKiB: number;
  readonly fds: number;
  /** Descriptors open on files under the cgroup mounts. */
  readonly cgroupFds: readonly string[];
}

function usage(pid: number): Usage {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
  const links = readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return []; // closed between the listing and the read
    }
  });
  return { rssKiB, fds: links.length, cgroupFds: links.filter((l) => l.startsWith("/sys/fs/cgroup/")) };
}

async function agentMetric(name: string): Promise<number> {
  const page = await (await fetch(`http://127.0.0.1:${agentPort}/metrics`)).text();
  return metricSum(page, name);
}

/** Runs `fn` over `items`, `limit` at a time. */
async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += limit) results.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
  return results;
}

function stats(values: readonly number[]): { min: number; max: number; last: number } {
  return { min: Math.min(...values), max: Math.max(...values), last: values[values.length - 1] ?? 0 };
}

const figures: { before?: Usage; during: Usage[]; after?: Usage; batchMs: number[]; findingsRaised: number } = { during: [], batchMs: [], findingsRaised: 0 };

beforeAll(async () => {
  const layout = await requireRealCgroups();
  dir = mkdtempSync(join(tmpdir(), "xander-churn-"));
  await installCrds(join(repoRoot, "crds"));
  await createNode(nodeName);
  namespace = await createNamespace(`churn-${suffix}`);
  await ensureServiceAccount(namespace);
  await applyPolicy(policyName, namespace, {
    sampling: { interval: "1s", window: "3s" },
    rules: { CPUThrottling: { for: "1s", clearAfter: `${CLEAR_AFTER_S}s` }, MemoryNearLimit: { enabled: false } },
    reporting: { heartbeat: "10s", minInterval: "1s" },
  });
  sandbox = new CgroupSandbox(layout);
  controller = startXander(["controller", "--namespace", controllerNamespace, "--metrics-addr", `127.0.0.1:${await freePort()}`, "--metrics-authorization", "none", "--no-leader-elect"], join(dir, "controller.log"));
  agentPort = await freePort();
  agent = startXander(["agent", "--node", nodeName, "--db", join(dir, "agent.db"), "--metrics-addr", `127.0.0.1:${agentPort}`, "--metrics-authorization", "none"], join(dir, "agent.log"));
  await poll("the agent's first report", async () => ((await nodeFindings(nodeName))?.status?.agent ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
}, 120_000);

afterAll(async () => {
  const failures = await tearDownScenario({ sandbox, processes: [agent, controller], policies: [policyName], namespaces: [namespace], controllerNamespace, nodes: [nodeName], dir });
  const summary = {
    pods: deletedUids.size,
    batch: BATCH,
    rssKiB: { before: figures.before?.rssKiB, during: stats(figures.during.map((u) => u.rssKiB)), after: figures.after?.rssKiB },
    fds: { before: figures.before?.fds, during: stats(figures.during.map((u) => u.fds)), after: figures.after?.fds },
    cgroupFds: { before: figures.before?.cgroupFds.length, during: stats(figures.during.map((u) => u.cgroupFds.length)), after: figures.after?.cgroupFds.length },
    batchMs: stats(figures.batchMs),
    findingsRaised: figures.findingsRaised,
  };
  if (existsSync(join(repoRoot, ".cluster"))) writeFileSync(join(repoRoot, ".cluster", "pod-churn.json"), JSON.stringify(summary, null, 2));
  expect(failures).toEqual([]);
}, 120_000);

describe(`${PODS} pods created and deleted on one node`, () => {
  it("keeps the agent up with bounded memory and descriptors, and closes each pod's cgroup files when it goes", async () => {
    const pid = agent!.child.pid!;
    const api = loadKubeConfig().makeApiClient(CoreV1Api);
    figures.before = usage(pid);
    for (let start = 0; start < PODS; start += BATCH) {
      const batchStarted = Date.now();
      const names = Array.from({ length: Math.min(BATCH, PODS - start) }, (_, i) => `churn-${start + i}`);
      const pods = await inParallel(names, 10, (name) => addApiPod(sandbox!, { namespace, nodeName, name, qosClass: "Burstable", podIP: "10.247.0.10" }, { cpuRequestCores: 0.1, cpuLimitCores: 0.1 }));
      pods.filter((_, i) => i % THROTTLED_EVERY === 0).forEach((pod) => sandbox!.burn(pod, 1));
      await poll("the agent sampling the batch", async () => ((await agentMetric("xander_agent_pods")) === pods.length ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 });
      const throttled = pods.filter((_, i) => i % THROTTLED_EVERY === 0).length;
      await poll("findings on the batch's throttled pods", async () => ((await agentMetric("xander_agent_findings")) >= throttled ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 }).catch(() => undefined);
      figures.findingsRaised += await agentMetric("xander_agent_findings");
      figures.during.push(usage(pid));

      // As the kubelet does: the containers stop, the cgroups go, then the Pod object.
      const failures = (await inParallel(pods, 10, (pod: SandboxPod) => sandbox!.removePod(pod))).flat();
      expect(failures).toEqual([]);
      await inParallel(pods, 10, (pod: SandboxPod) => api.deleteNamespacedPod({ namespace, name: pod.name, gracePeriodSeconds: 0 }));
      for (const pod of pods) deletedUids.add(pod.uid);
      const gone = pods.map((pod) => pod.podRelPath);
      await poll("the agent releasing the batch's cgroup files", () => {
        if (agent!.child.exitCode !== null) throw new Error(`the agent exited with ${agent!.child.exitCode}`);
        const open = usage(pid).cgroupFds.filter((l) => gone.some((rel) => l.includes(rel)));
        return Promise.resolve(open.length === 0 ? true : undefined);
      }, { timeoutMs: 30_000, intervalMs: 200 });
      figures.batchMs.push(Date.now() - batchStarted);
    }
    await poll("the agent sampling no pods", async () => ((await agentMetric("xander_agent_pods")) === 0 ? true : undefined), { timeoutMs: 30_000 });
    figures.after = usage(pid);
    expect(agent!.child.exitCode).toBeNull();
    expect(controller!.child.exitCode).toBeNull();
    expect(figures.after.cgroupFds).toEqual(figures.before.cgroupFds);
    // Bounded: after the churn the agent holds about what it held before (the heap may keep some of its growth).
    expect(figures.after.fds).toBeLessThanOrEqual(figures.before.fds + 10);
    expect(figures.after.rssKiB).toBeLessThan(figures.before.rssKiB * 2 + 64 * 1024);
    expect(Math.max(...figures.during.map((u) => u.rssKiB))).toBeLessThan(figures.before.rssKiB * 3 + 128 * 1024);
  }, 60_000 + PODS * 1000);

  it("leaves no finding behind for a deleted pod", async () => {
    await poll(
      "NodeFindings without the deleted pods",
      async () => {
        const status = (await nodeFindings(nodeName))?.status;
        const left = (status?.findings ?? []).filter((f) => deletedUids.has(f.pod?.uid ?? ""));
        return left.length === 0 && status?.agent?.pods === 0 ? true : undefined;
      },
      { timeoutMs: (CLEAR_AFTER_S + 30) * 1000, intervalMs: 500 },
    );
    expect(figures.findingsRaised).toBeGreaterThan(0);
  }, 60_000);
});
