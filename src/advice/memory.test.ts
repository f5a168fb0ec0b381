import { adviseContainer } from "./container.js";
import { MiB, series } from "./testing.js";
import type { ContainerAdviceInput } from "./types.js";

const TWENTY_MINUTES = 1200;

function memory(input: ContainerAdviceInput) {
  return adviseContainer(input).memory;
}

describe("memory limit after an OOM kill", () => {
  const killed = series(TWENTY_MINUTES, (i) => ({ workingSetBytes: 60 * MiB, memoryLimitBytes: 64 * MiB, oomKills: i === 600 ? 1 : 0 }));

  it("OOM-killed at 64 MiB: the limit goes to at least 164 MiB (VPA's +100 MiB beats ×1.2 for small limits)", () => {
    const { limit } = memory({ points: killed, spec: { limits: { memoryBytes: 64 * MiB } } });
    expect(limit.change).toBe("raise");
    expect(limit.recommended).toBeGreaterThanOrEqual(164 * MiB);
    expect(limit.basis).toMatchObject({ oomKills: 1, killedLimitBytes: 64 * MiB, peakWorkingSetBytes: 60 * MiB });
    expect(limit.reason).toContain("OOM-killed once at 64 MiB");
  });

  it.each([
    { name: "a large limit grows by ×1.2", killedBytes: 2048 * MiB, want: Math.ceil(2048 * 1.2) * MiB },
    { name: "a small limit grows by 100 MiB", killedBytes: 200 * MiB, want: 300 * MiB },
  ])("$name", ({ killedBytes, want }) => {
    const { limit } = memory({ points: [], spec: { limits: { memoryBytes: killedBytes } }, oomKills: { count: 2, memoryLimitBytes: killedBytes } });
    expect(limit.recommended).toBe(want);
    expect(limit.basis.oomKills).toBe(2);
  });

  it("a kill known only from the termination state counts, at the limit it was killed at", () => {
    const calm = series(TWENTY_MINUTES, () => ({ workingSetBytes: 60 * MiB, memoryLimitBytes: 128 * MiB }));
    const { limit } = memory({ points: calm, spec: { limits: { memoryBytes: 128 * MiB } }, oomKills: { count: 1, memoryLimitBytes: 128 * MiB } });
    expect(limit.recommended).toBe(228 * MiB);
  });

  it("a limit already raised past the bump is kept", () => {
    const { limit } = memory({ points: killed, spec: { limits: { memoryBytes: 512 * MiB } } });
    expect(limit).toMatchObject({ change: "keep", recommended: 512 * MiB });
  });

  it("killed without a limit of its own: the peak working set is bumped instead", () => {
    const points = series(TWENTY_MINUTES, (i) => ({ workingSetBytes: 300 * MiB, memoryLimitBytes: null, oomKills: i === 5 ? 1 : 0 }));
    const { limit } = memory({ points, spec: {} });
    expect(limit.basis.killedLimitBytes).toBeNull();
    expect(limit).toMatchObject({ change: "set", recommended: 400 * MiB });
  });
});

describe("memory request and limit without OOM kills", () => {
  it("request = peak working set + 15%, rounded up to MiB", () => {
    const points = series(TWENTY_MINUTES, (i) => ({ workingSetBytes: (i === 700 ? 200 : 100) * MiB }));
    const { request } = memory({ points, spec: { requests: { memoryBytes: 64 * MiB } } });
    expect(request).toMatchObject({ change: "raise", recommended: 230 * MiB });
    expect(request.basis).toMatchObject({ peakWorkingSetBytes: 200 * MiB, p95WorkingSetBytes: 100 * MiB });
  });

  it.each([
    { name: "a limit close above the peak is raised to the request (krr: limit = request)", limitMiB: 210, change: "raise", want: 230 },
    { name: "a roomy limit is kept", limitMiB: 1024, change: "keep", want: 1024 },
    { name: "a much larger limit is never lowered", limitMiB: 8192, change: "keep", want: 8192 },
  ])("$name", ({ limitMiB, change, want }) => {
    const points = series(TWENTY_MINUTES, () => ({ workingSetBytes: 200 * MiB, memoryLimitBytes: limitMiB * MiB }));
    const { limit } = memory({ points, spec: { limits: { memoryBytes: limitMiB * MiB } } });
    expect(limit).toMatchObject({ change, recommended: want * MiB });
  });

  it("no memory limit stays none", () => {
    const { limit } = memory({ points: series(TWENTY_MINUTES, () => ({ workingSetBytes: 200 * MiB, memoryLimitBytes: null })) });
    expect(limit).toMatchObject({ change: "keep", current: null, currentSource: "cgroup", recommended: null });
  });

  it("a request kept within 10% above the recommendation pulls a tight limit up with it", () => {
    const points = series(TWENTY_MINUTES, () => ({ workingSetBytes: 200 * MiB }));
    const { request, limit } = memory({ points, spec: { requests: { memoryBytes: 250 * MiB }, limits: { memoryBytes: 240 * MiB } } });
    expect(request).toMatchObject({ change: "keep", recommended: 250 * MiB });
    expect(limit).toMatchObject({ change: "raise", recommended: 250 * MiB });
  });
});
