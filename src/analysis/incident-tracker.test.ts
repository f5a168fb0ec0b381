import fc from "fast-check";
import { Analyzer } from "./analyzer.js";
import { IncidentTracker, incidentId } from "./incident-tracker.js";
import type { Incident } from "./incident.js";
import { sample, tick } from "./testing.js";
import type { Finding } from "./types.js";

const victim = { uid: "v-uid", namespace: "shop", name: "orders-7d9f-abcde" };
const noisy = { uid: "n-uid", namespace: "batch", name: "cruncher" };
const other = { uid: "o-uid", namespace: "batch", name: "grinder" };

function finding(lastSeenMs: number, value: number, culprit = noisy, firstSeenMs = 1000): Finding {
  return {
    rule: "CPUStarvation",
    severity: "warning",
    policy: "default",
    pod: victim,
    container: "api",
    value,
    threshold: 0.3,
    windowMs: 5000,
    firstSeenMs,
    lastSeenMs,
    culprit: { pod: culprit, score: 0.7, evidence: `${culprit.name} used 1.8 cores` },
    evidence: { stall: value },
    message: `stalled ${Math.round(value * 100)}%`,
  };
}

function tracker(): IncidentTracker {
  return new IncidentTracker({ node: "n1", workloadOf: () => "Deployment/orders", callersOf: () => ["shop/web", "shop/checkout"] });
}

describe("incident tracker", () => {
  it("opens an incident at the finding's onset, keeps the peak and its evidence, and closes at the last time it held", () => {
    const t = tracker();
    const opened = t.update({ raised: [finding(6000, 0.5)], cleared: [], active: [finding(6000, 0.5)] }, 6000);
    expect(opened.opened).toHaveLength(1);
    expect(opened.opened[0]).toMatchObject({ node: "n1", startMs: 1000, workload: "Deployment/orders", callers: ["shop/web", "shop/checkout"], peakValue: 0.5 });
    t.update({ raised: [], cleared: [], active: [finding(7000, 0.8)] }, 7000);
    t.update({ raised: [], cleared: [], active: [finding(8000, 0.6)] }, 8000);
    const closed = t.update({ raised: [], cleared: [finding(8000, 0.6)], active: [] }, 38_000);
    expect(closed.closed).toHaveLength(1);
    const incident = closed.closed[0] as Incident;
    expect(incident).toMatchObject({ startMs: 1000, endMs: 8000, peakValue: 0.8, peakAtMs: 7000, message: "stalled 80%", evidence: { stall: 0.8 } });
    expect(t.openIncidents()).toEqual([]);
  });

  it("keeps every culprit with its share of the incident's time when the culprit changes", () => {
    const t = tracker();
    t.update({ raised: [finding(1000, 0.5)], cleared: [], active: [finding(1000, 0.5)] }, 1000);
    for (let s = 2; s <= 4; s++) t.update({ raised: [], cleared: [], active: [finding(s * 1000, 0.5)] }, s * 1000);
    t.update({ raised: [], cleared: [], active: [finding(5000, 0.5, other)] }, 5000);
    const { closed } = t.update({ raised: [], cleared: [finding(5000, 0.5, other)], active: [] }, 40_000);
    const culprits = closed[0]?.culprits ?? [];
    expect(culprits.map((c) => c.pod.name)).toEqual(["cruncher", "grinder"]);
    expect(culprits[0]?.share).toBeCloseTo(0.75, 2);
    expect(culprits[1]?.share).toBeCloseTo(0.25, 2);
  });

  it("an agent restart resumes an open incident: one incident, not two", () => {
    const first = tracker();
    first.update({ raised: [finding(6000, 0.5)], cleared: [], active: [finding(6000, 0.5)] }, 6000);
    const open = first.openIncidents();
    // The restarted agent's analyzer raises the same finding again, with a new onset.
    const second = tracker();
    second.resume(open, 20_000);
    const again = finding(26_000, 0.9, noisy, 21_000);
    const update = second.update({ raised: [again], cleared: [], active: [again] }, 26_000);
    expect(update.opened).toEqual([]);
    expect(update.resumed.map((i) => i.id)).toEqual(open.map((i) => i.id));
    expect(second.openIncidents()).toHaveLength(1);
    expect(second.openIncidents()[0]).toMatchObject({ startMs: 1000, peakValue: 0.9 });
  });

  it("closes a resumed incident at its last-seen time when its finding does not come back", () => {
    const first = tracker();
    first.update({ raised: [finding(6000, 0.5)], cleared: [], active: [finding(6000, 0.5)] }, 6000);
    const second = new IncidentTracker({ node: "n1", resumeGraceMs: 60_000 });
    second.resume(first.openIncidents(), 10_000);
    expect(second.update({ raised: [], cleared: [], active: [] }, 50_000).closed).toEqual([]);
    const { closed } = second.update({ raised: [], cleared: [], active: [] }, 70_000);
    expect(closed.map((i) => i.endMs)).toEqual([6000]);
  });

  it("asks for a write on a material change, and for the last-seen time only every few seconds", () => {
    const t = new IncidentTracker({ node: "n1", persistEveryMs: 10_000 });
    expect(t.update({ raised: [finding(1000, 0.5)], cleared: [], active: [finding(1000, 0.5)] }, 1000).changed).toHaveLength(1);
    expect(t.update({ raised: [], cleared: [], active: [finding(2000, 0.5)] }, 2000).changed).toHaveLength(0);
    expect(t.update({ raised: [], cleared: [], active: [finding(3000, 0.7)] }, 3000).changed).toHaveLength(1);
    expect(t.update({ raised: [], cleared: [], active: [finding(12_000, 0.7)] }, 12_000).changed).toHaveLength(0);
    expect(t.update({ raised: [], cleared: [], active: [finding(13_000, 0.7)] }, 13_000).changed).toHaveLength(1);
  });

  it("follows the analyzer through a real raise and clear", () => {
    const engine = new Analyzer({ windowMs: 5000, nodeCores: 2 });
    engine.name("lim/c", { pod: { uid: "lim", namespace: "shop", name: "limited" }, containerName: "app" });
    const t = new IncidentTracker({ node: "n1" });
    const incidents: Incident[] = [];
    for (let s = 1; s <= 80; s++) {
      const throttled = s <= 30;
      const result = engine.ingest(tick(s * 1000, [sample("lim", "c", s * 1000, { cpuCores: 0.2, periods: 10, throttledPeriods: throttled ? 9 : 0, cpuLimitCores: 0.2 })]));
      incidents.push(...t.update(result, s * 1000).closed);
    }
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.rule).toBe("CPUThrottling");
    expect(incidents[0]?.startMs).toBeLessThanOrEqual(2000);
    // The window still holds throttled samples for a few seconds after the load stops.
    expect(incidents[0]?.endMs).toBeGreaterThanOrEqual(30_000);
    expect(incidents[0]?.endMs).toBeLessThanOrEqual(36_000);
  });

  it("ids are stable for the same incident and differ between incidents", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer({ min: 0, max: 2 ** 45 }), (node, key, start) => {
        expect(incidentId(node, key, start)).toBe(incidentId(node, key, start));
        expect(incidentId(node, key, start)).not.toBe(incidentId(node, key, start + 1000));
      }),
    );
  });
});
