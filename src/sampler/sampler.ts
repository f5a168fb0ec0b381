import type { RawCounters, ReadOutcome } from "../cgroup/types.js";
import { deriveNodeSample, deriveSample, type NodePressureTotals } from "./derive.js";
import type { ContainerSample, NodeSample, Target, Tick } from "./types.js";

/**
 * Reads one cgroup's counters; the cgroup layer provides the real one, bound to a layout.
 * `limits` asks for the limit files too; they change only on a resize, so most ticks skip them.
 */
export type CounterReader = (relPath: string, options: { readonly limits: boolean }) => Promise<ReadOutcome>;

/** Limit files are re-read this often (in ticks), and on a target's first read. */
const LIMITS_EVERY_TICKS = 10;
/** Reads node-wide PSI; undefined when the kernel has no PSI. */
export type NodePressureReader = () => Promise<NodePressureTotals | undefined>;

/**
 * One tick: read every target, turn consecutive reads into per-interval samples. The first read of
 * a target only primes it. A cgroup that vanishes is reported as gone, never as an error.
 */
export class Sampler {
  private readonly previous = new Map<string, { readonly target: Target; readonly counters: RawCounters }>();
  private previousNode: NodePressureTotals | undefined;
  private ticks = 0;

  constructor(
    private readonly readCounters: CounterReader,
    private readonly readNodePressure?: NodePressureReader,
  ) {}

  async tick(targets: readonly Target[], wallMs = Date.now()): Promise<Tick> {
    const refreshLimits = this.ticks++ % LIMITS_EVERY_TICKS === 0;
    const [outcomes, node] = await Promise.all([
      Promise.all(targets.map(async (target) => ({ target, outcome: await this.safeRead(target, refreshLimits || !this.previous.has(target.key)) }))),
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
      const sameCgroup = before !== undefined && before.target.relPath === target.relPath;
      const counters = sameCgroup ? withLimitsFrom(before.counters, outcome.counters) : outcome.counters;
      if (sameCgroup) containers.push(deriveSample(target, before.counters, counters, wallMs));
      this.previous.set(target.key, { target, counters });
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

  private async safeRead(target: Target, limits: boolean): Promise<ReadOutcome> {
    try {
      return await this.readCounters(target.relPath, { limits });
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

/** Limits not read this tick carry over from the previous read. */
function withLimitsFrom(previous: RawCounters, current: RawCounters): RawCounters {
  return {
    ...current,
    ...(current.cpuLimitCores === undefined && previous.cpuLimitCores !== undefined ? { cpuLimitCores: previous.cpuLimitCores } : {}),
    ...(current.cpuWeight === undefined && previous.cpuWeight !== undefined ? { cpuWeight: previous.cpuWeight } : {}),
    ...(current.memoryLimitBytes === undefined && previous.memoryLimitBytes !== undefined ? { memoryLimitBytes: previous.memoryLimitBytes } : {}),
    ...(current.memoryHighBytes === undefined && previous.memoryHighBytes !== undefined ? { memoryHighBytes: previous.memoryHighBytes } : {}),
  };
}
