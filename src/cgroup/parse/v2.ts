/**
 * Parsers for cgroup v2 interface files (Documentation/admin-guide/cgroup-v2.rst).
 * Each takes the file text and returns a value or a ParseError; none throws.
 */
import { err, ok, parseError, type ParseError, type Result } from "../../util/result.js";
import {
  clip,
  flatKeyed,
  isKernelFlat,
  kernelFlatValue,
  memoryStatFields,
  parseCounter,
  scanLines,
  parseLimit,
  pickCounters,
  singleCounter,
  singleLimit,
  tokens,
} from "./common.js";

export interface CpuStatV2 {
  readonly usageUsec: number;
  readonly userUsec: number;
  readonly systemUsec: number;
  /** The throttling fields exist only where the cpu controller is enabled (not in a hybrid `unified` tree). */
  readonly nrPeriods?: number;
  readonly nrThrottled?: number;
  readonly throttledUsec?: number;
}

export function parseCpuStatV2(text: string): Result<CpuStatV2, ParseError> {
  const file = "cpu.stat";
  const fields = flatKeyed(text, file);
  if (!fields.ok) return fields;
  const c = pickCounters(fields.value, file, ["usage_usec", "user_usec", "system_usec"], ["nr_periods", "nr_throttled", "throttled_usec"]);
  if (!c.ok) return c;
  const v = c.value;
  // Assigned rather than spread: this runs for every container every tick.
  const stat: { -readonly [K in keyof CpuStatV2]: CpuStatV2[K] } = { usageUsec: v.usage_usec, userUsec: v.user_usec, systemUsec: v.system_usec };
  if (v.nr_periods !== undefined) stat.nrPeriods = v.nr_periods;
  if (v.nr_throttled !== undefined) stat.nrThrottled = v.nr_throttled;
  if (v.throttled_usec !== undefined) stat.throttledUsec = v.throttled_usec;
  return ok(stat);
}

export interface CpuMax {
  /** null = no quota (`max`). */
  readonly quotaUsec: number | null;
  readonly periodUsec: number;
}

/** The kernel's default CFS period, used when `cpu.max` holds only a quota. */
const DEFAULT_PERIOD_USEC = 100_000;

/** `cpu.max`: "$MAX $PERIOD", e.g. "max 100000" or "50000 100000". */
export function parseCpuMax(text: string): Result<CpuMax, ParseError> {
  const file = "cpu.max";
  const t = tokens(text.trim());
  if (t.length > 2 || t[0] === undefined || t[0] === "") return err(parseError(file, `expected "<quota|max> <period>", got "${clip(text.trim())}"`));
  const quotaUsec = parseLimit(t[0]);
  if (quotaUsec === undefined) return err(parseError(file, `quota is not an integer or "max": "${clip(t[0])}"`));
  const periodUsec = t[1] === undefined ? DEFAULT_PERIOD_USEC : parseCounter(t[1]);
  if (periodUsec === undefined || periodUsec === 0) return err(parseError(file, `period is not a positive integer: "${clip(t[1] ?? "")}"`));
  return ok({ quotaUsec, periodUsec });
}

/** CPU cores a quota allows; null when there is no quota. */
export function limitCores(quotaUsec: number | null, periodUsec: number): number | null {
  return quotaUsec === null ? null : quotaUsec / periodUsec;
}

/** `cpu.weight`: 1..10000, default 100. */
export function parseCpuWeight(text: string): Result<number, ParseError> {
  return singleCounter(text, "cpu.weight");
}

/** `memory.current` in bytes. */
export function parseMemoryCurrent(text: string): Result<number, ParseError> {
  return singleCounter(text, "memory.current");
}

/** `memory.max` in bytes; null = unlimited. */
export function parseMemoryMax(text: string): Result<number | null, ParseError> {
  return singleLimit(text, "memory.max");
}

/** `memory.high` in bytes; null = unlimited. */
export function parseMemoryHigh(text: string): Result<number | null, ParseError> {
  return singleLimit(text, "memory.high");
}

export interface MemoryStat {
  /** Needed for the working set (usage − inactive_file), as the kubelet and cAdvisor compute it. */
  readonly inactiveFileBytes: number;
  /** Every key in the file, including ones this parser does not know. */
  readonly fields: ReadonlyMap<string, number>;
}

/** `memory.stat` (v2): all keys; `inactive_file` must be present. */
export function parseMemoryStatV2(text: string): Result<MemoryStat, ParseError> {
  return memoryStatFields(text);
}

/**
 * Only `inactive_file` of a v2 `memory.stat`, which is all the working set needs: the same value or
 * error as `parseMemoryStatV2`, without building the map of every key when the text is kernel-shaped.
 */
export function parseInactiveFileV2(text: string): Result<number, ParseError> {
  const inactiveFileBytes = isKernelFlat(text) ? kernelFlatValue(text, "inactive_file") : undefined;
  if (inactiveFileBytes !== undefined) return ok(inactiveFileBytes);
  const full = parseMemoryStatV2(text);
  return full.ok ? ok(full.value.inactiveFileBytes) : full;
}

export interface MemoryEvents {
  readonly low: number;
  readonly high: number;
  readonly max: number;
  readonly oom: number;
  readonly oomKill: number;
  /** Added in Linux 5.17. */
  readonly oomGroupKill?: number;
}

/** `memory.events`: event counts since the cgroup was created. */
export function parseMemoryEvents(text: string): Result<MemoryEvents, ParseError> {
  const file = "memory.events";
  const fields = flatKeyed(text, file);
  if (!fields.ok) return fields;
  const c = pickCounters(fields.value, file, ["low", "high", "max", "oom", "oom_kill"], ["oom_group_kill"]);
  if (!c.ok) return c;
  const v = c.value;
  // Assigned rather than spread: this runs for every container every tick.
  const events: { -readonly [K in keyof MemoryEvents]: MemoryEvents[K] } = { low: v.low, high: v.high, max: v.max, oom: v.oom, oomKill: v.oom_kill };
  if (v.oom_group_kill !== undefined) events.oomGroupKill = v.oom_group_kill;
  return ok(events);
}

export interface IoStatDevice {
  readonly major: number;
  readonly minor: number;
  readonly readBytes: number;
  readonly writeBytes: number;
  readonly readIos: number;
  readonly writeIos: number;
  /** Discards; absent before Linux 5.1, reported as 0 then. */
  readonly discardBytes: number;
  readonly discardIos: number;
}

const IO_KEYS = { rbytes: "readBytes", wbytes: "writeBytes", rios: "readIos", wios: "writeIos", dbytes: "discardBytes", dios: "discardIos" } as const;
const DEVICE_RE = /^(\d+):(\d+)$/;
const MAX_DEVICE_PART = 0xffff_ffff;

/**
 * `io.stat`: one line per device with I/O, `8:0 rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.. dios=..`.
 * Other `key=value` pairs (io.cost, io.latency stats) are ignored. An empty file means no I/O yet.
 */
export function parseIoStat(text: string): Result<IoStatDevice[], ParseError> {
  const file = "io.stat";
  const devices: IoStatDevice[] = [];
  let bad: ParseError | undefined;
  scanLines(text, (t, line) => {
    const device = parseIoStatLine(t);
    if (typeof device === "string") {
      bad = parseError(file, device, line);
      return false;
    }
    devices.push(device);
    return true;
  });
  return bad ? err(bad) : ok(devices);
}

function parseIoStatLine(t: readonly string[]): IoStatDevice | string {
  const [dev, ...pairs] = t;
  const m = DEVICE_RE.exec(dev ?? "");
  if (!m) return `expected "<major>:<minor> key=value...", got "${clip(t.join(" "))}"`;
  const values = { readBytes: 0, writeBytes: 0, readIos: 0, writeIos: 0, discardBytes: 0, discardIos: 0 };
  const seen = new Set<string>();
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) return `expected key=value, got "${clip(pair)}"`;
    const key = pair.slice(0, eq);
    if (!Object.hasOwn(IO_KEYS, key)) continue;
    const value = parseCounter(pair.slice(eq + 1));
    if (value === undefined) return `"${key}" is not a non-negative integer: "${clip(pair)}"`;
    values[IO_KEYS[key as keyof typeof IO_KEYS]] = value;
    seen.add(key);
  }
  for (const key of ["rbytes", "wbytes", "rios", "wios"]) {
    if (!seen.has(key)) return `missing key "${key}" for device ${dev ?? ""}`;
  }
  const device = deviceNumbers(m);
  return device === undefined ? `device number out of range: "${clip(dev ?? "")}"` : { ...device, ...values };
}

/** `major:minor` as numbers; undefined past 32 bits (dev_t: 12 major, 20 minor), which no device has. */
function deviceNumbers(m: RegExpExecArray): { major: number; minor: number } | undefined {
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > MAX_DEVICE_PART || minor > MAX_DEVICE_PART ? undefined : { major, minor };
}
