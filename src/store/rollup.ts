import { MINUTE_MS, ROLLUP_COLUMNS, TARGET_ID_BITS } from "./codec.js";

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
export const ROLLUP_SQL = `
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
