// Process bookkeeping for the control plane: start each binary in its own
// process group, remember exactly which process it was (pid + kernel start
// time, so a recycled pid is never signalled), and stop it by that record.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

export interface ProcessRecord {
  name: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot. Identifies the process beyond its pid. */
  startTime: string;
  log: string;
}

/** The kernel's start time for pid, or undefined when no such process exists (or it is a zombie). */
export function procStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses; the fields after the last ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  return fields[19];
}

/** True while the recorded process (not merely some process with its pid) is running. */
export function isRunning(p: ProcessRecord): boolean {
  return procStartTime(p.pid) === p.startTime;
}

/** Starts bin detached in a new process group (pgid = pid), output appended to log. */
export function spawnDetached(name: string, bin: string, args: string[], log: string): ProcessRecord {
  const fd = openSync(log, "a");
  try {
    const child = spawn(bin, args, { detached: true, stdio: ["ignore", fd, fd] });
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${name} (${bin}); see ${log}`);
    const startTime = procStartTime(pid);
    if (startTime === undefined) throw new Error(`${name} exited at once; see ${log}`);
    return { name, pid, startTime, log };
  } finally {
    closeSync(fd);
  }
}

/** Signals the recorded process's whole group, only if it is still the process we started. */
export function signalGroup(p: ProcessRecord, signal: NodeJS.Signals): void {
  if (!isRunning(p)) return;
  try {
    process.kill(-p.pid, signal);
  } catch {
    // The group can be gone between the check and the kill; fall back to the pid itself.
    try {
      process.kill(p.pid, signal);
    } catch {
      // already gone
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitExit(p: ProcessRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(p)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
export async function stopProcess(p: ProcessRecord, graceMs = 10_000): Promise<void> {
  signalGroup(p, "SIGTERM");
  if (await waitExit(p, graceMs)) return;
  signalGroup(p, "SIGKILL");
  if (!(await waitExit(p, 5_000))) {
    throw new Error(`${p.name} (pid ${p.pid}) did not exit after SIGKILL`);
  }
}

/** n distinct free TCP ports on 127.0.0.1 (held open together so they differ). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => {
      const srv = createServer();
      return new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
          resolve(srv);
        });
      });
    }),
  );
  const ports = servers.map((s) => {
    const addr = s.address();
    if (addr === null || typeof addr === "string") throw new Error("unexpected server address");
    return addr.port;
  });
  await Promise.all(
    servers.map((s) => new Promise<void>((resolve) => s.close(() => {
      resolve();
    }))),
  );
  return ports;
}

/** The last n lines of a log file, for error messages. */
export function tail(file: string, n = 30): string {
  try {
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    return lines.slice(-n).join("\n");
  } catch (err) {
    return `(cannot read ${file}: ${(err as Error).message})`;
  }
}
