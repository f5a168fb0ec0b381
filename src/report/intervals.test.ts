import type { Incident } from "../analysis/incident.js";
import { starvedMsByPod, unionMs } from "./intervals.js";

function incident(pod: string, startMs: number, endMs?: number): Incident {
  const [namespace, name] = pod.split("/");
  return {
    id: `${pod}-${startMs}`,
    node: "n",
    rule: "CPUThrottling",
    severity: "warning",
    pod: { uid: `u-${pod}`, namespace, name },
    startMs,
    ...(endMs === undefined ? {} : { endMs }),
    lastSeenMs: endMs ?? startMs,
    peakValue: 1,
    peakAtMs: startMs,
    threshold: 0.5,
    culprits: [],
    callers: [],
    evidence: {},
    message: "",
  };
}

describe("starved time", () => {
  test("overlapping and nested intervals count once; disjoint ones add up", () => {
    expect(unionMs([{ startMs: 0, endMs: 10 }, { startMs: 5, endMs: 15 }, { startMs: 6, endMs: 7 }, { startMs: 20, endMs: 30 }], 0, 100)).toBe(25);
  });

  test("touching intervals merge, and only the part within the window counts", () => {
    expect(unionMs([{ startMs: 0, endMs: 10 }, { startMs: 10, endMs: 20 }], 5, 100)).toBe(15);
    expect(unionMs([{ startMs: 0, endMs: 10 }], 20, 30)).toBe(0);
    expect(unionMs([], 0, 10)).toBe(0);
  });

  test("two incidents on one pod at once are not double-counted; other pods are separate", () => {
    const byPod = starvedMsByPod([incident("a/p", 0, 60), incident("a/p", 30, 90), incident("a/q", 0, 60)], 0, 1000, 1000);
    expect(Object.fromEntries(byPod)).toEqual({ "a/p": 90, "a/q": 60 });
  });

  test("an open incident runs to now, unless its node is stale", () => {
    expect(starvedMsByPod([incident("a/p", 100)], 0, 1000, 1000).get("a/p")).toBe(900);
    expect(starvedMsByPod([incident("a/p", 100)], 0, 1000, 1000, new Set(["n"])).get("a/p")).toBe(0);
  });
});
