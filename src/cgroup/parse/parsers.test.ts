import fc from "fast-check";
import { anyText, fuzzInput, fuzzRuns, isCount, isNonNegative } from "../../../test/fuzz.js";
import type { ParseError, Result } from "../../util/result.js";
import {
  renderCpuMax,
  renderCpuStatV1,
  renderCpuStatV2,
  renderIoStat,
  renderMemoryEvents,
  renderMemoryStatV1,
  renderMemoryStatV2,
  renderOomControl,
  renderPressure,
  renderSingle,
  renderV2Limit,
  V1_UNLIMITED_BYTES,
} from "../render.js";
import { parsePressure, parsePressureTotals, psiTotals } from "./psi.js";
import {
  parseCfsPeriodUs,
  parseCfsQuotaUs,
  parseCpuacctUsage,
  parseCpuShares,
  parseCpuStatV1,
  parseMemoryFailcnt,
  parseMemoryLimitInBytes,
  parseInactiveFileV1,
  parseMemoryStatV1,
  parseMemoryUsageInBytes,
  parseOomControl,
  sharesToWeight,
} from "./v1.js";
import {
  parseCpuMax,
  parseCpuStatV2,
  parseCpuWeight,
  parseInactiveFileV2,
  parseIoStat,
  parseMemoryCurrent,
  parseMemoryEvents,
  parseMemoryHigh,
  parseMemoryMax,
  parseMemoryStatV2,
} from "./v2.js";

const U64 = 2n ** 64n - 1n;
const counter = fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: U64 }));
const limit = fc.oneof(fc.constant(null), fc.bigInt({ min: 0n, max: 2n ** 63n }), fc.bigInt({ min: 0n, max: 2n ** 40n }));
const asLimit = (b: bigint | null): number | null => (b === null || b >= 2n ** 62n ? null : Number(b));
const hundredths = fc.integer({ min: 0, max: 10000 }).map((n) => n / 100);

/** Inputs that look partly like kernel files, to reach the parsers' deeper branches. */
const soupToken = fc.constantFrom(
  "some", "full", "avg10=", "avg60=1.00", "avg300=0.5", "total=", "total=7", "max", "-1", "0", "1", "100000",
  "18446744073709551616", "9223372036854771712", "usage_usec", "user_usec", "system_usec", "nr_periods", "nr_throttled",
  "throttled_time", "inactive_file", "total_inactive_file", "oom_kill", "oom_kill_disable", "under_oom", "low", "high",
  "oom", "8:0", "rbytes=1", "wbytes=", "rios=2", "wios=3", "=", ":", "\n", " ", "\t", "\r\n", "ä", "\u0000", "__proto__",
  "constructor", "1.5", "1e9",
);
const soup = fc.oneof(fc.array(soupToken, { maxLength: 40 }).map((a) => a.join("")), fc.array(soupToken, { maxLength: 40 }).map((a) => a.join(" ")));

const psiValues = fc.record({ avg10: hundredths, avg60: hundredths, avg300: hundredths, totalUsec: counter });
const single = counter.map(renderSingle);
const v1Limit = limit.map((b) => renderSingle(b ?? V1_UNLIMITED_BYTES));

/** A count, or absent where the field is optional. */
const optCount = (n: unknown): boolean => n === undefined || isCount(n);
const limitValue = (n: number | null): boolean => n === null || (isCount(n) && n < 2 ** 62);
const memoryStat = (v: { inactiveFileBytes: number; fields: ReadonlyMap<string, number> }): boolean =>
  isCount(v.inactiveFileBytes) && [...v.fields.values()].every(Number.isInteger);

interface FuzzCase {
  readonly name: string;
  readonly parse: (text: string) => Result<unknown, ParseError>;
  readonly valid: fc.Arbitrary<string>;
  /** Whether a parsed value has the types and ranges its interface promises. */
  readonly typed: (value: never) => boolean;
}

function fuzzCase<T>(name: string, parse: (text: string) => Result<T, ParseError>, valid: fc.Arbitrary<string>, typed: (value: T) => boolean): FuzzCase {
  return { name, parse, valid, typed };
}

const fuzzCases: readonly FuzzCase[] = [
  fuzzCase("cpu.stat (v2)", parseCpuStatV2, fc.record({ usageUsec: counter, userUsec: counter, systemUsec: counter, throttling: fc.record({ nrPeriods: counter, nrThrottled: counter, throttledUsec: counter }) }).map(renderCpuStatV2),
    (v) => isCount(v.usageUsec) && isCount(v.userUsec) && isCount(v.systemUsec) && optCount(v.nrPeriods) && optCount(v.nrThrottled) && optCount(v.throttledUsec)),
  fuzzCase("cpu.max", parseCpuMax, fc.tuple(limit, counter).map(([q, p]) => renderCpuMax(q, p)), (v) => limitValue(v.quotaUsec) && isCount(v.periodUsec) && v.periodUsec > 0),
  fuzzCase("cpu.weight", parseCpuWeight, single, isCount),
  fuzzCase("memory.current", parseMemoryCurrent, single, isCount),
  fuzzCase("memory.max", parseMemoryMax, limit.map(renderV2Limit), limitValue),
  fuzzCase("memory.high", parseMemoryHigh, limit.map(renderV2Limit), limitValue),
  fuzzCase("memory.stat (v2)", parseMemoryStatV2, fc.dictionary(fc.constantFrom("anon", "inactive_file", "file"), counter).map(renderMemoryStatV2), memoryStat),
  fuzzCase("memory.stat (v2) inactive_file", parseInactiveFileV2, fc.dictionary(fc.constantFrom("anon", "inactive_file"), counter).map(renderMemoryStatV2), isCount),
  fuzzCase("memory.events", parseMemoryEvents, fc.record({ low: counter, high: counter, max: counter, oom: counter, oomKill: counter, oomGroupKill: counter }).map(renderMemoryEvents),
    (v) => [v.low, v.high, v.max, v.oom, v.oomKill].every(isCount) && optCount(v.oomGroupKill)),
  fuzzCase("io.stat", parseIoStat, fc.array(fc.record({ major: fc.nat(4095), minor: fc.nat(1 << 20), readBytes: fc.nat(), writeBytes: fc.nat(), readIos: fc.nat(), writeIos: fc.nat(), discardBytes: fc.nat(), discardIos: fc.nat() }), { maxLength: 4 }).map(renderIoStat),
    (ds) => ds.every((d) => Object.values(d).every(isCount))),
  fuzzCase("*.pressure", (t) => parsePressure(t), fc.tuple(psiValues, fc.option(psiValues, { nil: undefined })).map(([s, f]) => renderPressure(s, f)),
    (p) => [p.some, ...(p.full ? [p.full] : [])].every((l) => isNonNegative(l.avg10) && isNonNegative(l.avg60) && isNonNegative(l.avg300) && isCount(l.totalUsec))),
  fuzzCase("cpuacct.usage", parseCpuacctUsage, single, (v) => isCount(v.usageUsec)),
  fuzzCase("cpu.stat (v1)", parseCpuStatV1, fc.record({ nrPeriods: counter, nrThrottled: counter, throttledNs: counter }).map(renderCpuStatV1),
    (v) => isCount(v.nrPeriods) && isCount(v.nrThrottled) && isCount(v.throttledUsec)),
  fuzzCase("cpu.cfs_quota_us", parseCfsQuotaUs, fc.oneof(single, fc.constant("-1\n")), limitValue),
  fuzzCase("cpu.cfs_period_us", parseCfsPeriodUs, single, (v) => isCount(v) && v > 0),
  fuzzCase("cpu.shares", parseCpuShares, single, isCount),
  fuzzCase("memory.usage_in_bytes", parseMemoryUsageInBytes, single, isCount),
  fuzzCase("memory.limit_in_bytes", parseMemoryLimitInBytes, v1Limit, limitValue),
  fuzzCase("memory.stat (v1)", parseMemoryStatV1, fc.tuple(fc.dictionary(fc.constantFrom("rss", "inactive_file"), counter), limit).map(([v, l]) => renderMemoryStatV1(v, l)),
    (v) => memoryStat(v) && optCount(v.totalInactiveFileBytes)),
  fuzzCase("memory.stat (v1) inactive_file", parseInactiveFileV1, fc.tuple(fc.dictionary(fc.constantFrom("rss", "inactive_file"), counter), limit).map(([v, l]) => renderMemoryStatV1(v, l)), isCount),
  fuzzCase("memory.oom_control", parseOomControl, fc.record({ oomKillDisable: fc.boolean(), underOom: fc.boolean(), oomKills: counter }).map(renderOomControl),
    (v) => typeof v.oomKillDisable === "boolean" && typeof v.underOom === "boolean" && optCount(v.oomKills)),
  fuzzCase("memory.failcnt", parseMemoryFailcnt, single, isCount),
];

describe.each(fuzzCases)("$name parser, fuzzed", ({ name, parse, valid, typed }) => {
  test("fuzzed: never throws, and returns either a ParseError or a value of the promised types and ranges", () => {
    fc.assert(
      fc.property(fc.oneof(fuzzInput(valid), soup), (text) => {
        const r = parse(text);
        if (r.ok) expect((typed as (v: unknown) => boolean)(r.value)).toBe(true);
        else {
          expect(r.error.kind).toBe("parse");
          expect(typeof r.error.message).toBe("string");
        }
      }),
      { numRuns: fuzzRuns() },
    );
  });

  test("an empty file is a ParseError, not a value of zeros", () => {
    // io.stat is the exception: no device has seen I/O yet.
    if (name === "io.stat") expect(parse("").ok).toBe(true);
    else expect(parse("").ok).toBe(false);
  });
});

describe("inputs the fuzzing found", () => {
  const huge = "9".repeat(400);

  test("a counter longer than any u64 is an error, not Infinity", () => {
    expect(parseMemoryCurrent(`${huge}\n`).ok).toBe(false);
    expect(parseCpuWeight("18446744073709551616\n").ok).toBe(false);
    expect(parseMemoryCurrent("18446744073709551615\n")).toEqual({ ok: true, value: 2 ** 64 });
    expect(parseCpuacctUsage(`${huge}\n`).ok).toBe(false);
    expect(parseCpuStatV1(`nr_periods 1\nnr_throttled 1\nthrottled_time ${huge}\n`).ok).toBe(false);
    expect(parseMemoryEvents(`low 0\nhigh 0\nmax ${huge}\noom 0\noom_kill 0\n`).ok).toBe(false);
    expect(parseCpuMax(`max ${huge}\n`).ok).toBe(false);
  });

  test("a memory.stat value longer than any u64 is an error on the fast path and the general one alike", () => {
    const text = `anon 18446744073709551616\ninactive_file 7\n`;
    expect(parseMemoryStatV2(text).ok).toBe(false);
    expect(parseInactiveFileV2(text).ok).toBe(false);
  });

  test("a negative inactive_file is an error, so the working set is never inflated", () => {
    expect(parseMemoryStatV2("anon 1\ninactive_file -4096\n").ok).toBe(false);
    expect(parseInactiveFileV2("anon 1\ninactive_file -4096\n").ok).toBe(false);
    expect(parseMemoryStatV1("inactive_file 1\ntotal_inactive_file -4096\n").ok).toBe(false);
    expect(parseInactiveFileV1("inactive_file 1\ntotal_inactive_file -4096\n").ok).toBe(false);
    // Other memory.stat keys stay signed.
    expect(parseMemoryStatV2("inactive_file 0\nzz_delta -3\n").ok).toBe(true);
  });

  test("a PSI average too long for a double is an error, not Infinity", () => {
    expect(parsePressure(`some avg10=${huge} avg60=0.00 avg300=0.00 total=5\n`).ok).toBe(false);
    expect(parsePressure(`some avg10=0.${huge} avg60=0.00 avg300=0.00 total=5\n`)).toEqual({ ok: true, value: { some: { avg10: 1, avg60: 0, avg300: 0, totalUsec: 5 } } });
  });

  test("an io.stat device number beyond 32 bits is an error, not Infinity", () => {
    expect(parseIoStat(`${huge}:0 rbytes=1 wbytes=2 rios=3 wios=4\n`).ok).toBe(false);
    expect(parseIoStat("8:4294967296 rbytes=1 wbytes=2 rios=3 wios=4\n").ok).toBe(false);
    expect(parseIoStat("8:4294967295 rbytes=1 wbytes=2 rios=3 wios=4\n").ok).toBe(true);
  });
});

/** Lines in any order, with unknown keys mixed in and sloppy whitespace, as a tolerant parser must accept. */
function sloppy(lines: readonly string[], unknown: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.shuffledSubarray([...lines, ...unknown], { minLength: lines.length + unknown.length }), fc.constantFrom(" ", "  ", "\t"), fc.constantFrom("\n", "\n\n", ""))
    .map(([shuffled, gap, tail]) => shuffled.map((l) => l.replace(" ", gap)).join("\n") + tail);
}
const unknownKeys = fc.uniqueArray(fc.stringMatching(/^zz_[a-z_]{1,10}$/), { maxLength: 4 }).map((ks) => ks.map((k) => `${k} 42`));

/** A parsed value without memory.stat's `fields` map, which includes unknown keys by design. */
function known(value: unknown): unknown {
  if (value === null || typeof value !== "object" || !("fields" in value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== "fields"));
}

describe("flat-keyed parsers tolerate layout noise", () => {
  const cases: readonly (readonly [string, (text: string) => Result<unknown, ParseError>, readonly string[]])[] = [
    ["cpu.stat (v2)", parseCpuStatV2, ["usage_usec 10", "user_usec 7", "system_usec 3", "nr_periods 5", "nr_throttled 2", "throttled_usec 900"]],
    ["memory.events", parseMemoryEvents, ["low 0", "high 3", "max 2", "oom 1", "oom_kill 1", "oom_group_kill 0"]],
    ["cpu.stat (v1)", parseCpuStatV1, ["nr_periods 61", "nr_throttled 52", "throttled_time 1737131501"]],
    ["memory.oom_control", parseOomControl, ["oom_kill_disable 0", "under_oom 1", "oom_kill 4"]],
    ["memory.stat (v2)", parseMemoryStatV2, ["anon 4096", "file 8192", "inactive_file 4096", "active_file 4096"]],
    ["memory.stat (v1)", parseMemoryStatV1, ["rss 4096", "inactive_file 4096", "total_inactive_file 8192"]],
  ];

  test.each(cases)("%s parses the same in any line order, among unknown keys, with extra whitespace", (_name, parse, canonical) => {
    const want = parse(canonical.join("\n") + "\n");
    expect(want.ok).toBe(true);
    fc.assert(
      fc.property(
        unknownKeys.chain((u) => sloppy(canonical, u)),
        (text) => {
          const got = parse(text);
          // memory.stat keeps unknown keys too, so compare what does not depend on them.
          expect(got.ok && known(got.value)).toEqual(want.ok && known(want.value));
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe("cgroup v2 parsers", () => {
  test("cpu.stat round-trips, with and without the throttling fields", () => {
    fc.assert(
      fc.property(counter, counter, counter, fc.option(fc.tuple(counter, counter, counter), { nil: undefined }), (usage, user, system, thr) => {
        const text = renderCpuStatV2({
          usageUsec: usage,
          userUsec: user,
          systemUsec: system,
          ...(thr ? { throttling: { nrPeriods: thr[0], nrThrottled: thr[1], throttledUsec: thr[2] } } : {}),
        });
        const r = parseCpuStatV2(text);
        expect(r).toEqual({
          ok: true,
          value: {
            usageUsec: Number(usage),
            userUsec: Number(user),
            systemUsec: Number(system),
            ...(thr ? { nrPeriods: Number(thr[0]), nrThrottled: Number(thr[1]), throttledUsec: Number(thr[2]) } : {}),
          },
        });
      }),
    );
  });

  test("cpu.stat keys are found in any order among unknown keys and extra whitespace", () => {
    fc.assert(
      fc.property(
        unknownKeys.chain((u) => sloppy(["usage_usec 10", "user_usec 7", "system_usec 3", "nr_periods 5", "nr_throttled 2", "throttled_usec 900"], u)),
        (text) => {
          expect(parseCpuStatV2(text)).toEqual({ ok: true, value: { usageUsec: 10, userUsec: 7, systemUsec: 3, nrPeriods: 5, nrThrottled: 2, throttledUsec: 900 } });
        },
      ),
    );
  });

  test("the usage-only cpu.stat of a hybrid unified tree parses without throttling fields", () => {
    const r = parseCpuStatV2("usage_usec 220073729\nuser_usec 182854819\nsystem_usec 37218910\nnice_usec 106491025\n");
    expect(r).toEqual({ ok: true, value: { usageUsec: 220073729, userUsec: 182854819, systemUsec: 37218910 } });
  });

  test("cpu.stat without usage_usec is an error naming the key", () => {
    const r = parseCpuStatV2("user_usec 1\nsystem_usec 2\n");
    expect(!r.ok && r.error.message).toContain("usage_usec");
  });

  test("cpu.max round-trips quota and period, max meaning no quota", () => {
    fc.assert(
      fc.property(fc.option(fc.integer({ min: 1000, max: 2 ** 40 }), { nil: null }), fc.integer({ min: 1000, max: 1_000_000 }), (quota, period) => {
        expect(parseCpuMax(renderCpuMax(quota, period))).toEqual({ ok: true, value: { quotaUsec: quota, periodUsec: period } });
      }),
    );
    expect(parseCpuMax("max 100000\n")).toEqual({ ok: true, value: { quotaUsec: null, periodUsec: 100000 } });
    expect(parseCpuMax("50000 100000")).toEqual({ ok: true, value: { quotaUsec: 50000, periodUsec: 100000 } });
  });

  test("a cpu.max period of 0 is rejected so no caller divides by zero", () => {
    expect(parseCpuMax("50000 0").ok).toBe(false);
    expect(parseCpuMax("50000 100000 7").ok).toBe(false);
  });

  test("memory.max and memory.high round-trip, max and ≥ 2^62 meaning unlimited", () => {
    fc.assert(
      fc.property(limit, (b) => {
        expect(parseMemoryMax(renderV2Limit(b))).toEqual({ ok: true, value: asLimit(b) });
        expect(parseMemoryHigh(`  ${renderV2Limit(b)}\n`)).toEqual({ ok: true, value: asLimit(b) });
      }),
    );
  });

  test("memory.current and cpu.weight round-trip", () => {
    fc.assert(
      fc.property(counter, fc.integer({ min: 1, max: 10000 }), (bytes, weight) => {
        expect(parseMemoryCurrent(renderSingle(bytes))).toEqual({ ok: true, value: Number(bytes) });
        expect(parseCpuWeight(renderSingle(weight))).toEqual({ ok: true, value: weight });
      }),
    );
  });

  test("memory.stat keeps every key, including unknown ones, and exposes inactive_file", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom("anon", "file", "inactive_file", "active_file", "shmem"), counter), counter, (values, inactive) => {
        const text = renderMemoryStatV2({ ...values, inactive_file: inactive }) + "zz_future_key 5\n";
        const r = parseMemoryStatV2(text);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.value.inactiveFileBytes).toBe(Number(inactive));
        expect(r.value.fields.get("anon")).toBe(Number(values.anon ?? 0n));
        expect(r.value.fields.get("zz_future_key")).toBe(5);
        expect(r.value.fields.size).toBeGreaterThan(50);
      }),
    );
  });

  test("memory.stat without inactive_file is an error, since the working set needs it", () => {
    expect(parseMemoryStatV2("anon 1\nfile 2\n").ok).toBe(false);
  });

  test("memory.events round-trips, oom_group_kill optional for kernels before 5.17", () => {
    fc.assert(
      fc.property(counter, counter, counter, counter, counter, fc.option(counter, { nil: undefined }), (low, high, max, oom, oomKill, group) => {
        const text = renderMemoryEvents({ low, high, max, oom, oomKill, ...(group === undefined ? {} : { oomGroupKill: group }) });
        expect(parseMemoryEvents(text)).toEqual({
          ok: true,
          value: {
            low: Number(low),
            high: Number(high),
            max: Number(max),
            oom: Number(oom),
            oomKill: Number(oomKill),
            ...(group === undefined ? {} : { oomGroupKill: Number(group) }),
          },
        });
      }),
    );
  });

  const device = fc.record({
    major: fc.integer({ min: 0, max: 4095 }),
    minor: fc.integer({ min: 0, max: 1 << 20 }),
    readBytes: fc.nat(),
    writeBytes: fc.nat(),
    readIos: fc.nat(),
    writeIos: fc.nat(),
    discardBytes: fc.nat(),
    discardIos: fc.nat(),
  });

  test("io.stat round-trips every device", () => {
    fc.assert(
      fc.property(fc.array(device, { maxLength: 5 }), (devices) => {
        expect(parseIoStat(renderIoStat(devices))).toEqual({ ok: true, value: devices });
      }),
    );
  });

  test("io.stat ignores io.cost and io.latency pairs and defaults missing discard fields to 0", () => {
    const r = parseIoStat("259:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0 cost.vrate=135.23 cost.usage=0 cost.wait=0\n8:0 rbytes=1 wbytes=2 rios=3 wios=4\n");
    expect(r).toEqual({
      ok: true,
      value: [
        { major: 259, minor: 0, readBytes: 4096, writeBytes: 8192, readIos: 1, writeIos: 2, discardBytes: 0, discardIos: 0 },
        { major: 8, minor: 0, readBytes: 1, writeBytes: 2, readIos: 3, writeIos: 4, discardBytes: 0, discardIos: 0 },
      ],
    });
  });

  test("an io.stat line without a device number is an error naming the line", () => {
    const r = parseIoStat("8:0 rbytes=1 wbytes=2 rios=3 wios=4\nrbytes=1\n");
    expect(!r.ok && r.error.line).toBe(2);
  });
});

describe("PSI parser", () => {
  const psiLine = fc.record({ avg10: hundredths, avg60: hundredths, avg300: hundredths, totalUsec: fc.bigInt({ min: 0n, max: U64 }) });

  test("some and full lines round-trip; full may be absent (node cpu before 5.13)", () => {
    fc.assert(
      fc.property(psiLine, fc.option(psiLine, { nil: undefined }), (some, full) => {
        const asLine = (l: typeof some): { avg10: number; avg60: number; avg300: number; totalUsec: number } => ({ ...l, totalUsec: Number(l.totalUsec) });
        const r = parsePressure(renderPressure(some, full));
        expect(r).toEqual({ ok: true, value: full === undefined ? { some: asLine(some) } : { some: asLine(some), full: asLine(full) } });
      }),
    );
  });

  test("a real cgroup cpu.pressure yields cumulative some and full totals", () => {
    const r = parsePressure("some avg10=32.77 avg60=6.87 avg300=1.47 total=4516792\nfull avg10=32.77 avg60=6.87 avg300=1.47 total=4516792\n");
    expect(r.ok && psiTotals(r.value)).toEqual({ someTotalUsec: 4516792, fullTotalUsec: 4516792 });
  });

  test("cpu.pressure without a full line parses with some only", () => {
    const r = parsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=12\n");
    expect(r.ok && psiTotals(r.value)).toEqual({ someTotalUsec: 12 });
  });

  test("a pressure file without a some line is an error", () => {
    expect(parsePressure("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n").ok).toBe(false);
  });

  test("a non-numeric total is an error naming the line", () => {
    const r = parsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=x\n", "io.pressure");
    expect(!r.ok && r.error).toMatchObject({ file: "io.pressure", line: 2 });
  });

  test("kernel-shaped text (the totals' fast path) parses to exactly what the same values with other spacing parse to", () => {
    // Decimals with any number of digits, so the fast path's checks meet the general parser's on
    // values the kernel never prints, and totals past 15 digits, which the fast path hands over.
    const decimal = fc.tuple(fc.stringMatching(/^\d{1,9}$/), fc.option(fc.stringMatching(/^\d{1,9}$/), { nil: undefined })).map(([i, f]) => (f === undefined ? i : `${i}.${f}`));
    const line = (kind: string) =>
      fc.tuple(decimal, decimal, decimal, fc.oneof(fc.stringMatching(/^\d{1,15}$/), fc.bigInt({ min: 0n, max: U64 }).map(String))).map(
        ([a, b, c, total]) => [kind, `avg10=${a}`, `avg60=${b}`, `avg300=${c}`, `total=${total}`],
      );
    fc.assert(
      fc.property(line("some"), fc.option(line("full"), { nil: undefined }), fc.constantFrom("  ", "\t"), (some, full, gap) => {
        const lines = full === undefined ? [some] : [some, full];
        const kernel = lines.map((l) => `${l.join(" ")}\n`).join("");
        const other = lines.map((l) => `${l.join(gap)}\n`).join("");
        const got = parsePressure(kernel);
        expect(got.ok).toBe(true);
        expect(got).toEqual(parsePressure(other));
        const totals = parsePressureTotals(kernel);
        expect(totals).toEqual(got.ok ? { ok: true, value: psiTotals(got.value) } : got);
      }),
      { numRuns: 500 },
    );
  });

  test("near-kernel text that the fast path refuses still gets the general path's answer", () => {
    const cases = [
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=5",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=5\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=6",
      "some avg10=1. avg60=0.00 avg300=0.00 total=5\n",
      "some avg10=.5 avg60=0.00 avg300=0.00 total=5\n",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=1.5\n",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=5 \n",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=5\r\n",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n\n",
      "some avg10=0.00 avg300=0.00 avg60=0.00 total=5\n",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=5\nnew avg10=0.00 total=1\n",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=5\nsome avg10=0.00 avg60=0.00 avg300=0.00 total=7\n",
      "full avg10=0.00 avg60=0.00 avg300=0.00 total=6\nsome avg10=0.00 avg60=0.00 avg300=0.00 total=5\n",
    ];
    const zero = (totalUsec: number) => ({ avg10: 0, avg60: 0, avg300: 0, totalUsec });
    expect(cases.map((text) => parsePressure(text)).map((r) => (r.ok ? r.value : { errorLine: r.error.line }))).toEqual([
      { some: zero(5) },
      { some: zero(5), full: zero(6) },
      { errorLine: 1 },
      { errorLine: 1 },
      { errorLine: 1 },
      { some: zero(5) },
      { some: zero(5) },
      { some: zero(5) },
      { some: zero(5) },
      { some: zero(5) },
      { some: zero(7) },
      { some: zero(5), full: zero(6) },
    ]);
  });
});

describe("PSI totals alone, as the reader parses pressure files", () => {
  const viaFullParse = (text: string, file: string) => {
    const r = parsePressure(text, file);
    return r.ok ? { ok: true, value: psiTotals(r.value) } : r;
  };
  const digits = (max: number) => fc.stringMatching(new RegExp(`^\\d{1,${max}}$`));
  const decimal = fc.tuple(digits(9), fc.option(digits(9), { nil: undefined })).map(([i, f]) => (f === undefined ? i : `${i}.${f}`));
  const total = fc.oneof(digits(15), fc.bigInt({ min: 0n, max: U64 }).map(String), fc.constantFrom("1.5", "x", "", "-1"));
  const line = fc
    .tuple(fc.constantFrom("some", "full", "new"), decimal, decimal, decimal, total, fc.constantFrom(" ", " ", " ", "  ", "\t"))
    .map(([kind, a, b, c, t, gap]) => [kind, `avg10=${a}`, `avg60=${b}`, `avg300=${c}`, `total=${t}`].join(gap));
  // Kernel-shaped files and their breakage: other kinds and orders of lines, other spacing, endings, bad numbers.
  const nearKernel = fc.tuple(fc.array(line, { minLength: 1, maxLength: 3 }), fc.constantFrom("\n", "", "\n\n", "\r\n")).map(([lines, end]) => lines.join("\n") + end);

  test("are exactly the full parse's totals, or its error, for kernel text, near-kernel text and soup", () => {
    fc.assert(
      fc.property(fc.oneof(nearKernel, soup), (text) => {
        expect(parsePressureTotals(text, "io.pressure")).toEqual(viaFullParse(text, "io.pressure"));
      }),
      { numRuns: 2000 },
    );
  });

  test("a real cpu.pressure gives both totals, without full only some, and a bad total names file and line", () => {
    expect(parsePressureTotals("some avg10=32.77 avg60=6.87 avg300=1.47 total=4516792\nfull avg10=32.77 avg60=6.87 avg300=1.47 total=4516793\n")).toEqual({ ok: true, value: { someTotalUsec: 4516792, fullTotalUsec: 4516793 } });
    expect(parsePressureTotals("some avg10=0.00 avg60=0.00 avg300=0.00 total=12\n")).toEqual({ ok: true, value: { someTotalUsec: 12 } });
    const bad = parsePressureTotals("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=x\n", "cpu.pressure");
    expect(!bad.ok && bad.error).toMatchObject({ file: "cpu.pressure", line: 2 });
  });
});

describe("inactive_file alone, as the reader parses memory.stat", () => {
  const v2 = (text: string) => {
    const r = parseMemoryStatV2(text);
    return r.ok ? { ok: true, value: r.value.inactiveFileBytes } : r;
  };
  const v1 = (text: string) => {
    const r = parseMemoryStatV1(text);
    return r.ok ? { ok: true, value: r.value.totalInactiveFileBytes ?? r.value.inactiveFileBytes } : r;
  };
  const value = fc.oneof(counter.map(String), fc.constantFrom("-1", "007", "", "1 2", "x", "18446744073709551616"));
  const key = fc.oneof(fc.constantFrom("inactive_file", "total_inactive_file", "anon", "hierarchical_memory_limit", "inactive_file_x"), fc.stringMatching(/^[a-z_]{1,12}$/));
  // Kernel-shaped lines with every kind of value, duplicated keys, and some breakage (blank lines, tabs, double spaces).
  const nearKernel = fc
    .tuple(fc.array(fc.tuple(key, value), { maxLength: 12 }), fc.constantFrom("\n", "", "\n\n"), fc.constantFrom(" ", " ", " ", "  ", "\t"))
    .map(([pairs, tail, gap]) => pairs.map(([k, v]) => `${k}${gap}${v}`).join("\n") + tail);
  const cases: readonly (readonly [string, (text: string) => unknown, (text: string) => unknown, fc.Arbitrary<string>])[] = [
    ["v2", parseInactiveFileV2, v2, fc.record({ inactive_file: counter, anon: counter }).map((v) => renderMemoryStatV2(v))],
    ["v1", parseInactiveFileV1, v1, fc.tuple(fc.record({ inactive_file: counter }), fc.option(limit, { nil: null }), fc.record({ inactive_file: counter })).map(([v, l, t]) => renderMemoryStatV1(v, l, t))],
  ];

  test.each(cases)("%s: the same value or error as the full memory.stat parser, on any text", (_name, fast, full, rendered) => {
    fc.assert(
      fc.property(fc.oneof(anyText, soup, nearKernel, rendered), (text) => {
        expect(fast(text)).toEqual(full(text));
      }),
      { numRuns: 1500 },
    );
  });
});

describe("cgroup v1 parsers", () => {
  test("cpuacct.usage nanoseconds become microseconds exactly, beyond 2^53", () => {
    fc.assert(
      fc.property(counter, (ns) => {
        expect(parseCpuacctUsage(renderSingle(ns))).toEqual({ ok: true, value: { usageUsec: Number(ns / 1000n) } });
      }),
    );
  });

  test("cpu.stat round-trips with throttled_time in nanoseconds converted to microseconds", () => {
    fc.assert(
      fc.property(counter, counter, counter, (periods, throttled, ns) => {
        expect(parseCpuStatV1(renderCpuStatV1({ nrPeriods: periods, nrThrottled: throttled, throttledNs: ns }))).toEqual({
          ok: true,
          value: { nrPeriods: Number(periods), nrThrottled: Number(throttled), throttledUsec: Number(ns / 1000n) },
        });
      }),
    );
  });

  test("a real throttled v1 cpu.stat parses", () => {
    const r = parseCpuStatV1("nr_periods 61\nnr_throttled 52\nthrottled_time 1737131501\nnr_bursts 0\nburst_time 0\n");
    expect(r).toEqual({ ok: true, value: { nrPeriods: 61, nrThrottled: 52, throttledUsec: 1737131 } });
  });

  test("cfs_quota_us of -1 means no quota, and positive quotas round-trip", () => {
    expect(parseCfsQuotaUs("-1\n")).toEqual({ ok: true, value: null });
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 2 ** 40 }), (q) => {
        expect(parseCfsQuotaUs(renderSingle(q))).toEqual({ ok: true, value: q });
      }),
    );
  });

  test("cfs_period_us and shares round-trip; a zero period is rejected", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 1_000_000 }), fc.integer({ min: 2, max: 262144 }), (period, shares) => {
        expect(parseCfsPeriodUs(renderSingle(period))).toEqual({ ok: true, value: period });
        expect(parseCpuShares(renderSingle(shares))).toEqual({ ok: true, value: shares });
      }),
    );
    expect(parseCfsPeriodUs("0\n").ok).toBe(false);
  });

  test("memory.limit_in_bytes round-trips; the v1 unlimited value is null", () => {
    expect(parseMemoryLimitInBytes(`${V1_UNLIMITED_BYTES}\n`)).toEqual({ ok: true, value: null });
    fc.assert(
      fc.property(limit, (b) => {
        const text = renderSingle(b ?? V1_UNLIMITED_BYTES);
        expect(parseMemoryLimitInBytes(text)).toEqual({ ok: true, value: asLimit(b) });
      }),
    );
  });

  test("memory.usage_in_bytes and memory.failcnt round-trip", () => {
    fc.assert(
      fc.property(counter, counter, (usage, fails) => {
        expect(parseMemoryUsageInBytes(renderSingle(usage))).toEqual({ ok: true, value: Number(usage) });
        expect(parseMemoryFailcnt(renderSingle(fails))).toEqual({ ok: true, value: Number(fails) });
      }),
    );
  });

  test("memory.stat exposes both the local and the hierarchical inactive_file", () => {
    fc.assert(
      fc.property(counter, counter, (local, total) => {
        const r = parseMemoryStatV1(renderMemoryStatV1({ inactive_file: local }, 1n << 30n, { inactive_file: total }));
        expect(r.ok && [r.value.inactiveFileBytes, r.value.totalInactiveFileBytes]).toEqual([Number(local), Number(total)]);
      }),
    );
  });

  test("memory.oom_control round-trips; oom_kill is optional for kernels before 4.13", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.option(counter, { nil: undefined }), (disable, under, kills) => {
        const text = renderOomControl({ oomKillDisable: disable, underOom: under, ...(kills === undefined ? {} : { oomKills: kills }) });
        expect(parseOomControl(text)).toEqual({
          ok: true,
          value: { oomKillDisable: disable, underOom: under, ...(kills === undefined ? {} : { oomKills: Number(kills) }) },
        });
      }),
    );
  });

  test("cpu.shares convert to cpu.weight with the runc/kubelet formula", () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(102)).toBe(4);
    expect(sharesToWeight(262144)).toBe(10000);
    // Out-of-range shares are clamped as the kernel does.
    expect(sharesToWeight(0)).toBe(1);
    expect(sharesToWeight(10_000_000)).toBe(10000);
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 262144 }), fc.integer({ min: 2, max: 262144 }), (a, b) => {
        const [wa, wb] = [sharesToWeight(a), sharesToWeight(b)];
        expect(wa).toBeGreaterThanOrEqual(1);
        expect(wa).toBeLessThanOrEqual(10000);
        if (a <= b) expect(wa).toBeLessThanOrEqual(wb);
      }),
    );
  });
});
