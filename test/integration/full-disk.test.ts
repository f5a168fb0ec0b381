/**
 * Fault 3 of the reliability tests: the agent's history on a disk that fills up. The history lives on a 4 MiB
 * tmpfs; the real `xander agent` (dist/) samples a throttled pod on real cgroups and reports to the real
 * apiserver. A filler file takes every free byte, and later goes away. Throughout, the agent must go on raising
 * and clearing findings from memory, say HistoryWritable=False (DiskFull) in NodeFindings and 0 on
 * xander_agent_history_writable, stay up, and write ticks again by itself once there is room. A second agent
 * starts on the full disk with no history file yet: it must run without history and open it once it can.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Condition } from "../../src/api/types.generated.js";
import { CgroupSandbox, type SandboxPod, type SandboxProcess } from "../../src/demo/sandbox.js";
import { createNamespace, createNode, deleteNamespace, deleteNode, installCrds, kubectl, poll, repoRoot } from "../cluster/index.js";
import { requireRealCgroups } from "./support/host.js";
import { nodeFindings } from "./support/node-findings.js";
import { freePort, metricValue, startXander, type XanderProcess } from "./support/processes.js";
import { addApiPod, applyPolicy } from "./support/sandbox-pods.js";
import { mountSmallDisk, type SmallDisk } from "./support/tmpfs.js";

const suffix = randomBytes(3).toString("hex");
const nodeName = `disk-node-${suffix}`;
const policyName = `disk-${suffix}`;

let dir = "";
let disk: SmallDisk | undefined;
let sandbox: CgroupSandbox | undefined;
let namespace = "";
let throttled: SandboxPod;
let agent: XanderProcess | undefined;
let agentPort = 0;
const figures: Record<string, number> = {};

function startAgent(dbPath: string, log: string): XanderProcess {
  return startXander(["agent", "--node", nodeName, "--db", dbPath, "--metrics-addr", `127.0.0.1:${agentPort}`, "--metrics-authorization", "none", "--no-dependency-mapping"], join(dir, log));
}

function alive(proc: XanderProcess): void {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`the agent exited (${proc.child.exitCode ?? proc.child.signalCode}):\n${proc.log().slice(-3000)}`);
}

async function historyCondition(): Promise<Condition | undefined> {
  return (await nodeFindings(nodeName))?.status?.conditions?.find((c) => c.type === "HistoryWritable");
}

/** Polls NodeFindings until HistoryWritable has `status`, failing at once if the agent dies meanwhile. */
async function conditionBecomes(proc: XanderProcess, status: "True" | "False", timeoutMs: number): Promise<Condition> {
  return poll(`HistoryWritable=${status} in NodeFindings ${nodeName}`, async () => {
    alive(proc);
    const condition = await historyCondition();
    return condition?.status === status ? condition : undefined;
  }, { timeoutMs, intervalMs: 200 });
}

async function agentMetrics(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${agentPort}/metrics`)).text();
}

const throttlingSeries = (): string => `xander_finding_active{namespace="${namespace}",pod="throttled",container="main",rule="CPUThrottling",severity="warning"} 1`;

async function stopBurners(burners: readonly SandboxProcess[]): Promise<void> {
  for (const b of burners) process.kill(-b.pid, "SIGKILL");
  await Promise.all(burners.map((b) => b.exited));
}

function ticksSince(dbPath: string, sinceMs: number): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[number], number>("SELECT count(*) FROM ticks WHERE wall_ms >= ?").pluck().get(sinceMs) ?? 0;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  const layout = await requireRealCgroups();
  dir = mkdtempSync(join(tmpdir(), "xander-full-disk-"));
  disk = mountSmallDisk(join(dir, "history"), 4 * 1024 * 1024);
  await installCrds(join(repoRoot, "crds"));
  await createNode(nodeName);
  // The controller would create it; this test needs only the agent.
  const created = await kubectl(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "xander.io/v1alpha1", kind: "NodeFindings", metadata: { name: nodeName }, spec: { nodeName } }) });
  if (created.code !== 0) throw new Error(`cannot create NodeFindings ${nodeName}: ${created.stderr}`);
  namespace = await createNamespace(`disk-${suffix}`);
  await applyPolicy(policyName, namespace, {
    sampling: { interval: "1s", window: "5s" },
    rules: { CPUThrottling: { for: "2s", clearAfter: "4s" }, MemoryNearLimit: { enabled: false } },
    reporting: { heartbeat: "20s", minInterval: "1s" },
  });
  sandbox = new CgroupSandbox(layout);
  throttled = await addApiPod(sandbox, { namespace, nodeName, name: "throttled", qosClass: "Burstable", podIP: "10.247.0.10" }, { cpuRequestCores: 1, cpuLimitCores: 0.2 });
  agentPort = await freePort();
}, 120_000);

afterAll(async () => {
  const failures = (await sandbox?.cleanup()) ?? [];
  await agent?.stop();
  try {
    disk?.unmount();
  } catch (error) {
    failures.push(String(error));
  }
  await kubectl(["delete", "starvationpolicy", policyName, "--ignore-not-found"]);
  await kubectl(["delete", "nodefindings", nodeName, "--ignore-not-found"]);
  if (namespace) await deleteNamespace(namespace);
  await deleteNode(nodeName);
  if (existsSync(join(repoRoot, ".cluster"))) writeFileSync(join(repoRoot, ".cluster", "full-disk.json"), JSON.stringify(figures, null, 2));
  if (process.env.XANDER_KEEP_LOGS === undefined && dir) rmSync(dir, { recursive: true, force: true });
  expect(failures).toEqual([]);
}, 120_000);

describe("the agent's history on a disk that fills up", () => {
  it("keeps detecting while the disk is full, says so, and writes ticks again by itself once there is room", async () => {
    const dbPath = join(disk!.dir, "agent.db");
    const filler = join(disk!.dir, "filler");
    agent = startAgent(dbPath, "agent-running.log");
    const pid = agent.child.pid;
    await conditionBecomes(agent, "True", 60_000);

    const filledAt = Date.now();
    figures["filler bytes"] = disk!.fill(filler);
    const full = await conditionBecomes(agent, "False", 30_000);
    figures["disk full → HistoryWritable=False in NodeFindings (ms)"] = Date.now() - filledAt;
    expect(full.reason).toBe("DiskFull");
    expect(full.message).toContain(dbPath);
    expect(full.message).toMatch(/database or disk is full/);
    expect(Date.parse(full.lastTransitionTime)).toBeGreaterThanOrEqual(filledAt - 1000);
    expect(metricValue(await agentMetrics(), "xander_agent_history_writable")).toBe(0);

    // Raised and cleared from memory, with nothing written.
    const burners = sandbox!.burn(throttled, 1);
    await poll("CPUThrottling raised on the agent's /metrics while the disk is full", async () => (alive(agent!), (await agentMetrics()).includes(throttlingSeries()) ? true : undefined), { timeoutMs: 30_000, intervalMs: 250 });
    await poll("CPUThrottling in NodeFindings beside HistoryWritable=False", async () => {
      const nf = await nodeFindings(nodeName);
      const raised = nf?.status?.findings?.some((f) => f.rule === "CPUThrottling" && f.pod?.name === "throttled");
      return raised && nf?.status?.conditions?.some((c) => c.type === "HistoryWritable" && c.status === "False") ? true : undefined;
    }, { timeoutMs: 15_000, intervalMs: 250 });
    await stopBurners(burners);
    await poll("CPUThrottling cleared while the disk is full", async () => (alive(agent!), (await agentMetrics()).includes(throttlingSeries()) ? undefined : true), { timeoutMs: 30_000, intervalMs: 250 });
    const page = await agentMetrics();
    expect(metricValue(page, "xander_agent_history_writable")).toBe(0);
    expect(metricValue(page, "xander_agent_history_write_errors_total")).toBeGreaterThan(3);
    expect((await historyCondition())?.status).toBe("False");
    expect((await fetch(`http://127.0.0.1:${agentPort}/healthz`)).status).toBe(200);
    expect(agent.child.pid).toBe(pid);

    const freedAt = Date.now();
    rmSync(filler);
    const back = await conditionBecomes(agent, "True", 30_000);
    figures["space back → HistoryWritable=True in NodeFindings (ms)"] = Date.now() - freedAt;
    expect(back.reason).toBe("TicksWritten");
    expect(metricValue(await agentMetrics(), "xander_agent_history_writable")).toBe(1);
    await poll("new ticks in the history", () => Promise.resolve(ticksSince(dbPath, freedAt) >= 2 ? true : undefined), { timeoutMs: 10_000 });
    expect(agent.child.pid).toBe(pid);
    alive(agent);
    expect(agent.log()).not.toMatch(/moved it aside/);
    await agent.stop();
    agent = undefined;
  }, 150_000);

  it("starts on a full disk without its history, detects, and opens the history by itself once there is room", async () => {
    const dbPath = join(disk!.dir, "started-full.db");
    const filler = join(disk!.dir, "filler");
    disk!.fill(filler);
    const burners = sandbox!.burn(throttled, 1);
    const startedAt = Date.now();
    agent = startAgent(dbPath, "agent-started-full.log");
    const full = await conditionBecomes(agent, "False", 60_000);
    figures["started on a full disk → HistoryWritable=False (ms)"] = Date.now() - startedAt;
    expect(full.reason).toBe("DiskFull");
    expect(full.message).toContain(dbPath);
    expect(agent.log()).toMatch(new RegExp(`cannot open the history store ${dbPath} .*running without history, detection continues`));
    await poll("CPUThrottling raised in NodeFindings with no history", async () => {
      alive(agent!);
      const nf = await nodeFindings(nodeName);
      return nf?.status?.findings?.some((f) => f.rule === "CPUThrottling" && f.pod?.name === "throttled") ? true : undefined;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    expect(metricValue(await agentMetrics(), "xander_agent_history_writable")).toBe(0);
    await stopBurners(burners);

    const freedAt = Date.now();
    rmSync(filler);
    await conditionBecomes(agent, "True", 30_000);
    figures["space back → history opened, HistoryWritable=True (ms)"] = Date.now() - freedAt;
    await poll("ticks in the history opened late", () => Promise.resolve(ticksSince(dbPath, freedAt) >= 2 ? true : undefined), { timeoutMs: 10_000 });
    expect(agent.log()).toMatch(/is open again/);
    alive(agent);
  }, 150_000);
});
