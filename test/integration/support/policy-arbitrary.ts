/**
 * Random StarvationPolicies for the differential test: every field of the schema, each absent, valid,
 * exactly at a bound, or just past it (min/max, maxLength, maxItems, maxProperties, enums, patterns,
 * the CEL rules between durations, required and unknown fields, wrong JSON types and nulls).
 * Mostly-valid pools keep about half of the policies acceptable, so both verdicts are well exercised.
 */
import fc from "fast-check";
import { RULES } from "../../../src/analysis/rules/index.js";
import { MAX_RECENT_INCIDENTS } from "../../../src/api/schema/node-findings.js";

type Json = unknown;

/** Often a value from `valid`, sometimes one from `invalid`. */
function pick(valid: readonly Json[], invalid: readonly Json[]): fc.Arbitrary<Json> {
  return fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: fc.constantFrom(...invalid) });
}

/** Wrong JSON types and null, for any field. */
const WRONG_TYPES: readonly Json[] = [null, 5, true, "x", [], {}];

/** Undefined, except once in `oneIn` draws. */
function rarely<T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

/** An object of the given optional fields (absent half the time), rarely with an unknown one. */
function object(fields: Record<string, fc.Arbitrary<Json>>): fc.Arbitrary<Json> {
  const record = fc.record(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, fc.option(v, { nil: undefined, freq: 2 })])));
  return fc
    .tuple(record, rarely(fc.constantFrom("unknownField", "Interval", "__for__"), 40))
    .map(([r, extra]) => {
      const out = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
      return extra === undefined ? out : { ...out, [extra]: "1s" };
    });
}

/** Either the object, or (rarely) something that is not one. */
function orWrongType(arb: fc.Arbitrary<Json>): fc.Arbitrary<Json> {
  return fc.oneof({ weight: 30, arbitrary: arb }, { weight: 1, arbitrary: fc.constantFrom(...WRONG_TYPES) });
}

// Durations around the CEL bounds (1s, 1m, 1h, 24h) and each other, and past the pattern, the
// 32-character limit and the range of Go's time.Duration (about 2562047h), which CEL's duration() uses.
const duration = pick(
  ["0s", "0.5s", "999ms", "1s", "1000ms", "1.0s", "1.5s", "2s", "5s", "10s", "30s", "59s", "60s", "1m", "1m0s", "61s", "90s", "5m", "10m", "59m59s", "1h", "60m", "3600s", "3601s", "1h0m1s", "1h30m", "2h", "12h", "24h", "1440m", "24h0m0.001s", "25h", "48h", "0.0001ms", "1.999999999s"],
  ["1d", "7d", "1", "0", "", "-1s", "+1s", "1us", "1µs", "1ns", "1.s", ".5s", "1 s", " 1s", "1s ", "1S", "1H", "s", "1s1s1s1s1s1s1s1s1s1s1s1s1s1s1s1s1", "2562047h", "2562048h", "99999999999999999999h", ...WRONG_TYPES],
);

/** A duration that usually suits the field, else any from the boundary pool. */
const durationFor = (...usual: string[]): fc.Arbitrary<Json> => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...usual) }, { weight: 1, arbitrary: duration });

const rule = (wholeNumber: boolean): fc.Arbitrary<Json> =>
  orWrongType(
    object({
      enabled: pick([true, false], ["true", 0, 1, null]),
      threshold: wholeNumber
        ? pick([1, 2, 5, 999, 1000, 1.0], [0, -1, 1.5, 999.9999, 1000.0001, 1001, 1e21, "1", null])
        : pick([0, 1e-9, 0.1, 0.25, 0.5, 0.9999999, 1, 1.0], [-1e-9, -0.5, 1.0000001, 2, 1e308, "0.5", null]),
      for: durationFor("0s", "5s", "1m", "1h"),
      clearAfter: durationFor("30s", "5m", "24h"),
      severity: pick(["critical", "warning", "info"], ["Critical", "WARNING", "", "error", 1, null]),
    }),
  );

/** Mostly real rules; rarely an unknown one; and sometimes every rule turned off. */
const rules = fc.oneof(
  { weight: 10, arbitrary: object(Object.fromEntries([...RULES.map((r) => [r.name, rule(r.thresholdRange.wholeNumber === true)] as const)])) },
  { weight: 1, arbitrary: fc.constant(Object.fromEntries(RULES.map((r) => [r.name, { enabled: false }]))) },
  { weight: 1, arbitrary: fc.constant(WRONG_TYPES) },
);

const count = (max: number): fc.Arbitrary<Json> => pick([0, 1, 2, max - 1, max, 50], [-1, max + 1, 1.5, 2 ** 31, 2 ** 53, 1e21, "5", null]);

const reporting = orWrongType(
  object({
    heartbeat: durationFor("60s", "1m", "5m", "1h"),
    minInterval: durationFor("1s", "5s", "10s"),
    maxFindings: pick([1, 2, 50, 199, 200], [0, -1, 201, 1.5, 2 ** 53, 1e21, "50", null]),
    maxDependencies: count(200),
    maxRecentIncidents: count(MAX_RECENT_INCIDENTS),
    policyReports: pick([true, false], ["yes", 1, null]),
  }),
);

const sampling = orWrongType(
  object({
    interval: durationFor("1s", "2s", "5s", "10s"),
    window: durationFor("10s", "30s", "1m"),
    retention: orWrongType(object({ raw: durationFor("1h", "2h"), rollup: durationFor("24h", "48h") })),
    dependencies: orWrongType(object({ enabled: pick([true, false], ["false", null]), interval: durationFor("1s", "10s", "1m") })),
  }),
);

const LONG_LABEL = "a".repeat(63);
const namespace = pick(["kube-system", "default", "a", "a-b", "0", "x1", LONG_LABEL], [`${LONG_LABEL}b`, "", "A", "-a", "a-", "a.b", "a_b", "ä", 5, null]);

/** Lists of n items from a pool; pools of few values make duplicates likely, which a set list refuses. */
function list(item: fc.Arbitrary<Json>, max: number): fc.Arbitrary<Json> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.array(item, { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constantFrom(max, max + 1).map((n) => Array.from({ length: n }, (_, i) => `n${i}`)) },
  );
}

const labelValue = pick(["", "web", "v1.2_3", LONG_LABEL], [`${LONG_LABEL}b`, 5, true, null]);
const matchLabels = fc.oneof(
  { weight: 8, arbitrary: fc.dictionary(fc.constantFrom("app", "tier", "example.com/team", "k", "a".repeat(317)), labelValue, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(64, 65).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]))) },
  { weight: 1, arbitrary: fc.constantFrom(...WRONG_TYPES) },
);

// key and operator are required: present unless the draw says otherwise.
const requirement = orWrongType(
  fc
    .record({
      key: pick(["app", "example.com/tier", "k", "a".repeat(317)], ["", "a".repeat(318), 7, null, undefined]),
      operator: pick(["In", "NotIn", "Exists", "DoesNotExist"], ["in", "Equals", "", null, undefined]),
      values: fc.option(fc.oneof({ weight: 8, arbitrary: fc.array(labelValue, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.constantFrom(Array.from({ length: 65 }, (_, i) => `v${i}`), null, "web") }), { nil: undefined }),
    })
    .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))),
);

const labelSelector = orWrongType(
  object({
    matchLabels,
    matchExpressions: fc.oneof({ weight: 8, arbitrary: fc.array(requirement, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.constantFrom(32, 33).map((n) => Array.from({ length: n }, () => ({ key: "k", operator: "Exists" }))) }),
  }),
);

const selector = orWrongType(object({ namespaceSelector: labelSelector, podSelector: labelSelector, excludeNamespaces: list(namespace, 64) }));

const spec = orWrongType(object({ selector, sampling, rules, reporting }));

/** A StarvationPolicy body for a create request; the name is set by the caller. */
export const policyBody: fc.Arbitrary<Record<string, Json>> = fc
  .tuple(fc.option(spec, { nil: undefined, freq: 40 }), rarely(fc.constantFrom("unknownField", "Spec"), 40))
  .map(([s, extra]) => ({
    apiVersion: "xander.io/v1alpha1",
    kind: "StarvationPolicy",
    ...(s === undefined ? {} : { spec: s }),
    ...(extra === undefined ? {} : { [extra]: {} }),
  }));
