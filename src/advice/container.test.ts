import fc from "fast-check";
import { adviseContainer } from "./container.js";
import { MiB, periods, rollUp, series } from "./testing.js";
import type { ContainerAdvice, UsagePoint } from "./types.js";

/** A deterministic wobble in [-1, 1), so series look measured without making tests flaky. */
function noise(i: number): number {
  return (((i * 2654435761) % 2 ** 32) / 2 ** 32) * 2 - 1;
}

describe("adviseContainer", () => {
  it("a calm, well-sized container keeps everything, with normal confidence", () => {
    const points = series(1200, (i) => ({
      cpuCores: 0.2 + 0.005 * noise(i),
      cpuLimitCores: 1,
      ...periods(0),
      workingSetBytes: 100 * MiB + noise(i) * MiB,
      memoryLimitBytes: 256 * MiB,
    }));
    const advice = adviseContainer({
      points,
      spec: { requests: { cpuCores: 0.2, memoryBytes: 120 * MiB }, limits: { cpuCores: 1, memoryBytes: 256 * MiB } },
    });
    expect([advice.cpu.request.change, advice.cpu.limit.change, advice.memory.request.change, advice.memory.limit.change]).toEqual(["keep", "keep", "keep", "keep"]);
    expect(advice.confidence).toBe("normal");
    expect(advice.lowConfidenceReason).toBeUndefined();
  });

  it("a throttling incident the rule recorded counts, though the span's average stays under the threshold", () => {
    // 20 s throttled at the 0.2-core limit inside 10 calm minutes: 3 % of periods over the span.
    const points = series(600, (i) => (i >= 300 && i < 320 ? { cpuCores: 0.2, cpuLimitCores: 0.2, ...periods(0.9) } : { cpuCores: 0.05, cpuLimitCores: 0.2, ...periods(0) }));
    const spec = { limits: { cpuCores: 0.2 } };
    expect(adviseContainer({ points, spec }).cpu.limit.change).toBe("keep");
    const advice = adviseContainer({ points, spec, throttlingRecorded: true });
    expect(advice.cpu.limit.change).toBe("raise");
    expect(advice.cpu.limit.recommended).toBeGreaterThan(0.2);
  });

  it("five minutes of data still gives figures, flagged as low confidence with the span", () => {
    const points = series(300, () => ({ cpuCores: 0.3, workingSetBytes: 100 * MiB }));
    const advice = adviseContainer({ points });
    expect(advice.confidence).toBe("low");
    expect(advice.cpu.request).toMatchObject({ confidence: "low", recommended: 0.3 });
    expect(advice.memory.request).toMatchObject({ confidence: "low", recommended: 115 * MiB });
    expect(advice.lowConfidenceReason).toContain("over 5m");
  });

  it("twenty 1-minute rollups cover enough time though they are fewer than thirty points", () => {
    const points = rollUp(series(1200, () => ({ cpuCores: 0.3, workingSetBytes: 100 * MiB })));
    expect(points).toHaveLength(20);
    expect(adviseContainer({ points }).confidence).toBe("normal");
  });

  it("an empty series gives floors, low confidence and no NaN", () => {
    const advice = adviseContainer({ points: [] });
    expect(advice.cpu.request.recommended).toBe(0.01);
    expect(advice.memory.request.recommended).toBe(MiB);
    expect(advice.lowConfidenceReason).toBe("no CPU samples; no memory samples");
    expectFinite(advice);
  });

  describe("rollups and raw samples of the same two hours agree", () => {
    // A half-hour cycle with a little noise, throttled at a 0.45-core limit near the top of each cycle.
    const raw = series(2 * 3600, (i) => {
      const wanted = 0.3 + 0.2 * Math.sin((2 * Math.PI * i) / 1800) + 0.02 * noise(i);
      return {
        cpuCores: Math.min(wanted, 0.45),
        cpuLimitCores: 0.45,
        ...periods(wanted > 0.45 ? 0.6 : 0),
        workingSetBytes: 200 * MiB + 50 * MiB * Math.sin((2 * Math.PI * i) / 3600) + MiB * noise(i),
        memoryLimitBytes: 512 * MiB,
      };
    });
    const spec = { requests: { cpuCores: 0.3, memoryBytes: 256 * MiB }, limits: { cpuCores: 0.45, memoryBytes: 512 * MiB } };
    const fromRaw = adviseContainer({ points: raw, spec });
    const fromRollups = adviseContainer({ points: rollUp(raw), spec });

    it.each([
      ["cpu request", (a: ContainerAdvice) => a.cpu.request.recommended, 0.1],
      ["cpu limit", (a: ContainerAdvice) => a.cpu.limit.recommended, 0.1],
      ["memory request", (a: ContainerAdvice) => a.memory.request.recommended, 0],
      ["memory limit", (a: ContainerAdvice) => a.memory.limit.recommended, 0],
    ] as const)("%s within tolerance", (_, pick, tolerance) => {
      const a = pick(fromRaw)!;
      const b = pick(fromRollups)!;
      expect(Math.abs(a - b)).toBeLessThanOrEqual(tolerance * a);
    });

    it("both see the same throttling, peak and span", () => {
      expect(fromRaw.cpu.limit.change).toBe("raise");
      expect(fromRollups.cpu.limit.change).toBe("raise");
      expect(fromRollups.cpu.limit.basis.throttleRatio).toBeCloseTo(fromRaw.cpu.limit.basis.throttleRatio!, 6);
      expect(fromRollups.cpu.limit.basis.peakCores).toBeCloseTo(fromRaw.cpu.limit.basis.peakCores, 6);
      expect(fromRollups.memory.request.basis.peakWorkingSetBytes).toBe(fromRaw.memory.request.basis.peakWorkingSetBytes);
      expect(fromRollups.cpu.request.basis.sampleCount).toBe(fromRaw.cpu.request.basis.sampleCount);
      expect(fromRollups.cpu.request.basis.spanMs).toBe(fromRaw.cpu.request.basis.spanMs);
    });
  });
});

function expectFinite(value: unknown, path = "advice"): void {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`${path} is ${value}`);
  } else if (typeof value === "string") {
    if (/NaN|Infinity|undefined/.test(value)) throw new Error(`${path} reads "${value}"`);
  } else if (value !== null && typeof value === "object") {
    for (const [key, field] of Object.entries(value)) expectFinite(field, `${path}.${key}`);
  }
}

describe("properties", () => {
  const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });
  const limit = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null | undefined> => fc.oneof(fc.constant(null), fc.constant(undefined), arb);

  /** A point in realistic ranges, raw or rolled up, any mix of fields present. */
  const realistic: fc.Arbitrary<UsagePoint> = fc.record({
    wallMs: fc.integer({ min: 0, max: 10 * 86_400_000 }),
    intervalMs: fc.constantFrom(1000, 60_000, 0, 2500),
    sampleCount: optional(fc.integer({ min: 1, max: 60 })),
    cpuCores: optional(fc.double({ min: 0, max: 64, noNaN: true })),
    cpuCoresMax: optional(fc.double({ min: 0, max: 64, noNaN: true })),
    periods: optional(fc.integer({ min: 0, max: 600 })),
    throttledPeriods: optional(fc.integer({ min: 0, max: 600 })),
    throttleRatio: optional(fc.double({ min: 0, max: 1, noNaN: true })),
    cpuLimitCores: limit(fc.double({ min: 0.001, max: 64, noNaN: true })),
    workingSetBytes: optional(fc.integer({ min: 0, max: 2 ** 40 })),
    workingSetBytesMax: optional(fc.integer({ min: 0, max: 2 ** 40 })),
    memoryLimitBytes: limit(fc.integer({ min: 1, max: 2 ** 40 })),
    oomKills: fc.integer({ min: 0, max: 2 }),
  });
  const spec = optional(
    fc.record({
      requests: optional(fc.record({ cpuCores: optional(fc.double({ min: 0, max: 64, noNaN: true })), memoryBytes: optional(fc.integer({ min: 0, max: 2 ** 40 })) })),
      limits: optional(fc.record({ cpuCores: optional(fc.double({ min: 0.001, max: 64, noNaN: true })), memoryBytes: optional(fc.integer({ min: 1, max: 2 ** 40 })) })),
    }),
  );
  const input = fc.record({
    points: fc.array(realistic, { maxLength: 60 }),
    spec,
    throttleThreshold: optional(fc.double({ min: 0, max: 1, noNaN: true })),
    cpuLimitPolicy: optional(fc.constantFrom("fit" as const, "remove" as const)),
  });

  const peak = (points: readonly UsagePoint[], pick: (p: UsagePoint) => readonly (number | undefined)[]): number =>
    Math.max(0, ...points.flatMap(pick).filter((v): v is number => v !== undefined));

  it("advice is never below the observed peak: memory request and limit, CPU limit", () => {
    fc.assert(
      fc.property(input, (given) => {
        const advice = adviseContainer(given);
        const peakBytes = peak(given.points, (p) => [p.workingSetBytes, p.workingSetBytesMax]);
        const peakCores = peak(given.points, (p) => [p.cpuCores, p.cpuCoresMax]);
        expect(advice.memory.request.recommended).toBeGreaterThanOrEqual(peakBytes);
        if (advice.memory.limit.recommended !== null) expect(advice.memory.limit.recommended).toBeGreaterThanOrEqual(peakBytes);
        if (advice.cpu.limit.recommended !== null) expect(advice.cpu.limit.recommended).toBeGreaterThanOrEqual(peakCores);
      }),
      { numRuns: 300 },
    );
  });

  it("a recommended limit is never below the recommended request", () => {
    fc.assert(
      fc.property(input, (given) => {
        const { cpu, memory } = adviseContainer(given);
        if (cpu.limit.recommended !== null) expect(cpu.limit.recommended).toBeGreaterThanOrEqual(cpu.request.recommended!);
        if (memory.limit.recommended !== null) expect(memory.limit.recommended).toBeGreaterThanOrEqual(memory.request.recommended!);
      }),
      { numRuns: 300 },
    );
  });

  it("a throttled container's fitted limit is strictly above the limit it was throttled at", () => {
    fc.assert(
      fc.property(input, (given) => {
        const { limit } = adviseContainer({ ...given, cpuLimitPolicy: "fit" }).cpu;
        const at = limit.basis.throttledAtLimitCores;
        if (limit.basis.throttled && limit.change === "raise" && at !== null) expect(limit.recommended).toBeGreaterThan(at);
      }),
      { numRuns: 300 },
    );
  });

  it("p95 usage and working set lie between the series' min and max", () => {
    fc.assert(
      fc.property(input, ({ points }) => {
        const advice = adviseContainer({ points });
        const cpu = points.map((p) => p.cpuCores ?? p.cpuCoresMax).filter((v): v is number => v !== undefined);
        const memory = points.map((p) => p.workingSetBytes ?? p.workingSetBytesMax).filter((v): v is number => v !== undefined);
        const { p95Cores } = advice.cpu.request.basis;
        const { p95WorkingSetBytes } = advice.memory.request.basis;
        if (cpu.length > 0) {
          expect(p95Cores).toBeGreaterThanOrEqual(Math.min(...cpu));
          expect(p95Cores).toBeLessThanOrEqual(Math.max(...cpu));
        } else expect(p95Cores).toBe(0);
        if (memory.length > 0) {
          expect(p95WorkingSetBytes).toBeGreaterThanOrEqual(Math.min(...memory));
          expect(p95WorkingSetBytes).toBeLessThanOrEqual(Math.max(...memory));
        } else expect(p95WorkingSetBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it("no NaN or Infinity comes out for any finite input, including empty series and absurd values", () => {
    const anyNumber = fc.double({ noNaN: true, noDefaultInfinity: true });
    const wild: fc.Arbitrary<UsagePoint> = fc.record({
      wallMs: anyNumber,
      intervalMs: anyNumber,
      sampleCount: optional(anyNumber),
      cpuCores: optional(anyNumber),
      cpuCoresMax: optional(anyNumber),
      periods: optional(anyNumber),
      throttledPeriods: optional(anyNumber),
      throttleRatio: optional(anyNumber),
      cpuLimitCores: limit(anyNumber),
      workingSetBytes: optional(anyNumber),
      workingSetBytesMax: optional(anyNumber),
      memoryLimitBytes: limit(anyNumber),
      oomKills: anyNumber,
    });
    const amounts = optional(fc.record({ cpuCores: optional(anyNumber), memoryBytes: optional(anyNumber) }));
    fc.assert(
      fc.property(
        fc.array(wild, { maxLength: 40 }),
        optional(fc.record({ requests: amounts, limits: amounts })),
        optional(anyNumber),
        optional(fc.record({ count: anyNumber, memoryLimitBytes: fc.option(anyNumber, { nil: null }) })),
        (points, spec, throttleThreshold, oomKills) => {
          expectFinite(adviseContainer({ points, spec, throttleThreshold, oomKills }));
        },
      ),
      { numRuns: 500 },
    );
  });
});
