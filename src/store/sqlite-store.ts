/**
 * The node-local history (better-sqlite3, one writer: the agent). Each table is its own module; this class
 * ties them into transactions and answers the HistoryStore queries.
 *
 * Layout, and why:
 * - `ticks` (id, wall_ms, interval_ms): one row per sampler tick. Samples refer to a tick instead of carrying a
 *   6-byte timestamp each, and store their own wall clock and interval as deltas that are almost always 0.
 * - `samples`: one row per container per tick, rowid = tick id * 2^20 + target id. Rows arrive in rowid order,
 *   so every page is filled and then never touched again (a (target, ts) key would rewrite ~330 scattered
 *   pages per tick: about 10x slower to ingest, and ~1.3 MB written to the WAL every second). Values are scaled integers
 *   (see codec.ts), about 36 bytes per row in all. (ticks.ts)
 * - `rollups_1m`: per target per minute, keyed (target_id, minute), written when the minute closes. (rollups.ts)
 * - `node_samples` (ticks.ts), `targets` (the dictionary of keys and names, first/last seen, gone; targets.ts), `meta`.
 * - `edges`: the dependency edges of this node's pods (edges.ts).
 * - `incidents`: one row per incident, replaced as it changes (incidents.ts).
 * Raw samples are kept `retention.rawMs` (1 h), rollups and node samples `retention.rollupMs` (24 h), closed
 * incidents `retention.incidentMs` (14 days) (retention.ts).
 */
import { existsSync, statSync } from "node:fs";
import type Database from "better-sqlite3";
import type { Incident, IncidentQuery } from "../analysis/incident.js";
import type { Edge } from "../deps/edges.js";
import type { ContainerSample, NodeSample, Target, Tick } from "../sampler/types.js";
import { MINUTE_MS } from "./codec.js";
import { EdgeTable } from "./edges.js";
import { IncidentTable, newestLastSeenMs } from "./incidents.js";
import { MEMORY_PATH } from "./open.js";
import { Pruner } from "./retention.js";
import { RollupTable } from "./rollups.js";
import { TargetTable, storedTarget } from "./targets.js";
import { TickTable } from "./ticks.js";
import type { HistoryStore, PodSeries, Resolution, Retention, StoreStats, StoredTarget } from "./types.js";

/** Below this span "auto" serves raw samples: at 1 s that is at most 900 points per container. */
export const AUTO_RAW_MAX_SPAN_MS = 15 * MINUTE_MS;

function fileBytes(path: string): number {
  return [path, `${path}-wal`].reduce((sum, file) => sum + (existsSync(file) ? statSync(file).size : 0), 0);
}

export class SqliteHistoryStore implements HistoryStore {
  private closed = false;
  private readonly targetTable: TargetTable;
  private readonly ticks: TickTable;
  private readonly rollups: RollupTable;
  private readonly edgeTable: EdgeTable;
  private readonly incidentTable: IncidentTable;
  private readonly pruner: Pruner;
  private readonly appendTx: (tick: Tick, targets: readonly Target[]) => void;

  constructor(
    private readonly db: Database.Database,
    readonly path: string,
    readonly retention: Retention,
  ) {
    this.targetTable = new TargetTable(db, path);
    this.ticks = new TickTable(db, this.targetTable);
    this.rollups = new RollupTable(db);
    // Edges follow the rollups' retention: a caller seen yesterday is still worth knowing.
    this.edgeTable = new EdgeTable(db, retention.rollupMs);
    this.incidentTable = new IncidentTable(db);
    this.pruner = new Pruner(retention, { ticks: this.ticks, rollups: this.rollups, targets: this.targetTable, incidents: this.incidentTable });
    this.appendTx = db.transaction((tick: Tick, targets: readonly Target[]) => {
      this.writeTick(tick, targets);
    });
    this.loadState();
    db.transaction(() => {
      this.rollups.catchUp(() => this.ticks.oldestWallMs());
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
    const members = this.targetTable.ofPod(podUid);
    if (resolution === "raw") {
      const containers = members
        .map((cached) => ({ target: storedTarget(cached), points: this.ticks.targetSamples(cached, sinceMs) }))
        .filter((series) => series.points.length > 0);
      return { podUid, resolution, containers };
    }
    const containers = members
      .map((cached) => ({ target: storedTarget(cached), points: this.rollups.targetRollups(cached, sinceMs, this.ticks.newestWallMs) }))
      .filter((series) => series.points.length > 0);
    return { podUid, resolution, containers };
  }

  latestWindow(sinceMs: number): ContainerSample[] {
    return this.ticks.window(sinceMs);
  }

  nodeSeries(sinceMs: number): NodeSample[] {
    return this.ticks.nodeSeries(sinceMs);
  }

  appendEdges(edges: readonly Edge[]): void {
    this.edgeTable.append(edges);
  }

  edges(sinceMs: number): Edge[] {
    return this.edgeTable.edges(sinceMs);
  }

  upsertIncidents(incidents: readonly Incident[]): void {
    this.incidentTable.upsertIncidents(incidents);
    // Pruning rides on ticks; until one arrives, the incidents' own newest sighting stands in for its clock.
    const newestMs = this.ticks.newestWallMs === undefined ? newestLastSeenMs(incidents) : undefined;
    if (newestMs !== undefined) this.incidentTable.pruneIncidents(newestMs - this.retention.incidentMs);
  }

  incidents(query: IncidentQuery): Incident[] {
    return this.incidentTable.incidents(query);
  }

  openIncidents(): Incident[] {
    return this.incidentTable.openIncidents();
  }

  targets(): StoredTarget[] {
    return this.targetTable.list();
  }

  stats(): StoreStats {
    const pageBytes = (this.db.pragma("page_count", { simple: true }) as number) * (this.db.pragma("page_size", { simple: true }) as number);
    return {
      samplesStored: this.ticks.samplesStored(),
      rawRows: this.ticks.rawRows(),
      rollupRows: this.rollups.rows(),
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
      this.targetTable.flushLastSeen();
    })();
    if (this.path !== MEMORY_PATH) this.db.pragma("wal_checkpoint(TRUNCATE)");
    this.db.close();
  }

  private resolve(requested: Resolution | "auto", sinceMs: number): Resolution {
    if (requested !== "auto") return requested;
    const spanMs = (this.ticks.newestWallMs ?? sinceMs) - sinceMs;
    return spanMs <= Math.min(AUTO_RAW_MAX_SPAN_MS, this.retention.rawMs) ? "raw" : "1m";
  }

  private writeTick(tick: Tick, targets: readonly Target[]): void {
    const wallMs = this.ticks.write(tick, targets);
    if (this.rollups.closeMinuteIfPassed(wallMs)) this.targetTable.flushLastSeen();
    this.pruner.pruneIfDue(wallMs);
  }

  /** (Re)reads what the store keeps in memory from the file. */
  private loadState(): void {
    this.targetTable.load();
    this.ticks.load();
    this.rollups.load(this.ticks.newestWallMs);
  }
}
