import { adviseContainer } from "./container.js";
import { adviceLines, adviceSummary } from "./summary.js";
import { MiB, series } from "./testing.js";

describe("adviceSummary", () => {
  it("a throttled limit reads as one line with the numbers behind it", () => {
    const points = series(2 * 3600, () => ({ cpuCores: 0.1, cpuLimitCores: 0.1, periods: 100, throttledPeriods: 97 }));
    const { cpu } = adviseContainer({ points, spec: { requests: { cpuCores: 0.1 }, limits: { cpuCores: 0.1 } } });
    expect(adviceSummary(cpu.limit)).toMatch(/^cpu limit 100m → 200m: throttled in 97% of periods at 100m over 2h; p95 usage 0\.1 cores, ~0\.2 wanted/);
  });

  it("an OOM-killed limit names the killed limit and the bump", () => {
    const points = series(1200, (i) => ({ workingSetBytes: 60 * MiB, memoryLimitBytes: 64 * MiB, oomKills: i === 100 ? 1 : 0 }));
    const { memory } = adviseContainer({ points, spec: { limits: { memoryBytes: 64 * MiB } } });
    expect(adviceSummary(memory.limit)).toBe("memory limit 64 MiB → 164 MiB: OOM-killed once at 64 MiB; ×1.2 and at least +100 MiB, as VPA bumps after an OOM kill");
  });

  it("keep, unknown current and low confidence read as such", () => {
    const points = series(120, () => ({ cpuCores: 0.3, workingSetBytes: 100 * MiB, memoryLimitBytes: 256 * MiB }));
    const advice = adviseContainer({ points });
    expect(adviceSummary(advice.memory.limit)).toMatch(/^memory limit 256 MiB \(keep\): .* \(low confidence\)$/);
    expect(adviceSummary(advice.cpu.request)).toMatch(/^cpu request \? → 300m: p95 usage 0\.3 cores over 2m/);
  });

  it("adviceLines puts changes first and the reason for low confidence last", () => {
    const points = series(120, () => ({ cpuCores: 0.3, workingSetBytes: 100 * MiB, memoryLimitBytes: 256 * MiB }));
    const lines = adviceLines(adviseContainer({ points }));
    expect(lines.map((line) => line.split(":")[0])).toEqual(["cpu request ? → 300m", "memory request ? → 115 MiB", "cpu limit none (keep)", "memory limit 256 MiB (keep)", "tentative"]);
    expect(lines[4]).toBe("tentative: only 120 samples of CPU over 2m (want 10m and 30); only 120 samples of memory over 2m (want 10m and 30)");
  });
});
