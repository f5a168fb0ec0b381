/**
 * One dependency poll on this node, shared by the agent and `xander scan --deps`:
 * pod cgroups → a live PID each → network namespace → one read per namespace → edges, merged by an
 * EdgeTracker. Where the pods come from (the API, or a walk of the cgroup tree) and where the edges go
 * (NodeFindings status, a table) is the caller's business.
 */
import { join } from "node:path";
import { discoverPods, discoveryMount } from "../cgroup/discover.js";
import { detectLayout } from "../cgroup/layout.js";
import { EdgeTracker, edgesFromPlan, planNamespaces, type Edge, type ObservedEdge, type PodNamespace } from "../deps/edges.js";
import type { Socket } from "../procfs/net.js";
import { readLocalAddresses } from "../procfs/local-addresses.js";
import { hostNetnsId, netnsId, pickLivePid, readNamespaceSockets, type NetnsInode, type ProcReadError } from "../procfs/netns.js";
import type { Logger } from "../util/log.js";
import { sleepUntil } from "../util/time.js";
import { ScanError } from "./scan.js";

export interface DependencyPod {
  readonly uid: string;
  /** The API says hostNetwork: true. Without an API (scan) the namespace comparison alone decides. */
  readonly hostNetwork?: boolean;
  /** `cgroup.procs` of each of the pod's container cgroups, tried in order until one lists a live process. */
  readonly procsFiles: readonly string[];
}

export interface DependencyPoll {
  readonly atMs: number;
  /** Edges as this poll saw them. */
  readonly observed: readonly ObservedEdge[];
  readonly namespacesRead: number;
  /** Pods in the host's network namespace: listed, never read, no edges. */
  readonly hostNetwork: readonly string[];
  /** Pods not read this time (no live process yet, a namespace that vanished mid-read); they keep their last counts. */
  readonly unread: readonly string[];
  readonly problems: readonly ProcReadError[];
}

export interface DependencySamplerOptions {
  readonly procRoot: string;
  /** A PID in the host's network namespace: 1 when the agent runs with hostPID. */
  readonly hostPid: number;
  /** Tried when `hostPid`'s namespace cannot be read (scan, run on the host: its own PID). */
  readonly hostPidFallback?: number;
  /** How long an edge is remembered after it was last seen. */
  readonly ttlMs: number;
  readonly maxEdges?: number;
  readonly logger: Logger;
}

/** Problems that say something is wrong with the setup, not that a container is starting or leaving. */
const SETUP_PROBLEMS: ReadonlySet<ProcReadError["kind"]> = new Set(["denied", "io", "parse"]);
/** Distinct setup problems logged at warn, so a broken node logs each once, not every poll. */
const MAX_REMEMBERED_PROBLEMS = 100;

export class DependencySampler {
  readonly tracker: EdgeTracker;
  private readonly warned = new Set<string>();

  constructor(private readonly options: DependencySamplerOptions) {
    this.tracker = new EdgeTracker({ ttlMs: options.ttlMs, ...(options.maxEdges === undefined ? {} : { maxEdges: options.maxEdges }) });
  }

  /**
   * Reads every pod's namespace once and merges the edges into the tracker. `pods` is every pod on the
   * node now: edges of pods not in it (gone from the node) are forgotten.
   */
  async poll(nowMs: number, pods: readonly DependencyPod[]): Promise<DependencyPoll> {
    const problems: ProcReadError[] = [];
    const located = this.locate(pods, problems);
    if (located.namespaces.length === 0 && pods.some((pod) => pod.hostNetwork !== true && pod.procsFiles.length > 0)) {
      // cgroup v1 leaves out processes outside the reader's PID namespace: every pod looks empty.
      problems.push({ kind: "denied", file: this.options.procRoot, message: "no live process in any pod's cgroup.procs: is this process in the host's PID namespace? (run the agent with hostPID: true)" });
    }
    const hostNetns = this.hostNetns(problems);
    const apiHostNetwork = pods.filter((pod) => pod.hostNetwork === true).map((pod) => pod.uid);
    const plan = planNamespaces(located.namespaces, hostNetns ?? -1);
    const socketsByNetns = new Map<NetnsInode, readonly Socket[]>();
    const sampled = new Set<string>([...plan.hostNetwork, ...apiHostNetwork]);
    for (const ns of plan.read) {
      const pid = located.pidByNetns.get(ns.netns);
      if (pid === undefined) continue;
      const read = await readNamespaceSockets(this.options.procRoot, pid);
      if (!read.ok || read.value.netns !== ns.netns) {
        if (!read.ok) problems.push(read.error);
        continue;
      }
      socketsByNetns.set(ns.netns, read.value.sockets);
      for (const uid of [ns.podUid, ...ns.sharedWith]) sampled.add(uid);
    }
    const observed = edgesFromPlan(plan, socketsByNetns, this.nodeAddresses());
    this.tracker.observe(nowMs, observed, sampled);
    this.forgetGone(pods);
    this.log(problems);
    return {
      atMs: nowMs,
      observed,
      namespacesRead: socketsByNetns.size,
      hostNetwork: [...new Set([...plan.hostNetwork, ...apiHostNetwork])].sort(),
      unread: pods.map((pod) => pod.uid).filter((uid) => !sampled.has(uid)),
      problems,
    };
  }

  edges(): Edge[] {
    return this.tracker.edges();
  }

  /** A live PID and its namespace for every pod that has one; pods the API marks hostNetwork are never read. */
  private locate(pods: readonly DependencyPod[], problems: ProcReadError[]): { namespaces: PodNamespace[]; pidByNetns: Map<NetnsInode, number> } {
    const namespaces: PodNamespace[] = [];
    const pidByNetns = new Map<NetnsInode, number>();
    for (const pod of pods) {
      if (pod.hostNetwork === true) continue;
      const pid = this.livePid(pod, problems);
      if (pid === undefined) continue;
      const netns = netnsId(this.options.procRoot, pid);
      if (!netns.ok) {
        problems.push(netns.error);
        continue;
      }
      namespaces.push({ podUid: pod.uid, netns: netns.value });
      pidByNetns.set(netns.value, pid);
    }
    return { namespaces, pidByNetns };
  }

  /** A container that exited is no problem while another container of the pod still runs. */
  private livePid(pod: DependencyPod, problems: ProcReadError[]): number | undefined {
    const errors: ProcReadError[] = [];
    for (const file of pod.procsFiles) {
      const pid = pickLivePid(file, this.options.procRoot);
      if (pid.ok) return pid.value;
      errors.push(pid.error);
    }
    problems.push(...errors);
    return undefined;
  }

  private hostNetns(problems: ProcReadError[]): NetnsInode | undefined {
    const { procRoot, hostPid, hostPidFallback } = this.options;
    const host = hostNetnsId(procRoot, hostPid);
    if (host.ok) return host.value;
    const fallback = hostPidFallback === undefined ? undefined : hostNetnsId(procRoot, hostPidFallback);
    if (fallback?.ok) return fallback.value;
    // Without the host's namespace only the API's hostNetwork flag keeps host sockets from being attributed.
    problems.push({ ...host.error, kind: "denied", message: `${host.error.message}; cannot tell hostNetwork pods by namespace (pass --host-pid-for-netns with a PID in the host's network namespace)` });
    return undefined;
  }

  /** The host namespace's own addresses (the pod bridge's among them), read each poll: interfaces come and go. */
  private nodeAddresses(): Set<string> {
    const { procRoot, hostPid, hostPidFallback } = this.options;
    const addresses = readLocalAddresses(procRoot, hostPid) ?? (hostPidFallback === undefined ? undefined : readLocalAddresses(procRoot, hostPidFallback));
    return new Set(addresses ?? []);
  }

  private forgetGone(pods: readonly DependencyPod[]): void {
    const present = new Set(pods.map((pod) => pod.uid));
    const gone = new Set(this.tracker.edges().map((edge) => edge.fromPodUid).filter((uid) => !present.has(uid)));
    for (const uid of gone) this.tracker.forgetPod(uid);
  }

  private log(problems: readonly ProcReadError[]): void {
    for (const problem of problems) {
      if (!SETUP_PROBLEMS.has(problem.kind)) {
        this.options.logger.debug({ problem }, "dependency read skipped a pod");
        continue;
      }
      // One line per kind of trouble, not per pod: paths and numbers differ from pod to pod.
      const key = `${problem.kind}|${problem.message.replace(/\/\S+/g, "<path>").replace(/\d+/g, "N")}`;
      if (this.warned.has(key)) continue;
      if (this.warned.size < MAX_REMEMBERED_PROBLEMS) this.warned.add(key);
      this.options.logger.warn({ problem }, problem.message);
    }
  }
}

// ---- xander scan --deps: pods from the cgroup tree, no API ----

export interface DependencyScanOptions {
  readonly cgroupRoot: string;
  readonly procRoot: string;
  readonly intervalMs: number;
  /** Stop after this long; undefined runs until `signal` aborts. */
  readonly durationMs?: number;
  readonly signal?: AbortSignal;
  readonly logger: Logger;
}

export interface DependencyScanResult {
  /** Every edge tracked at the end, most recently seen first. Peers are IPs: without the API nothing names them. */
  readonly edges: readonly Edge[];
  readonly polls: number;
  readonly hostNetwork: readonly string[];
}

/**
 * The agent's dependency path on this host's kubelet pod cgroups: polls until the duration ends or the
 * signal aborts, at least once. The host's namespace is pid 1's, else this process's (scan runs on the host).
 */
export async function runDependencyScan(options: DependencyScanOptions): Promise<DependencyScanResult> {
  const layout = await detectLayout(options.cgroupRoot);
  if (!layout.ok) throw new ScanError(layout.error.message);
  const mount = discoveryMount(layout.value);
  if (mount === undefined) throw new ScanError(`no cpu, memory or unified cgroup hierarchy under ${options.cgroupRoot} to find pods in`);
  // Everything seen during the scan stays listed (unless its pod leaves the node), however short the interval.
  const sampler = new DependencySampler({ procRoot: options.procRoot, hostPid: 1, hostPidFallback: process.pid, ttlMs: Number.MAX_SAFE_INTEGER, logger: options.logger });
  const deadline = options.durationMs === undefined ? Infinity : Date.now() + options.durationMs;
  let polls = 0;
  let last: DependencyPoll | undefined;
  do {
    const startedMs = Date.now();
    const pods = (await discoverPods(mount)).map((pod) => ({ uid: pod.podUid, procsFiles: pod.containers.map((c) => join(mount, c.relPath, "cgroup.procs")) }));
    last = await sampler.poll(startedMs, pods);
    polls++;
    await sleepUntil(Math.min(startedMs + options.intervalMs, deadline), options.signal);
  } while (Date.now() < deadline && options.signal?.aborted !== true);
  return { edges: sampler.edges(), polls, hostNetwork: last.hostNetwork };
}
