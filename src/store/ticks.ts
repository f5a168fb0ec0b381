/**
 * Raw history: `ticks` (one row per sampler tick), `samples` (one row per container per tick, rowid = tick id
 * * 2^20 + target id, see codec.ts) and `node_samples`. Appended in rowid order; pruned by rowid range.
 */
import type Database from "better-sqlite3";
import type { ContainerSample, NodeSample, Target, Tick } from "../sampler/types.js";
import {
  type Cell,
  NODE_COLUMNS,
  SAMPLE_COLUMNS,
  type TickBase,
  decodeNodeSample,
  decodeSample,
  encodeNodeSample,
  encodeSample,
  sampleId,
  targetIdOf,
  tickIdOf,
} from "./codec.js";
import type { CachedTarget, TargetTable } from "./targets.js";

const SAMPLE_SELECT = SAMPLE_COLUMNS.map((column) => `s.${column}`).join(", ");
/** Ticks per query of a window refill: about 1,600 rows at 330 containers (see `window`). */
const WINDOW_CHUNK_TICKS = 5;

export class TickTable {
  private lastTickId = 0;
  private lastTickWallMs: number | undefined;
  private readonly insertTick: Database.Statement;
  private readonly insertSample: Database.Statement;
  private readonly insertNode: Database.Statement;
  private readonly addSamplesStored: Database.Statement;
  private readonly samplesStoredCount: Database.Statement<[], number>;
  private readonly lastTickBefore: Database.Statement<[number], number | null>;
  private readonly deleteTicksThrough: Database.Statement;
  private readonly deleteSamplesBelow: Database.Statement;
  private readonly deleteNodeBefore: Database.Statement;
  private readonly ticksSince: Database.Statement<[number], Cell[]>;
  private readonly samplesJsonBetween: Database.Statement<[number, number], string | null>;
  private readonly targetSamplesSince: Database.Statement<[number, number], Cell[]>;
  private readonly nodeSince: Database.Statement<[number], Cell[]>;
  private readonly countSamples: Database.Statement<[], number>;

  constructor(
    private readonly db: Database.Database,
    private readonly targets: TargetTable,
  ) {
    this.insertTick = db.prepare("INSERT INTO ticks (id, wall_ms, interval_ms) VALUES (?, ?, ?)");
    this.insertSample = db.prepare(
      `INSERT OR REPLACE INTO samples (${SAMPLE_COLUMNS.join(", ")}) VALUES (${SAMPLE_COLUMNS.map(() => "?").join(", ")})`,
    );
    this.insertNode = db.prepare(
      `INSERT OR REPLACE INTO node_samples (${NODE_COLUMNS.join(", ")}) VALUES (${NODE_COLUMNS.map(() => "?").join(", ")})`,
    );
    this.addSamplesStored = db.prepare("UPDATE meta SET value = value + ? WHERE key = 'samples_stored'");
    this.samplesStoredCount = db.prepare<[], number>("SELECT value FROM meta WHERE key = 'samples_stored'").pluck();
    this.lastTickBefore = db.prepare<[number], number | null>("SELECT max(id) FROM ticks WHERE wall_ms < ?").pluck();
    this.deleteTicksThrough = db.prepare("DELETE FROM ticks WHERE id <= ?");
    this.deleteSamplesBelow = db.prepare("DELETE FROM samples WHERE id < ?");
    this.deleteNodeBefore = db.prepare("DELETE FROM node_samples WHERE wall_ms < ?");
    this.ticksSince = db.prepare<[number], Cell[]>("SELECT id, wall_ms, interval_ms FROM ticks WHERE wall_ms >= ? ORDER BY id").raw();
    // One JSON text instead of a row per sample: crossing from SQLite to JS costs per value, and JSON.parse
    // builds the same arrays several times faster. This is most of what makes a restart's window refill fast.
    this.samplesJsonBetween = db
      .prepare<[number, number], string | null>(`SELECT json_group_array(json_array(${SAMPLE_SELECT})) FROM samples s WHERE s.id >= ? AND s.id < ?`)
      .pluck();
    this.targetSamplesSince = db
      .prepare<[number, number], Cell[]>(
        `SELECT ${SAMPLE_SELECT}, k.wall_ms, k.interval_ms FROM ticks k JOIN samples s ON s.id = k.id * ${sampleId(1, 0)} + ?
         WHERE k.wall_ms >= ? ORDER BY k.id`,
      )
      .raw();
    this.nodeSince = db
      .prepare<[number], Cell[]>(`SELECT ${NODE_COLUMNS.join(", ")} FROM node_samples WHERE wall_ms >= ? ORDER BY tick_id`)
      .raw();
    this.countSamples = db.prepare<[], number>("SELECT count(*) FROM samples").pluck();
  }

  /** The wall clock of the newest tick; undefined in an empty history. */
  get newestWallMs(): number | undefined {
    return this.lastTickWallMs;
  }

  /** (Re)reads the newest tick from the file. */
  load(): void {
    const newest = this.db.prepare<[], Cell[]>("SELECT id, wall_ms FROM ticks ORDER BY id DESC LIMIT 1").raw().get();
    this.lastTickId = newest?.[0] ?? 0;
    this.lastTickWallMs = newest?.[1] ?? undefined;
  }

  oldestWallMs(): number | undefined {
    return this.db.prepare<[], number | null>("SELECT min(wall_ms) FROM ticks").pluck().get() ?? undefined;
  }

  /** Writes one tick: its row, the targets it lists, its samples, its node sample and the targets that vanished. */
  write(tick: Tick, targets: readonly Target[]): number {
    const wallMs = Math.round(tick.wallMs);
    const base: TickBase = {
      tickId: this.lastTickId + 1,
      wallMs,
      intervalMs: Math.round(tick.node?.intervalMs ?? tick.containers[0]?.intervalMs ?? 0),
    };
    this.insertTick.run(base.tickId, base.wallMs, base.intervalMs);
    this.lastTickId = base.tickId;
    this.lastTickWallMs = wallMs;
    for (const target of targets) this.targets.touch(target, wallMs);
    const rows = tick.containers.map((sample) => {
      const cached = this.targets.touch(this.targets.byTargetKey(sample.key)?.target ?? identityTarget(sample), wallMs);
      return encodeSample(sample, cached.id, base);
    });
    // In rowid order every insert appends to the last page, which SQLite then leaves full; a restarted
    // container's new, higher id arriving mid-list would otherwise split pages and leave them half empty.
    rows.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
    for (const row of rows) this.insertSample.run(row);
    if (tick.node) this.insertNode.run(encodeNodeSample(tick.node, base.tickId));
    for (const key of tick.gone) this.targets.markGone(key, wallMs);
    this.addSamplesStored.run(tick.containers.length);
    return wallMs;
  }

  /**
   * Every raw container sample since `sinceMs`, in append (time) order. Read a few ticks per query: each
   * chunk's parsed rows are garbage before the next is read, so the young generation copies little more than
   * the samples that are kept. In one query every row stays reachable to the end and is copied with them:
   * at the agent's heap settings a 60 s window took a third longer (BENCHMARKS.md, "History store").
   */
  window(sinceMs: number): ContainerSample[] {
    const tickRows = this.ticksSince.all(sinceMs);
    const ticks = new Map<number, readonly Cell[]>();
    for (const row of tickRows) ticks.set(row[0] ?? 0, row);
    const samples: ContainerSample[] = [];
    for (let i = 0; i < tickRows.length; i += WINDOW_CHUNK_TICKS) {
      const fromTick = tickRows[i]?.[0] ?? 0;
      const throughTick = tickRows[Math.min(i + WINDOW_CHUNK_TICKS, tickRows.length) - 1]?.[0] ?? fromTick;
      const rows = JSON.parse(this.samplesJsonBetween.get(sampleId(fromTick, 0), sampleId(throughTick + 1, 0)) ?? "[]") as Cell[][];
      this.decodeInto(samples, inRowidOrder(rows), ticks);
    }
    return samples;
  }

  private decodeInto(samples: ContainerSample[], rows: readonly Cell[][], ticks: ReadonlyMap<number, readonly Cell[]>): void {
    for (const row of rows) {
      const id = row[0] ?? 0;
      const tick = ticks.get(tickIdOf(id));
      const cached = this.targets.byTargetId(targetIdOf(id));
      // Ticks in the range whose wall clock is older than `sinceMs` exist only if the clock stepped back.
      if (tick && cached) samples.push(decodeSample(row, tick[1] ?? 0, tick[2] ?? 0, cached.target));
    }
  }

  /** One container's raw samples since `sinceMs`, oldest first. */
  targetSamples(cached: CachedTarget, sinceMs: number): ContainerSample[] {
    return this.targetSamplesSince.all(cached.id, sinceMs).map((row) => decodeSample(row, row[15] ?? 0, row[16] ?? 0, cached.target));
  }

  nodeSeries(sinceMs: number): NodeSample[] {
    return this.nodeSince.all(sinceMs).map(decodeNodeSample);
  }

  /**
   * Deletes raw ticks and samples older than `cutoffMs`. Ticks are appended in id order, so everything up to
   * the newest tick older than the cutoff goes. Taking the newest (not the oldest kept) means a clock that
   * once jumped ahead cannot pin old rows forever.
   */
  pruneRaw(cutoffMs: number): void {
    const cutTick = this.lastTickBefore.get(cutoffMs) ?? null;
    if (cutTick === null) return;
    this.deleteTicksThrough.run(cutTick);
    this.deleteSamplesBelow.run(sampleId(cutTick + 1, 0));
  }

  pruneNode(cutoffMs: number): void {
    this.deleteNodeBefore.run(cutoffMs);
  }

  /** Container samples appended since the database was created (pruned ones included). */
  samplesStored(): number {
    return this.samplesStoredCount.get() ?? 0;
  }

  rawRows(): number {
    return this.countSamples.get() ?? 0;
  }
}

/** The scan runs in rowid order; an aggregate's input order is not a documented guarantee, so check it. */
function inRowidOrder(rows: Cell[][]): Cell[][] {
  if (!rows.every((row, i) => i === 0 || (row[0] ?? 0) > (rows[i - 1]?.[0] ?? 0))) rows.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
  return rows;
}

/** A sample for a target the caller did not list: the store still records it, with the identity the sample carries. */
function identityTarget(sample: ContainerSample): Target {
  return { key: sample.key, podUid: sample.podUid, containerId: sample.containerId, relPath: "" };
}
