import { join } from "node:path";
import { err, ok, parseError, type ParseError, type Result } from "../util/result.js";
import { readParsed } from "./read-file.js";

const OOM_KILL_RE = /^oom_kill (\d+)$/m;

/**
 * The node's OOM kills so far: `oom_kill` of /proc/vmstat (Linux 4.13+). The kernel counts every kill there,
 * whether the whole node or one cgroup's limit ran out, so while it stands still no cgroup's count can move.
 */
export function parseVmstatOomKills(text: string, file = "/proc/vmstat"): Result<number, ParseError> {
  const match = OOM_KILL_RE.exec(text);
  if (match === null) return err(parseError(file, "no oom_kill line (kernel before 4.13?)"));
  const kills = Number(match[1]);
  return Number.isSafeInteger(kills) ? ok(kills) : err(parseError(file, `oom_kill ${match[1] ?? ""} is out of range`));
}

export function readNodeOomKills(procRoot = "/proc"): Result<number, ParseError> {
  return readParsed(join(procRoot, "vmstat"), parseVmstatOomKills);
}
