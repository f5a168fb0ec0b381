/**
 * A fleet of agents played from one process: the Nodes (with a kubelet's status) and their NodeFindings, then every node's status
 * written through /status with server-side apply as field manager `xander-agent`, as the real reporter
 * writes it. Each node writes at its heartbeat, spread evenly over the heartbeat interval; every so often
 * one node's findings change and it writes at once, which, as in the real reporter, starts its heartbeat
 * interval again. Each change is a probe whose arrival in the controller's views the bench times.
 */
import type { KubeObject } from "../api/meta.js";
import type { NodeFindings } from "../api/types.generated.js";
import { desiredNodeFindings } from "../controller/node-reconciler.js";
import type { KubeClient } from "../kube/client.js";
import { AGENT_FIELD_MANAGER, CONTROLLER_FIELD_MANAGER, NODE, NODE_FINDINGS_KIND } from "../kube/resources.js";
import { changeFindings, initialNodeState, kubeletNodeStatus, nodeName, nodeStatus, probePodName, probePolicy, type NodeState } from "./fleet-status.js";
import { random } from "./random.js";

export interface FleetOptions {
  readonly nodes: number;
  readonly heartbeatMs: number;
  /** Share of the nodes whose findings change per minute (0.01: 1 %). */
  readonly changeShare: number;
  /** Writes in flight at once, at setup and when heartbeats bunch up. */
  readonly concurrency?: number;
}

/** One change: where and when it was written, and what the bench looks for. */
export interface Probe {
  readonly seq: number;
  readonly node: string;
  readonly policy: string;
  readonly pod: string;
  /** When the apiserver acknowledged the write. */
  readonly writtenAtMs: number;
}

export interface WriteCounts {
  heartbeats: number;
  changes: number;
  failures: number;
}

const TICK_MS = 50;

/** Runs `work` over `items` with at most `limit` in flight. */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class FleetAgents {
  readonly writes: WriteCounts = { heartbeats: 0, changes: 0, failures: 0 };
  readonly probes: Probe[] = [];
  private readonly states: NodeState[];
  private readonly nextHeartbeatMs: number[] = [];
  private readonly startedMs = Date.now();
  private readonly rand = random(13);
  private nextChangeMs = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  private lastError: unknown;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: FleetOptions,
    private readonly log: (line: string) => void,
  ) {
    this.states = Array.from({ length: opts.nodes }, (_, i) => initialNodeState(i, opts.nodes, this.startedMs));
  }

  get names(): string[] {
    return this.states.map((s) => nodeName(s.node));
  }

  /** Creates the Nodes, their NodeFindings as the controller makes them, and every node's first status. */
  async seed(): Promise<void> {
    const concurrency = this.opts.concurrency ?? 16;
    await inParallel(this.names, concurrency, async (name) => {
      await this.client.apply({ ...NODE, metadata: { name, labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "xander.io/bench": "controller-scale" } } }, { fieldManager: "xander-bench" });
    });
    const now = Date.now();
    await inParallel(this.states, concurrency, async (state) => {
      await this.client.applyStatus({ ...NODE, metadata: { name: nodeName(state.node) }, status: kubeletNodeStatus(state.node, now) } as KubeObject, { fieldManager: "kubelet", force: true });
    });
    this.log(`${this.opts.nodes} Nodes applied, with a kubelet's status`);
    await inParallel(this.names, concurrency, async (name) => {
      const node = await this.client.get<KubeObject>({ ...NODE, name });
      if (node === undefined) throw new Error(`Node ${name} vanished during setup`);
      await this.client.apply(desiredNodeFindings(node), { fieldManager: CONTROLLER_FIELD_MANAGER, force: true });
    });
    this.log(`${this.opts.nodes} NodeFindings applied`);
    await inParallel(this.states, concurrency, async (state) => {
      await this.writeStatus(state, Date.now());
    });
    this.log(`${this.opts.nodes} first status writes done`);
  }

  /** Heartbeats spread over the interval from now on, and changes at the configured rate. */
  start(): void {
    const now = Date.now();
    this.states.forEach((_, i) => {
      this.nextHeartbeatMs[i] = now + (i / this.opts.nodes) * this.opts.heartbeatMs;
    });
    this.nextChangeMs = now + this.changeGapMs();
    this.timer = setInterval(() => {
      this.tick(Date.now());
    }, TICK_MS);
  }

  /** Stops writing and waits for the writes in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
  }

  /** Removes the Nodes and NodeFindings the bench made. */
  async remove(): Promise<void> {
    await inParallel(this.names, this.opts.concurrency ?? 16, async (name) => {
      await this.client.delete({ ...NODE_FINDINGS_KIND, name });
      await this.client.delete({ ...NODE, name });
    });
  }

  /** The last write error, for a bench that wants to fail loudly when the fleet cannot write. */
  get error(): unknown {
    return this.lastError;
  }

  private changeGapMs(): number {
    return 60_000 / Math.max(this.opts.nodes * this.opts.changeShare, 1e-9);
  }

  private tick(now: number): void {
    const limit = this.opts.concurrency ?? 16;
    if (now >= this.nextChangeMs) {
      this.nextChangeMs += this.changeGapMs();
      this.change(Math.floor(this.rand() * this.opts.nodes), now);
    }
    for (let i = 0; i < this.states.length && this.inFlight.size < limit; i++) {
      if ((this.nextHeartbeatMs[i] ?? Infinity) > now) continue;
      this.nextHeartbeatMs[i] = now + this.opts.heartbeatMs;
      const state = this.states[i] as NodeState;
      this.track(this.writeStatus(state, now).then(() => { this.writes.heartbeats++; }));
    }
  }

  private change(i: number, now: number): void {
    const seq = this.seq++;
    const state = changeFindings(this.states[i] as NodeState, seq, now);
    this.states[i] = state;
    this.nextHeartbeatMs[i] = now + this.opts.heartbeatMs;
    const name = nodeName(i);
    this.track(this.writeStatus(state, now).then(() => {
      this.writes.changes++;
      this.probes.push({ seq, node: name, policy: probePolicy(seq), pod: probePodName(seq), writtenAtMs: Date.now() });
    }));
  }

  private track(write: Promise<void>): void {
    const tracked = write.catch((error: unknown) => {
      this.writes.failures++;
      if (this.lastError === undefined) this.log(`a status write failed: ${String(error)}`);
      this.lastError = error;
    }).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private async writeStatus(state: NodeState, nowMs: number): Promise<void> {
    const name = nodeName(state.node);
    const body: NodeFindings = {
      apiVersion: NODE_FINDINGS_KIND.apiVersion as NodeFindings["apiVersion"],
      kind: "NodeFindings",
      metadata: { name },
      spec: { nodeName: name },
      status: nodeStatus(state, nowMs, this.startedMs),
    };
    await this.client.applyStatus(body, { fieldManager: AGENT_FIELD_MANAGER, force: true });
  }
}
