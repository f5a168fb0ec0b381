/**
 * `rollups_1m`: per target per minute, keyed (target_id, minute), computed from raw samples in the same
 * transaction as the first tick of the next minute. The minute still open is aggregated the same way when
 * read, so a series at minute resolution never lacks its freshest seconds.
 */
import type Database from "better-sqlite3";
import { type Cell, MINUTE_MS, ROLLUP_COLUMNS, TARGET_ID_BITS, decodeRollup, minuteOf } from "./codec.js";
import type { CachedTarget } from "./targets.js";
import type { RollupSample } from "./types.js";

const TARGET_MASK = 2 ** TARGET_ID_BITS - 1;

/**
 * Mean of a scaled column weighted by each sample's interval, as the rules weight their windows: a tick that
 * came late and covers 2 s counts twice. Falls back to the plain mean if every interval is 0.
 */
function weightedMean(column: string): string {
  return (
    `COALESCE(ROUND(SUM(${column} * iv) * 1.0 / NULLIF(SUM(iif(${column} IS NULL, 0, iv)), 0)), ` +
    `ROUND(AVG(${column})))`
  );
}

/** What each rollup column is computed from, in `ROLLUP_COLUMNS` order. */
const AGGREGATES: Readonly<Record<(typeof ROLLUP_COLUMNS)[number], string>> = {
  target_id: "target_id",
  minute: "minute",
  sample_count: "COUNT(*)",
  interval_ms: "SUM(iv)",
  cpu_mcores: weightedMean("cpu_mcores"),
  cpu_mcores_max: "MAX(cpu_mcores)",
  periods: "SUM(periods)",
  throttled_periods: "SUM(throttled_periods)",
  // -1 (unlimited) loses to any real limit set during the minute.
  cpu_limit_mcores: "MAX(cpu_limit_mcores)",
  cpu_stall_bp: weightedMean("cpu_stall_bp"),
  cpu_stall_bp_max: "MAX(cpu_stall_bp)",
  memory_stall_bp: weightedMean("memory_stall_bp"),
  memory_stall_bp_max: "MAX(memory_stall_bp)",
  memory_full_stall_bp: weightedMean("memory_full_stall_bp"),
  io_stall_bp: weightedMean("io_stall_bp"),
  io_stall_bp_max: "MAX(io_stall_bp)",
  io_full_stall_bp: weightedMean("io_full_stall_bp"),
  working_set_kib: weightedMean("working_set_kib"),
  working_set_kib_max: "MAX(working_set_kib)",
  memory_limit_kib: "MAX(memory_limit_kib)",
  oom_kills: "SUM(oom_kills)",
};

/**
 * Recomputes the rollups of every minute in [@fromMinute, @toMinute) (epoch minutes) from raw samples, replacing any earlier
 * rollup of the same minute, so running it twice, or after more samples of a minute arrived, is harmless.
 * The join walks ticks by wall clock and each tick's contiguous rowid range of samples.
 */
const ROLLUP_SQL = `
  INSERT OR REPLACE INTO rollups_1m (${ROLLUP_COLUMNS.join(", ")})
  SELECT ${ROLLUP_COLUMNS.map((column) => AGGREGATES[column]).join(", ")}
  FROM (
    SELECT s.*, s.id & ${TARGET_MASK} AS target_id, k.wall_ms / ${MINUTE_MS} AS minute,
           k.interval_ms + COALESCE(s.interval_delta_ms, 0) AS iv
    FROM ticks k
    JOIN samples s ON s.id >= k.id * ${TARGET_MASK + 1} AND s.id < (k.id + 1) * ${TARGET_MASK + 1}
    WHERE k.wall_ms >= @fromMinute * ${MINUTE_MS} AND k.wall_ms < @toMinute * ${MINUTE_MS}
  )
  GROUP BY target_id, minute
`;

/**
 * One target's minute still open, aggregated as `ROLLUP_SQL` would close it. The sample of each tick is found
 * by its id (tick id and target id), so this reads one row per tick, not the minute's every sample.
 */
const OPEN_MINUTE_SQL = `
  SELECT ${ROLLUP_COLUMNS.map((column) => AGGREGATES[column]).join(", ")}
  FROM (
    SELECT s.*, @targetId AS target_id, k.wall_ms / ${MINUTE_MS} AS minute,
           k.interval_ms + COALESCE(s.interval_delta_ms, 0) AS iv
    FROM ticks k
    JOIN samples s ON s.id = k.id * ${TARGET_MASK + 1} + @targetId
    WHERE k.wall_ms >= @fromMs AND k.wall_ms < @toMs
  )
  GROUP BY minute
`;

export class RollupTable {
  /** The minute of the newest tick: it closes, and is rolled up, when a tick of another minute arrives. */
  private openMinute: number | undefined;
  private readonly rollUpRange: Database.Statement;
  private readonly nextMinute: Database.Statement<[], number>;
  private readonly setNextMinute: Database.Statement;
  private readonly targetRollupsSince: Database.Statement<[number, number, number], Cell[]>;
  private readonly openMinuteOf: Database.Statement<[{ targetId: number; fromMs: number; toMs: number }], Cell[]>;
  private readonly deleteBefore: Database.Statement;
  private readonly countRollups: Database.Statement<[], number>;

  constructor(db: Database.Database) {
    this.rollUpRange = db.prepare(ROLLUP_SQL);
    this.nextMinute = db.prepare<[], number>("SELECT value FROM meta WHERE key = 'rollup_next_minute'").pluck();
    this.setNextMinute = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('rollup_next_minute', ?)");
    this.targetRollupsSince = db
      .prepare<[number, number, number], Cell[]>(`SELECT ${ROLLUP_COLUMNS.join(", ")} FROM rollups_1m WHERE target_id = ? AND minute >= ? AND minute < ? ORDER BY minute`)
      .raw();
    this.openMinuteOf = db.prepare<[{ targetId: number; fromMs: number; toMs: number }], Cell[]>(OPEN_MINUTE_SQL).raw();
    this.deleteBefore = db.prepare("DELETE FROM rollups_1m WHERE target_id IN (SELECT id FROM targets) AND minute < ?");
    this.countRollups = db.prepare<[], number>("SELECT count(*) FROM rollups_1m").pluck();
  }

  /** Takes the newest tick's wall clock (from the file) as the open minute. */
  load(newestWallMs: number | undefined): void {
    this.openMinute = newestWallMs === undefined ? undefined : minuteOf(newestWallMs);
  }

  /**
   * When a tick lands in another minute than the one before, that minute is complete (or the clock stepped;
   * rolling a minute again is idempotent). Rolling it in the same transaction as the tick means a crash can
   * never leave a closed minute without its rollup. Returns whether a minute closed.
   */
  closeMinuteIfPassed(wallMs: number): boolean {
    const minute = minuteOf(wallMs);
    const closing = this.openMinute;
    this.openMinute = minute;
    if (closing === undefined || closing === minute) return false;
    this.rollUp(closing, closing + 1);
    return true;
  }

  /** Rolls up closed minutes still in raw history that have no rollup: a database from before rollups existed. */
  catchUp(oldestWallMs: () => number | undefined): void {
    if (this.openMinute === undefined) return;
    const next = this.nextMinute.get() ?? minuteOrUndefined(oldestWallMs());
    if (next !== undefined && next < this.openMinute) this.rollUp(next, this.openMinute);
  }

  /**
   * One container's rollups from the minute of `sinceMs` on, oldest first, ending with the minute still open
   * aggregated as far as it goes and stamped at its newest tick (`newestWallMs`), not at the minute's end. A
   * stored rollup of a minute at or after the open one (left by a clock that stepped back) is stale, so skipped.
   */
  targetRollups(cached: CachedTarget, sinceMs: number, newestWallMs: number | undefined): RollupSample[] {
    const fromMinute = minuteOf(sinceMs);
    const openMinute = this.openMinute ?? Number.MAX_SAFE_INTEGER;
    const closed = this.targetRollupsSince.all(cached.id, fromMinute, openMinute).map((row) => decodeRollup(row, cached.target));
    if (this.openMinute === undefined || newestWallMs === undefined || openMinute < fromMinute) return closed;
    const open = this.openMinuteOf.all({ targetId: cached.id, fromMs: openMinute * MINUTE_MS, toMs: (openMinute + 1) * MINUTE_MS }).map((row) => ({ ...decodeRollup(row, cached.target), wallMs: newestWallMs }));
    return [...closed, ...open];
  }

  /** Deletes rollups of minutes before the one of `cutoffMs`. */
  prune(cutoffMs: number): void {
    this.deleteBefore.run(minuteOf(cutoffMs));
  }

  rows(): number {
    return this.countRollups.get() ?? 0;
  }

  private rollUp(fromMinute: number, toMinute: number): void {
    this.rollUpRange.run({ fromMinute, toMinute });
    const next = this.nextMinute.get();
    if (next === undefined || toMinute > next) this.setNextMinute.run(toMinute);
  }
}

function minuteOrUndefined(wallMs: number | undefined): number | undefined {
  return wallMs === undefined ? undefined : minuteOf(wallMs);
}
