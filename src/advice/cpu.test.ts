import { adviseContainer } from "./container.js";
import { periods, series } from "./testing.js";
import type { ContainerAdviceInput, UsagePoint } from "./types.js";

const TWENTY_MINUTES = 1200;

/** 20 minutes of 1 s samples, all alike. */
function steady(values: Partial<UsagePoint>): UsagePoint[] {
  return series(TWENTY_MINUTES, () => values);
}

function cpu(input: ContainerAdviceInput) {
  return adviseContainer(input).cpu;
}

describe("CPU limit of a throttled container", () => {
  const throttled = series(2 * 3600, () => ({ cpuCores: 0.1, cpuLimitCores: 0.1, periods: 100, throttledPeriods: 97 }));

  it("throttled at a 100m limit in 97% of periods: the limit is raised above 100m and never below the peak", () => {
    const { limit, request } = cpu({ points: throttled, spec: { requests: { cpuCores: 0.1 }, limits: { cpuCores: 0.1 } } });
    expect(limit.change).toBe("raise");
    expect(limit.recommended).toBeGreaterThan(0.1);
    expect(limit.recommended).toBeGreaterThanOrEqual(limit.basis.peakCores);
    expect(limit.basis).toMatchObject({ throttleRatio: 0.97, throttledAtLimitCores: 0.1, peakCores: 0.1, p95Cores: 0.1, spanMs: 2 * 3600_000 });
    // usage ÷ (1 − 0.97) would be 3.3 cores; the estimate is capped at twice the usage.
    expect(limit.recommended).toBe(0.2);
    expect(request.recommended).toBeLessThanOrEqual(limit.recommended!);
    expect(limit.reason).toContain("throttled in 97% of periods at 100m over 2h");
  });

  it("with the remove policy, krr's position, the limit is dropped instead", () => {
    const { limit } = cpu({ points: throttled, spec: { limits: { cpuCores: 0.1 } }, cpuLimitPolicy: "remove" });
    expect(limit).toMatchObject({ change: "remove", recommended: null, current: 0.1 });
    expect(limit.reason).toContain("krr");
  });

  it.each([
    { name: "just below the threshold: no limit change", ratio: 0.24, threshold: undefined, change: "keep" },
    { name: "at the threshold: raised", ratio: 0.25, threshold: undefined, change: "raise" },
    { name: "below the default but above the policy's threshold: raised", ratio: 0.24, threshold: 0.2, change: "raise" },
  ])("$name", ({ ratio, threshold, change }) => {
    const points = steady({ cpuCores: 0.45, cpuLimitCores: 0.5, periods: 100, throttledPeriods: ratio * 100 });
    const { limit } = cpu({ points, spec: { requests: { cpuCores: 0.45 }, limits: { cpuCores: 0.5 } }, ...(threshold === undefined ? {} : { throttleThreshold: threshold }) });
    expect(limit.change).toBe(change);
    if (change === "keep") expect(limit.recommended).toBe(0.5);
    else expect(limit.recommended).toBeGreaterThan(0.5);
  });

  it("ten minutes of throttling in a calm two hours is sustained throttling, though the span's ratio is under the threshold", () => {
    const points = series(2 * 3600, (i) => (i < 600 ? { cpuCores: 0.5, cpuLimitCores: 0.5, ...periods(0.9) } : { cpuCores: 0.1, cpuLimitCores: 0.5, ...periods(0) }));
    const { limit } = cpu({ points, spec: { limits: { cpuCores: 0.5 } } });
    expect(limit.basis.throttleRatio).toBeLessThan(0.25);
    expect(limit.basis.longestThrottledMs).toBe(600_000);
    expect(limit.change).toBe("raise");
    expect(limit.recommended).toBeGreaterThan(0.5);
  });

  it("a one-minute burst of throttling in two hours leaves the limit alone", () => {
    const points = series(2 * 3600, (i) => (i < 60 ? { cpuCores: 0.5, cpuLimitCores: 0.5, ...periods(0.9) } : { cpuCores: 0.1, cpuLimitCores: 0.5, ...periods(0) }));
    expect(cpu({ points, spec: { limits: { cpuCores: 0.5 } } }).limit.change).toBe("keep");
  });

  it("a limit raised since the throttling is kept when it already covers what was wanted", () => {
    const { limit } = cpu({ points: throttled, spec: { limits: { cpuCores: 1 } } });
    expect(limit).toMatchObject({ change: "keep", current: 1, recommended: 1 });
  });

  it("throttled at a quota the spec no longer has: nothing to raise", () => {
    const { limit } = cpu({ points: throttled, spec: {} });
    expect(limit).toMatchObject({ change: "keep", current: null, recommended: null });
  });
});

describe("CPU limit of a calm container", () => {
  it("a container with no limit keeps none", () => {
    const { limit } = cpu({ points: steady({ cpuCores: 0.3, cpuLimitCores: null, ...periods(0) }), spec: { requests: { cpuCores: 0.3 } } });
    expect(limit).toMatchObject({ change: "keep", current: null, recommended: null, currentSource: "spec" });
  });

  it("a limit below the recommended request is raised to it: the API rejects a limit under the request", () => {
    const { limit, request } = cpu({ points: steady({ cpuCores: 0.3, ...periods(0) }), spec: { limits: { cpuCores: 0.2 } } });
    expect(request.recommended).toBe(0.3);
    expect(limit).toMatchObject({ change: "raise", recommended: 0.3 });
  });

  it("without a Pod spec the limit is the cgroup's and the request is unknown", () => {
    const { limit, request } = cpu({ points: steady({ cpuCores: 0.3, cpuLimitCores: 2, ...periods(0) }) });
    expect(limit).toMatchObject({ current: 2, currentSource: "cgroup", change: "keep" });
    expect(request).toMatchObject({ current: null, currentSource: "unknown", change: "set", recommended: 0.3 });
  });
});

describe("CPU request", () => {
  // 95% of the time 0.2 cores, 5% of the time 1 core: p95 is still 0.2.
  const spiky = series(TWENTY_MINUTES, (i) => ({ cpuCores: i % 20 === 19 ? 1 : 0.2, ...periods(0) }));

  it.each([
    { name: "within 10% of p95: keep", current: 0.21, change: "keep", recommended: 0.21 },
    { name: "far above p95: lower", current: 1, change: "lower", recommended: 0.2 },
    { name: "below p95: raise", current: 0.1, change: "raise", recommended: 0.2 },
    { name: "unset: set", current: undefined, change: "set", recommended: 0.2 },
  ])("$name", ({ current, change, recommended }) => {
    const { request } = cpu({ points: spiky, spec: { requests: current === undefined ? {} : { cpuCores: current } } });
    expect(request).toMatchObject({ change, recommended });
    expect(request.basis).toMatchObject({ p95Cores: 0.2, peakCores: 1 });
  });

  it("an idle container gets krr's 10m floor", () => {
    const { request } = cpu({ points: steady({ cpuCores: 0.0001 }), spec: { requests: { cpuCores: 0.5 } } });
    expect(request).toMatchObject({ recommended: 0.01, change: "lower" });
    expect(request.reason).toContain("10m floor");
  });

  it("a throttled container's request allows for the demand its quota hid", () => {
    const points = steady({ cpuCores: 0.1, cpuLimitCores: 0.1, periods: 100, throttledPeriods: 50 });
    const { request } = cpu({ points, spec: { limits: { cpuCores: 0.1 } } });
    expect(request.basis.p95Cores).toBe(0.1);
    expect(request.recommended).toBe(0.2);
  });
});
