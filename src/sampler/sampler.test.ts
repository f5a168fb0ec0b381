import { readsMemoryStat, type ReadOptions } from "../cgroup/read-options.js";
import type { RawCounters } from "../cgroup/types.js";
import { Sampler } from "./sampler.js";
import type { Target } from "./types.js";

const target: Target = { key: "p/c", podUid: "p", containerId: "c", relPath: "kubepods/podp/c" };
const MiB = 1024 * 1024;

function raw(monoMs: number, fields: Partial<RawCounters> = {}): RawCounters {
  return { monoMs, wallMs: monoMs, ...fields };
}

interface FakeCgroup {
  readonly memory: { usageBytes: number; inactiveFileBytes: number };
  readonly cpu: { quotaCores: number | null; periods: number; throttled: number };
  readonly reads: ReadOptions[];
  readonly sampler: Sampler;
}

/** A v1 cgroup whose memory and CPU counters the test sets; it honours ReadOptions as CgroupReader does. */
function fakeCgroup(memoryLimitBytes: number | null = null): FakeCgroup {
  const memory = { usageBytes: 100 * MiB, inactiveFileBytes: 40 * MiB };
  const cpu = { quotaCores: null as number | null, periods: 0, throttled: 0 };
  const reads: ReadOptions[] = [];
  let monoMs = 0;
  const sampler = new Sampler((_relPath, options) => {
    reads.push(options);
    monoMs += 1000;
    const counters: RawCounters = {
      ...raw(monoMs, { cpuUsageUsec: monoMs * 100, memoryUsageBytes: memory.usageBytes }),
      ...(options.limits === false ? {} : { memoryLimitBytes, cpuLimitCores: cpu.quotaCores }),
      ...(readsMemoryStat(options, memory.usageBytes) ? { memoryInactiveFileBytes: memory.inactiveFileBytes } : {}),
      ...(options.throttling === false ? {} : { nrPeriods: cpu.periods, nrThrottled: cpu.throttled, throttledUsec: cpu.throttled * 1000 }),
    };
    return { kind: "read", counters, problems: [] };
  });
  return { memory, cpu, reads, sampler };
}

describe("Sampler", () => {
  it("primes on the first read, samples on the next, and reports a vanished cgroup as gone", async () => {
    let usageUsec = 0;
    let present = true;
    let monoMs = 0;
    const sampler = new Sampler((relPath) => {
      monoMs += 1000;
      usageUsec += 250_000;
      return present ? { kind: "read", counters: raw(monoMs, { cpuUsageUsec: usageUsec }), problems: [] } : { kind: "gone", relPath };
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
    const healthy: Target = { key: "q/d", podUid: "q", containerId: "d", relPath: "kubepods/podq/d" };
    let monoMs = 0;
    const sampler = new Sampler((relPath) => {
      if (relPath === target.relPath) throw new Error("EIO");
      monoMs += 1000;
      return { kind: "read", counters: raw(monoMs, { cpuUsageUsec: monoMs * 500 }), problems: [] };
    });
    const first = await sampler.tick([target, healthy], 1000);
    expect(first.problems).toEqual(["kubepods/podp/c: EIO"]);
    const second = await sampler.tick([target, healthy], 2000);
    expect(second.problems).toEqual(["kubepods/podp/c: EIO"]);
    // The failing target's interval has no figures; the healthy one's has its own.
    expect(second.containers.map((s) => [s.key, s.cpuCores])).toEqual([["p/c", undefined], ["q/d", 0.5]]);
    const third = await sampler.tick([healthy], 3000);
    expect(third.gone).toEqual(["p/c"]);
  });
});

describe("Sampler reads memory.stat only where the working set matters", () => {
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

describe("Sampler skips v1 cpu.stat for a container without a CFS quota", () => {
  it("reads it only with the limits, and its samples still say: never throttled", async () => {
    const { reads, sampler } = fakeCgroup();
    for (let t = 1; t <= 21; t++) {
      const tick = await sampler.tick([target], t * 1000);
      if (t > 1) expect(tick.containers[0]).toMatchObject({ periods: 0, throttledPeriods: 0, throttleRatio: 0, cpuCores: 0.1 });
    }
    const readTicks = reads.flatMap((o, i) => (o.throttling === false ? [] : [i + 1]));
    expect(readTicks).toEqual([1, 11, 21]);
  });

  it("a container with a quota has it read every tick", async () => {
    const { cpu, reads, sampler } = fakeCgroup();
    cpu.quotaCores = 0.5;
    for (let t = 1; t <= 12; t++) {
      cpu.periods += 10;
      cpu.throttled += 5;
      const tick = await sampler.tick([target], t * 1000);
      if (t > 1) expect(tick.containers[0]).toMatchObject({ periods: 10, throttledPeriods: 5, throttleRatio: 0.5 });
    }
    expect(reads.every((o) => o.throttling !== false)).toBe(true);
  });

  it("a quota set between limit reads: throttling is read from the next limit read on, and the interval it cannot split has no throttling figures", async () => {
    const { cpu, reads, sampler } = fakeCgroup();
    for (let t = 1; t <= 5; t++) await sampler.tick([target], t * 1000);
    // The pod is resized to a limit at tick 6 and is throttled from then on; the limits are read again at tick 11.
    const samples = [];
    for (let t = 6; t <= 13; t++) {
      cpu.quotaCores = 0.5;
      cpu.periods += 10;
      cpu.throttled += 8;
      samples.push((await sampler.tick([target], t * 1000)).containers[0]);
    }
    expect(reads.slice(5, 10).every((o) => o.throttling === false)).toBe(true);
    // Tick 11 reads the quota and the counters: their movement since tick 5 cannot be placed in one second.
    expect(samples[5]).not.toHaveProperty("throttleRatio");
    expect(samples[5]).toMatchObject({ cpuLimitCores: 0.5, cpuCores: 0.1 });
    expect(samples[6]).toMatchObject({ periods: 10, throttledPeriods: 8, throttleRatio: 0.8 });
    expect(samples[7]).toMatchObject({ periods: 10, throttledPeriods: 8, throttleRatio: 0.8 });
  });
});
