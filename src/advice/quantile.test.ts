import fc from "fast-check";
import { weightedQuantile } from "./quantile.js";

describe("weightedQuantile", () => {
  it.each([
    { name: "empty is 0", items: [], q: 0.95, want: 0 },
    { name: "one value is itself", items: [{ value: 3, weightMs: 1000 }], q: 0.95, want: 3 },
    { name: "p95 of 1..100 equal weights is 95", items: Array.from({ length: 100 }, (_, i) => ({ value: i + 1, weightMs: 1000 })), q: 0.95, want: 95 },
    {
      name: "a 60 s rollup outweighs ten 1 s samples",
      items: [{ value: 1, weightMs: 60_000 }, ...Array.from({ length: 10 }, () => ({ value: 9, weightMs: 1000 }))],
      q: 0.5,
      want: 1,
    },
    { name: "zero weights count each value once", items: [{ value: 1, weightMs: 0 }, { value: 2, weightMs: 0 }], q: 1, want: 2 },
  ])("$name", ({ items, q, want }) => {
    expect(weightedQuantile(items, q)).toBe(want);
  });

  const items = fc.array(fc.record({ value: fc.double({ min: 0, max: 1e9, noNaN: true }), weightMs: fc.double({ min: 0, max: 1e7, noNaN: true }) }), { minLength: 1 });

  it("the quantile of any non-empty series lies between its min and max", () => {
    fc.assert(
      fc.property(items, fc.double({ min: 0, max: 1, noNaN: true }), (values, q) => {
        const result = weightedQuantile(values, q);
        const all = values.map((item) => item.value);
        expect(result).toBeGreaterThanOrEqual(Math.min(...all));
        expect(result).toBeLessThanOrEqual(Math.max(...all));
      }),
    );
  });

  it("a higher quantile is never smaller", () => {
    fc.assert(
      fc.property(items, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (values, a, b) => {
        expect(weightedQuantile(values, Math.max(a, b))).toBeGreaterThanOrEqual(weightedQuantile(values, Math.min(a, b)));
      }),
    );
  });
});
