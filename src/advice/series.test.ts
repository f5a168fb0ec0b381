import type { ContainerSample } from "../sampler/types.js";
import type { RollupSample } from "../store/types.js";
import { cleanPoint, cleanSeries, coverage, periodsOf } from "./series.js";
import { point, series } from "./testing.js";
import type { UsagePoint } from "./types.js";

describe("cleanPoint", () => {
  it("drops NaN and Infinity and clamps negatives, so nothing downstream sees them", () => {
    const clean = cleanPoint(point(0, { cpuCores: Number.NaN, cpuCoresMax: Number.POSITIVE_INFINITY, workingSetBytes: -5, throttleRatio: 7, oomKills: Number.NaN }));
    expect(clean.cpuCores).toBeUndefined();
    expect(clean.cpuCoresMax).toBeUndefined();
    expect(clean.workingSetBytes).toBe(0);
    expect(clean.throttleRatio).toBe(1);
    expect(clean.oomKills).toBe(0);
  });

  it("treats a limit at or above 2^62 as unlimited, as the cgroup parsers do", () => {
    expect(cleanPoint(point(0, { memoryLimitBytes: 2 ** 62 })).memoryLimitBytes).toBeNull();
    expect(cleanPoint(point(0, { cpuLimitCores: null })).cpuLimitCores).toBeNull();
    expect(cleanPoint(point(0, {})).cpuLimitCores).toBeUndefined();
  });

  it("prefers period counts to a stored ratio", () => {
    expect(cleanPoint(point(0, { periods: 10, throttledPeriods: 5, throttleRatio: 0.1 })).throttleRatio).toBe(0.5);
  });
});

describe("coverage and periods", () => {
  it("spans from the first interval's start to the last one's end and counts rollup samples", () => {
    const points = cleanSeries([point(0, { sampleCount: 60 }, 60_000), point(2, { sampleCount: 60 }, 60_000)]);
    expect(coverage(points)).toEqual({ sampleCount: 120, spanMs: 180_000, coveredMs: 120_000 });
  });

  it("turns a ratio without counts into periods of the kernel's default 100 ms", () => {
    const [clean] = cleanSeries(series(1, () => ({ throttleRatio: 0.5 })));
    expect(periodsOf(clean!)).toEqual({ periods: 10, throttledPeriods: 5 });
  });
});

describe("UsagePoint", () => {
  it("takes stored raw samples and rollups as they are", () => {
    const raw: ContainerSample = { key: "p/c", podUid: "p", containerId: "c", wallMs: 1000, intervalMs: 1000, cpuCores: 0.5, cpuLimitCores: null, oomKills: 0 };
    const rollup: RollupSample = { ...raw, wallMs: 60_000, intervalMs: 60_000, sampleCount: 60, cpuCoresMax: 0.9, workingSetBytesMax: 1024 };
    const points: UsagePoint[] = [raw, rollup];
    expect(cleanSeries(points).map((p) => p.cpuCoresMax ?? p.cpuCores)).toEqual([0.5, 0.9]);
  });
});
