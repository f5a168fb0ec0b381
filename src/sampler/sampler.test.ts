import type { ReadOptions } from "../cgroup/read-options.js";
import type { RawCounters } from "../cgroup/types.js";
import { Sampler } from "./sampler.js";
import type { Target } from "./types.js";

const target: Target = { key: "p/c", podUid: "p", containerId: "c", relPath: "kubepods/podp/c" };

/** A v1 cgroup whose quota and throttling counters the test sets; it honours ReadOptions as CgroupReader does. */
function fakeCgroup(): { cpu: { quotaCores: number | null; periods: number; throttled: number }; reads: ReadOptions[]; sampler: Sampler } {
  const cpu = { quotaCores: null as number | null, periods: 0, throttled: 0 };
  const reads: ReadOptions[] = [];
  let monoMs = 0;
  const sampler = new Sampler((_relPath, options) => {
    reads.push(options);
    monoMs += 1000;
    const counters: RawCounters = {
      monoMs,
      wallMs: monoMs,
      cpuUsageUsec: monoMs * 100,
      ...(options.limits === false ? {} : { cpuLimitCores: cpu.quotaCores }),
      ...(options.throttling === false ? {} : { nrPeriods: cpu.periods, nrThrottled: cpu.throttled, throttledUsec: cpu.throttled * 1000 }),
    };
    return Promise.resolve({ kind: "read", counters, problems: [] });
  });
  return { cpu, reads, sampler };
}

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
