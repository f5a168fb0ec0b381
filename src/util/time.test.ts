import fc from "fast-check";
import { isoTime } from "./time.js";

describe("isoTime", () => {
  it("writes what toISOString writes, for any time it can represent", () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it("writes what toISOString writes, for any time from 1970 to 9999", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), (ms) => {
        expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it("agrees at the edges of a day, of the epoch and of four-digit years", () => {
    for (const ms of [0, 1, 999, 1000, 86_399_999, 86_400_000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2025, 0, 15), 253_402_300_799_999, 253_402_300_800_000, -1]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it("keeps toISOString's answers for what is not a whole millisecond or not a time", () => {
    expect(isoTime(1.5)).toBe(new Date(1.5).toISOString());
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
