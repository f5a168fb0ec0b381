import fc from "fast-check";
import { fuzzInput, fuzzRuns, isCount } from "../../test/fuzz.js";
import { parseProcStatBusy } from "./stat.js";

describe("/proc/stat", () => {
  it("busy time is everything but idle and iowait, in microseconds", () => {
    const parsed = parseProcStatBusy("cpu  100 10 50 1000 7 1 2 3 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n");
    expect(parsed).toEqual({ ok: true, value: (100 + 10 + 50 + 1 + 2 + 3) * 10_000 });
  });

  it("names the file and line on garbage, and never throws", () => {
    const parsed = parseProcStatBusy("intr 1 2 3", "/host/proc/stat");
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatchObject({ file: "/host/proc/stat", line: 1 });
    fc.assert(fc.property(fc.string(), (text) => { parseProcStatBusy(text); }));
  });

  it("round-trips any tick counts", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 2 ** 40 }), { minLength: 10, maxLength: 10 }), (ticks) => {
        const [u, n, s, , , irq, soft, steal] = ticks as [number, number, number, number, number, number, number, number];
        const parsed = parseProcStatBusy(`cpu  ${ticks.join(" ")}\n`);
        expect(parsed).toEqual({ ok: true, value: ((u + n + s + irq + soft + steal) * 1_000_000) / 100 });
      }),
    );
  });

  it("fuzzed: never throws, and busy time is a finite, non-negative whole number of microseconds", () => {
    const valid = fc.tuple(fc.array(fc.nat({ max: 2 ** 40 }), { minLength: 10, maxLength: 10 }), fc.array(fc.nat({ max: 2 ** 30 }), { minLength: 10, maxLength: 10 }))
      .map(([all, cpu0]) => `cpu  ${all.join(" ")}\ncpu0 ${cpu0.join(" ")}\nintr 1 0 2\nctxt 5\nbtime 1700000000\n`);
    fc.assert(
      fc.property(fuzzInput(valid), (text) => {
        const parsed = parseProcStatBusy(text);
        return parsed.ok ? isCount(parsed.value) : parsed.error.line === 1;
      }),
      { numRuns: fuzzRuns() },
    );
  });

  it.each(["0x10", "1e3", "+5", "1.0"])("a tick count written %p is an error, not read as a number", (tick) => {
    expect(parseProcStatBusy(`cpu  ${tick} 0 0 0 0 0 0 0 0 0\n`).ok).toBe(false);
  });
});
