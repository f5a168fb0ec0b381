/**
 * The agent killed with SIGKILL again and again under load, on real cgroups, the real apiserver and its real
 * SQLite file, and restarted each time. Kills land at seeded random moments: during start-up, spread over the
 * sampling interval, and the moment the agent is seen writing to its WAL (mid-transaction). After each one the
 * history must pass `PRAGMA integrity_check`, have lost no tick but the one in flight, and hold one open incident
 * for the one throttled pod; at the end there is still one incident and one raise Event for it.
 *
 * XANDER_AGENT_KILLS sets the count (CI default 20; the soak in BENCHMARKS.md runs 100), XANDER_KILL_SEED the seed.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, watch, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { random } from "../../src/bench/random.js";
import { CgroupSandbox, type SandboxPod } from "../../src/demo/sandbox.js";
import { createNamespace, createNode, installCrds, poll, repoRoot } from "../cluster/index.js";
import { requireRealCgroups } from "./support/host.js";
import { nodeFindings } from "./support/node-findings.js";
import { freePort, startXander, type XanderProcess } from "./support/processes.js";
import { addApiPod, applyPolicy, eventsIn } from "./support/sandbox-pods.js";
import { tearDownScenario } from "./support/scenario.js";

const KILLS = Number(process.env.XANDER_AGENT_KILLS ?? 20);
const SEED = Number(process.env.XANDER_KILL_SEED ?? 14);
const INTERVAL_MS = 1000;
const suffix = randomBytes(3).toString("hex");
const nodeName = `kill-node-${suffix}`;
const policyName = `kill-${suffix}`;
const controllerNamespace = `xander-kill-${suffix}`;

let sandbox: CgroupSandbox | undefined;
let namespace = "";
let dir = "";
let dbPath = "";
let controller: XanderProcess | undefined;
let agent: XanderProcess | undefined;
let throttled: SandboxPod;

type KillMoment = "start-up" | "interval" | "wal-write";

/** One agent process's life, from spawn to SIGKILL, and what its history kept of it. */
interface Run {
  readonly moment: KillMoment;
  readonly spawnMs: number;
  /** Spawn to the first "raised" log line, when the run got that far. */
  firstFindingMs?: number;
  killMs?: number;
  ticksStored?: number;
  /** Ticks started before the kill that are not in the history, beyond the one in flight. */
  ticksLostBeyondInFlight?: number;
}

const runs: Run[] = [];

function startAgent(moment: KillMoment): XanderProcess {
  runs.push({ moment, spawnMs: Date.now() });
  return startXander(["agent", "--node", nodeName, "--db", dbPath, "--metrics-addr", `127.0.0.1:0`, "--no-dependency-mapping"], join(dir, `agent-${runs.length}.log`));
}

/** The time of the first finding this process raised (its log's clock), once it has. */
function firstRaisedMs(proc: XanderProcess): number | undefined {
  for (const line of proc.log().split("\n")) {
    if (!line.includes('"msg":"raised CPUThrottling')) continue;
    return (JSON.parse(line) as { time: number }).time;
  }
  return undefined;
}

async function waitForFirstFinding(proc: XanderProcess, run: Run): Promise<void> {
  const raisedMs = await poll("the agent's first finding after its start", () => {
    if (proc.child.exitCode !== null) throw new Error(`the agent exited with ${proc.child.exitCode}:\n${proc.log().slice(-2000)}`);
    return Promise.resolve(firstRaisedMs(proc));
  }, { timeoutMs: 30_000, intervalMs: 20 });
  run.firstFindingMs = raisedMs - run.spawnMs;
}

/** Resolves on the agent's next write to its WAL: a transaction is being written. */
function nextWalWrite(): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(`${dbPath}-wal`, () => {
      watcher.close();
      resolve();
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function kill(proc: XanderProcess, run: Run): Promise<void> {
  run.killMs = Date.now();
  proc.child.kill("SIGKILL");
  await proc.exited;
}

interface HistoryCheck {
  readonly integrity: string;
  readonly tickWallMs: number[];
  readonly duplicateOpen: number;
  readonly throttlingIncidents: { id: string; start_ms: number; end_ms: number | null }[];
}

/** Reads the history file read-only, as an outsider would after a crash. */
function readHistory(run: Run): HistoryCheck {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const integrity = (db.pragma("integrity_check", { simple: false }) as { integrity_check: string }[]).map((r) => r.integrity_check).join("; ");
    const tickWallMs = db.prepare<[number, number], number>("SELECT wall_ms FROM ticks WHERE wall_ms >= ? AND wall_ms <= ? ORDER BY id").pluck().all(run.spawnMs, run.killMs ?? Date.now());
    const duplicateOpen = db.prepare<[], number>("SELECT count(*) FROM (SELECT 1 FROM incidents WHERE end_ms IS NULL GROUP BY rule, pod_uid, coalesce(container, '') HAVING count(*) > 1)").pluck().get() ?? 0;
    const throttlingIncidents = db
      .prepare<[string], { id: string; start_ms: number; end_ms: number | null }>("SELECT id, start_ms, end_ms FROM incidents WHERE rule = 'CPUThrottling' AND pod_uid = ?")
      .all(throttled.uid);
    return { integrity, tickWallMs, duplicateOpen, throttlingIncidents };
  } finally {
    db.close();
  }
}

/**
 * Ticks run every interval from the run's first; those that started before the kill and are not stored are
 * lost. The last one may have been in flight; any other is a loss the history should not have.
 */
function lostBeyondInFlight(run: Run, tickWallMs: readonly number[]): number {
  const first = tickWallMs[0];
  if (first === undefined || run.killMs === undefined) return 0;
  const started = Math.floor((run.killMs - first) / INTERVAL_MS) + 1;
  return Math.max(0, started - tickWallMs.length - 1);
}

function stats(values: readonly number[]): { n: number; min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, min: sorted[0] ?? 0, median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}

beforeAll(async () => {
  const layout = await requireRealCgroups();
  dir = mkdtempSync(join(tmpdir(), "xander-kills-"));
  dbPath = join(dir, "agent.db");
  await installCrds(join(repoRoot, "crds"));
  await createNode(nodeName);
  namespace = await createNamespace(`kill-${suffix}`);
  await applyPolicy(policyName, namespace, {
    sampling: { interval: `${INTERVAL_MS}ms`, window: "5s" },
    rules: { CPUThrottling: { for: "2s", clearAfter: "30s" }, MemoryNearLimit: { enabled: false } },
    reporting: { heartbeat: "20s", minInterval: "1s" },
  });
  sandbox = new CgroupSandbox(layout);
  throttled = await addApiPod(sandbox, { namespace, nodeName, name: "throttled", qosClass: "Burstable", podIP: "10.246.0.10" }, { cpuRequestCores: 1, cpuLimitCores: 0.2 });
  controller = startXander(["controller", "--namespace", controllerNamespace, "--metrics-addr", `127.0.0.1:${await freePort()}`, "--no-leader-elect"], join(dir, "controller.log"));
  sandbox.burn(throttled, 1);
}, 120_000);

afterAll(async () => {
  const failures = await tearDownScenario({ sandbox, processes: [agent, controller], policies: [policyName], namespaces: [namespace], controllerNamespace, nodes: [nodeName], dir });
  const firstFinding = stats(runs.flatMap((r) => (r.firstFindingMs === undefined || r === runs[0] ? [] : [r.firstFindingMs])));
  const summary = { kills: runs.filter((r) => r.killMs !== undefined).length, seed: SEED, restartToFirstFindingMs: firstFinding, moments: runs.map((r) => r.moment), runs };
  if (existsSync(join(repoRoot, ".cluster"))) writeFileSync(join(repoRoot, ".cluster", "agent-kills.json"), JSON.stringify(summary, null, 2));
  expect(failures).toEqual([]);
}, 120_000);

describe(`the agent killed with SIGKILL ${KILLS} times under load`, () => {
  it("raises the throttling finding and its one Event before the first kill", async () => {
    agent = startAgent("start-up");
    await waitForFirstFinding(agent, runs[0]!);
    await poll("the CPUThrottling Event", async () => ((await eventsIn(namespace)).some((e) => e.reason === "CPUThrottling") ? true : undefined), { timeoutMs: 30_000 });
    await poll("the incident in the history", () => Promise.resolve(readHistory(runs[0]!).throttlingIncidents.length === 1 ? true : undefined), { timeoutMs: 10_000 });
  });

  it("keeps a sound history after every kill: integrity ok, no tick lost but the one in flight, one open incident", async () => {
    const rng = random(SEED);
    const moments: KillMoment[] = ["start-up", "interval", "wal-write"];
    const firstIncident = readHistory(runs[0]!).throttlingIncidents[0]!;
    for (let i = 0; i < KILLS; i++) {
      const run = runs[runs.length - 1]!;
      const proc = agent!;
      if (run.moment === "start-up") await sleep(rng() * 1500);
      else {
        await waitForFirstFinding(proc, run);
        if (run.moment === "interval") await sleep(rng() * 2 * INTERVAL_MS);
        else await nextWalWrite();
      }
      await kill(proc, run);
      run.firstFindingMs ??= firstRaisedMs(proc) === undefined ? undefined : firstRaisedMs(proc)! - run.spawnMs;
      const history = readHistory(run);
      run.ticksStored = history.tickWallMs.length;
      run.ticksLostBeyondInFlight = lostBeyondInFlight(run, history.tickWallMs);
      const where = `after kill ${i + 1} (${run.moment}, ${run.killMs! - run.spawnMs} ms after spawn)`;
      expect({ where, integrity: history.integrity }).toEqual({ where, integrity: "ok" });
      expect({ where, lost: run.ticksLostBeyondInFlight }).toEqual({ where, lost: 0 });
      expect({ where, duplicateOpen: history.duplicateOpen }).toEqual({ where, duplicateOpen: 0 });
      // The throttling never stopped: still the one incident it opened before the first kill, still open.
      expect({ where, incidents: history.throttlingIncidents }).toEqual({ where, incidents: [{ ...firstIncident, end_ms: null }] });
      agent = startAgent(moments[Math.floor(rng() * moments.length)]!);
    }
  }, 60_000 + KILLS * 15_000);

  it("ends with one raise Event, no clear Event, and the finding in NodeFindings under its first onset", async () => {
    await waitForFirstFinding(agent!, runs[runs.length - 1]!);
    const nf = await poll("the restarted agent's report with the finding", async () => {
      const current = await nodeFindings(nodeName);
      return (current?.status?.findings ?? []).some((f) => f.rule === "CPUThrottling" && f.pod?.name === "throttled") ? current : undefined;
    }, { timeoutMs: 30_000 });
    const events = (await eventsIn(namespace)).filter((e) => e.regarding.name === "throttled");
    expect(events.filter((e) => e.reason === "CPUThrottling")).toHaveLength(1);
    expect(events.filter((e) => e.reason === "StarvationCleared")).toHaveLength(0);
    const finding = nf.status?.findings?.find((f) => f.rule === "CPUThrottling" && f.pod?.name === "throttled");
    const incident = readHistory(runs[runs.length - 1]!).throttlingIncidents;
    expect(incident).toHaveLength(1);
    expect(Date.parse(finding?.firstSeen ?? "")).toBe(incident[0]!.start_ms);
    const log = readFileSync(agent!.logFile, "utf8");
    expect(log).not.toMatch(/moved it aside/);
  }, 60_000);
});
