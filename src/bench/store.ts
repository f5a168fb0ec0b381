import { fork } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { RUNTIME_ENV } from "../util/runtime-env.js";
import { DEFAULT_RETENTION, openStore } from "../store/store.js";
import type { HistoryStore, Retention } from "../store/types.js";
import { INTERVAL_MS, SyntheticNode } from "./synthetic-node.js";
import type { BenchResult } from "./types.js";

export interface StoreBenchOptions {
  readonly containers?: number;
  /** Simulated history for the size runs. */
  readonly hours?: number;
  /** Ticks in the dedicated ingest run. */
  readonly ingestTicks?: number;
  readonly queryRuns?: number;
}

const WINDOW_MS = 60_000;
/** The CRD's default `sampling.window`: what an agent on default policies refills after a restart. */
const DEFAULT_WINDOW_MS = 10_000;
const T0_MS = Date.UTC(2025, 0, 1);


function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Elapsed and CPU time of a synchronous call. Both are reported: on a shared machine the elapsed time includes
 * waiting for a core, while the CPU time (this process, all threads) is what the call itself costs.
 */
interface Spent {
  readonly elapsedMs: number;
  readonly cpuMs: number;
}

function spent<T>(call: () => T): { readonly result: T; readonly spent: Spent } {
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const result = call();
  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  return { result, spent: { elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 } };
}

/** Appends `ticks` ticks and returns the time spent inside appendTick only (generating the ticks excluded). */
async function ingest(store: HistoryStore, node: SyntheticNode, ticks: number): Promise<{ readonly spent: Spent; readonly lastWallMs: number }> {
  let elapsedMs = 0;
  let cpuMs = 0;
  let wallMs = T0_MS;
  for (let i = 0; i < ticks; i++) {
    wallMs = T0_MS + i * INTERVAL_MS;
    const tick = node.tick(wallMs);
    const targets = node.targets();
    const { spent: one } = spent(() => {
      store.appendTick(tick, targets);
    });
    elapsedMs += one.elapsedMs;
    cpuMs += one.cpuMs;
    if (i % 3600 === 3599) await yieldToEventLoop();
  }
  return { spent: { elapsedMs, cpuMs }, lastWallMs: wallMs };
}

/** Medians over `runs` calls after 3 warm-ups; `rows` is what the last call returned. */
function timeQuery(runs: number, query: () => number): { readonly median: Spent; readonly rows: number } {
  let rows = 0;
  for (let i = 0; i < 3; i++) rows = query();
  const elapsed: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { result, spent: one } = spent(query);
    rows = result;
    elapsed.push(one.elapsedMs);
    cpu.push(one.cpuMs);
  }
  return { median: { elapsedMs: median(elapsed), cpuMs: median(cpu) }, rows };
}

function machineLoad(): string {
  return `load average ${round(loadavg()[0] ?? 0, 1)} on ${cpus().length} CPUs`;
}

interface TableSize {
  readonly bytes: number;
  readonly rows: number;
}

/** Bytes per table (with its indexes) from SQLite's dbstat, read after the store closed and checkpointed. */
function tableSizes(path: string): Map<string, TableSize> {
  const db = new Database(path, { readonly: true });
  try {
    const sizes = new Map<string, TableSize>();
    const pages = db.prepare<[], { tbl: string; bytes: number }>(
      "SELECT m.tbl_name AS tbl, SUM(d.pgsize) AS bytes FROM dbstat d JOIN sqlite_schema m ON m.name = d.name GROUP BY m.tbl_name",
    );
    for (const { tbl, bytes } of pages.all()) {
      const rows = db.prepare<[], number>(`SELECT count(*) FROM "${tbl.replace(/"/g, '""')}"`).pluck().get() ?? 0;
      sizes.set(tbl, { bytes, rows });
    }
    return sizes;
  } finally {
    db.close();
  }
}

/** What the query child is asked to time, and what it answers. */
interface QueryRequest {
  readonly path: string;
  readonly retention: Retention;
  readonly windowSinceMs: number;
  readonly defaultWindowSinceMs: number;
  readonly podUid: string;
  readonly rawSinceMs: number;
  readonly rollupSinceMs: number;
  readonly runs: number;
}

interface QueryTimes {
  /** The very first latestWindow of the process: cold code, as in the agent right after a restart. */
  readonly windowFirstMs: number;
  readonly window: Spent;
  readonly windowRows: number;
  readonly defaultWindow: Spent;
  readonly podRaw: Spent;
  readonly podRollup: Spent;
  /** Machine load when the queries ran. */
  readonly load: string;
}

const QUERY_CHILD_ENV = "XANDER_BENCH_STORE_QUERIES";
/** The agent's runtime settings other than NODE_OPTIONS, which the query child gets as execArgv. */
const AGENT_MALLOC_ENV = Object.fromEntries(Object.entries(RUNTIME_ENV).filter(([name]) => name !== "NODE_OPTIONS"));

function runQueries(request: QueryRequest): QueryTimes {
  const store = openStore(request.path, { retention: request.retention });
  try {
    const first = spent(() => store.latestWindow(request.windowSinceMs).length);
    const window = timeQuery(request.runs, () => store.latestWindow(request.windowSinceMs).length);
    const defaultWindow = timeQuery(request.runs, () => store.latestWindow(request.defaultWindowSinceMs).length);
    const podRaw = timeQuery(request.runs, () => store.podSeries(request.podUid, request.rawSinceMs, { resolution: "raw" }).containers.length);
    const podRollup = timeQuery(request.runs, () => store.podSeries(request.podUid, request.rollupSinceMs, { resolution: "1m" }).containers.length);
    return { windowFirstMs: first.spent.elapsedMs, window: window.median, windowRows: window.rows, defaultWindow: defaultWindow.median, podRaw: podRaw.median, podRollup: podRollup.median, load: machineLoad() };
  } finally {
    store.close();
  }
}

/**
 * Times the queries in a fresh process with the agent's heap settings, as the agent runs them after a restart.
 * In this process they would pay for collecting the garbage of millions of synthesized samples, which doubles
 * their time; and the young generation's size decides how often kept samples are copied.
 */
function queriesInFreshProcess(request: QueryRequest): Promise<QueryTimes> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: [...process.execArgv, ...RUNTIME_ENV.NODE_OPTIONS.split(" ")],
      env: { ...process.env, ...AGENT_MALLOC_ENV, [QUERY_CHILD_ENV]: JSON.stringify(request) },
    });
    child.once("message", (times) => {
      resolve(times as QueryTimes);
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`store query benchmark child exited with ${String(code)}`));
    });
  });
}

const queryChildRequest = process.env[QUERY_CHILD_ENV];
if (queryChildRequest !== undefined && process.send) {
  process.send(runQueries(JSON.parse(queryChildRequest) as QueryRequest), () => {
    process.disconnect();
  });
}

interface HistoryRun extends QueryTimes {
  readonly fileBytes: number;
  readonly append: Spent;
  readonly samples: number;
  readonly tables: Map<string, TableSize>;
}

/** Writes `hours` of history through the real append path, with retention and rollups running as in the agent. */
async function simulateHistory(dir: string, name: string, retention: Retention, containers: number, hours: number, queryRuns: number): Promise<HistoryRun> {
  const path = join(dir, name);
  const node = new SyntheticNode(containers);
  const store = openStore(path, { retention });
  const ticks = Math.round((hours * 3_600_000) / INTERVAL_MS);
  const { spent: append, lastWallMs } = await ingest(store, node, ticks);
  store.close();
  const queries = await queriesInFreshProcess({
    path,
    retention,
    windowSinceMs: lastWallMs - WINDOW_MS + INTERVAL_MS,
    defaultWindowSinceMs: lastWallMs - DEFAULT_WINDOW_MS + INTERVAL_MS,
    podUid: node.targets()[0]?.podUid ?? "",
    rawSinceMs: lastWallMs - 15 * 60_000,
    rollupSinceMs: lastWallMs - hours * 3_600_000,
    runs: queryRuns,
  });
  return { ...queries, fileBytes: statSync(path).size, append, samples: ticks * containers, tables: tableSizes(path) };
}

function bytesPerRow(size: TableSize | undefined): number {
  return size && size.rows > 0 ? round(size.bytes / size.rows) : NaN;
}

function sizeResults(label: string, run: HistoryRun, hours: number, containers: number, retentionText: string): BenchResult[] {
  const mb = run.fileBytes / 1e6;
  const samples = run.tables.get("samples");
  const rollups = run.tables.get("rollups_1m");
  return [
    {
      name: `store: DB size, ${hours} h at ${containers} containers/1 s, ${label}`,
      value: round(mb),
      unit: "MB",
      target: "≤ 100",
      pass: mb <= 100,
      method: `${run.samples} samples through appendTick with fake 1 s timestamps, ${retentionText}; file size after close (WAL checkpointed), free pages included`,
    },
    {
      name: `store: raw sample bytes/row (${label})`,
      value: bytesPerRow(samples),
      unit: "B/row",
      method: `dbstat pages of table samples / its ${samples?.rows ?? 0} rows`,
    },
    {
      name: `store: rollup bytes/row (${label})`,
      value: bytesPerRow(rollups),
      unit: "B/row",
      method: `dbstat pages of table rollups_1m / its ${rollups?.rows ?? 0} rows`,
    },
  ];
}

/**
 * The store's numbers: ingest rate, the window query that refills rolling windows after a restart, and the
 * database size for 12 h of history at default retention and with all of it kept raw.
 */
export async function benchStore(opts: StoreBenchOptions = {}): Promise<BenchResult[]> {
  const containers = opts.containers ?? 330;
  const hours = opts.hours ?? 12;
  const ingestTicks = opts.ingestTicks ?? 600;
  const queryRuns = opts.queryRuns ?? 21;
  const dir = mkdtempSync(join(tmpdir(), "xander-bench-store-"));
  try {
    const quick = await simulateHistory(dir, "ingest.db", DEFAULT_RETENTION, containers, ingestTicks / 3600, queryRuns);
    const ingestRate = quick.samples / (quick.append.elapsedMs / 1000);
    await yieldToEventLoop();
    const defaults = await simulateHistory(dir, "default.db", DEFAULT_RETENTION, containers, hours, queryRuns);
    const allRawRetention = { ...DEFAULT_RETENTION, rawMs: (hours + 1) * 3_600_000, rollupMs: (hours + 1) * 3_600_000 };
    const allRaw = await simulateHistory(dir, "all-raw.db", allRawRetention, containers, hours, queryRuns);
    const sustained = defaults.samples / (defaults.append.elapsedMs / 1000);
    const windowOk = defaults.windowRows === containers * (WINDOW_MS / INTERVAL_MS);
    const onDefaults = `with the agent's ${RUNTIME_ENV.NODE_OPTIONS} and ${Object.entries(AGENT_MALLOC_ENV).map(([name, value]) => `${name}=${value}`).join(", ")}, on the ${hours} h default-retention DB, ${defaults.load}`;
    return [
      {
        name: "store: ingest rate",
        value: Math.round(ingestRate),
        unit: "samples/s",
        target: "≥ 200000",
        pass: ingestRate >= 200_000,
        method: `${ingestTicks} ticks × ${containers} containers, one appendTick (one transaction) per tick, file DB in WAL mode; elapsed time inside appendTick only; ${quick.load}`,
      },
      {
        name: "store: ingest rate per CPU second",
        value: Math.round(quick.samples / (quick.append.cpuMs / 1000)),
        unit: "samples/cpu-s",
        method: "the same run, divided by the process CPU time instead: what ingest costs regardless of other load",
      },
      {
        name: `store: ingest rate sustained over ${hours} h (rollups and retention running)`,
        value: Math.round(sustained),
        unit: "samples/s",
        target: "≥ 200000",
        pass: sustained >= 200_000,
        method: `the default-retention size run below, elapsed time inside appendTick only (CPU: ${Math.round(defaults.samples / (defaults.append.cpuMs / 1000))} samples/cpu-s)`,
      },
      {
        name: `store: latestWindow 60 s × ${containers} containers`,
        value: round(defaults.window.elapsedMs, 2),
        unit: "ms",
        target: "≤ 20",
        pass: defaults.window.elapsedMs <= 20 && windowOk,
        method: `median elapsed of ${queryRuns} runs after 3 warm-ups, in a fresh process ${onDefaults}; ${defaults.windowRows} samples returned`,
      },
      {
        name: `store: latestWindow 10 s (the default window) × ${containers} containers`,
        value: round(defaults.defaultWindow.elapsedMs, 2),
        unit: "ms",
        target: "≤ 20",
        pass: defaults.defaultWindow.elapsedMs <= 20,
        method: `median elapsed of ${queryRuns} runs after 3 warm-ups, in a fresh process ${onDefaults}`,
      },
      {
        name: `store: latestWindow 60 s × ${containers} containers, CPU`,
        value: round(defaults.window.cpuMs, 2),
        unit: "cpu-ms",
        method: `median process CPU time of the same runs (garbage collector threads included)`,
      },
      {
        name: `store: latestWindow 60 s × ${containers} containers, first call after opening`,
        value: round(defaults.windowFirstMs, 2),
        unit: "ms",
        method: `elapsed time of the first call in a fresh process (code not yet optimized, small heap), as at agent start`,
      },
      {
        name: "store: podSeries 15 min raw (3 containers)",
        value: round(defaults.podRaw.elapsedMs, 2),
        unit: "ms",
        method: `median elapsed of ${queryRuns} runs in a fresh process ${onDefaults} (CPU ${round(defaults.podRaw.cpuMs, 2)} ms)`,
      },
      {
        name: `store: podSeries ${hours} h of 1-minute rollups (3 containers)`,
        value: round(defaults.podRollup.elapsedMs, 2),
        unit: "ms",
        method: `median elapsed of ${queryRuns} runs in a fresh process ${onDefaults} (CPU ${round(defaults.podRollup.cpuMs, 2)} ms)`,
      },
      ...sizeResults("default retention", defaults, hours, containers, `retention raw ${DEFAULT_RETENTION.rawMs / 3_600_000} h, rollups ${DEFAULT_RETENTION.rollupMs / 3_600_000} h`),
      ...sizeResults("all raw", allRaw, hours, containers, "nothing pruned (raw retention longer than the run)"),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
