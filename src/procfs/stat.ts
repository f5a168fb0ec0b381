import { join } from "node:path";
import { err, ok, parseError, type ParseError, type Result } from "../util/result.js";
import { readParsed } from "./read-file.js";

/** USER_HZ: /proc/stat counts in these ticks on every Linux architecture Kubernetes runs on. */
const USER_HZ = 100;
const DECIMAL_RE = /^\d+$/;

/**
 * Parses the aggregate `cpu` line of /proc/stat into busy CPU time in microseconds: everything but
 * idle and iowait. Guest time is already included in user and nice, so it is not added again.
 */
export function parseProcStatBusy(text: string, file = "/proc/stat"): Result<number, ParseError> {
  const line = text.split("\n", 1)[0] ?? "";
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== "cpu") return err(parseError(file, 'first line is not the aggregate "cpu" line', 1));
  const ticks = fields.slice(1, 9);
  // Number() alone would take "0x10", "1e3" or "+5" for tick counts; the kernel prints plain decimals.
  const values = ticks.map((t) => (DECIMAL_RE.test(t) ? Number(t) : NaN));
  if (values.length < 4 || values.some((value) => !Number.isSafeInteger(value))) {
    return err(parseError(file, "expected at least 4 non-negative integer tick counts on the cpu line", 1));
  }
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = values;
  return ok(((user + nice + system + irq + softirq + steal) * 1_000_000) / USER_HZ);
}

/** Busy CPU µs of the whole node, or undefined (with the reason logged by the caller) when unreadable. */
export function readNodeCpuBusyUsec(procRoot = "/proc"): Result<number, ParseError> {
  return readParsed(join(procRoot, "stat"), parseProcStatBusy);
}
