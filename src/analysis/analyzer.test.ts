import { Analyzer } from "./analyzer.js";
import { sample, tick } from "./testing.js";

function analyzer(): Analyzer {
  return new Analyzer({ windowMs: 5000, nodeCores: 2 });
}

/** Feeds `seconds` one-second ticks built by `build(t)` and returns the time of the first raise of `rule`. */
function firstRaise(engine: Analyzer, rule: string, seconds: number, build: (t: number) => ReturnType<typeof tick>): number | undefined {
  for (let s = 1; s <= seconds; s++) {
    const result = engine.ingest(build(s * 1000));
    if (result.raised.some((f) => f.rule === rule)) return s * 1000;
  }
  return undefined;
}

describe("analyzer", () => {
  it("raises CPUThrottling within 10 s of onset for a pod hitting its quota", () => {
    const engine = analyzer();
    const at = firstRaise(engine, "CPUThrottling", 20, (t) =>
      tick(t, [sample("limited", "c", t, { cpuCores: 0.2, periods: 10, throttledPeriods: 9, cpuLimitCores: 0.2, cpuStallShare: 0.5 })]),
    );
    expect(at).toBeDefined();
    expect(at).toBeLessThanOrEqual(10000);
    const finding = engine.active().find((f) => f.rule === "CPUThrottling");
    expect(finding?.message).toMatch(/throttled in 90% of CFS periods \(limit 0.2 cores/);
  });

  it("a throttled pod is never blamed on a neighbour", () => {
    const engine = analyzer();
    for (let s = 1; s <= 20; s++) {
      const t = s * 1000;
      engine.ingest(
        tick(t, [
          sample("limited", "c", t, { cpuCores: 0.2, periods: 10, throttledPeriods: 9, cpuLimitCores: 0.2, cpuStallShare: 0.6 }),
          sample("busy", "c", t, { cpuCores: 1.8, periods: 0, throttledPeriods: 0, cpuStallShare: 0.05 }),
        ]),
      );
    }
    const rules = engine.active().map((f) => `${f.rule}:${f.pod.uid}`);
    expect(rules).toContain("CPUThrottling:limited");
    expect(rules).not.toContain("CPUStarvation:limited");
  });

  it("names the noisy neighbour as culprit of CPU starvation, and never the calm pod", () => {
    const engine = analyzer();
    engine.name("victim/c", { pod: { uid: "victim", namespace: "shop", name: "orders" }, containerName: "api" });
    engine.name("noisy/c", { pod: { uid: "noisy", namespace: "batch", name: "cruncher" }, containerName: "main" });
    const at = firstRaise(engine, "CPUStarvation", 20, (t) =>
      tick(t, [
        sample("victim", "c", t, { cpuCores: 0.1, periods: 0, throttledPeriods: 0, cpuStallShare: 0.6 }),
        sample("noisy", "c", t, { cpuCores: 1.85, periods: 0, throttledPeriods: 0, cpuStallShare: 0.02 }),
        sample("calm", "c", t, { cpuCores: 0.01, cpuStallShare: 0 }),
      ]),
    );
    expect(at).toBeLessThanOrEqual(10000);
    const finding = engine.active().find((f) => f.rule === "CPUStarvation");
    expect(finding?.pod).toEqual({ uid: "victim", namespace: "shop", name: "orders" });
    expect(finding?.container).toBe("api");
    expect(finding?.culprit?.pod.name).toBe("cruncher");
    expect(finding?.culprit?.score).toBeGreaterThan(0.5);
    expect(finding?.message).toMatch(/batch\/cruncher took 1.85 cores/);
    expect(engine.active().filter((f) => f.pod.uid === "calm")).toEqual([]);
  });

  it("a pod whose own threads outnumber its cores is not starved by a smaller neighbour", () => {
    const engine = analyzer();
    for (let s = 1; s <= 20; s++) {
      const t = s * 1000;
      engine.ingest(
        tick(t, [
          sample("crowded", "c", t, { cpuCores: 1.8, periods: 0, throttledPeriods: 0, cpuStallShare: 0.7 }),
          sample("small", "c", t, { cpuCores: 0.15, cpuStallShare: 0.1 }),
        ]),
      );
    }
    expect(engine.active().filter((f) => f.rule === "CPUStarvation")).toEqual([]);
  });

  it("starvation by processes outside pods names no pod as culprit", () => {
    const engine = analyzer();
    for (let s = 1; s <= 20; s++) {
      const t = s * 1000;
      engine.ingest(
        tick(
          t,
          [
            sample("victim", "c", t, { cpuCores: 0.1, periods: 0, throttledPeriods: 0, cpuStallShare: 0.6 }),
            sample("small", "c", t, { cpuCores: 0.2, cpuStallShare: 0.1 }),
          ],
          { cpuCores: 1.95, cpuStallShare: 0.5 },
        ),
      );
    }
    const finding = engine.active().find((f) => f.rule === "CPUStarvation");
    expect(finding).toBeDefined();
    expect(finding?.culprit).toBeUndefined();
    expect(finding?.message).toMatch(/processes outside pods took 1.65 cores/);
  });

  it("raises OOMKill on the tick the kill is seen, as critical", () => {
    const engine = analyzer();
    engine.ingest(tick(1000, [sample("p", "c", 1000, { workingSetBytes: 10, memoryLimitBytes: 100, memoryLimitShare: 0.1 })]));
    const result = engine.ingest(tick(2000, [sample("p", "c", 2000, { oomKills: 1, memoryLimitBytes: 64 * 1024 * 1024 })]));
    expect(result.raised.map((f) => [f.rule, f.severity])).toEqual([["OOMKill", "critical"]]);
    expect(result.raised[0]?.message).toBe("OOM-killed once at its 64 MiB memory limit");
  });

  it("raises MemoryNearLimit for a working set near the limit and never for an unlimited container", () => {
    const engine = analyzer();
    const at = firstRaise(engine, "MemoryNearLimit", 15, (t) =>
      tick(t, [
        sample("near", "c", t, { workingSetBytes: 95, memoryLimitBytes: 100, memoryLimitShare: 0.95 }),
        sample("unlimited", "c", t, { workingSetBytes: 10 ** 10, memoryLimitBytes: null, memoryLimitShare: null }),
      ]),
    );
    expect(at).toBeLessThanOrEqual(10000);
    expect(engine.active().map((f) => f.pod.uid)).toEqual(["near"]);
  });

  it("raises NodePressure from node PSI and names the worst resource", () => {
    const engine = analyzer();
    const at = firstRaise(engine, "NodePressure", 20, (t) => tick(t, [], { cpuStallShare: 0.1, ioStallShare: 0.7, memoryStallShare: 0 }));
    expect(at).toBeDefined();
    expect(engine.active()[0]?.message).toBe("node tasks stalled on io 70% of the time");
  });

  it("clears findings once the load is gone for clearAfter, and lists the most severe first", () => {
    const engine = analyzer();
    for (let s = 1; s <= 10; s++) {
      const t = s * 1000;
      engine.ingest(
        tick(t, [
          sample("limited", "c", t, { periods: 10, throttledPeriods: 10, cpuCores: 0.1 }),
          sample("oom", "c", t, { oomKills: s === 9 ? 1 : 0 }),
        ]),
      );
    }
    expect(engine.active().map((f) => f.rule)).toEqual(["OOMKill", "CPUThrottling"]);
    let cleared: string[] = [];
    for (let s = 11; s <= 60; s++) {
      const t = s * 1000;
      const result = engine.ingest(tick(t, [sample("limited", "c", t, { periods: 10, throttledPeriods: 0 })]));
      cleared = cleared.concat(result.cleared.map((f) => f.rule));
    }
    expect(cleared).toEqual(["CPUThrottling"]);
    expect(engine.active().map((f) => f.rule)).toEqual(["OOMKill"]);
  });

  it("keeps analysing after a target vanishes, and its findings clear instead of sticking", () => {
    const engine = analyzer();
    for (let s = 1; s <= 8; s++) engine.ingest(tick(s * 1000, [sample("gone", "c", s * 1000, { periods: 10, throttledPeriods: 10 })]));
    expect(engine.active()).toHaveLength(1);
    engine.ingest(tick(9000, [], undefined, ["gone/c"]));
    const result = engine.ingest(tick(40000, []));
    expect(result.cleared.map((f) => f.pod.uid)).toEqual(["gone"]);
  });
});
