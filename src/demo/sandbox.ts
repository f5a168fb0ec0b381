import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, rmdirSync, writeFileSync, existsSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import type { CgroupLayout, QosClass } from "../cgroup/types.js";

/** A throwaway kubelet-style pod (cgroupfs driver naming) in the host's real cgroup hierarchies. */
export interface SandboxPodSpec {
  readonly name: string;
  readonly qosClass: QosClass;
  /** v1 cpu.shares / v2 cpu.weight are derived from this, as the kubelet derives them from requests. */
  readonly cpuRequestCores?: number;
  readonly cpuLimitCores?: number;
  readonly memoryLimitBytes?: number;
  /** Use the API server's UID and a container ID of our choosing, so the agent can map the Pod to this cgroup. */
  readonly uid?: string;
  readonly containerId?: string;
  /** Container cgroups to create (default 1); processes start in the first. */
  readonly containers?: number;
}

export interface SandboxPod {
  readonly name: string;
  readonly uid: string;
  readonly containerId: string;
  readonly qosClass: QosClass;
  /** Relative to each hierarchy's mount: `kubepods/<qos>/pod<uid>/<containerId>`. */
  readonly containerRelPath: string;
  /** Every container cgroup of the pod, the first being `containerRelPath`. */
  readonly containerRelPaths: readonly string[];
  readonly podRelPath: string;
}

export interface SandboxProcess {
  readonly pid: number;
  readonly exited: Promise<number | null>;
}

const PERIOD_USEC = 100_000;

/**
 * Creates kubelet-style pod cgroups and places real processes in them, then removes every cgroup
 * and process it made. Processes are placed before they exec, so nothing they fork is left behind
 * in another cgroup, and each runs in its own process group so only our processes are signalled.
 */
export class CgroupSandbox {
  private readonly created: string[] = [];
  private readonly children: { child: ChildProcess; exited: Promise<number | null>; podRelPath: string }[] = [];
  private readonly mounts: readonly string[];

  constructor(private readonly layout: CgroupLayout) {
    const { cpu, cpuacct, memory } = layout.v1;
    this.mounts = [...new Set([cpu, cpuacct, memory, layout.unified].filter((m): m is string => m !== undefined))];
    if (this.mounts.length === 0) throw new Error(`no writable cgroup hierarchy found under ${layout.root}`);
  }

  addPod(spec: SandboxPodSpec): SandboxPod {
    const uid = spec.uid ?? randomUUID();
    const containerId = spec.containerId ?? randomContainerId();
    const qosDir = spec.qosClass === "guaranteed" ? "kubepods" : `kubepods/${spec.qosClass}`;
    const podRelPath = `${qosDir}/pod${uid}`;
    const containerRelPaths = [containerId, ...Array.from({ length: (spec.containers ?? 1) - 1 }, randomContainerId)].map((id) => `${podRelPath}/${id}`);
    const containerRelPath = containerRelPaths[0] ?? `${podRelPath}/${containerId}`;
    for (const mount of this.mounts) {
      if (this.mkdir(join(mount, "kubepods"))) this.shareKubepods(mount);
      for (const rel of [qosDir, podRelPath, ...containerRelPaths]) this.mkdir(join(mount, rel));
    }
    if (this.layout.version === "v2") this.delegateControllers([qosDir, podRelPath]);
    this.applyLimits(podRelPath, spec);
    for (const rel of containerRelPaths) this.applyLimits(rel, spec);
    return { name: spec.name, uid, containerId, qosClass: spec.qosClass, containerRelPath, containerRelPaths, podRelPath };
  }

  /** Starts `argv` inside the pod's container cgroup in every hierarchy. */
  start(pod: SandboxPod, argv: readonly string[]): SandboxProcess {
    const enter = this.mounts.map((mount) => `echo $$ > '${join(mount, pod.containerRelPath, "cgroup.procs")}'`).join("; ");
    const quoted = argv.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(" ");
    const child = spawn("sh", ["-c", `${enter}; exec ${quoted}`], { detached: true, stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => {
      child.once("exit", (code) => { resolve(code); });
      child.once("error", () => { resolve(null); });
    });
    this.children.push({ child, exited, podRelPath: pod.podRelPath });
    if (child.pid === undefined) throw new Error(`could not start ${argv.join(" ")} in ${pod.containerRelPath}`);
    return { pid: child.pid, exited };
  }

  /** A single-threaded busy loop; start several for several threads' worth of demand. */
  burn(pod: SandboxPod, processes = 1): SandboxProcess[] {
    return Array.from({ length: processes }, () => this.start(pod, ["sh", "-c", "while :; do :; done"]));
  }

  /** Stops the processes of one pod's load (all processes started so far, by process group). */
  async stopAll(): Promise<void> {
    await this.stop(this.children.splice(0));
  }

  /** Stops the pod's processes and removes its cgroups in every hierarchy, as the kubelet does when a pod goes. */
  async removePod(pod: SandboxPod): Promise<string[]> {
    const mine = this.children.filter((c) => c.podRelPath === pod.podRelPath);
    this.children.splice(0, this.children.length, ...this.children.filter((c) => !mine.includes(c)));
    await this.stop(mine);
    const inside = (dir: string): boolean => this.mounts.some((mount) => dir === join(mount, pod.podRelPath) || dir.startsWith(`${join(mount, pod.podRelPath)}/`));
    const dirs = this.created.filter(inside);
    this.created.splice(0, this.created.length, ...this.created.filter((dir) => !inside(dir)));
    const failures: string[] = [];
    for (const dir of dirs.reverse()) {
      const failure = await removeCgroup(dir);
      if (failure !== undefined) failures.push(failure);
    }
    return failures;
  }

  private async stop(children: readonly { child: ChildProcess; exited: Promise<number | null> }[]): Promise<void> {
    for (const { child } of children) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    }
    await Promise.all(children.map(({ exited }) => exited));
  }

  /** Kills our processes, then removes our cgroups deepest first in every hierarchy. */
  async cleanup(): Promise<string[]> {
    await this.stopAll();
    const failures: string[] = [];
    for (const dir of [...this.created].reverse()) {
      const failure = await removeCgroup(dir);
      if (failure !== undefined) failures.push(failure);
    }
    this.created.length = 0;
    return failures;
  }

  /** On pure v2 a child only gets cpu/memory files when every ancestor enables them for its subtree. */
  private delegateControllers(parents: readonly string[]): void {
    const unified = this.layout.unified;
    if (!unified) return;
    for (const rel of ["", "kubepods", ...parents]) {
      try {
        writeFileSync(join(unified, rel, "cgroup.subtree_control"), "+cpu +memory");
      } catch {
        // Already enabled, or not delegable here; the limit writes below then fail with the path.
      }
    }
  }

  /** Creates a directory we will remove later; false when it already existed (then it is not ours). */
  private mkdir(dir: string): boolean {
    if (existsSync(dir)) return false;
    mkdirSync(dir);
    this.created.push(dir);
    return true;
  }

  /**
   * A throwaway `kubepods` of ours gets what the kubelet gives its own: shares for the node's
   * allocatable CPU (all cores here), so the pods compete with processes outside them as on a node.
   */
  private shareKubepods(mount: string): void {
    const dir = join(mount, "kubepods");
    if (mount === this.layout.v1.cpu) writeFileSync(join(dir, "cpu.shares"), String(cpus().length * 1024));
    else if (mount === this.layout.unified && this.layout.version === "v2") {
      try {
        writeFileSync(join(dir, "cpu.weight"), String(Math.round(1 + ((cpus().length * 1024 - 2) * 9999) / 262142)));
      } catch {
        // The cpu controller is not delegated here; the scenario then shares the machine evenly.
      }
    }
  }

  private applyLimits(relPath: string, spec: SandboxPodSpec): void {
    const { cpu, memory } = this.layout.v1;
    const requestCores = spec.cpuRequestCores ?? (spec.qosClass === "besteffort" ? 0.002 : 0.1);
    if (cpu) {
      // The kubelet's conversion: shares = milliCPU * 1024 / 1000, at least 2.
      writeFileSync(join(cpu, relPath, "cpu.shares"), String(Math.max(2, Math.round(requestCores * 1024))));
      if (spec.cpuLimitCores !== undefined) {
        writeFileSync(join(cpu, relPath, "cpu.cfs_period_us"), String(PERIOD_USEC));
        writeFileSync(join(cpu, relPath, "cpu.cfs_quota_us"), String(Math.round(spec.cpuLimitCores * PERIOD_USEC)));
      }
    } else if (this.layout.version === "v2" && this.layout.unified) {
      const weight = Math.max(1, Math.min(10000, Math.round(1 + ((requestCores * 1024 - 2) * 9999) / 262142)));
      writeFileSync(join(this.layout.unified, relPath, "cpu.weight"), String(weight));
      if (spec.cpuLimitCores !== undefined) {
        writeFileSync(join(this.layout.unified, relPath, "cpu.max"), `${Math.round(spec.cpuLimitCores * PERIOD_USEC)} ${PERIOD_USEC}`);
      }
    }
    if (spec.memoryLimitBytes !== undefined) {
      if (memory) writeFileSync(join(memory, relPath, "memory.limit_in_bytes"), String(spec.memoryLimitBytes));
      else if (this.layout.unified) writeFileSync(join(this.layout.unified, relPath, "memory.max"), String(spec.memoryLimitBytes));
    }
  }
}

/** rmdir with retries: the kernel takes a moment to tear down the tasks of a killed process. */
async function removeCgroup(dir: string): Promise<string | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return undefined;
      if (attempt === 49) return `${dir}: ${code ?? String(error)}`;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** 64 hex characters, like a containerd or docker container ID. */
export function randomContainerId(): string {
  return randomUUID().replaceAll("-", "") + randomUUID().replaceAll("-", "");
}
