import fc from "fast-check";
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
});
