import { benchMetrics, filledAgentMetrics } from "./metrics.js";

async function sampleLines(name: string): Promise<string[]> {
  const text = await filledAgentMetrics().registry.getSingleMetricAsString(name);
  return text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
}

describe("the metrics bench's registry", () => {
  test("holds what an agent on a full node holds: 20 open findings, culprits for the starvation ones, 110 pods", async () => {
    expect(await sampleLines("xander_finding_active")).toHaveLength(20);
    expect(await sampleLines("xander_finding_value")).toHaveLength(20);
    expect((await sampleLines("xander_finding_culprit_info")).length).toBeGreaterThan(0);
    expect(await sampleLines("xander_agent_pods")).toEqual(["xander_agent_pods 110"]);
    expect(await sampleLines("xander_agent_samples_total")).toEqual([`xander_agent_samples_total ${110 * 3 * 3600}`]);
  });

  test("reports median, p99 (held to 5 ms), max, size and series for both registries", async () => {
    const results = await benchMetrics({ renders: 20 });
    expect(results.map((r) => r.unit)).toEqual(["ms", "ms", "ms CPU", "ms CPU", "ms", "bytes", "series", "ms", "ms", "ms CPU", "ms CPU", "ms", "bytes", "series"]);
    expect(results.filter((r) => r.target !== undefined).map((r) => r.target)).toEqual(["≤ 5"]);
    const [agentSeries, defaultSeries] = results.filter((r) => r.unit === "series").map((r) => r.value);
    expect(defaultSeries).toBeGreaterThan(agentSeries ?? Infinity);
  });
});
