import fc from "fast-check";
import { readsMemoryStat, type ReadOptions } from "../cgroup/read-options.js";
import type { RawCounters } from "../cgroup/types.js";
import { counterDelta, deriveSample } from "./derive.js";
import { Sampler } from "./sampler.js";
import type { Target } from "./types.js";

const target: Target = { key: "p/c", podUid: "p", containerId: "c", relPath: "kubepods/podp/c" };

function raw(monoMs: number, fields: Partial<RawCounters> = {}): RawCounters {
  return { monoMs, wallMs: monoMs, ...fields };
}

describe("deriveSample", () => {
  it("turns counter deltas into cores, throttle ratio, stall shares and working set", () => {
    const previous = raw(0, { cpuUsageUsec: 0, nrPeriods: 100, nrThrottled: 10, psiCpu: { someTotalUsec: 0 }, oomKills: 2 });
    const current = raw(1000, {
      cpuUsageUsec: 500_000,
      nrPeriods: 110,
      nrThrottled: 18,
      cpuLimitCores: 0.5,
      psiCpu: { someTotalUsec: 400_000 },
      memoryUsageBytes: 300,
      memoryInactiveFileBytes: 100,
      memoryLimitBytes: 400,
      oomKills: 3,
    });
    const sample = deriveSample(target, previous, current, 42);
    expect(sample).toMatchObject({
      wallMs: 42,
      intervalMs: 1000,
      cpuCores: 0.5,
      periods: 10,
      throttledPeriods: 8,
      throttleRatio: 0.8,
      cpuStallShare: 0.4,
      workingSetBytes: 200,
      memoryLimitShare: 0.5,
      oomKills: 1,
    });
  });

  it("a counter that goes backwards yields no value instead of a negative rate", () => {
    const sample = deriveSample(target, raw(0, { cpuUsageUsec: 9_000_000, nrPeriods: 50, oomKills: 4 }), raw(1000, { cpuUsageUsec: 10, nrPeriods: 1, oomKills: 0 }), 1);
    expect(sample.cpuCores).toBeUndefined();
    expect(sample.periods).toBeUndefined();
    expect(sample.oomKills).toBe(0);
  });

  it("working set is floored at zero and an unlimited container has a null limit share", () => {
    const sample = deriveSample(target, raw(0), raw(1000, { memoryUsageBytes: 10, memoryInactiveFileBytes: 50, memoryLimitBytes: null }), 1);
    expect(sample.workingSetBytes).toBe(0);
    expect(sample.memoryLimitShare).toBeNull();
  });

  it("stall shares always stay within 0..1 and deltas are never negative", () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 10_000 }), (before, after, intervalMs) => {
        const sample = deriveSample(target, raw(0, { psiCpu: { someTotalUsec: before } }), raw(intervalMs, { psiCpu: { someTotalUsec: after } }), 1);
        if (sample.cpuStallShare !== undefined) {
          expect(sample.cpuStallShare).toBeGreaterThanOrEqual(0);
          expect(sample.cpuStallShare).toBeLessThanOrEqual(1);
        }
        const delta = counterDelta(before, after);
        expect(delta === undefined || delta >= 0).toBe(true);
      }),
    );
  });
});

describe("Sampler", () => {
  it("primes on the first read, samples on the next, and reports a vanished cgroup as gone", async () => {
    let usageUsec = 0;
    let present = true;
    let monoMs = 0;
    const sampler = new Sampler((relPath) => {
      monoMs += 1000;
      usageUsec += 250_000;
      return Promise.resolve(present ? { kind: "read", counters: raw(monoMs, { cpuUsageUsec: usageUsec }), problems: [] } : { kind: "gone", relPath });
    });
    expect((await sampler.tick([target], 1000)).containers).toEqual([]);
    const second = await sampler.tick([target], 2000);
    expect(second.containers.map((s) => s.cpuCores)).toEqual([0.25]);
    present = false;
    const third = await sampler.tick([target], 3000);
    expect(third.gone).toEqual(["p/c"]);
    expect(third.containers).toEqual([]);
  });

  it("a target dropped from the list is gone, and a reader that throws costs one target one tick", async () => {
    const sampler = new Sampler(() => Promise.reject(new Error("EIO")));
    const first = await sampler.tick([target], 1000);
    expect(first.problems).toEqual(["kubepods/podp/c: EIO"]);
    const second = await sampler.tick([], 2000);
    expect(second.gone).toEqual(["p/c"]);
  });
});

describe("Sampler reads memory.stat only where the working set matters", () => {
  const MiB = 1024 * 1024;
  /** A cgroup whose usage and inactive_file the test sets; it honours ReadOptions as CgroupReader does. */
  function fakeCgroup(limitBytes: number | null): { memory: { usageBytes: number; inactiveFileBytes: number }; reads: ReadOptions[]; sampler: Sampler } {
    const memory = { usageBytes: 100 * MiB, inactiveFileBytes: 40 * MiB };
    const reads: ReadOptions[] = [];
    let monoMs = 0;
    const sampler = new Sampler((_relPath, options) => {
      reads.push(options);
      monoMs += 1000;
      const counters: RawCounters = {
        ...raw(monoMs, { memoryUsageBytes: memory.usageBytes }),
        ...(options.limits === false ? {} : { memoryLimitBytes: limitBytes }),
        ...(readsMemoryStat(options, memory.usageBytes) ? { memoryInactiveFileBytes: memory.inactiveFileBytes } : {}),
      };
      return Promise.resolve({ kind: "read", counters, problems: [] });
    });
    return { memory, reads, sampler };
  }

  it("far below its limit a container's memory.stat is read every fifth tick, inactive_file carried in between", async () => {
    const { memory, reads, sampler } = fakeCgroup(1024 * MiB);
    const workingSets: (number | undefined)[] = [];
    for (let t = 1; t <= 21; t++) {
      // inactive_file drifts; skipped ticks keep the last value read.
      memory.inactiveFileBytes = (40 + t) * MiB;
      const tick = await sampler.tick([target], t * 1000);
      workingSets.push(tick.containers[0]?.workingSetBytes);
      // Limits, read every tenth tick, carry over as before.
      if (t > 1) expect(tick.containers[0]?.memoryLimitBytes).toBe(1024 * MiB);
    }
    expect(reads.filter((o) => o.limits === true).length).toBe(3);
    const statTicks = reads.flatMap((options, i) => (readsMemoryStat(options, memory.usageBytes) ? [i + 1] : []));
    expect(statTicks[0]).toBe(1);
    const gaps = statTicks.slice(1).map((t, i) => t - (statTicks[i] ?? 0));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(5);
    // Every fifth tick, plus the ticks that read the limits (a new limit gets a fresh working set).
    expect(statTicks.length).toBeLessThanOrEqual(21 / 5 + 3 + 1);
    for (const t of [1, 11, 21]) expect(statTicks).toContain(t);
    // Skipped reads still ask for memory.stat should usage reach half the limit.
    expect(reads.filter((o) => o.memoryStat === false).every((o) => o.memoryStatFromUsageBytes === 512 * MiB)).toBe(true);
    for (let t = 2; t <= 21; t++) {
      const lastStat = Math.max(...statTicks.filter((s) => s <= t));
      expect(workingSets[t - 1]).toBe(memory.usageBytes - (40 + lastStat) * MiB);
    }
  });

  it("at or above half its limit a container's memory.stat is read every tick", async () => {
    const { memory, reads, sampler } = fakeCgroup(1024 * MiB);
    memory.usageBytes = 600 * MiB;
    for (let t = 1; t <= 12; t++) {
      memory.inactiveFileBytes = (10 + t) * MiB;
      const tick = await sampler.tick([target], t * 1000);
      if (t > 1) expect(tick.containers[0]?.workingSetBytes).toBe(memory.usageBytes - memory.inactiveFileBytes);
    }
    expect(reads.every((options) => readsMemoryStat(options, memory.usageBytes))).toBe(true);
  });

  it("a container whose usage jumps towards its limit between ticks gets a fresh working set in that same tick", async () => {
    const { memory, sampler } = fakeCgroup(1024 * MiB);
    for (let t = 1; t <= 3; t++) await sampler.tick([target], t * 1000);
    // The kernel reclaimed the file cache as usage climbed: a stale inactive_file would hide 40 MiB.
    memory.usageBytes = 980 * MiB;
    memory.inactiveFileBytes = 0;
    const tick = await sampler.tick([target], 4000);
    expect(tick.containers[0]).toMatchObject({ workingSetBytes: 980 * MiB, memoryLimitShare: 980 / 1024 });
  });

  it("a container without a memory limit reads memory.stat every fifth tick", async () => {
    const { memory, reads, sampler } = fakeCgroup(null);
    for (let t = 1; t <= 11; t++) await sampler.tick([target], t * 1000);
    const statReads = reads.filter((options) => readsMemoryStat(options, memory.usageBytes));
    expect(statReads.length).toBeGreaterThanOrEqual(2);
    expect(statReads.length).toBeLessThanOrEqual(4);
    expect(reads.filter((o) => o.memoryStat === false).every((o) => o.memoryStatFromUsageBytes === undefined)).toBe(true);
  });

  it("a restarted container (new cgroup path) reads memory.stat afresh instead of carrying the old one's", async () => {
    const { memory, reads, sampler } = fakeCgroup(1024 * MiB);
    for (let t = 1; t <= 3; t++) await sampler.tick([target], t * 1000);
    await sampler.tick([{ ...target, relPath: "kubepods/podp/c2" }], 4000);
    expect(readsMemoryStat(reads[3] ?? {}, memory.usageBytes)).toBe(true);
  });
});
