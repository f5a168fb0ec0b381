import fc from "fast-check";
import type { ContainerSample } from "../sampler/types.js";
import { MAX_TARGET_ID, memoryLimitShareOf, sampleId, targetIdOf, throttleRatioOf, tickIdOf } from "./codec.js";
import { openStore } from "./store.js";
import { T0_MS, scratchDir, target, tickOf } from "./testing.js";

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => {
  scratch.cleanup();
});

test("a sample rowid splits back into its tick and target", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 32 }), fc.integer({ min: 1, max: MAX_TARGET_ID }), (tickId, targetId) => {
      expect([tickIdOf(sampleId(tickId, targetId)), targetIdOf(sampleId(tickId, targetId))]).toEqual([tickId, targetId]);
      expect(sampleId(tickId, targetId)).toBeLessThan(sampleId(tickId + 1, 1));
    }),
  );
});

const share = fc.double({ min: 0, max: 1, noNaN: true });
const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });

/** Samples shaped as the sampler makes them: derived fields computed the same way, absent fields omitted. */
const sampleFields = fc
  .record({
    cpuCores: optional(fc.double({ min: 0, max: 256, noNaN: true })),
    counters: optional(fc.integer({ min: 0, max: 100_000 }).chain((periods) => fc.tuple(fc.constant(periods), fc.integer({ min: 0, max: periods })))),
    cpuLimitCores: optional(fc.oneof(fc.constant(null), fc.double({ min: 0.001, max: 256, noNaN: true }))),
    cpuStallShare: optional(share),
    memoryStallShare: optional(share),
    memoryFullStallShare: optional(share),
    ioStallShare: optional(share),
    ioFullStallShare: optional(share),
    workingSetBytes: optional(fc.integer({ min: 0, max: 2 ** 44 })),
    memoryLimitBytes: optional(fc.oneof(fc.constant(null), fc.integer({ min: 2 ** 20, max: 2 ** 44 }))),
    oomKills: fc.integer({ min: 0, max: 1000 }),
    intervalMs: fc.integer({ min: 1, max: 120_000 }),
  })
  .map(({ counters, ...fields }) => {
    const [periods, throttledPeriods] = counters ?? [undefined, undefined];
    const withDerived = {
      ...fields,
      periods,
      throttledPeriods,
      throttleRatio: throttleRatioOf(periods, throttledPeriods),
      memoryLimitShare: memoryLimitShareOf(fields.workingSetBytes, fields.memoryLimitBytes),
    };
    return Object.fromEntries(Object.entries(withDerived).filter(([, v]) => v !== undefined));
  });

function expectNear(actual: number | null | undefined, expected: number | null | undefined, tolerance: number): void {
  if (expected === undefined || expected === null) {
    expect(actual).toBe(expected);
    return;
  }
  expect(typeof actual).toBe("number");
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(tolerance);
}

test("every value survives a round trip through the database within the documented resolution", () => {
  const store = openStore(scratch.file("h.db"));
  const web = target(1);
  let wallMs = T0_MS;
  fc.assert(
    fc.property(sampleFields, (fields) => {
      wallMs += 1000;
      const written: ContainerSample = { key: web.key, podUid: web.podUid, containerId: web.containerId, wallMs, oomKills: 0, intervalMs: 1000, ...fields };
      store.appendTick(tickOf(wallMs, [written]), [web]);
      const [read] = store.latestWindow(wallMs);
      const definedKeys = (x: object): string[] => Object.entries(x).filter(([, v]) => v !== undefined).map(([k]) => k).sort();
      expect(read && definedKeys(read)).toEqual(definedKeys(written));
      expect(read).toMatchObject({ key: web.key, wallMs, intervalMs: written.intervalMs, oomKills: written.oomKills });
      expect(read?.periods).toBe(written.periods);
      expect(read?.throttledPeriods).toBe(written.throttledPeriods);
      expect(read?.throttleRatio).toBe(written.throttleRatio);
      expectNear(read?.cpuCores, written.cpuCores, 0.0005);
      expectNear(read?.cpuLimitCores, written.cpuLimitCores, 0.0005);
      for (const key of ["cpuStallShare", "memoryStallShare", "memoryFullStallShare", "ioStallShare", "ioFullStallShare"] as const) {
        expectNear(read?.[key], written[key], 0.00005);
      }
      expectNear(read?.workingSetBytes, written.workingSetBytes, 512);
      expectNear(read?.memoryLimitBytes, written.memoryLimitBytes, 512);
      // Recomputed from KiB-rounded values: off by at most 1 KiB over the limit (limits here are ≥ 1 MiB).
      const limit = written.memoryLimitBytes ?? 1;
      expectNear(read?.memoryLimitShare, written.memoryLimitShare, (1024 / Math.max(limit, 1)) * (1 + (written.memoryLimitShare ?? 0)));
    }),
    { numRuns: 300 },
  );
  store.close();
});
