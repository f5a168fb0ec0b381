import fc from "fast-check";
import { adviseCulprit } from "./culprit.js";
import type { CulpritAdviceInput } from "./types.js";

const noisy = { uid: "n1", namespace: "ns", name: "noisy" };
const victim = { uid: "v1", namespace: "ns", name: "victim" };

function input(usageCores: number[], stallShare: number, requestCores?: number, limitCores?: number): CulpritAdviceInput {
  return {
    culprit: { pod: noisy, usageCores, ...(requestCores === undefined ? {} : { requestCores }), ...(limitCores === undefined ? {} : { limitCores }) },
    victim: { pod: victim, stallShare },
  };
}

describe("adviseCulprit", () => {
  it.each([
    { name: "over its request, no limit: a limit gives back what the victim lacked", usage: [1.8, 1.8], stall: 0.4, request: 0.5, limit: undefined, action: "limit", cap: 1.4, back: 0.4 },
    { name: "never capped below its request, however long the victim stalled", usage: [1, 1], stall: 0.9, request: 0.5, limit: undefined, action: "limit", cap: 0.5, back: 0.5 },
    { name: "no request (BestEffort): capped by what the victim lacked", usage: [1], stall: 0.3, request: undefined, limit: undefined, action: "limit", cap: 0.7, back: 0.3 },
    { name: "a loose limit is lowered", usage: [1.8], stall: 0.5, request: 0.2, limit: 2, action: "lower-limit", cap: 1.3, back: 0.5 },
    { name: "within its request: its request or priority, not a limit", usage: [1.5], stall: 0.5, request: 2, limit: undefined, action: "lower-request-or-priority", cap: null, back: 0 },
    { name: "limit equal to request: nothing a limit can take", usage: [1], stall: 0.5, request: 1, limit: 1, action: "lower-request-or-priority", cap: null, back: 0 },
    { name: "too little CPU to matter", usage: [0.05], stall: 0.5, request: undefined, limit: undefined, action: "none", cap: null, back: 0 },
    { name: "no data", usage: [], stall: 0.5, request: undefined, limit: undefined, action: "none", cap: null, back: 0 },
  ])("$name", ({ usage, stall, request, limit, action, cap, back }) => {
    const advice = adviseCulprit(input(usage, stall, request, limit));
    expect(advice.action).toBe(action);
    expect(advice.limitCores).toBe(cap);
    expect(advice.givesBackCores).toBeCloseTo(back, 6);
  });

  it("says what the cap gives back, to whom, with the numbers", () => {
    const advice = adviseCulprit(input([1.8, 1.7, 1.9], 0.4, 0.5));
    expect(advice.reason).toBe(
      "a limit of 1.4 cores on ns/noisy would give back ~0.4 cores to ns/victim: it used 1.8 cores during the stalls (p95 1.9, request 0.5); ns/victim stalled 40% of the time",
    );
    expect(advice.basis).toMatchObject({ intervals: 3, requestCores: 0.5, limitCores: null, victimStallShare: 0.4, victimShortCores: 0.4 });
  });

  it("never gives back more than the victim lacked or the culprit used, never caps below its request, and stays finite", () => {
    const anyNumber = fc.double({ noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(fc.array(anyNumber, { maxLength: 30 }), anyNumber, fc.option(anyNumber, { nil: undefined }), fc.option(anyNumber, { nil: undefined }), (usage, stall, request, limit) => {
        const advice = adviseCulprit(input(usage, stall, request, limit));
        expect(Number.isFinite(advice.givesBackCores)).toBe(true);
        expect(advice.givesBackCores).toBeGreaterThanOrEqual(0);
        expect(advice.givesBackCores).toBeLessThanOrEqual(advice.basis.victimShortCores + 1e-9);
        expect(advice.givesBackCores).toBeLessThanOrEqual(advice.basis.meanCores + 1e-9);
        if (advice.limitCores !== null) {
          expect(Number.isFinite(advice.limitCores)).toBe(true);
          expect(advice.limitCores).toBeGreaterThanOrEqual(advice.basis.requestCores ?? 0);
        }
        expect(advice.reason).not.toMatch(/NaN|Infinity/);
      }),
      { numRuns: 500 },
    );
  });
});
