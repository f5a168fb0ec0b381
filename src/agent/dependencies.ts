/**
 * The agent's dependency map: every `sampling.dependencies.interval`, on a loop of its own so a slow /proc
 * walk never delays a sample, it reads each pod's network namespace (src/engine/dependencies.ts), keeps the
 * edges in the node-local history, resolves peers against the cluster-wide PeerCache, and hands NodeFindings
 * status its `dependencies` and the findings their blast radius. What it says is computed in
 * dependency-status.ts; this is the wiring.
 */
import { join } from "node:path";
import type { Finding } from "../analysis/types.js";
import type { EffectivePolicy } from "../api/policy.js";
import type { Dependency } from "../api/types.generated.js";
import { blastRadius } from "../deps/blast-radius.js";
import type { Edge } from "../deps/edges.js";
import { ownerOf } from "../deps/resolve.js";
import { DependencySampler } from "../engine/dependencies.js";
import type { KubeClient } from "../kube/client.js";
import type { Target } from "../sampler/types.js";
import type { Logger } from "../util/log.js";
import { sleepUntil } from "../util/time.js";
import { callerPhrases, dependencyEntries, dependencyIntervalMs, withCallers, type PodName } from "./dependency-status.js";
import type { AgentMetrics } from "./metrics.js";
import { PeerCache } from "./peer-cache.js";
import type { NodePod } from "./pods.js";

/**
 * Edges are remembered this long after they were last seen: long enough that a caller between two bursts
 * of calls is still a caller when its callee starves. (They expire only at a poll, so an interval longer
 * than this still shows the previous poll's edges in between.)
 */
export const EDGE_TTL_MS = 5 * 60_000;
/** How often the loop looks at the policies while it waits, so a shorter interval or a switch-off applies within this. */
const RECHECK_MS = 1000;

export interface AgentDependenciesOptions {
  readonly client: KubeClient;
  readonly procRoot: string;
  /** The hierarchy the targets' relPaths are relative to (where cgroup.procs is read). */
  readonly cgroupMount: string | undefined;
  readonly hostPid: number;
  readonly store?: { appendEdges(edges: readonly Edge[]): void; edges(sinceMs: number): Edge[] };
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  /**
   * False turns mapping off whatever the policies say (`xander agent --no-dependency-mapping`, which the
   * controller passes when the DaemonSet runs without hostPID and SYS_PTRACE): nothing is read, restored
   * or watched. Default true.
   */
  readonly enabled?: boolean;
}

/** What each poll reads from the rest of the agent, as it is at that moment. */
export interface DependencyInputs {
  readonly policies: () => readonly EffectivePolicy[];
  readonly pods: () => readonly NodePod[];
  readonly targets: () => readonly Target[];
}

/**
 * The agent's side of dependency mapping. The PeerCache starts with the first poll and stops when every
 * policy turns mapping off.
 */
export class AgentDependencies {
  private readonly sampler: DependencySampler;
  private readonly peers: PeerCache;
  private lastPollMs: number | undefined;
  private names = new Map<string, PodName>();

  constructor(private readonly options: AgentDependenciesOptions) {
    this.sampler = new DependencySampler({ procRoot: options.procRoot, hostPid: options.hostPid, ttlMs: EDGE_TTL_MS, logger: options.logger });
    this.peers = new PeerCache(options.client, options.logger);
  }

  /** Edges from the node-local history that are still within the TTL: a restart forgets no caller. */
  restore(nowMs: number): number {
    if (this.options.enabled === false) return 0;
    try {
      const edges = this.options.store?.edges(nowMs - EDGE_TTL_MS) ?? [];
      this.sampler.tracker.restore(nowMs, edges);
      return edges.length;
    } catch (error) {
      this.options.logger.warn({ err: error }, "could not restore dependency edges from history; starting with none");
      return 0;
    }
  }

  /** Polls on its own schedule until `signal` aborts. */
  async run(signal: AbortSignal, inputs: DependencyInputs): Promise<void> {
    while (!signal.aborted) {
      const nowMs = Date.now();
      try {
        await this.maybePoll(nowMs, inputs.policies(), inputs.pods, inputs.targets());
      } catch (error) {
        // One failed poll must not end mapping; the next one reads everything afresh.
        this.options.logger.error({ err: error }, "dependency poll failed; continuing");
      }
      const dueMs = this.nextPollMs(inputs.policies()) ?? Number.POSITIVE_INFINITY;
      await sleepUntil(Math.min(dueMs, Date.now() + RECHECK_MS), signal);
    }
  }

  /**
   * Polls when the interval has passed since the last poll; does nothing while every policy turns mapping
   * off, or while the agent's own switch does.
   */
  async maybePoll(nowMs: number, policies: readonly EffectivePolicy[], pods: () => readonly NodePod[], targets: readonly Target[]): Promise<void> {
    const intervalMs = this.intervalMs(policies);
    if (intervalMs === undefined) {
      await this.peers.stop();
      return;
    }
    this.peers.start();
    if (this.lastPollMs !== undefined && nowMs - this.lastPollMs < intervalMs && nowMs >= this.lastPollMs) return;
    this.lastPollMs = nowMs;
    const nodePods = pods();
    this.names = new Map(nodePods.map((pod) => [pod.uid, { namespace: pod.namespace, name: pod.name }]));
    const timer = this.options.metrics.dependencyPollSeconds.startTimer();
    const poll = await this.sampler.poll(nowMs, this.dependencyPods(nodePods, targets));
    timer();
    this.options.metrics.dependencyEdges.set(this.sampler.tracker.size);
    this.persist(nowMs);
    this.options.logger.debug({ namespaces: poll.namespacesRead, observed: poll.observed.length, hostNetwork: poll.hostNetwork.length, unread: poll.unread.length }, "dependency poll");
  }

  /** NodeFindings.status.dependencies, bounded. Empty while mapping is off. */
  status(max: number): Dependency[] {
    const index = this.peers.index();
    if (index === undefined) return [];
    return dependencyEntries(this.sampler.edges(), this.names, index, max);
  }

  /** The findings with their blast radius in the message. */
  withCallers(findings: readonly Finding[]): Finding[] {
    const index = this.peers.index();
    if (index === undefined || findings.length === 0) return [...findings];
    return withCallers(findings, callerPhrases(findings.map((f) => f.pod.uid), this.sampler.edges(), index));
  }

  /** Who calls the pod, as workloads ("namespace/name"), busiest first; empty while mapping is off. */
  callersOf(podUid: string): string[] {
    const index = this.peers.index();
    if (index === undefined) return [];
    return blastRadius(podUid, this.sampler.edges(), index).callers.map((c) => (c.namespace === undefined ? c.name : `${c.namespace}/${c.name}`));
  }

  /** The pod's top-level owner as "Kind/name", from the cluster-wide pod cache; undefined while mapping is off. */
  workloadOf(podUid: string): string | undefined {
    const index = this.peers.index();
    const pod = index?.podsByUid.get(podUid);
    const owner = pod && index ? ownerOf(pod, index) : undefined;
    return owner ? `${owner.kind}/${owner.name}` : undefined;
  }

  async stop(): Promise<void> {
    await this.peers.stop();
  }

  private intervalMs(policies: readonly EffectivePolicy[]): number | undefined {
    return this.options.enabled === false ? undefined : dependencyIntervalMs(policies);
  }

  /** When the next poll is due; undefined while mapping is off. */
  private nextPollMs(policies: readonly EffectivePolicy[]): number | undefined {
    const intervalMs = this.intervalMs(policies);
    return intervalMs === undefined ? undefined : (this.lastPollMs ?? 0) + intervalMs;
  }

  private dependencyPods(pods: readonly NodePod[], targets: readonly Target[]): { uid: string; hostNetwork: boolean; procsFiles: string[] }[] {
    const mount = this.options.cgroupMount;
    const files = new Map<string, string[]>();
    for (const target of targets) {
      if (mount === undefined) break;
      const list = files.get(target.podUid) ?? [];
      list.push(join(mount, target.relPath, "cgroup.procs"));
      files.set(target.podUid, list);
    }
    return pods.map((pod) => ({ uid: pod.uid, hostNetwork: pod.hostNetwork, procsFiles: files.get(pod.uid) ?? [] }));
  }

  /** Only what this poll saw is written: the rest is unchanged since its own last poll. */
  private persist(nowMs: number): void {
    const store = this.options.store;
    if (!store) return;
    try {
      store.appendEdges(this.sampler.edges().filter((edge) => edge.lastSeenMs === nowMs));
    } catch (error) {
      this.options.logger.warn({ err: error }, "could not write dependency edges to the history store; mapping continues");
    }
  }
}
