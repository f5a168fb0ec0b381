import type { PodHistory } from "../api/history.js";
import { containerStats, pointsWithin, seriesByContainer, weightedQuantile } from "./stats.js";
import { MIN, NOW, point } from "./testdata/cluster.js";

describe("container stats", () => {
  test("a quantile weighs each point by the time it covers: one rollup outweighs a few raw samples", () => {
    const values = [
      { value: 4, weight: 1000 },
      { value: 4, weight: 1000 },
      { value: 1, weight: 60_000 },
    ];
    // Two seconds at 4 cores are 3% of the time: under the 95th percentile, over the 99th.
    expect(weightedQuantile(values, 0.95)).toBe(1);
    expect(weightedQuantile(values, 0.99)).toBe(4);
    expect(weightedQuantile([], 0.95)).toBeNull();
  });

  test("replicas' containers of the same name are merged oldest first; a nameless container goes by its id", () => {
    const history = (pod: string, node: string, offsetMs: number): PodHistory => ({
      node,
      pod: { namespace: "shop", name: pod, uid: `u-${pod}` },
      resolution: "raw",
      since: "1h",
      containers: [
        { name: "app", containerId: `c-${pod}`, points: [point(offsetMs, { cpuCores: 1 })] },
        { containerId: "abc123", points: [] },
      ],
    });
    const series = seriesByContainer([history("web-1", "n1", MIN), history("web-2", "n2", 2 * MIN)]);
    expect(series.map((s) => s.container)).toEqual(["abc123", "app"]);
    expect(series[1]).toMatchObject({ pods: ["shop/web-1", "shop/web-2"], nodes: ["n1", "n2"] });
    expect(series[1]!.points.map((p) => p.t)).toEqual([new Date(NOW - 2 * MIN).toISOString(), new Date(NOW - MIN).toISOString()]);
  });

  test("fields no point carried are null, not zero; a limit reported as unlimited is null", () => {
    const stats = containerStats({ container: "app", pods: [], nodes: [], points: [point(0, { memoryLimitBytes: null })] });
    expect(stats).toMatchObject({ p95Cores: null, peakCores: null, peakWorkingSetBytes: null, memoryLimitBytes: null, cpuLimitCores: null, oomKills: 0 });
  });

  test("points are kept when their interval overlaps a window, not merely when their end falls in it", () => {
    const points = [point(3 * MIN), point(2 * MIN), point(MIN - 1000)];
    expect(pointsWithin(points, [{ startMs: NOW - 2.5 * MIN, endMs: NOW - 1.5 * MIN }])).toEqual([points[1], points[2]]);
  });
});
