/**
 * Real network namespaces for dependency tests: pod namespaces joined by veth pairs to a bridge that
 * lives in another namespace (the "node"), so no address or route is added to the host's namespace and
 * all traffic stays inside namespaces the test created. Processes are placed in cgroups before exec, the
 * way a container runtime does, and run real node TCP servers and clients.
 *
 * Everything made is recorded, so cleanup undoes exactly that. Every process started here exits when its
 * stdin (a pipe from the test process) closes, and a detached watchdog removes namespaces and cgroups if
 * the test process dies without running afterAll.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, rmdirSync } from "node:fs";

/** Makes a node -e script exit when the test process's pipe closes, so none outlives the test. */
export const EXIT_WITH_PARENT = `process.stdin.on("end", () => process.exit(0)); process.stdin.resume();`;

/** A TCP server on 0.0.0.0:<port>; prints "ready". */
export function serverJs(port: number): string {
  return `${EXIT_WITH_PARENT}
const net = require("net");
net.createServer((s) => s.on("error", () => {})).listen(${port}, "0.0.0.0", () => process.stdout.write("ready\\n"));`;
}

/** Does nothing but stay alive; prints "ready". */
export const IDLE_JS = `${EXIT_WITH_PARENT} process.stdout.write("ready\\n");`;

/**
 * argv: host port n. Opens n connections and keeps them; prints "connected". SIGUSR2 closes them from
 * this side (so this side gets TIME_WAIT) and prints "closed".
 */
export const CLIENT_JS = `${EXIT_WITH_PARENT}
const net = require("net");
const [host, port, n] = process.argv.slice(1);
const sockets = [];
let open = 0;
for (let i = 0; i < Number(n); i++) {
  const s = net.connect(Number(port), host, () => { if (++open === Number(n)) process.stdout.write("connected\\n"); });
  s.on("error", (e) => { process.stderr.write(String(e) + "\\n"); process.exit(1); });
  sockets.push(s);
}
process.on("SIGUSR2", () => { for (const s of sockets) s.end(); process.stdout.write("closed\\n"); });`;

export function run(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function hasCommand(cmd: string): boolean {
  try {
    run("sh", ["-c", `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

/** Root, iproute2 and iptables (installed when missing); throws with the reason, never skips. */
export function requireNetnsTools(): void {
  if (process.getuid?.() !== 0) throw new Error("this test needs root: it creates network namespaces, veth pairs and cgroups");
  if (!hasCommand("ip")) throw new Error("this test needs iproute2's `ip` (apt-get install -y iproute2)");
  if (hasCommand("iptables")) return;
  try {
    execFileSync("apt-get", ["install", "-y", "iptables"], { stdio: "pipe", timeout: 300_000 });
  } catch (e) {
    throw new Error(`this test needs iptables for the ClusterIP DNAT, and installing it failed (run apt-get install -y iptables): ${String(e)}`);
  }
  if (!hasCommand("iptables")) throw new Error("this test needs iptables for the ClusterIP DNAT (apt-get install -y iptables)");
}

export interface LabProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<void>;
}

export interface StartSpec {
  /** cgroup directories to enter before exec (one per hierarchy); the process is placed in each. */
  readonly cgroupDirs: readonly string[];
  /** Network namespace to run in; undefined runs in the test's own (the host's). */
  readonly netns?: string;
  readonly argv: readonly string[];
  /** A line the process prints once it is ready. */
  readonly readyLine: string;
}

export interface WatchdogSpec {
  readonly namespaces: readonly string[];
  /** Cgroup subtrees this test owns: their processes are killed and every directory in them removed. */
  readonly cgroupRoots: readonly string[];
  /** Parent directories to remove afterwards if they are empty (others may still use them). */
  readonly emptyParents?: readonly string[];
}

export class NetnsLab {
  private readonly namespaces: string[] = [];
  private readonly cgroupDirs: string[] = [];
  private readonly processes: LabProcess[] = [];
  private watchdog: ChildProcess | undefined;

  addNamespace(name: string): void {
    run("ip", ["netns", "add", name]);
    this.namespaces.push(name);
    run("ip", ["-n", name, "link", "set", "lo", "up"]);
  }

  /** The "node": a namespace holding bridge br0 that pod namespaces plug into. */
  addNode(name: string): void {
    this.addNamespace(name);
    run("ip", ["-n", name, "link", "add", "br0", "type", "bridge"]);
    run("ip", ["-n", name, "link", "set", "br0", "up"]);
  }

  /** A pod namespace with eth0 (`ip`/24) on the node's bridge. */
  plugIn(node: string, podNs: string, veth: string, ip: string): void {
    this.addNamespace(podNs);
    run("ip", ["-n", node, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", podNs]);
    run("ip", ["-n", node, "link", "set", veth, "master", "br0", "up"]);
    run("ip", ["-n", podNs, "addr", "add", `${ip}/24`, "dev", "eth0"]);
    run("ip", ["-n", podNs, "link", "set", "eth0", "up"]);
  }

  /** kube-proxy's job in one pod: a route for the Service range, then DNAT of clusterIP:port to the backend. */
  clusterIp(podNs: string, clusterIp: string, port: number, backendIp: string, backendPort: number): void {
    run("ip", ["-n", podNs, "route", "add", "10.96.0.0/12", "dev", "eth0"]);
    run("ip", ["netns", "exec", podNs, "iptables", "-t", "nat", "-A", "OUTPUT", "-d", `${clusterIp}/32`, "-p", "tcp", "--dport", String(port), "-j", "DNAT", "--to-destination", `${backendIp}:${backendPort}`]);
  }

  /** Creates the directories that do not exist yet, recording them for cleanup. */
  mkdirs(dirs: readonly string[]): void {
    for (const d of dirs) {
      if (existsSync(d)) continue;
      mkdirSync(d);
      this.cgroupDirs.push(d);
    }
  }

  /**
   * Starts argv inside the cgroups (and namespace), placed before exec: the shell writes its own PID into
   * each cgroup.procs and then execs `ip netns exec`, which execs the command in turn, so the PID that was
   * placed is the command's. A new session (setsid) gives one process group to kill.
   */
  start(spec: StartSpec): Promise<LabProcess> {
    const command = spec.netns === undefined ? spec.argv : ["ip", "netns", "exec", spec.netns, ...spec.argv];
    const enter = `n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1/cgroup.procs" || exit 97; shift; n=$((n-1)); done; exec "$@"`;
    const child = spawn("sh", ["-c", enter, "sh", String(spec.cgroupDirs.length), ...spec.cgroupDirs, ...command], { detached: true, stdio: ["pipe", "pipe", "pipe"] });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${spec.argv.join(" ")}`);
    const exited = new Promise<void>((resolve) => {
      child.once("exit", () => {
        resolve();
      });
    });
    const proc: LabProcess = { child, pid, exited };
    this.processes.push(proc);
    return waitForLine(child, spec.readyLine).then(() => proc);
  }

  /**
   * A detached shell that undoes what the spec names if this process dies without running cleanup (a
   * jest worker killed on Ctrl-C, a crash). It waits on a pipe from this process: "exit" means cleanup
   * ran; end of file means this process is gone. Only processes inside the given cgroup roots are killed.
   */
  startWatchdog(spec: WatchdogSpec): void {
    const script = [
      `read cmd; [ "$cmd" = exit ] && exit 0`,
      // Arguments: <count> namespaces..., <count> roots..., parents... (our names hold no spaces).
      `n=$1; shift; ns=; while [ "$n" -gt 0 ]; do ns="$ns $1"; shift; n=$((n-1)); done`,
      `n=$1; shift; roots=; while [ "$n" -gt 0 ]; do roots="$roots $1"; shift; n=$((n-1)); done`,
      `parents="$*"`,
      `for r in $roots; do find "$r" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null; done`,
      `for i in $(seq 50); do left=; for r in $roots; do left="$left$(find "$r" -name cgroup.procs -exec cat {} + 2>/dev/null)"; done; [ -z "$left" ] && break; sleep 0.2; done`,
      `for n in $ns; do ip netns del "$n" 2>/dev/null; done`,
      `for r in $roots; do find "$r" -depth -type d -exec rmdir {} \\; 2>/dev/null; done`,
      `for p in $parents; do rmdir "$p" 2>/dev/null; done`,
    ].join("\n");
    const args = [String(spec.namespaces.length), ...spec.namespaces, String(spec.cgroupRoots.length), ...spec.cgroupRoots, ...(spec.emptyParents ?? [])];
    this.watchdog = spawn("sh", ["-c", script, "watchdog", ...args], { detached: true, stdio: ["pipe", "ignore", "ignore"] });
    this.watchdog.unref();
  }

  /** Kills the processes started here, deletes the namespaces, removes the directories made, deepest first. */
  async cleanup(): Promise<string[]> {
    const failures: string[] = [];
    for (const p of this.processes) {
      try {
        process.kill(-p.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    // Wait until node has reaped them: a cgroup with a zombie in it cannot be removed.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.processes.map((p) => p.exited)), new Promise((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
    this.processes.length = 0;
    for (const ns of this.namespaces.splice(0).reverse()) {
      try {
        run("ip", ["netns", "del", ns]);
      } catch (e) {
        failures.push(`ip netns del ${ns}: ${String(e)}`);
      }
    }
    for (const dir of this.cgroupDirs.splice(0).reverse()) {
      const problem = await rmdirWithRetry(dir);
      if (problem) failures.push(problem);
    }
    return failures;
  }

  /** Tells the watchdog that cleanup ran. */
  stopWatchdog(): void {
    this.watchdog?.stdin?.end("exit\n");
  }
}

/** Namespaces whose names start with `prefix`: what a test left behind. */
export function leftoverNamespaces(prefix: string): string[] {
  return run("ip", ["netns", "list"])
    .split("\n")
    .filter((l) => l.startsWith(prefix));
}

async function rmdirWithRetry(dir: string): Promise<string | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      if (attempt >= 50) return `rmdir ${dir}: ${String(e)}`;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export function waitForLine(child: ChildProcess, line: string, timeoutMs = 15_000): Promise<void> {
  let out = "";
  let errText = "";
  child.stderr?.on("data", (d: Buffer) => (errText += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`pid ${child.pid ?? "?"} did not print "${line}" in ${timeoutMs} ms; stderr: ${errText}`));
    }, timeoutMs);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (!out.split("\n").includes(line)) return;
      clearTimeout(timer);
      resolve();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`pid ${child.pid ?? "?"} exited (${code ?? "signal"}) before printing "${line}"; stderr: ${errText}`));
    });
  });
}

/** Waits for a line printed from now on (output before the call does not count). */
export function waitForOutput(child: ChildProcess, line: string, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`pid ${child.pid ?? "?"} did not print "${line}"`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      if (!d.toString().split("\n").includes(line)) return;
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      resolve();
    };
    child.stdout?.on("data", onData);
  });
}
