import { readsMemoryStat, type NodeVouchedRead, type ReadOptions } from "../cgroup/read-options.js";
import type { RawCounters, ReadOutcome } from "../cgroup/types.js";
import { deriveNodeSample, deriveSample, type CarriedCounters, type NodePressureTotals } from "./derive.js";
import type { ContainerSample, NodeSample, Target, Tick } from "./types.js";

/**
 * Reads one cgroup's counters; the cgroup layer provides the real one, bound to a layout. The sampler
 * always sets `limits` and `memoryStat`: limit files change only on a resize and memory.stat matters
 * only near the limit, so most ticks skip them (see ReadOptions). A reader may ignore the options
 * and read everything; what it does read is used. `last` is the target's previous read: a reader that skips
 * a file as vouched for puts `last`'s value for it in place (a value it leaves out is read again next tick).
 * Synchronous, as cgroup files are read with sync calls anyway (cgroup/fs.ts): a promise per container per tick
 * was about 0.2 MB of garbage per tick at 330 containers (BENCHMARKS.md, "looked at again").
 */
export type CounterReader = (relPath: string, options: ReadOptions, last?: RawCounters) => ReadOutcome;

/** What the sampler keeps of a target between ticks; updated in place. */
interface Previous {
  target: Target;
  /** The last read, as the reader returned it: the base for the next counter deltas. */
  counters: RawCounters;
  /** The latest limits and inactive_file seen, for reads that skip their files. */
  readonly carried: Carried;
  /** The tick that last listed the target; entries not listed in a tick are gone. */
  seenTick: number;
  /** memory.stat is due on ticks where (tick + phase) % MEMORY_STAT_EVERY_TICKS is 0; phases differ so no tick reads them all. */
  readonly memoryStatPhase: number;
  /** The last read skipped the throttling counters (no CFS quota) and `counters` carries older ones. */
  throttlingCarried: boolean;
}

type Carried = { -readonly [K in keyof CarriedCounters]: CarriedCounters[K] };

/** Limit files are re-read this often (in ticks), and on a target's first read. */
const LIMITS_EVERY_TICKS = 10;
/**
 * memory.stat only supplies inactive_file, i.e. how far the working set is below usage; it is the
 * costliest file of a cgroup (~3.5 µs of kernel time per read on v1). The working set matters near
 * the memory limit (MemoryNearLimit, the kubelet's eviction). Usage is read every tick, so a
 * container far from its limit, or without one, gets a working set from fresh usage minus an
 * inactive_file at most this many ticks old. See docs/tick-cost.md.
 */
const MEMORY_STAT_EVERY_TICKS = 5;
/**
 * At or above this share of its memory limit a container's memory.stat is read every tick (the
 * engine lowers it to the lowest MemoryNearLimit threshold in use). The reader compares with the
 * usage of the same read, and usage ≥ working set, so whether MemoryNearLimit holds never depends on
 * a carried value: below the share even the largest possible working set (= usage) is under it.
 */
const MEMORY_STAT_EVERY_TICK_FROM_LIMIT_SHARE = 0.5;

type VouchedField = "psiCpu" | "psiMemory" | "psiIo" | "oomKills";
/** Each read a node-wide counter vouches for: the field the read fills, the node's counter of that kind, its bit. */
const VOUCHED: Readonly<Record<NodeVouchedRead, { readonly field: VouchedField; readonly onNode: (node: NodePressureTotals) => number | undefined; readonly bit: number }>> = {
  cpuPressure: { field: "psiCpu", onNode: (node) => node.cpu?.someTotalUsec, bit: 1 },
  memoryPressure: { field: "psiMemory", onNode: (node) => node.memory?.someTotalUsec, bit: 2 },
  ioPressure: { field: "psiIo", onNode: (node) => node.io?.someTotalUsec, bit: 4 },
  oomKills: { field: "oomKills", onNode: (node) => node.oomKills, bit: 8 },
};

/**
 * Every ReadOptions the sampler hands out has all fields, in this order: one object layout, so the reader's
 * checks stay monomorphic however the reads of a tick differ.
 */
function filesToRead(limits: boolean, memoryStat: boolean, throttling: boolean, memoryStatFromUsageBytes?: number, skip: VouchedSet = 0): ReadOptions {
  return {
    limits,
    memoryStat,
    memoryStatFromUsageBytes,
    throttling,
    cpuPressure: (skip & VOUCHED.cpuPressure.bit) === 0,
    memoryPressure: (skip & VOUCHED.memoryPressure.bit) === 0,
    ioPressure: (skip & VOUCHED.ioPressure.bit) === 0,
    oomKills: (skip & VOUCHED.oomKills.bit) === 0,
  };
}

/** A set of vouched-for reads as bits (VOUCHED's `bit`): per target per tick, without allocating. */
type VouchedSet = number;

const FULL_READ = filesToRead(true, true, true);
const NO_LIMITS_READ = filesToRead(false, true, true);
const NO_LIMITS_NO_STAT_READ = filesToRead(false, false, true);
const NO_LIMITS_NO_THROTTLING_READ = filesToRead(false, true, false);
const NO_LIMITS_NO_STAT_NO_THROTTLING_READ = filesToRead(false, false, false);

/** Reads node-wide PSI; undefined when the kernel has no PSI. */
export type NodePressureReader = () => Promise<NodePressureTotals | undefined>;

export interface SamplerOptions {
  /**
   * The node-wide counters bound every target's (nodeCountersBoundCgroups): a kind of PSI, or the OOM-kill
   * count, that stood still node-wide since the targets last read it is carried over instead of read. PSI and
   * OOM kills add up the hierarchy, so a cgroup's counter cannot move while the node's stands. On a healthy
   * node memory and IO stalls and OOM kills are rare, and this skips three of the files each container costs.
   */
  readonly nodeBoundsTargets?: boolean;
}

const VOUCHED_READS = Object.keys(VOUCHED) as NodeVouchedRead[];

/**
 * One tick: read every target, turn consecutive reads into per-interval samples. The first read of
 * a target only primes it. A cgroup that vanishes is reported as gone, never as an error.
 */
export class Sampler {
  private readonly previous = new Map<string, Previous>();
  private previousNode: NodePressureTotals | undefined;
  private ticks = 0;
  /** Counts primed targets, to give each a memory.stat phase. */
  private primed = 0;
  private memoryStatFromLimitShare = MEMORY_STAT_EVERY_TICK_FROM_LIMIT_SHARE;
  /** Each vouched-for kind's node-wide counter when the targets last read it. */
  private readonly vouchedBase = new Map<NodeVouchedRead, number | undefined>();

  constructor(
    private readonly readCounters: CounterReader,
    private readonly readNodePressure?: NodePressureReader,
    private readonly settings: SamplerOptions = {},
  ) {}

  async tick(targets: readonly Target[], wallMs = Date.now()): Promise<Tick> {
    const tickNumber = this.ticks++;
    const refreshLimits = tickNumber % LIMITS_EVERY_TICKS === 0;
    // The node first: its counters must be read before the targets' to vouch for them.
    const nodeTotals = await this.readNode();
    const still = this.stillSinceLastRead(nodeTotals);
    const options = targets.map((target) => this.readOptions(target, tickNumber, refreshLimits, still));
    const outcomes = targets.map((target, i) => this.safeRead(target, options[i] ?? FULL_READ, this.previous.get(target.key)?.counters));
    const node = this.nodeSample(nodeTotals, wallMs);
    const containers: ContainerSample[] = [];
    const gone: string[] = [];
    const problems: string[] = [];
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i];
      const outcome = outcomes[i];
      if (target === undefined || outcome === undefined) continue;
      if (outcome.kind === "gone") {
        if (this.previous.delete(target.key)) gone.push(target.key);
        continue;
      }
      if (outcome.problems.length > 0) problems.push(...outcome.problems);
      const sample = this.advance(target, outcome.counters, options[i] ?? FULL_READ, tickNumber, wallMs);
      if (sample) containers.push(sample);
    }
    this.forgetUnlisted(tickNumber, gone);
    return node ? { wallMs, containers, node, gone, problems } : { wallMs, containers, gone, problems };
  }

  /** Targets no longer listed are gone. */
  private forgetUnlisted(tickNumber: number, gone: string[]): void {
    // Deleting the entry being visited is safe while iterating a Map.
    for (const [key, entry] of this.previous) {
      if (entry.seenTick === tickNumber) continue;
      this.previous.delete(key);
      gone.push(key);
    }
  }

  /**
   * Lowers the share of its memory limit from which a container's memory.stat is read every tick,
   * e.g. to a policy's MemoryNearLimit threshold below the default 0.5. Never raises it above 0.5.
   */
  readMemoryStatEveryTickFrom(limitShare: number): void {
    this.memoryStatFromLimitShare = Math.min(MEMORY_STAT_EVERY_TICK_FROM_LIMIT_SHARE, limitShare);
  }

  /**
   * The vouched-for kinds whose node-wide counter has not moved since the targets last read them; every other
   * kind's base becomes the current value, as this tick reads it.
   */
  private stillSinceLastRead(node: NodePressureTotals | undefined): VouchedSet {
    let still = 0;
    for (const read of VOUCHED_READS) {
      const now = node === undefined ? undefined : VOUCHED[read].onNode(node);
      if (this.settings.nodeBoundsTargets === true && now !== undefined && this.vouchedBase.get(read) === now) still |= VOUCHED[read].bit;
      else this.vouchedBase.set(read, now);
    }
    return still;
  }

  /** Which files to read for a target this tick: everything on its first read, slow files only when due. */
  private readOptions(target: Target, tickNumber: number, refreshLimits: boolean, still: VouchedSet): ReadOptions {
    const before = this.previous.get(target.key);
    if (before === undefined) return FULL_READ;
    const base = this.dueReads(before, target, tickNumber, refreshLimits);
    if (still === 0 || before.target.relPath !== target.relPath) return base;
    // Only a counter the last read got can be carried; one that failed is read again.
    let skip = 0;
    for (const read of VOUCHED_READS) {
      if ((still & VOUCHED[read].bit) !== 0 && before.counters[VOUCHED[read].field] !== undefined) skip |= VOUCHED[read].bit;
    }
    return skip === 0 ? base : filesToRead(base.limits ?? true, base.memoryStat ?? true, base.throttling ?? true, base.memoryStatFromUsageBytes, skip);
  }

  /** The reads due by the tick count and what the last read found: limits, memory.stat, v1 throttling. */
  private dueReads(before: Previous, target: Target, tickNumber: number, refreshLimits: boolean): ReadOptions {
    // With limits: a changed limit moves the share, so the working set is read fresh with it.
    if (refreshLimits) return FULL_READ;
    const sameCgroup = before.target.relPath === target.relPath;
    // No CFS quota, no throttling: v1's cpu.stat cannot move until a limit read finds a quota. A quota set in
    // between (an in-place resize) is seen at that read, at most LIMITS_EVERY_TICKS later.
    const throttling = !(sameCgroup && before.carried.cpuLimitCores === null);
    // Skipping memory.stat needs an inactive_file of this same cgroup to carry.
    const statDue = (tickNumber + before.memoryStatPhase) % MEMORY_STAT_EVERY_TICKS === 0 || !sameCgroup || before.carried.memoryInactiveFileBytes === undefined;
    if (statDue) return throttling ? NO_LIMITS_READ : NO_LIMITS_NO_THROTTLING_READ;
    const limitBytes = before.carried.memoryLimitBytes;
    if (typeof limitBytes !== "number") return throttling ? NO_LIMITS_NO_STAT_READ : NO_LIMITS_NO_STAT_NO_THROTTLING_READ;
    const memoryStatFromUsageBytes = limitBytes * this.memoryStatFromLimitShare;
    return filesToRead(false, false, throttling, memoryStatFromUsageBytes);
  }

  /** Records this read of a target and returns its sample, if an earlier read of the same cgroup primed it. */
  private advance(target: Target, read: RawCounters, options: ReadOptions, tickNumber: number, wallMs: number): ContainerSample | undefined {
    const statRead = readsMemoryStat(options, read.memoryUsageBytes);
    const before = this.previous.get(target.key);
    if (before === undefined) {
      const memoryStatPhase = this.primed++ % MEMORY_STAT_EVERY_TICKS;
      this.previous.set(target.key, { target, counters: read, carried: carriedFrom(read), seenTick: tickNumber, memoryStatPhase, throttlingCarried: false });
      return undefined;
    }
    // A target whose cgroup path changed (container restarted) starts over rather than mixing counters.
    const sameCgroup = before.target.relPath === target.relPath;
    if (sameCgroup) carryOver(before.carried, read, statRead);
    else resetCarried(before.carried, read);
    // On v2 cpu.stat is read all the same (it holds the usage), and its fresh counters stand.
    const skippedThrottling = options.throttling === false && read.nrPeriods === undefined && read.nrThrottled === undefined;
    // The reader hands over a new object per read: filling the carried counters in costs no copy per container.
    if (skippedThrottling) setThrottling(read, before.counters);
    const sample = sameCgroup ? deriveSample(target, this.throttlingBase(before, read), read, wallMs, before.carried) : undefined;
    before.target = target;
    before.counters = read;
    before.seenTick = tickNumber;
    before.throttlingCarried = skippedThrottling;
    return sample;
  }

  /**
   * The previous read as the base for this one's deltas. Counters carried over a skipped cpu.stat stand for
   * reads that did not happen: if a fresh read finds they moved (a quota was set in between), the throttling
   * of those seconds cannot be told apart, so this interval has no throttling figures rather than a false one.
   */
  private throttlingBase(before: Previous, current: RawCounters): RawCounters {
    const base = before.counters;
    if (!before.throttlingCarried || (base.nrPeriods === current.nrPeriods && base.nrThrottled === current.nrThrottled)) return base;
    const withoutThrottling: MutableCounters = { ...base };
    setThrottling(withoutThrottling, {});
    return withoutThrottling;
  }

  /** Keys being sampled (primed or not). */
  get tracked(): number {
    return this.previous.size;
  }

  private safeRead(target: Target, options: ReadOptions, last: RawCounters | undefined): ReadOutcome {
    try {
      return this.readCounters(target.relPath, options, last);
    } catch (error) {
      // Readers should not throw; if one does, losing one target for one tick beats losing the tick.
      const message = error instanceof Error ? error.message : String(error);
      return { kind: "read", counters: { monoMs: performance.now(), wallMs: Date.now() }, problems: [`${target.relPath}: ${message}`] };
    }
  }

  private async readNode(): Promise<NodePressureTotals | undefined> {
    try {
      return await this.readNodePressure?.();
    } catch {
      // Readers should not throw; without node counters this tick reads every file and has no node sample.
      return undefined;
    }
  }

  private nodeSample(current: NodePressureTotals | undefined, wallMs: number): NodeSample | undefined {
    const previous = this.previousNode;
    this.previousNode = current;
    return previous && current ? deriveNodeSample(previous, current, wallMs) : undefined;
  }
}

type MutableCounters = { -readonly [K in keyof RawCounters]: RawCounters[K] };

/** Gives `counters` the throttling counters of `from`, absent where `from` has none. */
function setThrottling(counters: MutableCounters, from: Pick<RawCounters, "nrPeriods" | "nrThrottled" | "throttledUsec">): void {
  if (from.nrPeriods === undefined) delete counters.nrPeriods;
  else counters.nrPeriods = from.nrPeriods;
  if (from.nrThrottled === undefined) delete counters.nrThrottled;
  else counters.nrThrottled = from.nrThrottled;
  if (from.throttledUsec === undefined) delete counters.throttledUsec;
  else counters.throttledUsec = from.throttledUsec;
}

function carriedFrom(read: RawCounters): Carried {
  const carried: Carried = {};
  resetCarried(carried, read);
  return carried;
}

/** Limits not read this tick carry over from the previous read; so does inactive_file when memory.stat was skipped. */
function carryOver(carried: Carried, read: RawCounters, statRead: boolean): void {
  if (read.cpuLimitCores !== undefined) carried.cpuLimitCores = read.cpuLimitCores;
  if (read.cpuWeight !== undefined) carried.cpuWeight = read.cpuWeight;
  if (read.memoryLimitBytes !== undefined) carried.memoryLimitBytes = read.memoryLimitBytes;
  if (read.memoryHighBytes !== undefined) carried.memoryHighBytes = read.memoryHighBytes;
  // A memory.stat that was read but failed leaves no value, as it would without carrying.
  if (statRead) carried.memoryInactiveFileBytes = read.memoryInactiveFileBytes;
}

/** A new cgroup under the same key carries nothing of the old one. */
function resetCarried(carried: Carried, read: RawCounters): void {
  carried.cpuLimitCores = read.cpuLimitCores;
  carried.cpuWeight = read.cpuWeight;
  carried.memoryLimitBytes = read.memoryLimitBytes;
  carried.memoryHighBytes = read.memoryHighBytes;
  carried.memoryInactiveFileBytes = read.memoryInactiveFileBytes;
}
