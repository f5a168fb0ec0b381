import type { RawCounters, ReadOutcome } from "../cgroup/types.js";
import { deriveNodeSample, deriveSample, type NodePressureTotals } from "./derive.js";
import type { ContainerSample, NodeSample, Target, Tick } from "./types.js";

/** Reads one cgroup's counters; the cgroup layer provides the real one, bound to a layout. */
export type CounterReader = (relPath: string) => Promise<ReadOutcome>;
/** Reads node-wide PSI; undefined when the kernel has no PSI. */
export type NodePressureReader = () => Promise<NodePressureTotals | undefined>;

/**
 * One tick: read every target, turn consecutive reads into per-interval samples. The first read of
 * a target only primes it. A cgroup that vanishes is reported as gone, never as an error.
 */
export class Sampler {
  private readonly previous = new Map<string, { readonly target: Target; readonly counters: RawCounters }>();
  private previousNode: NodePressureTotals | undefined;

  constructor(
    private readonly readCounters: CounterReader,
    private readonly readNodePressure?: NodePressureReader,
  ) {}

  async tick(targets: readonly Target[], wallMs = Date.now()): Promise<Tick> {
    const [outcomes, node] = await Promise.all([
      Promise.all(targets.map(async (target) => ({ target, outcome: await this.safeRead(target) }))),
      this.nodeSample(wallMs),
    ]);
    const containers: ContainerSample[] = [];
    const gone: string[] = [];
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const { target, outcome } of outcomes) {
      seen.add(target.key);
      if (outcome.kind === "gone") {
        if (this.previous.delete(target.key)) gone.push(target.key);
        continue;
      }
      problems.push(...outcome.problems);
      const before = this.previous.get(target.key);
      // A target whose cgroup path changed (container restarted) starts over rather than mixing counters.
      if (before && before.target.relPath === target.relPath) containers.push(deriveSample(target, before.counters, outcome.counters, wallMs));
      this.previous.set(target.key, { target, counters: outcome.counters });
    }
    for (const key of [...this.previous.keys()]) {
      if (seen.has(key)) continue;
      this.previous.delete(key);
      gone.push(key);
    }
    return { wallMs, containers, ...(node ? { node } : {}), gone, problems };
  }

  /** Keys being sampled (primed or not). */
  get tracked(): number {
    return this.previous.size;
  }

  private async safeRead(target: Target): Promise<ReadOutcome> {
    try {
      return await this.readCounters(target.relPath);
    } catch (error) {
      // Readers should not throw; if one does, losing one target for one tick beats losing the tick.
      const message = error instanceof Error ? error.message : String(error);
      return { kind: "read", counters: { monoMs: performance.now(), wallMs: Date.now() }, problems: [`${target.relPath}: ${message}`] };
    }
  }

  private async nodeSample(wallMs: number): Promise<NodeSample | undefined> {
    if (!this.readNodePressure) return undefined;
    const current = await this.readNodePressure();
    const previous = this.previousNode;
    this.previousNode = current;
    return previous && current ? deriveNodeSample(previous, current, wallMs) : undefined;
  }
}
