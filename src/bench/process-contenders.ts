import { execFileSync, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RUNTIME_ENV } from "../util/runtime-env.js";
import type { SandboxPod } from "../demo/sandbox.js";
import { freePort } from "../util/ports.js";

const XANDER = fileURLToPath(new URL("../bin/xander.js", import.meta.url));
const BUILD_CADVISOR = fileURLToPath(new URL("../../hack/build-cadvisor.sh", import.meta.url));

/** Samples a process has taken so far of the bench's containers, as far as it tells. */
export interface SampleCount {
  /** Bench containers with at least one sample (for scan and the agent: pods × 3 as they report pods). */
  readonly containers: number;
  /** Every container the process samples, the bench's and any other pod's under /kubepods on this host. */
  readonly tracked: number;
  readonly samples: number;
}

export interface RunningContender {
  readonly pid: number;
  /** Resolves once the process has found the bench's pods (the agent: once it samples all of them). */
  ready(): Promise<void>;
  /** Cumulative samples now; undefined when the process only tells at the end (scan). */
  samples(): Promise<SampleCount | undefined>;
  /** Stops the process; what it reported at exit, if anything. */
  stop(): Promise<SampleCount | undefined>;
}

/** One process the bench measures: Xander in one of its modes, or cAdvisor at one setting. */
export interface Contender {
  readonly key: string;
  readonly label: string;
  start(dir: string, round: number): Promise<RunningContender>;
}

export interface ContenderContext {
  readonly pods: readonly SandboxPod[];
  readonly containersPerPod: number;
  /** Extra node flags for the Xander processes, e.g. --cpu-prof. */
  readonly nodeFlags: readonly string[];
  /** For the agent; undefined when no control plane is available. */
  readonly agent?: { readonly kubeconfig: string; readonly nodeName: string };
}

export function spawnLogged(command: string, args: readonly string[], logFile: string, env: NodeJS.ProcessEnv = {}): { pid: number; exited: Promise<void>; stdout: () => string; kill: () => Promise<void> } {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const log = createWriteStream(logFile);
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => { out += chunk.toString(); });
  child.stderr.pipe(log);
  const exited = new Promise<void>((resolve) => child.once("exit", () => { resolve(); }));
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  return {
    pid: child.pid,
    exited,
    stdout: () => out,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** `xander scan -o json`, stopped by SIGTERM, after which it prints how many pods and samples it saw. */
export function scanContender(ctx: ContenderContext, history: boolean): Contender {
  const key = history ? "scan-history" : "scan";
  return {
    key,
    label: history ? "`xander scan` with history" : "`xander scan --no-history`",
    start: (dir, round) => {
      const args = [...ctx.nodeFlags, XANDER, "scan", "-o", "json", ...(history ? ["--db", join(dir, `scan-${round}.db`)] : ["--no-history"])];
      // With RUNTIME_ENV, as the `xander` executable starts Node (scripts/bundle.ts). Node itself, not the
      // executable, so that --cpu-prof stays a flag: Node 20 refuses it in NODE_OPTIONS.
      const proc = spawnLogged(process.execPath, args, join(dir, `${key}-${round}.log`), RUNTIME_ENV);
      return Promise.resolve({
        pid: proc.pid,
        ready: () => Promise.resolve(),
        samples: () => Promise.resolve(undefined),
        stop: async () => {
          await proc.kill();
          const report = JSON.parse(proc.stdout()) as { pods: number; samples: number };
          // scan samples every pod cgroup on the host: the bench's, and any other pod's under /kubepods.
          return { containers: Math.min(report.pods, ctx.pods.length) * ctx.containersPerPod, tracked: report.pods * ctx.containersPerPod, samples: report.samples };
        },
      });
    },
  };
}

function metricValue(page: string, name: string): number {
  const line = page.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

/** `xander agent` for the bench's Node, against the control plane; its /metrics count pods and samples. */
export function agentContender(ctx: ContenderContext): Contender | undefined {
  const agent = ctx.agent;
  if (agent === undefined) return undefined;
  return {
    key: "agent",
    label: "`xander agent` (history, dependency mapping)",
    start: async (dir, round) => {
      const port = await freePort();
      const args = [...ctx.nodeFlags, XANDER, "agent", "--node", agent.nodeName, "--db", join(dir, `agent-${round}.db`), "--metrics-addr", `127.0.0.1:${port}`, "--metrics-authorization", "none"];
      // /metrics on loopback, read by the bench alone: no token reviews in the measured process.
      const proc = spawnLogged(process.execPath, args, join(dir, `agent-${round}.log`), { KUBECONFIG: agent.kubeconfig, ...RUNTIME_ENV });
      const scrape = async (): Promise<SampleCount> => {
        const page = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        // The agent samples only the pods the apiserver binds to its Node: the bench's.
        const containers = metricValue(page, "xander_agent_pods") * ctx.containersPerPod;
        return { containers, tracked: containers, samples: metricValue(page, "xander_agent_samples_total") };
      };
      return {
        pid: proc.pid,
        ready: () => waitFor("the agent to sample every bench pod", async () => (await scrape()).containers >= ctx.pods.length * ctx.containersPerPod),
        samples: scrape,
        stop: async () => {
          await proc.kill();
          return undefined;
        },
      };
    },
  };
}

/** The cadvisor-bench binary from the cache, built on first use (hack/build-cadvisor.sh). */
export function cadvisorBinary(log: (line: string) => void): string {
  log("building or finding cadvisor-bench (hack/build-cadvisor.sh) ...");
  const out = execFileSync("bash", [BUILD_CADVISOR], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const bin = /^CADVISOR_BIN=(.*)$/m.exec(out)?.[1];
  if (bin === undefined) throw new Error(`hack/build-cadvisor.sh printed no CADVISOR_BIN: ${out}`);
  return join(bin, "cadvisor-bench");
}

/**
 * cAdvisor's manager over /kubepods, as the kubelet embeds it (raw cgroup factory; the kubelet's metric set),
 * at 1 s housekeeping without dynamic housekeeping, or at the kubelet's own settings (10 s, up to 15 s
 * when a container's stats do not change). It serves its per-container sample counts on a loopback port.
 */
export function cadvisorContender(ctx: ContenderContext, binary: string, setting: "1s" | "kubelet"): Contender {
  const flags = setting === "1s"
    ? ["-housekeeping_interval=1s", "-allow_dynamic_housekeeping=false"]
    : ["-housekeeping_interval=10s", "-max_housekeeping_interval=15s", "-allow_dynamic_housekeeping=true"];
  const names = new Set(ctx.pods.flatMap((pod) => pod.containerRelPaths.map((rel) => `/${rel}`)));
  return {
    key: `cadvisor-${setting}`,
    label: setting === "1s" ? "cAdvisor v0.52.1, 1 s housekeeping, not dynamic" : "cAdvisor v0.52.1, kubelet settings (10 s, dynamic up to 15 s)",
    start: (dir, round) => {
      const proc = spawnLogged(binary, ["-listen=127.0.0.1:0", "-cgroup_roots=/kubepods", ...flags], join(dir, `cadvisor-${setting}-${round}.log`));
      let address: string | undefined;
      const count = async (): Promise<SampleCount> => {
        address ??= /^listening on (\S+)$/m.exec(proc.stdout())?.[1];
        if (address === undefined) throw new Error("cadvisor-bench has not said where it listens");
        const body = (await (await fetch(`http://${address}/samples?prefix=/kubepods`)).json()) as { samples: Record<string, number> };
        // cAdvisor tracks every cgroup under /kubepods (pod and QoS levels too); the rate counts the bench's containers.
        const ours = Object.entries(body.samples).filter(([name]) => names.has(name));
        return { containers: ours.filter(([, n]) => n > 0).length, tracked: Object.keys(body.samples).length, samples: ours.reduce((sum, [, n]) => sum + n, 0) };
      };
      return Promise.resolve({
        pid: proc.pid,
        ready: () => waitFor("cAdvisor to track every bench container", async () => (await count()).containers >= names.size),
        samples: count,
        stop: async () => {
          await proc.kill();
          return undefined;
        },
      });
    },
  };
}
