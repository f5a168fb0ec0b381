// Every rule in RULES, through the real analyzer (windows, lifecycle): it fires at its threshold and
// not just below, waits out `for` before it raises, and clears `clearAfter` after its condition ends.
// A rule added to RULES without a scenario here fails the first test.
import { durationMs } from "../../util/duration.js";
import { Analyzer } from "../analyzer.js";
import { sample, tick } from "../testing.js";
import type { Rule, RuleName } from "../types.js";
import type { Tick } from "../../sampler/types.js";
import { RULES } from "./index.js";

const WINDOW_MS = 5000;

type BuiltInRule = Rule<RuleName>;

/** One tick during the condition: the rule measures `level` over a window of such ticks. `i` counts ticks from the onset. */
type Scenario = (t: number, level: number, i: number) => Tick;

const SCENARIOS: Readonly<Record<RuleName, Scenario>> = {
  CPUThrottling: (t, level) => tick(t, [sample("p", "c", t, { cpuCores: 0.2, periods: 100, throttledPeriods: Math.round(level * 100), cpuLimitCores: 0.2 })]),
  // A neighbour busy on the same cores, as in analyzer.test.ts: the stall is starvation, not self-contention.
  CPUStarvation: (t, level) =>
    tick(t, [
      sample("p", "c", t, { cpuCores: 0.1, periods: 0, throttledPeriods: 0, cpuStallShare: level }),
      sample("noisy", "c", t, { cpuCores: 1.85, periods: 0, throttledPeriods: 0, cpuStallShare: 0.02 }),
    ]),
  MemoryNearLimit: (t, level) =>
    tick(t, [sample("p", "c", t, { memoryLimitShare: level, workingSetBytes: Math.round(level * 2 ** 30), memoryLimitBytes: 2 ** 30 })]),
  MemoryPressure: (t, level) => tick(t, [sample("p", "c", t, { memoryStallShare: level, memoryFullStallShare: level / 2 })]),
  IOPressure: (t, level) => tick(t, [sample("p", "c", t, { ioStallShare: level, ioFullStallShare: level / 2 })]),
  // Kills are events: they happen once, at the onset, and stay in the window for WINDOW_MS.
  OOMKill: (t, level, i) => tick(t, [sample("p", "c", t, { oomKills: i === 0 ? level : 0 })]),
  NodePressure: (t, level) => tick(t, [sample("p", "c", t)], { cpuStallShare: level / 2, memoryStallShare: level, ioStallShare: 0 }),
};

/** A tick with nothing wrong: every measured value 0. */
const calm = (rule: BuiltInRule, t: number): Tick => SCENARIOS[rule.name](t, 0, -1);

/** A level clearly past the threshold, and one just below it. */
function above(rule: Rule): number {
  const { threshold } = rule.defaults;
  return rule.thresholdRange.wholeNumber === true ? threshold + 1 : (threshold + rule.thresholdRange.max) / 2;
}
function justBelow(rule: Rule): number {
  return rule.thresholdRange.wholeNumber === true ? rule.defaults.threshold - 1 : rule.defaults.threshold - 0.01;
}

interface Run {
  readonly raisedAtMs?: number;
  readonly clearedAtMs?: number;
  readonly value?: number;
}

/** One-second ticks from 1 s: the condition at `level` for `conditionS` seconds, then calm until `totalS`. */
function run(rule: BuiltInRule, level: number, conditionS: number, totalS: number): Run {
  const analyzer = new Analyzer({ windowMs: WINDOW_MS, nodeCores: 2 });
  let out: { raisedAtMs?: number; clearedAtMs?: number; value?: number } = {};
  for (let s = 1; s <= totalS; s++) {
    const t = s * 1000;
    const result = analyzer.ingest(s <= conditionS ? SCENARIOS[rule.name](t, level, s - 1) : calm(rule, t));
    const raised = result.raised.find((f) => f.rule === rule.name);
    if (raised && out.raisedAtMs === undefined) out = { raisedAtMs: t, value: raised.value };
    if (result.cleared.some((f) => f.rule === rule.name) && out.clearedAtMs === undefined) out = { ...out, clearedAtMs: t };
  }
  return out;
}

const cases = RULES.map((rule) => [rule.name, rule] as const);

describe("every rule", () => {
  test("has a scenario here, and a threshold range that admits its default", () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual(RULES.map((r) => r.name).sort());
    for (const rule of RULES) {
      expect(rule.defaults.threshold).toBeGreaterThanOrEqual(rule.thresholdRange.min);
      expect(rule.defaults.threshold).toBeLessThanOrEqual(rule.thresholdRange.max);
    }
  });

  test.each(cases)("%s fires at exactly its threshold, with the measured value", (_name, rule) => {
    const forMs = durationMs(rule.defaults.for);
    const { raisedAtMs, value } = run(rule, rule.defaults.threshold, 60, 60);
    expect(raisedAtMs).toBe(1000 + forMs);
    expect(value).toBeCloseTo(rule.defaults.threshold, 9);
  });

  test.each(cases)("%s stays quiet just below its threshold", (_name, rule) => {
    expect(run(rule, justBelow(rule), 60, 60).raisedAtMs).toBeUndefined();
  });

  test.each(cases)("%s holds off for its `for` after the onset, and raises then", (_name, rule) => {
    const forMs = durationMs(rule.defaults.for);
    // Every tick up to (not including) onset + for: no finding yet, however far past the threshold.
    expect(run(rule, above(rule), forMs / 1000, forMs / 1000).raisedAtMs).toBeUndefined();
    expect(run(rule, above(rule), 60, 60).raisedAtMs).toBe(1000 + forMs);
  });

  test.each(cases)("%s clears `clearAfter` after its condition has left the window, not before", (_name, rule) => {
    const clearAfterMs = durationMs(rule.defaults.clearAfter);
    const conditionS = durationMs(rule.defaults.for) / 1000 + 2;
    const lastConditionMs = conditionS * 1000;
    const { raisedAtMs, clearedAtMs } = run(rule, above(rule), conditionS, conditionS + (clearAfterMs + WINDOW_MS) / 1000 + 5);
    expect(raisedAtMs).toBeDefined();
    expect(clearedAtMs).toBeDefined();
    // The condition still holds while its last samples are in the window, so clearing waits at least
    // clearAfter from the last bad tick and at most clearAfter from when that tick left the window.
    expect(clearedAtMs).toBeGreaterThanOrEqual(lastConditionMs + clearAfterMs);
    expect(clearedAtMs).toBeLessThanOrEqual(lastConditionMs + WINDOW_MS + clearAfterMs);
  });
});
