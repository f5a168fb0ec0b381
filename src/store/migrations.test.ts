import { existsSync, readdirSync } from "node:fs";
import Database from "better-sqlite3";
import { sampleId } from "./codec.js";
import { MIGRATIONS, SCHEMA_VERSION, SchemaTooNewError, migrate, schemaVersion } from "./migrations.js";
import { openStore } from "./store.js";
import { T0_MS, scratchDir, target } from "./testing.js";
import type { RollupSample } from "./types.js";

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => {
  scratch.cleanup();
});

test("migrations are numbered 1..n in order, so user_version counts the ones applied", () => {
  expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
});

test("a new database is created at the current schema version", () => {
  const path = scratch.file("h.db");
  openStore(path).close();
  const db = new Database(path, { readonly: true });
  expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
  db.close();
});

/** Writes three minutes of history the way a version-1 agent did: raw samples only. */
function writeVersion1History(path: string): void {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  expect(migrate(db, 1)).toBe(0);
  expect(schemaVersion(db)).toBe(1);
  const web = target(1);
  db.prepare(
    `INSERT INTO targets (id, key, pod_uid, container_id, rel_path, namespace, pod_name, container_name, first_seen_ms, last_seen_ms)
     VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(web.key, web.podUid, web.containerId, web.relPath, web.namespace, web.podName, web.containerName, T0_MS, T0_MS + 179_000);
  const tick = db.prepare("INSERT INTO ticks (id, wall_ms, interval_ms) VALUES (?, ?, 1000)");
  const sample = db.prepare("INSERT INTO samples (id, cpu_mcores, working_set_kib, oom_kills) VALUES (?, ?, 1024, 0)");
  db.transaction(() => {
    for (let i = 0; i < 180; i++) {
      tick.run(i + 1, T0_MS + i * 1000);
      sample.run(sampleId(i + 1, 1), i < 60 ? 100 : 300);
    }
  })();
  db.close();
}

test("a version 1 database is upgraded in place, keeping its samples and rolling up its closed minutes", () => {
  const path = scratch.file("h.db");
  writeVersion1History(path);

  const store = openStore(path);
  const web = target(1);
  expect(store.targets()).toEqual([{ ...web, firstSeenMs: T0_MS, lastSeenMs: T0_MS + 179_000 }]);
  expect(store.latestWindow(T0_MS + 178_000).map((s) => [s.key, s.cpuCores, s.workingSetBytes])).toEqual([
    [web.key, 0.3, 1024 * 1024],
    [web.key, 0.3, 1024 * 1024],
  ]);
  // Minutes 0 and 1 are closed and rolled up; minute 2 holds the newest tick, so it is read open.
  const points = store.podSeries(web.podUid, T0_MS, { resolution: "1m" }).containers[0]?.points as RollupSample[];
  expect(points.map((p) => [p.wallMs, p.sampleCount, p.cpuCores])).toEqual([
    [T0_MS + 60_000, 60, 0.1],
    [T0_MS + 120_000, 60, 0.3],
    [T0_MS + 179_000, 60, 0.3],
  ]);
  expect(store.stats().rollupRows).toBe(2);
  store.close();

  const db = new Database(path, { readonly: true });
  expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
  db.close();
});

test("a version 2 database gains the edges table and keeps its samples", () => {
  const path = scratch.file("h.db");
  writeVersion1History(path);
  const db = new Database(path);
  migrate(db, 2);
  expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'edges'").all()).toEqual([]);
  db.close();

  const store = openStore(path);
  expect(store.latestWindow(T0_MS + 178_000)).toHaveLength(2);
  store.appendEdges([
    { fromPodUid: "p", direction: "outbound", peer: { ip: "10.0.0.1", port: 80 }, localPort: null, connections: 1, recentConnections: 0, peakConnections: 1, observations: 1, firstSeenMs: T0_MS, lastSeenMs: T0_MS },
  ]);
  expect(store.edges(0)).toHaveLength(1);
  store.close();
});

test("reopening an upgraded database does not roll up its minutes a second time", () => {
  const path = scratch.file("h.db");
  writeVersion1History(path);
  openStore(path).close();
  const store = openStore(path);
  expect(store.stats().rollupRows).toBe(2);
  store.close();
});

test("a database from a newer build is refused with an error naming the file and both versions, and left in place", () => {
  const path = scratch.file("h.db");
  openStore(path).close();
  const db = new Database(path);
  db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
  db.close();

  expect(() => openStore(path)).toThrow(SchemaTooNewError);
  expect(() => openStore(path)).toThrow(new RegExp(`${path}.*version ${SCHEMA_VERSION + 5}.*\\(${SCHEMA_VERSION}\\)`));
  expect(existsSync(path)).toBe(true);
  expect(readdirSync(scratch.dir).filter((name) => name.includes("corrupt"))).toEqual([]);
});
