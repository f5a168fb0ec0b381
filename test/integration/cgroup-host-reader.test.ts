import { mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { detectLayout } from "../../src/cgroup/layout.js";
import { CgroupReader, readCountersSync } from "../../src/cgroup/read.js";
import type { CgroupLayout } from "../../src/cgroup/types.js";

// Real cgroupfs behaviour the reader relies on, checked on this hybrid host with throwaway,
// empty cgroups (no processes are placed in them, so rmdir always succeeds).
const prefix = `xander-it-reader-${process.pid}`;
const rel = `${prefix}/kubepods/burstable/pod0000/c0`;
const levels = [prefix, `${prefix}/kubepods`, `${prefix}/kubepods/burstable`, `${prefix}/kubepods/burstable/pod0000`, rel];
let layout: CgroupLayout;

function mounts(): string[] {
  return [layout.v1.cpu, layout.v1.cpuacct, layout.v1.memory, layout.unified].filter((m): m is string => m !== undefined);
}

function removeAll(): void {
  for (const mount of mounts()) {
    for (const level of [...levels].reverse()) {
      try {
        rmdirSync(`${mount}/${level}`);
      } catch {
        // Already gone.
      }
    }
  }
}

beforeAll(async () => {
  const r = await detectLayout("/sys/fs/cgroup");
  if (!r.ok) throw new Error(r.error.message);
  layout = r.value;
  expect(layout.version).toBe("hybrid");
  process.once("exit", removeAll);
  for (const mount of mounts()) for (const level of levels) mkdirSync(`${mount}/${level}`);
  writeFileSync(`${layout.v1.cpu}/${rel}/cpu.cfs_quota_us`, "20000");
  writeFileSync(`${layout.v1.memory}/${rel}/memory.limit_in_bytes`, "67108864");
});

afterAll(() => {
  removeAll();
  process.removeListener("exit", removeAll);
});

describe("CgroupReader on this host's cgroupfs", () => {
  test("kept descriptors read the same counters as open-per-read, including PSI from unified", () => {
    // The kernel's CFS period timer advances nr_periods on its own once a quota is set, even in an
    // empty cgroup, so the comparison is made on a kept read bracketed by two open-per-read reads
    // that agree: nothing moved in between, so the kept read must match them exactly.
    const reader = new CgroupReader(layout);
    const still = (r: ReturnType<typeof readCountersSync>) => (r.kind === "read" ? { ...r.counters, monoMs: 0, wallMs: 0 } : r);
    try {
      for (let attempt = 1; ; attempt++) {
        const before = still(readCountersSync(layout, rel));
        const kept = reader.read(rel);
        const after = still(readCountersSync(layout, rel));
        expect(kept.kind).toBe("read");
        if (kept.kind !== "read") return;
        expect(kept.problems).toEqual([]);
        expect(kept.counters).toMatchObject({ cpuLimitCores: 0.2, memoryLimitBytes: 67108864, cpuWeight: 39, oomKills: 0 });
        expect(kept.counters.psiCpu).toBeDefined();
        if (attempt < 10 && JSON.stringify(before) !== JSON.stringify(after)) continue;
        expect(after).toEqual(before);
        expect(still(kept)).toEqual(before);
        return;
      }
    } finally {
      reader.close();
    }
  });

  test("a limit changed after the first read is seen through the kept descriptor", () => {
    const reader = new CgroupReader(layout);
    try {
      reader.read(rel);
      writeFileSync(`${layout.v1.cpu}/${rel}/cpu.cfs_quota_us`, "50000");
      const r = reader.read(rel);
      expect(r.kind === "read" && r.counters.cpuLimitCores).toBe(0.5);
    } finally {
      reader.close();
    }
  });

  test("a cgroup removed while its files are open is reported gone and its descriptors are released", () => {
    const reader = new CgroupReader(layout);
    try {
      expect(reader.read(rel).kind).toBe("read");
      expect(reader.openFiles).toBeGreaterThan(0);
      for (const mount of mounts()) rmdirSync(`${mount}/${rel}`);
      expect(reader.read(rel)).toEqual({ kind: "gone", relPath: rel });
      expect(reader.openFiles).toBe(0);
    } finally {
      reader.close();
    }
  });
});
