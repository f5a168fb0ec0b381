/**
 * The node-local history (better-sqlite3, one writer: the agent).
 *
 * Layout, and why:
 * - `ticks` (id, wall_ms, interval_ms): one row per sampler tick. Samples refer to a tick instead of carrying a
 *   6-byte timestamp each, and store their own wall clock and interval as deltas that are almost always 0.
 * - `samples`: one row per container per tick, rowid = tick id * 2^20 + target id. Rows arrive in rowid order,
 *   so every page is filled and then never touched again (a (target, ts) key would rewrite ~330 scattered
 *   pages per tick: about 10x slower to ingest, and ~1.3 MB written to the WAL every second). Values are scaled integers
 *   (see codec.ts), about 36 bytes per row in all.
 * - `rollups_1m`: per target per minute, keyed (target_id, minute), written when the minute closes.
 * - `node_samples`, `targets` (the dictionary of keys and names, first/last seen, gone), `meta`.
 * - `incidents`: one row per incident, replaced as it changes (incidents.ts).
 * Raw samples are kept `retention.rawMs` (1 h), rollups and node samples `retention.rollupMs` (24 h), closed
 * incidents `retention.incidentMs` (14 days).
 */
import { existsSync, statSync } from "node:fs";
import type Database from "better-sqlite3";
import type { Incident, IncidentQuery } from "../analysis/incident.js";
import type { ContainerSample, NodeSample, Target, Tick } from "../sampler/types.js";
import {
  type Cell,
  MAX_TARGET_ID,
  MINUTE_MS,
  NODE_COLUMNS,
  ROLLUP_COLUMNS,
  SAMPLE_COLUMNS,
  type TickBase,
  decodeNodeSample,
  decodeRollup,
  decodeSample,
  encodeNodeSample,
  encodeSample,
  minuteOf,
  sampleId,
  targetIdOf,
  tickIdOf,
} from "./codec.js";
import { IncidentTable, newestLastSeenMs } from "./incidents.js";
import { MEMORY_PATH, openDatabase } from "./open.js";
import { RecoveringHistoryStore } from "./recovering.js";
import { DEFAULT_RETENTION, validRetention } from "./retention.js";
import { ROLLUP_SQL } from "./rollup.js";
import type {
  EdgeRecord,
  HistoryStore,
  PodSeries,
  Resolution,
  Retention,
  StoreLogger,
  StoreOptions,
  StoreStats,
  StoredTarget,
} from "./types.js";

export { DEFAULT_RETENTION } from "./retention.js";
const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/** Below this span "auto" serves raw samples: at 1 s that is at most 900 points per container. */
export const AUTO_RAW_MAX_SPAN_MS = 15 * MINUTE_MS;
const PRUNE_EVERY_MS = MINUTE_MS;

const defaultLogger: StoreLogger = {
  warn(_obj, msg) {
    console.error(msg);
  },
};

/**
 * Opens the history at `path` (`:memory:` for tests), creating, migrating or, when the file is corrupt,
 * replacing it. Throws on a bad retention, a directory that cannot be written, or a schema from a newer build.
 */
export function openStore(path: string, opts: StoreOptions = {}): HistoryStore {
  const retention = validRetention({ ...DEFAULT_RETENTION, ...opts.retention });
  const logger = opts.logger ?? defaultLogger;
  const open = (): SqliteHistoryStore => {
    const db = openDatabase(path, logger, opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
    try {
      return new SqliteHistoryStore(db, path, retention);
    } catch (error) {
      db.close();
      throw error;
    }
  };
  return path === MEMORY_PATH ? open() : new RecoveringHistoryStore(open, logger);
}

/** What the store keeps in memory per target: all of them fit (a node runs hundreds), so ticks never read back. */
interface CachedTarget {
  readonly id: number;
  target: Target;
  readonly firstSeenMs: number;
  lastSeenMs: number;
  /** last_seen_ms in the file lags by up to a minute: it is written once a minute, not on every tick. */
  lastSeenWrittenMs: number;
  goneAtMs: number | undefined;
}

type TargetRow = [number, string, string, string, string, string | null, string | null, string | null, number, number, number | null];

function sameTarget(a: Target, b: Target): boolean {
  return (
    a.podUid === b.podUid &&
    a.containerId === b.containerId &&
    a.relPath === b.relPath &&
    a.namespace === b.namespace &&
    a.podName === b.podName &&
    a.containerName === b.containerName
  );
}

function targetFromRow(row: TargetRow): Target {
  const [, key, podUid, containerId, relPath, namespace, podName, containerName] = row;
  return {
    key,
    podUid,
    containerId,
    relPath,
    ...(namespace === null ? {} : { namespace }),
    ...(podName === null ? {} : { podName }),
    ...(containerName === null ? {} : { containerName }),
  };
}

function storedTarget(cached: CachedTarget): StoredTarget {
  return {
    ...cached.target,
    firstSeenMs: cached.firstSeenMs,
    lastSeenMs: cached.lastSeenMs,
    ...(cached.goneAtMs === undefined ? {} : { goneAtMs: cached.goneAtMs }),
  };
}

function fileBytes(path: string): number {
  return [path, `${path}-wal`].reduce((sum, file) => sum + (existsSync(file) ? statSync(file).size : 0), 0);
}

const SAMPLE_SELECT = SAMPLE_COLUMNS.map((column) => `s.${column}`).join(", ");

export class SqliteHistoryStore implements HistoryStore {
  private readonly byKey = new Map<string, CachedTarget>();
  private readonly byId = new Map<number, CachedTarget>();
  private maxTargetId = 0;
  private lastTickId = 0;
  private lastTickWallMs: number | undefined;
  /** The minute of the newest tick: it closes, and is rolled up, when a tick of another minute arrives. */
  private openMinute: number | undefined;
  private lastPruneMs: number | undefined;
  private closed = false;

  private readonly stmt;
  private readonly appendTx: (tick: Tick, targets: readonly Target[]) => void;
  private readonly appendEdgesTx: (edges: readonly EdgeRecord[]) => void;
  private readonly incidentTable: IncidentTable;

  constructor(
    private readonly db: Database.Database,
    readonly path: string,
    readonly retention: Retention,
  ) {
    this.stmt = {
      insertTick: db.prepare("INSERT INTO ticks (id, wall_ms, interval_ms) VALUES (?, ?, ?)"),
      insertSample: db.prepare(
        `INSERT OR REPLACE INTO samples (${SAMPLE_COLUMNS.join(", ")}) VALUES (${SAMPLE_COLUMNS.map(() => "?").join(", ")})`,
      ),
      insertNode: db.prepare(
        `INSERT OR REPLACE INTO node_samples (${NODE_COLUMNS.join(", ")}) VALUES (${NODE_COLUMNS.map(() => "?").join(", ")})`,
      ),
      insertTarget: db.prepare(
        `INSERT INTO targets (id, key, pod_uid, container_id, rel_path, namespace, pod_name, container_name,
           first_seen_ms, last_seen_ms, gone_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
      ),
      updateTarget: db.prepare(
        `UPDATE targets SET pod_uid = ?, container_id = ?, rel_path = ?, namespace = ?, pod_name = ?, container_name = ?,
           last_seen_ms = ?, gone_at_ms = ? WHERE id = ?`,
      ),
      updateLastSeen: db.prepare("UPDATE targets SET last_seen_ms = ? WHERE id = ?"),
      deleteTarget: db.prepare("DELETE FROM targets WHERE id = ?"),
      deleteTargetRollups: db.prepare("DELETE FROM rollups_1m WHERE target_id = ?"),
      addSamplesStored: db.prepare("UPDATE meta SET value = value + ? WHERE key = 'samples_stored'"),
      getMeta: db.prepare<[string], number>("SELECT value FROM meta WHERE key = ?").pluck(),
      setMeta: db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"),
      rollUp: db.prepare(ROLLUP_SQL),
      lastTickBefore: db.prepare<[number], number | null>("SELECT max(id) FROM ticks WHERE wall_ms < ?").pluck(),
      deleteTicksThrough: db.prepare("DELETE FROM ticks WHERE id <= ?"),
      deleteSamplesBelow: db.prepare("DELETE FROM samples WHERE id < ?"),
      deleteRollupsBefore: db.prepare("DELETE FROM rollups_1m WHERE target_id IN (SELECT id FROM targets) AND minute < ?"),
      deleteNodeBefore: db.prepare("DELETE FROM node_samples WHERE wall_ms < ?"),
      ticksSince: db.prepare<[number], Cell[]>("SELECT id, wall_ms, interval_ms FROM ticks WHERE wall_ms >= ? ORDER BY id").raw(),
      // One JSON text instead of a row per sample: crossing from SQLite to JS costs per value, and JSON.parse
      // builds the same arrays several times faster. This is most of what makes a restart's window refill fast.
      samplesJsonFrom: db
        .prepare<[number], string | null>(`SELECT json_group_array(json_array(${SAMPLE_SELECT})) FROM samples s WHERE s.id >= ?`)
        .pluck(),
      targetSamplesSince: db
        .prepare<[number, number], Cell[]>(
          `SELECT ${SAMPLE_SELECT}, k.wall_ms, k.interval_ms FROM ticks k JOIN samples s ON s.id = k.id * ${sampleId(1, 0)} + ?
           WHERE k.wall_ms >= ? ORDER BY k.id`,
        )
        .raw(),
      targetRollupsSince: db
        .prepare<[number, number], Cell[]>(
          `SELECT ${ROLLUP_COLUMNS.join(", ")} FROM rollups_1m WHERE target_id = ? AND minute >= ? ORDER BY minute`,
        )
        .raw(),
      nodeSince: db
        .prepare<[number], Cell[]>(`SELECT ${NODE_COLUMNS.join(", ")} FROM node_samples WHERE wall_ms >= ? ORDER BY tick_id`)
        .raw(),
      upsertEdge: db.prepare(
        `INSERT INTO edges (pod_uid, direction, peer_ip, port, connections, recent_connections, peak_connections, observations,
           first_seen_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (pod_uid, direction, peer_ip, port) DO UPDATE SET
           connections = excluded.connections, recent_connections = excluded.recent_connections,
           peak_connections = max(peak_connections, excluded.peak_connections),
           observations = max(observations, excluded.observations),
           first_seen_ms = min(first_seen_ms, excluded.first_seen_ms),
           last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)`,
      ),
      deleteEdgesBefore: db.prepare("DELETE FROM edges WHERE last_seen_ms < ?"),
      edgesSince: db
        .prepare<[number], EdgeRow>(
          `SELECT pod_uid, direction, peer_ip, port, connections, recent_connections, peak_connections, observations,
             first_seen_ms, last_seen_ms FROM edges WHERE last_seen_ms >= ? ORDER BY last_seen_ms DESC, pod_uid, direction, peer_ip, port`,
        )
        .raw(),
      countSamples: db.prepare<[], number>("SELECT count(*) FROM samples").pluck(),
      countRollups: db.prepare<[], number>("SELECT count(*) FROM rollups_1m").pluck(),
    };
    this.appendTx = db.transaction((tick: Tick, targets: readonly Target[]) => {
      this.writeTick(tick, targets);
    });
    this.appendEdgesTx = db.transaction((edges: readonly EdgeRecord[]) => {
      this.writeEdges(edges);
    });
    this.incidentTable = new IncidentTable(db);
    this.loadState();
    db.transaction(() => {
      this.catchUpRollups();
    })();
  }

  appendTick(tick: Tick, targets: readonly Target[]): void {
    try {
      this.appendTx(tick, targets);
    } catch (error) {
      // The transaction rolled back (disk full, I/O error); the caches may hold what it did not keep.
      this.loadState();
      throw error;
    }
  }

  podSeries(podUid: string, sinceMs: number, opts: { readonly resolution?: Resolution | "auto" } = {}): PodSeries {
    const resolution = this.resolve(opts.resolution ?? "auto", sinceMs);
    const members = [...this.byId.values()].filter((cached) => cached.target.podUid === podUid).sort((a, b) => a.id - b.id);
    if (resolution === "raw") {
      const containers = members
        .map((cached) => ({
          target: storedTarget(cached),
          points: this.stmt.targetSamplesSince
            .all(cached.id, sinceMs)
            .map((row) => decodeSample(row, row[15] ?? 0, row[16] ?? 0, cached.target)),
        }))
        .filter((series) => series.points.length > 0);
      return { podUid, resolution, containers };
    }
    const containers = members
      .map((cached) => ({
        target: storedTarget(cached),
        points: this.stmt.targetRollupsSince.all(cached.id, minuteOf(sinceMs)).map((row) => decodeRollup(row, cached.target)),
      }))
      .filter((series) => series.points.length > 0);
    return { podUid, resolution, containers };
  }

  latestWindow(sinceMs: number): ContainerSample[] {
    const ticks = new Map<number, readonly Cell[]>();
    for (const row of this.stmt.ticksSince.all(sinceMs)) ticks.set(row[0] ?? 0, row);
    const first = ticks.keys().next();
    if (first.done === true) return [];
    const rows = JSON.parse(this.stmt.samplesJsonFrom.get(sampleId(first.value, 0)) ?? "[]") as Cell[][];
    // The scan runs in rowid order; an aggregate's input order is not a documented guarantee, so check it.
    if (!rows.every((row, i) => i === 0 || (row[0] ?? 0) > (rows[i - 1]?.[0] ?? 0))) rows.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
    const samples: ContainerSample[] = [];
    for (const row of rows) {
      const id = row[0] ?? 0;
      const tick = ticks.get(tickIdOf(id));
      const cached = this.byId.get(targetIdOf(id));
      // Ticks past `first` whose wall clock is older than `sinceMs` exist only if the clock stepped back.
      if (tick && cached) samples.push(decodeSample(row, tick[1] ?? 0, tick[2] ?? 0, cached.target));
    }
    return samples;
  }

  nodeSeries(sinceMs: number): NodeSample[] {
    return this.stmt.nodeSince.all(sinceMs).map(decodeNodeSample);
  }

  appendEdges(edges: readonly EdgeRecord[]): void {
    if (edges.length > 0) this.appendEdgesTx(edges);
  }

  edges(sinceMs: number): EdgeRecord[] {
    return this.stmt.edgesSince.all(sinceMs).map(edgeFromRow);
  }

  upsertIncidents(incidents: readonly Incident[]): void {
    this.incidentTable.upsertIncidents(incidents);
    // Pruning rides on ticks; until one arrives, the incidents' own newest sighting stands in for its clock.
    const newestMs = this.lastTickWallMs === undefined ? newestLastSeenMs(incidents) : undefined;
    if (newestMs !== undefined) this.incidentTable.pruneIncidents(newestMs - this.retention.incidentMs);
  }

  incidents(query: IncidentQuery): Incident[] {
    return this.incidentTable.incidents(query);
  }

  openIncidents(): Incident[] {
    return this.incidentTable.openIncidents();
  }

  targets(): StoredTarget[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id).map(storedTarget);
  }

  stats(): StoreStats {
    const pageBytes = (this.db.pragma("page_count", { simple: true }) as number) * (this.db.pragma("page_size", { simple: true }) as number);
    return {
      samplesStored: this.stmt.getMeta.get("samples_stored") ?? 0,
      rawRows: this.stmt.countSamples.get() ?? 0,
      rollupRows: this.stmt.countRollups.get() ?? 0,
      fileBytes: this.path === MEMORY_PATH ? pageBytes : fileBytes(this.path),
    };
  }

  /** Closes the file without writing anything: for a file that has become unreadable. */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.close();
    } catch {
      // The handle is being dropped because the file is bad; a failing close changes nothing.
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.transaction(() => {
      this.flushLastSeen();
    })();
    if (this.path !== MEMORY_PATH) this.db.pragma("wal_checkpoint(TRUNCATE)");
    this.db.close();
  }

  private resolve(requested: Resolution | "auto", sinceMs: number): Resolution {
    if (requested !== "auto") return requested;
    const spanMs = (this.lastTickWallMs ?? sinceMs) - sinceMs;
    return spanMs <= Math.min(AUTO_RAW_MAX_SPAN_MS, this.retention.rawMs) ? "raw" : "1m";
  }

  private writeTick(tick: Tick, targets: readonly Target[]): void {
    const wallMs = Math.round(tick.wallMs);
    const base: TickBase = {
      tickId: this.lastTickId + 1,
      wallMs,
      intervalMs: Math.round(tick.node?.intervalMs ?? tick.containers[0]?.intervalMs ?? 0),
    };
    this.stmt.insertTick.run(base.tickId, base.wallMs, base.intervalMs);
    this.lastTickId = base.tickId;
    this.lastTickWallMs = wallMs;
    for (const target of targets) this.touch(target, wallMs);
    const rows = tick.containers.map((sample) => {
      const cached = this.touch(this.byKey.get(sample.key)?.target ?? identityTarget(sample), wallMs);
      return encodeSample(sample, cached.id, base);
    });
    // In rowid order every insert appends to the last page, which SQLite then leaves full; a restarted
    // container's new, higher id arriving mid-list would otherwise split pages and leave them half empty.
    rows.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
    for (const row of rows) this.stmt.insertSample.run(row);
    if (tick.node) this.stmt.insertNode.run(encodeNodeSample(tick.node, base.tickId));
    for (const key of tick.gone) this.markGone(key, wallMs);
    this.stmt.addSamplesStored.run(tick.containers.length);
    this.closeMinuteIfPassed(wallMs);
    this.pruneIfDue(wallMs);
  }

  private writeEdges(edges: readonly EdgeRecord[]): void {
    let newestMs = -Infinity;
    for (const e of edges) {
      const port = e.direction === "outbound" ? e.peer.port : e.localPort;
      this.stmt.upsertEdge.run(
        e.fromPodUid,
        e.direction,
        e.peer.ip,
        port ?? -1,
        e.connections,
        e.recentConnections,
        e.peakConnections,
        e.observations,
        Math.round(e.firstSeenMs),
        Math.round(e.lastSeenMs),
      );
      newestMs = Math.max(newestMs, e.lastSeenMs);
    }
    // Edges follow the rollups' retention: a caller seen yesterday is still worth knowing.
    this.stmt.deleteEdgesBefore.run(Math.round(newestMs - this.retention.rollupMs));
  }

  /** Records that a target is live at `wallMs`, inserting it or refreshing its names; returns its cache entry. */
  private touch(target: Target, wallMs: number): CachedTarget {
    const cached = this.byKey.get(target.key);
    if (!cached) return this.insertTarget(target, wallMs);
    cached.lastSeenMs = Math.max(cached.lastSeenMs, wallMs);
    if (cached.goneAtMs !== undefined || (cached.target !== target && !sameTarget(cached.target, target))) {
      cached.target = target;
      cached.goneAtMs = undefined;
      this.writeTarget(cached);
    }
    return cached;
  }

  private insertTarget(target: Target, wallMs: number): CachedTarget {
    const id = this.allocateTargetId();
    this.stmt.insertTarget.run(
      id,
      target.key,
      target.podUid,
      target.containerId,
      target.relPath,
      target.namespace ?? null,
      target.podName ?? null,
      target.containerName ?? null,
      wallMs,
      wallMs,
    );
    const cached: CachedTarget = { id, target, firstSeenMs: wallMs, lastSeenMs: wallMs, lastSeenWrittenMs: wallMs, goneAtMs: undefined };
    this.cache(cached);
    return cached;
  }

  private writeTarget(cached: CachedTarget): void {
    const { target } = cached;
    this.stmt.updateTarget.run(
      target.podUid,
      target.containerId,
      target.relPath,
      target.namespace ?? null,
      target.podName ?? null,
      target.containerName ?? null,
      cached.lastSeenMs,
      cached.goneAtMs ?? null,
      cached.id,
    );
    cached.lastSeenWrittenMs = cached.lastSeenMs;
  }

  private markGone(key: string, wallMs: number): void {
    const cached = this.byKey.get(key);
    if (!cached) return;
    cached.goneAtMs = wallMs;
    this.writeTarget(cached);
  }

  /**
   * Target ids must fit the low bits of a sample's rowid. They grow by one; once the space is used up, ids of
   * targets pruned by retention are reused (their raw samples are gone by then; stray rollups are removed).
   */
  private allocateTargetId(): number {
    if (this.maxTargetId < MAX_TARGET_ID) return this.maxTargetId + 1;
    for (let id = 1; id <= MAX_TARGET_ID; id++) {
      if (this.byId.has(id)) continue;
      this.stmt.deleteTargetRollups.run(id);
      return id;
    }
    throw new Error(`history store ${this.path} tracks ${MAX_TARGET_ID} targets, the most it can; shorten the rollup retention`);
  }

  private cache(cached: CachedTarget): void {
    this.byKey.set(cached.target.key, cached);
    this.byId.set(cached.id, cached);
    this.maxTargetId = Math.max(this.maxTargetId, cached.id);
  }

  /** (Re)reads what the store keeps in memory from the file. */
  private loadState(): void {
    this.byKey.clear();
    this.byId.clear();
    this.maxTargetId = 0;
    this.loadTargets();
    const newest = this.db.prepare<[], Cell[]>("SELECT id, wall_ms FROM ticks ORDER BY id DESC LIMIT 1").raw().get();
    this.lastTickId = newest?.[0] ?? 0;
    this.lastTickWallMs = newest?.[1] ?? undefined;
    this.openMinute = this.lastTickWallMs === undefined ? undefined : minuteOf(this.lastTickWallMs);
  }

  private loadTargets(): void {
    const rows = this.db
      .prepare<[], TargetRow>(
        `SELECT id, key, pod_uid, container_id, rel_path, namespace, pod_name, container_name, first_seen_ms, last_seen_ms, gone_at_ms
         FROM targets`,
      )
      .raw()
      .all();
    for (const row of rows) {
      const [id, , , , , , , , firstSeenMs, lastSeenMs, goneAtMs] = row;
      this.cache({ id, target: targetFromRow(row), firstSeenMs, lastSeenMs, lastSeenWrittenMs: lastSeenMs, goneAtMs: goneAtMs ?? undefined });
    }
  }

  private flushLastSeen(): void {
    for (const cached of this.byId.values()) {
      if (cached.lastSeenMs === cached.lastSeenWrittenMs) continue;
      this.stmt.updateLastSeen.run(cached.lastSeenMs, cached.id);
      cached.lastSeenWrittenMs = cached.lastSeenMs;
    }
  }

  /**
   * When a tick lands in another minute than the one before, that minute is complete (or the clock stepped;
   * rolling a minute again is idempotent). Rolling it in the same transaction as the tick means a crash can
   * never leave a closed minute without its rollup.
   */
  private closeMinuteIfPassed(wallMs: number): void {
    const minute = minuteOf(wallMs);
    const closing = this.openMinute;
    this.openMinute = minute;
    if (closing === undefined || closing === minute) return;
    this.rollUp(closing, closing + 1);
    this.flushLastSeen();
  }

  private rollUp(fromMinute: number, toMinute: number): void {
    this.stmt.rollUp.run({ fromMinute, toMinute });
    const next = this.stmt.getMeta.get("rollup_next_minute");
    if (next === undefined || toMinute > next) this.stmt.setMeta.run("rollup_next_minute", toMinute);
  }

  /** Rolls up closed minutes still in raw history that have no rollup: a database from before rollups existed. */
  private catchUpRollups(): void {
    if (this.openMinute === undefined) return;
    const oldestWallMs = this.db.prepare<[], number | null>("SELECT min(wall_ms) FROM ticks").pluck().get() ?? undefined;
    const next = this.stmt.getMeta.get("rollup_next_minute") ?? (oldestWallMs === undefined ? undefined : minuteOf(oldestWallMs));
    if (next !== undefined && next < this.openMinute) this.rollUp(next, this.openMinute);
  }

  private pruneIfDue(wallMs: number): void {
    if (this.lastPruneMs !== undefined && wallMs - this.lastPruneMs < PRUNE_EVERY_MS && wallMs >= this.lastPruneMs) return;
    this.lastPruneMs = wallMs;
    // Raw: ticks are appended in id order, so everything up to the newest tick older than the cutoff goes.
    // Taking the newest (not the oldest kept) means a clock that once jumped ahead cannot pin old rows forever.
    const cutTick = this.stmt.lastTickBefore.get(wallMs - this.retention.rawMs) ?? null;
    if (cutTick !== null) {
      this.stmt.deleteTicksThrough.run(cutTick);
      this.stmt.deleteSamplesBelow.run(sampleId(cutTick + 1, 0));
    }
    const rollupCutoffMs = wallMs - this.retention.rollupMs;
    this.stmt.deleteRollupsBefore.run(minuteOf(rollupCutoffMs));
    this.stmt.deleteNodeBefore.run(rollupCutoffMs);
    this.pruneTargets(rollupCutoffMs - MINUTE_MS);
    this.incidentTable.pruneIncidents(wallMs - this.retention.incidentMs);
  }

  /** A target is forgotten once nothing about it is left: its last rollup minute is older than the cutoff. */
  private pruneTargets(cutoffMs: number): void {
    for (const cached of [...this.byId.values()]) {
      if (cached.lastSeenMs >= cutoffMs) continue;
      this.stmt.deleteTargetRollups.run(cached.id);
      this.stmt.deleteTarget.run(cached.id);
      this.byId.delete(cached.id);
      this.byKey.delete(cached.target.key);
    }
  }
}

type EdgeRow = [string, string, string, number, number, number, number, number, number, number];

function edgeFromRow(row: EdgeRow): EdgeRecord {
  const [fromPodUid, direction, ip, port, connections, recentConnections, peakConnections, observations, firstSeenMs, lastSeenMs] = row;
  const counts = { connections, recentConnections, peakConnections, observations, firstSeenMs, lastSeenMs };
  return direction === "outbound"
    ? { fromPodUid, direction, peer: { ip, port }, localPort: null, ...counts }
    : { fromPodUid, direction: "inbound", peer: { ip, port: null }, localPort: port, ...counts };
}

/** A sample for a target the caller did not list: the store still records it, with the identity the sample carries. */
function identityTarget(sample: ContainerSample): Target {
  return { key: sample.key, podUid: sample.podUid, containerId: sample.containerId, relPath: "" };
}
