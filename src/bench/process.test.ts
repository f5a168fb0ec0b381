import type { Contender } from "./process-contenders.js";
import { median, processResults, processTable, type WindowMeasure } from "./process.js";

const contender = (key: string): Contender => ({ key, label: key, start: () => Promise.reject(new Error("not started in this test")) });

function measure(cpuMsPerS: number, rssMiB: number, samplesPerContainerPerS = 1): WindowMeasure {
  return { cpuMsPerS, rssMiB, anonMiB: rssMiB - 40, hwmMiB: rssMiB + 10, containers: 330, tracked: 330, samplesPerContainerPerS, loadBefore: 0.4, loadAfter: 0.6 };
}

describe("the whole-process bench's figures", () => {
  test("median of odd and even counts", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  test("holds the agent to 10 ms CPU/s and 100 MiB, scan to 80 MiB, and compares medians with cAdvisor at 1 s, per second and per sample", () => {
    const measures = new Map([
      ["agent", [measure(12, 90), measure(8, 95), measure(9, 99)]],
      ["scan", [measure(30, 81), measure(31, 82), measure(29, 83)]],
      ["cadvisor-1s", [measure(250, 140, 0.5), measure(260, 150, 0.5), measure(270, 160, 0.5)]],
    ]);
    const results = processResults([contender("agent"), contender("scan"), contender("cadvisor-1s")], measures, "test");
    const byName = new Map(results.map((r) => [r.name, r]));
    expect(byName.get("process agent: CPU, median")).toMatchObject({ value: 9, pass: true });
    expect(byName.get("process agent: CPU, max")).toMatchObject({ value: 12 });
    expect(byName.get("process agent: RSS (median over the window), median")).toMatchObject({ value: 95, pass: true });
    expect(byName.get("process scan: RSS (median over the window), median")).toMatchObject({ value: 82, pass: false });
    expect(byName.get("process cadvisor-1s: CPU, median")?.pass).toBeUndefined();
    expect(byName.get("process agent ÷ cAdvisor 1 s: CPU per second")?.value).toBeCloseTo(9 / 260, 2);
    // cAdvisor took half the samples, so per sample the agent costs twice its per-second ratio.
    expect(byName.get("process agent ÷ cAdvisor 1 s: CPU per container sample")?.value).toBeCloseTo((9 / 260) * 0.5, 2);
    expect(byName.get("process bench: load average (1 min), max")?.value).toBe(0.6);
    expect(processTable([contender("agent")], measures)).toContain("| agent | 9.0 (8.0–12.0) | 95 (90–99) | 55 (50–59) | 109 | 330 / 330 | 1.00 |");
  });
});
