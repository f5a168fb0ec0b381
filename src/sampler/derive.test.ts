import fc from "fast-check";
import type { RawCounters } from "../cgroup/types.js";
import { counterDelta, deriveSample } from "./derive.js";
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
