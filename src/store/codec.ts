/**
 * Integer encoding of samples for SQLite. SQLite stores an integer in 0-8 bytes by magnitude (0 and 1 in
 * none at all) and a REAL always in 8, so every value is scaled to an integer before it is written.
 *
 * Resolution lost in a round trip:
 * - shares (0..1): 1e-4 (stored in basis points), so ±5e-5;
 * - cores: 1e-3 (stored as millicores), so ±5e-4 cores;
 * - bytes: 1 KiB, so ±512 bytes;
 * - periods, throttled periods, OOM kills, wallMs, intervalMs: rounded to integers (they are integers already).
 * Two fields are not stored but recomputed, as the sampler computes them: `throttleRatio` from the periods,
 * `memoryLimitShare` from the KiB-rounded working set and limit (error ≤ 1 KiB / limit).
 * A non-finite value is stored as absent.
 */
import type { ContainerSample, NodeSample } from "../sampler/types.js";
import type { RollupSample } from "./types.js";

export const SHARE_SCALE = 10_000;
export const CORES_SCALE = 1000;
export const BYTES_PER_KIB = 1024;
/** A limit of "unlimited" (null in a sample); NULL in a column means the signal is absent. */
const UNLIMITED = -1;

/**
 * A raw sample's rowid packs (tick, target) so rows are appended in time order: pages fill completely,
 * retention is a rowid-range delete, and one tick's rows are a contiguous range.
 * A target's rows over time are still one rowid lookup per tick.
 */
export const TARGET_ID_BITS = 20;
export const MAX_TARGET_ID = 2 ** TARGET_ID_BITS - 1;
const TICK_STRIDE = 2 ** TARGET_ID_BITS;

export function sampleId(tickId: number, targetId: number): number {
  return tickId * TICK_STRIDE + targetId;
}

export function tickIdOf(sampleRowId: number): number {
  return Math.floor(sampleRowId / TICK_STRIDE);
}

export function targetIdOf(sampleRowId: number): number {
  return sampleRowId % TICK_STRIDE;
}

export type Cell = number | null;

/** Column order of a raw sample row, for both the INSERT and the SELECTs. */
export const SAMPLE_COLUMNS = [
  "id",
  "wall_delta_ms",
  "interval_delta_ms",
  "cpu_mcores",
  "periods",
  "throttled_periods",
  "cpu_limit_mcores",
  "cpu_stall_bp",
  "memory_stall_bp",
  "memory_full_stall_bp",
  "io_stall_bp",
  "io_full_stall_bp",
  "working_set_kib",
  "memory_limit_kib",
  "oom_kills",
] as const;

export const NODE_COLUMNS = [
  "tick_id",
  "wall_ms",
  "interval_ms",
  "cpu_stall_bp",
  "memory_stall_bp",
  "memory_full_stall_bp",
  "io_stall_bp",
  "io_full_stall_bp",
] as const;

export const ROLLUP_COLUMNS = [
  "target_id",
  "minute",
  "sample_count",
  "interval_ms",
  "cpu_mcores",
  "cpu_mcores_max",
  "periods",
  "throttled_periods",
  "cpu_limit_mcores",
  "cpu_stall_bp",
  "cpu_stall_bp_max",
  "memory_stall_bp",
  "memory_stall_bp_max",
  "memory_full_stall_bp",
  "io_stall_bp",
  "io_stall_bp_max",
  "io_full_stall_bp",
  "working_set_kib",
  "working_set_kib_max",
  "memory_limit_kib",
  "oom_kills",
] as const;

function scale(value: number | undefined, factor: number): Cell {
  return value === undefined || !Number.isFinite(value) ? null : Math.round(value * factor);
}

function scaleLimit(value: number | null | undefined, factor: number): Cell {
  return value === null ? UNLIMITED : scale(value, factor);
}

function unscale(cell: Cell | undefined, factor: number): number | undefined {
  return cell === null || cell === undefined ? undefined : cell / factor;
}

function unscaleLimit(cell: Cell | undefined, factor: number): number | null | undefined {
  return cell === UNLIMITED ? null : unscale(cell, factor);
}

/** The tick a sample is written under: deltas against it are almost always 0, which SQLite stores in no bytes. */
export interface TickBase {
  readonly tickId: number;
  readonly wallMs: number;
  readonly intervalMs: number;
}

export function encodeSample(sample: ContainerSample, targetId: number, tick: TickBase): Cell[] {
  return [
    sampleId(tick.tickId, targetId),
    Math.round(sample.wallMs) - tick.wallMs,
    Math.round(sample.intervalMs) - tick.intervalMs,
    scale(sample.cpuCores, CORES_SCALE),
    scale(sample.periods, 1),
    scale(sample.throttledPeriods, 1),
    scaleLimit(sample.cpuLimitCores, CORES_SCALE),
    scale(sample.cpuStallShare, SHARE_SCALE),
    scale(sample.memoryStallShare, SHARE_SCALE),
    scale(sample.memoryFullStallShare, SHARE_SCALE),
    scale(sample.ioStallShare, SHARE_SCALE),
    scale(sample.ioFullStallShare, SHARE_SCALE),
    scale(sample.workingSetBytes, 1 / BYTES_PER_KIB),
    scaleLimit(sample.memoryLimitBytes, 1 / BYTES_PER_KIB),
    scale(sample.oomKills, 1) ?? 0,
  ];
}

export function encodeNodeSample(node: NodeSample, tickId: number): Cell[] {
  return [
    tickId,
    Math.round(node.wallMs),
    Math.round(node.intervalMs),
    scale(node.cpuStallShare, SHARE_SCALE),
    scale(node.memoryStallShare, SHARE_SCALE),
    scale(node.memoryFullStallShare, SHARE_SCALE),
    scale(node.ioStallShare, SHARE_SCALE),
    scale(node.ioFullStallShare, SHARE_SCALE),
  ];
}

/** Who a row belongs to: the identity fields every sample carries. */
export interface SampleIdentity {
  readonly key: string;
  readonly podUid: string;
  readonly containerId: string;
}

/** As the sampler computes it: 0 when no CFS period elapsed. */
export function throttleRatioOf(periods: number | undefined, throttledPeriods: number | undefined): number | undefined {
  if (periods === undefined || throttledPeriods === undefined) return undefined;
  return periods > 0 ? throttledPeriods / periods : 0;
}

/** As the sampler computes it: null when unlimited. */
export function memoryLimitShareOf(
  workingSetBytes: number | undefined,
  memoryLimitBytes: number | null | undefined,
): number | null | undefined {
  if (workingSetBytes === undefined || memoryLimitBytes === undefined) return undefined;
  if (memoryLimitBytes === null) return null;
  return memoryLimitBytes > 0 ? workingSetBytes / memoryLimitBytes : undefined;
}

/** A cell that is never NULL in practice (NOT NULL columns, deltas that default to 0). */
function int(cell: Cell | undefined): number {
  return cell ?? 0;
}

/**
 * Decodes a row in `SAMPLE_COLUMNS` order, written under a tick with the given wall clock and interval.
 * Every field is present, `undefined` where the signal is absent: one object shape for all rows lets V8 build
 * the tens of thousands of samples a restart's window refill reads several times faster than adding fields one
 * by one. For readers of the type, an absent optional field and an undefined one are the same.
 */
export function decodeSample(row: readonly Cell[], tickWallMs: number, tickIntervalMs: number, who: SampleIdentity): ContainerSample {
  const periods = unscale(row[4], 1);
  const throttledPeriods = unscale(row[5], 1);
  const workingSetBytes = unscale(row[12], 1 / BYTES_PER_KIB);
  const memoryLimitBytes = unscaleLimit(row[13], 1 / BYTES_PER_KIB);
  return {
    key: who.key,
    podUid: who.podUid,
    containerId: who.containerId,
    wallMs: tickWallMs + int(row[1]),
    intervalMs: tickIntervalMs + int(row[2]),
    cpuCores: unscale(row[3], CORES_SCALE),
    periods,
    throttledPeriods,
    throttleRatio: throttleRatioOf(periods, throttledPeriods),
    cpuLimitCores: unscaleLimit(row[6], CORES_SCALE),
    cpuStallShare: unscale(row[7], SHARE_SCALE),
    memoryStallShare: unscale(row[8], SHARE_SCALE),
    memoryFullStallShare: unscale(row[9], SHARE_SCALE),
    ioStallShare: unscale(row[10], SHARE_SCALE),
    ioFullStallShare: unscale(row[11], SHARE_SCALE),
    workingSetBytes,
    memoryLimitBytes,
    memoryLimitShare: memoryLimitShareOf(workingSetBytes, memoryLimitBytes),
    oomKills: int(row[14]),
  };
}

/** Decodes a row in `NODE_COLUMNS` order; absent signals are `undefined`, as in `decodeSample`. */
export function decodeNodeSample(row: readonly Cell[]): NodeSample {
  return {
    wallMs: int(row[1]),
    intervalMs: int(row[2]),
    cpuStallShare: unscale(row[3], SHARE_SCALE),
    memoryStallShare: unscale(row[4], SHARE_SCALE),
    memoryFullStallShare: unscale(row[5], SHARE_SCALE),
    ioStallShare: unscale(row[6], SHARE_SCALE),
    ioFullStallShare: unscale(row[7], SHARE_SCALE),
  };
}

export const MINUTE_MS = 60_000;

export function minuteOf(wallMs: number): number {
  return Math.floor(wallMs / MINUTE_MS);
}

/** Decodes a row in `ROLLUP_COLUMNS` order; absent signals are `undefined`, as in `decodeSample`. */
export function decodeRollup(row: readonly Cell[], who: SampleIdentity): RollupSample {
  const periods = unscale(row[6], 1);
  const throttledPeriods = unscale(row[7], 1);
  const workingSetBytes = unscale(row[17], 1 / BYTES_PER_KIB);
  const memoryLimitBytes = unscaleLimit(row[19], 1 / BYTES_PER_KIB);
  return {
    key: who.key,
    podUid: who.podUid,
    containerId: who.containerId,
    wallMs: (int(row[1]) + 1) * MINUTE_MS,
    intervalMs: int(row[3]),
    sampleCount: int(row[2]),
    cpuCores: unscale(row[4], CORES_SCALE),
    cpuCoresMax: unscale(row[5], CORES_SCALE),
    periods,
    throttledPeriods,
    throttleRatio: throttleRatioOf(periods, throttledPeriods),
    cpuLimitCores: unscaleLimit(row[8], CORES_SCALE),
    cpuStallShare: unscale(row[9], SHARE_SCALE),
    cpuStallShareMax: unscale(row[10], SHARE_SCALE),
    memoryStallShare: unscale(row[11], SHARE_SCALE),
    memoryStallShareMax: unscale(row[12], SHARE_SCALE),
    memoryFullStallShare: unscale(row[13], SHARE_SCALE),
    ioStallShare: unscale(row[14], SHARE_SCALE),
    ioStallShareMax: unscale(row[15], SHARE_SCALE),
    ioFullStallShare: unscale(row[16], SHARE_SCALE),
    workingSetBytes,
    workingSetBytesMax: unscale(row[18], 1 / BYTES_PER_KIB),
    memoryLimitBytes,
    memoryLimitShare: memoryLimitShareOf(workingSetBytes, memoryLimitBytes),
    oomKills: int(row[20]),
  };
}
