import fc from "fast-check";
import { flatKeyed, parseCounter, parseLimit, parseNsAsUsec, UNLIMITED_AT } from "./common.js";

describe("number parsing", () => {
  test("counters beyond 2^53 convert to the nearest double instead of failing or wrapping", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (b) => {
        expect(parseCounter(b.toString())).toBe(Number(b));
      }),
    );
  });

  test("a limit just below 2^62 stays a number even though it rounds to 2^62 as a double", () => {
    expect(parseLimit((UNLIMITED_AT - 1n).toString())).toBe(Number(UNLIMITED_AT - 1n));
    expect(parseLimit(UNLIMITED_AT.toString())).toBeNull();
  });

  test("max, -1 and the v1 page-counter maximum all mean unlimited", () => {
    expect(parseLimit("max")).toBeNull();
    expect(parseLimit("-1")).toBeNull();
    expect(parseLimit("9223372036854771712")).toBeNull();
    expect(parseLimit("18446744073709551615")).toBeNull();
  });

  test("limits below 2^62 are exact and at or above are unlimited", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n }), (b) => {
        expect(parseLimit(b.toString())).toBe(b >= UNLIMITED_AT ? null : Number(b));
      }),
    );
  });

  test("nanoseconds become whole microseconds without double rounding", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (ns) => {
        expect(parseNsAsUsec(ns.toString())).toBe(Number(ns / 1000n));
      }),
    );
  });

  test("non-numbers are rejected rather than coerced", () => {
    for (const s of ["", " ", "1.5", "0x10", "1e3", "+1", "12a", "Infinity", "NaN"]) {
      expect(parseCounter(s)).toBeUndefined();
    }
    expect(parseCounter("-1")).toBeUndefined();
  });

  test("no counter is wider than the kernel's u64, so none converts to Infinity", () => {
    expect(parseCounter((2n ** 64n - 1n).toString())).toBe(2 ** 64);
    expect(parseCounter((2n ** 64n).toString())).toBeUndefined();
    expect(parseCounter("9".repeat(400))).toBeUndefined();
    expect(parseNsAsUsec("9".repeat(400))).toBeUndefined();
  });
});

describe("flat keyed files", () => {
  test("extra spaces, tabs, CRLF and blank lines do not change the fields", () => {
    const r = flatKeyed("\n  a 1 \r\n\tb\t\t2\n\n", "f");
    expect(r.ok && [...r.value]).toEqual([
      ["a", "1"],
      ["b", "2"],
    ]);
  });

  test("a line with three tokens is an error naming the line", () => {
    const r = flatKeyed("a 1\nb 2 3\n", "f");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ kind: "parse", file: "f", line: 2 });
  });
});
