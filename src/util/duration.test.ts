import fc from "fast-check";
import { fuzzInput, fuzzRuns, isCount } from "../../test/fuzz.js";
import { DURATION_SCHEMA_PATTERN, formatDuration, parseDuration } from "./duration.js";

describe("durations", () => {
  it.each([
    ["500ms", 500],
    ["1s", 1000],
    ["1.5s", 1500],
    ["5m", 300000],
    ["12h", 43200000],
    ["1h30m", 5400000],
  ])("parses %s", (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, value: ms });
  });

  it.each(["", "5", "1x", "s", "-1s", "1s2"])("rejects %p with a message that shows the expected form", (text) => {
    const parsed = parseDuration(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/500ms, 1s, 5m, 12h/);
  });

  it("accepts exactly what the schema pattern accepts, around white space", () => {
    const pattern = new RegExp(DURATION_SCHEMA_PATTERN);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 8 }), fc.stringMatching(/^\s?[0-9]{1,3}(ms|s|m|h|d)\s?$/)), (text) => {
        // parseDuration forgives surrounding white space (flags and YAML carry it); the pattern does not.
        expect(parseDuration(text).ok).toBe(pattern.test(text.trim()));
      }),
    );
  });

  it("formats what it parses back to the same milliseconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 86_400_000 }), (ms) => {
        const rounded = ms < 1000 ? ms : ms < 60000 ? Math.round(ms / 100) * 100 : Math.round(ms / 1000) * 1000;
        const parsed = parseDuration(formatDuration(rounded));
        expect(parsed.ok).toBe(true);
        if (parsed.ok) expect(parsed.value).toBe(rounded);
      }),
    );
  });

  it("fuzzed: never throws, and a parsed duration is a whole, safe, non-negative number of milliseconds", () => {
    const valid = fc.array(fc.tuple(fc.nat(100_000), fc.option(fc.nat(999), { nil: undefined }), fc.constantFrom("ms", "s", "m", "h", "d")), { minLength: 1, maxLength: 4 })
      .map((parts) => parts.map(([n, frac, unit]) => `${n}${frac === undefined ? "" : `.${frac}`}${unit}`).join(""));
    fc.assert(
      fc.property(fuzzInput(valid), (text) => {
        const parsed = parseDuration(text);
        return parsed.ok ? isCount(parsed.value) && Number.isSafeInteger(parsed.value) : typeof parsed.error === "string";
      }),
      { numRuns: fuzzRuns() },
    );
  });

  it("a duration too long to count in milliseconds is rejected, not returned as Infinity", () => {
    const overflow = parseDuration(`${"9".repeat(400)}s`);
    expect(overflow.ok).toBe(false);
    if (!overflow.ok) expect(overflow.error).toMatch(/too long/);
    expect(parseDuration("999999999999999d").ok).toBe(false);
    expect(parseDuration("104249991d")).toEqual({ ok: true, value: 104249991 * 86_400_000 });
  });
});
