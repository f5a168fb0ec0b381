import { loadAverage1, readProcUsage, statCpuTicks, statusKiB } from "./proc-usage.js";

describe("reading a process's cost from /proc", () => {
  test("utime + stime are counted from the last parenthesis, whatever the command name holds", () => {
    const rest = "S 1 2 3 0 -1 4194560 5 0 0 0 1234 567 0 0 20 0 11 0 100 1000 2000";
    expect(statCpuTicks(`4242 (node) ${rest}`)).toBe(1234 + 567);
    expect(statCpuTicks(`4242 (a (b) c) ${rest}`)).toBe(1234 + 567);
  });

  test("VmRSS and VmHWM in KiB, and the 1-minute load average", () => {
    const status = "Name:\tnode\nVmHWM:\t  141208 kB\nVmRSS:\t  126024 kB\nThreads:\t11\n";
    expect(statusKiB(status, "VmRSS")).toBe(126024);
    expect(statusKiB(status, "VmHWM")).toBe(141208);
    expect(() => statusKiB(status, "VmSwap")).toThrow(/VmSwap/);
    expect(loadAverage1("0.42 0.61 0.70 1/234 5678\n")).toBe(0.42);
  });

  test("this process's own figures are plausible: some CPU spent, a peak no lower than the current RSS", () => {
    const usage = readProcUsage(process.pid);
    expect(usage.cpuMs).toBeGreaterThan(0);
    expect(usage.rssKiB).toBeGreaterThan(10 * 1024);
    expect(usage.hwmKiB).toBeGreaterThanOrEqual(usage.rssKiB);
    expect(usage.anonKiB).toBeGreaterThan(0);
    expect(usage.anonKiB).toBeLessThan(usage.rssKiB);
  });
});
