import { cpSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeFixtureTree } from "./fixture-tree.js";
import { detectLayout } from "./layout.js";
import { CgroupReader, readCounters, readCountersSync, readProblem } from "./read.js";
import type { CgroupLayout, RawCounters, ReadOutcome } from "./types.js";

const fixtures = fileURLToPath(new URL("../../test/fixtures/cgroup/", import.meta.url));

async function layoutOf(root: string): Promise<CgroupLayout> {
  const r = await detectLayout(root);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

function counters(outcome: ReadOutcome): Omit<RawCounters, "monoMs" | "wallMs"> & { problems: readonly string[] } {
  if (outcome.kind !== "read") throw new Error(`expected a read, got ${outcome.kind}`);
  const { monoMs, wallMs, ...rest } = outcome.counters;
  expect(typeof monoMs).toBe("number");
  expect(Math.abs(wallMs - Date.now())).toBeLessThan(60_000);
  return { ...rest, problems: outcome.problems };
}

describe("readCounters on v2 systemd+containerd", () => {
  const root = path.join(fixtures, "v2-systemd-containerd");
  const pod = "kubepods.slice/kubepods-pod5b3e7a9c_2f41_4d8e_b6a0_9c1d2e3f4a5b.slice";
  const app = `${pod}/cri-containerd-a3f5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5.scope`;

  test("a throttled Guaranteed container reads throttling, its 0.5-core quota, memory and PSI", async () => {
    const layout = await layoutOf(root);
    expect(counters(await readCounters(layout, app))).toEqual({
      cpuUsageUsec: 48211093,
      nrPeriods: 1200,
      nrThrottled: 987,
      throttledUsec: 61240512,
      cpuLimitCores: 0.5,
      cpuWeight: 20,
      memoryUsageBytes: 187604992,
      memoryInactiveFileBytes: 20971520,
      memoryLimitBytes: 536870912,
      memoryHighBytes: null,
      oomKills: 0,
      psiCpu: { someTotalUsec: 58723011, fullTotalUsec: 57911204 },
      psiMemory: { someTotalUsec: 0, fullTotalUsec: 0 },
      psiIo: { someTotalUsec: 1021, fullTotalUsec: 0 },
      problems: [],
    });
  });

  test("an OOM-killed Burstable container reports its oom_kill count from memory.events", async () => {
    const layout = await layoutOf(root);
    const c = counters(
      await readCounters(layout, "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podd7c6b5a4_3e2f_4a1b_9c8d_7e6f5a4b3c2d.slice/cri-containerd-b2c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4.scope"),
    );
    expect(c).toMatchObject({ oomKills: 2, memoryLimitBytes: 268435456, cpuLimitCores: null, cpuWeight: 4, problems: [] });
  });

  test("a BestEffort container has unlimited memory and no CPU quota", async () => {
    const layout = await layoutOf(root);
    const c = counters(
      await readCounters(layout, "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_4e5f_4a6b_8c7d_9e0f1a2b3c4d.slice/cri-containerd-fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210.scope"),
    );
    expect(c).toMatchObject({ memoryLimitBytes: null, memoryHighBytes: null, cpuLimitCores: null, cpuWeight: 1, memoryUsageBytes: 75497472, memoryInactiveFileBytes: 25165824, problems: [] });
  });

  test("pod cgroups read like containers", async () => {
    const c = counters(await readCounters(await layoutOf(root), pod));
    expect(c).toMatchObject({ cpuLimitCores: 0.5, memoryLimitBytes: 536870912, problems: [] });
  });

  test("with limits off, the limit files are not read", async () => {
    const c = counters(await readCounters(await layoutOf(root), app, { limits: false }));
    expect(c).not.toHaveProperty("cpuLimitCores");
    expect(c).not.toHaveProperty("cpuWeight");
    expect(c).not.toHaveProperty("memoryLimitBytes");
    expect(c).not.toHaveProperty("memoryHighBytes");
    expect(c).toMatchObject({ cpuUsageUsec: 48211093, memoryUsageBytes: 187604992, problems: [] });
  });

  test("with memoryStat off, memory.stat is not read unless this read's usage reaches memoryStatFromUsageBytes", async () => {
    const layout = await layoutOf(root);
    const usage = 187604992;
    const skipped = counters(await readCounters(layout, app, { memoryStat: false }));
    expect(skipped).not.toHaveProperty("memoryInactiveFileBytes");
    expect(skipped).toMatchObject({ memoryUsageBytes: usage, memoryLimitBytes: 536870912, psiMemory: { someTotalUsec: 0, fullTotalUsec: 0 }, problems: [] });
    expect(counters(await readCounters(layout, app, { memoryStat: false, memoryStatFromUsageBytes: usage + 1 }))).not.toHaveProperty("memoryInactiveFileBytes");
    // Usage at the threshold: a container near its limit gets a fresh working set in the same read.
    expect(counters(await readCounters(layout, app, { memoryStat: false, memoryStatFromUsageBytes: usage }))).toMatchObject({ memoryInactiveFileBytes: 20971520, problems: [] });
  });
});

describe("readCounters without memory.stat on v1 (hybrid)", () => {
  test("the v1 memory.stat is skipped and every other file is still read", async () => {
    const layout = await layoutOf(path.join(fixtures, "hybrid-systemd-containerd"));
    const rel = "kubepods.slice/kubepods-pod6f1c2b9e_3d4a_4c8e_9b7a_0e5d2f1a8c43.slice/cri-containerd-3b2f9c1d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c.scope";
    const full = counters(await readCounters(layout, rel));
    const { memoryInactiveFileBytes, ...rest } = full;
    expect(memoryInactiveFileBytes).toBeDefined();
    expect(counters(await readCounters(layout, rel, { memoryStat: false }))).toEqual(rest);
  });
});

describe("readCounters without the throttling counters", () => {
  test("on v1 (hybrid) cpu.stat is skipped: no throttling counters, every other file still read", async () => {
    const layout = await layoutOf(path.join(fixtures, "hybrid-systemd-containerd"));
    const rel = "kubepods.slice/kubepods-pod6f1c2b9e_3d4a_4c8e_9b7a_0e5d2f1a8c43.slice/cri-containerd-3b2f9c1d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c.scope";
    const full = counters(await readCounters(layout, rel));
    const { nrPeriods, nrThrottled, throttledUsec, ...rest } = full;
    expect([nrPeriods, nrThrottled, throttledUsec].every((v) => typeof v === "number")).toBe(true);
    expect(counters(await readCounters(layout, rel, { throttling: false }))).toEqual(rest);
  });

  test("pressure and OOM files the node vouched for are skipped, on hybrid and v2 alike", async () => {
    const vouched = { cpuPressure: false, memoryPressure: false, ioPressure: false, oomKills: false };
    for (const [tree, rel] of [
      ["hybrid-systemd-containerd", "kubepods.slice/kubepods-pod6f1c2b9e_3d4a_4c8e_9b7a_0e5d2f1a8c43.slice/cri-containerd-3b2f9c1d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c.scope"],
      ["v2-cgroupfs-crio", "kubepods/podc0ffee00-1234-4abc-8def-0123456789ab/crio-9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"],
    ] as const) {
      const layout = await layoutOf(path.join(fixtures, tree));
      const full = counters(await readCounters(layout, rel));
      const { psiCpu, psiMemory, psiIo, oomKills, ...rest } = full;
      expect([psiCpu, psiMemory, psiIo].every((psi) => psi !== undefined) && typeof oomKills === "number").toBe(true);
      expect(counters(await readCounters(layout, rel, vouched))).toEqual(rest);
      expect(counters(await readCounters(layout, rel, { memoryPressure: false }))).toEqual({ ...rest, psiCpu, psiIo, oomKills });
      // Given the last read, its values stand in where the skipped files' would be: same values, same layout.
      const { problems, ...fullCounters } = full;
      const outcome = await readCounters(layout, rel, vouched, { monoMs: 0, wallMs: 0, ...fullCounters, psiMemory: { someTotalUsec: 7 } });
      expect(counters(outcome)).toEqual({ ...fullCounters, psiMemory: { someTotalUsec: 7 }, problems });
      if (outcome.kind === "read") expect(Object.keys(outcome.counters)).toEqual(["monoMs", "wallMs", ...Object.keys(fullCounters)]);
    }
  });

  test("on v2 cpu.stat also holds the usage, so it is read all the same", async () => {
    const layout = await layoutOf(path.join(fixtures, "v2-cgroupfs-crio"));
    const rel = "kubepods/podc0ffee00-1234-4abc-8def-0123456789ab/crio-9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";
    expect(counters(await readCounters(layout, rel, { throttling: false }))).toEqual(counters(await readCounters(layout, rel)));
  });
});

describe("readCounters on v2 cgroupfs+CRI-O (Linux 5.10 formats)", () => {
  test("a throttled container on an older kernel reads without nice_usec, oom_group_kill or cpu full PSI", async () => {
    const layout = await layoutOf(path.join(fixtures, "v2-cgroupfs-crio"));
    const c = counters(await readCounters(layout, "kubepods/podc0ffee00-1234-4abc-8def-0123456789ab/crio-9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"));
    expect(c).toMatchObject({ cpuUsageUsec: 30211876, nrPeriods: 900, nrThrottled: 845, cpuLimitCores: 0.2, memoryLimitBytes: 134217728, problems: [] });
    expect(c.psiCpu).toEqual({ someTotalUsec: 51234567 });
  });
});

describe("readCounters on v1 cgroupfs+docker", () => {
  const root = path.join(fixtures, "v1-cgroupfs-docker");

  test("a throttled container reads ns counters as usec, quota/period as cores, shares as weight, and no PSI", async () => {
    const layout = await layoutOf(root);
    const c = counters(await readCounters(layout, "kubepods/pod1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b/5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592"));
    expect(c).toEqual({
      cpuUsageUsec: 61234567,
      nrPeriods: 2400,
      nrThrottled: 2210,
      throttledUsec: 151234567,
      cpuLimitCores: 0.25,
      cpuWeight: 10,
      memoryUsageBytes: 85983232,
      memoryInactiveFileBytes: 6291456,
      memoryLimitBytes: 268435456,
      oomKills: 0,
      problems: [],
    });
  });

  test("the v1 unlimited memory value and a -1 quota both read as null", async () => {
    const layout = await layoutOf(root);
    const c = counters(await readCounters(layout, "kubepods/besteffort/pod3d4c5b6a-7988-4a1b-8b0c-2d3e4f5a6b7c/e4da3b7fbbce2345d7772b0674a318d5e4da3b7fbbce2345d7772b0674a318d5"));
    expect(c).toMatchObject({ memoryLimitBytes: null, cpuLimitCores: null, cpuWeight: 1, problems: [] });
  });

  test("v1 OOM kills come from memory.oom_control at the container cgroup", async () => {
    const layout = await layoutOf(root);
    const c = counters(await readCounters(layout, "kubepods/burstable/pod2e3d4c5b-6a79-4881-9a0b-1c2d3e4f5a6b/7d793037a0760186574b0282f2f435e77d793037a0760186574b0282f2f435e7"));
    expect(c).toMatchObject({ oomKills: 1, memoryLimitBytes: 134217728, cpuWeight: 4 });
  });

  test("a pod cgroup's working set uses the hierarchical total_inactive_file", async () => {
    const layout = await layoutOf(root);
    const c = counters(await readCounters(layout, "kubepods/pod1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b"));
    expect(c.memoryInactiveFileBytes).toBe(6291456);
  });
});

describe("readCounters on this host's captured hybrid tree", () => {
  const root = path.join(fixtures, "hybrid-systemd-containerd");
  const throttled = "kubepods.slice/kubepods-pod6f1c2b9e_3d4a_4c8e_9b7a_0e5d2f1a8c43.slice/cri-containerd-3b2f9c1d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c.scope";

  test("a throttled container reads v1 counters plus PSI from the unified tree", async () => {
    const layout = await layoutOf(root);
    expect(counters(await readCounters(layout, throttled))).toEqual({
      cpuUsageUsec: 1209651,
      nrPeriods: 61,
      nrThrottled: 52,
      throttledUsec: 1737131,
      cpuLimitCores: 0.2,
      cpuWeight: 8,
      memoryUsageBytes: 167936,
      memoryInactiveFileBytes: 0,
      memoryLimitBytes: 268435456,
      oomKills: 0,
      psiCpu: { someTotalUsec: 4516792, fullTotalUsec: 4516792 },
      psiMemory: { someTotalUsec: 0, fullTotalUsec: 0 },
      psiIo: { someTotalUsec: 0, fullTotalUsec: 0 },
      problems: [],
    });
  });

  test("a container the kernel OOM-killed shows oom_kill 1 and memory PSI", async () => {
    const layout = await layoutOf(root);
    const c = counters(
      await readCounters(layout, "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-poda2d4e6f8_1b3c_4d5e_8f9a_b0c1d2e3f4a5.slice/cri-containerd-c4e1a7b3d9f2e8c6a0b5d1f7e3c9a2b8d4f0e6c1a7b3d9f5e2c8a4b0d6f1e7c3.scope"),
    );
    expect(c).toMatchObject({ oomKills: 1, memoryLimitBytes: 67108864, psiMemory: { someTotalUsec: 44515, fullTotalUsec: 44515 }, problems: [] });
  });

  test("an unlimited BestEffort container reads null limits", async () => {
    const layout = await layoutOf(root);
    const c = counters(
      await readCounters(layout, "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0c9e8d7f_6a5b_4c3d_9e2f_1a0b9c8d7e6f.slice/cri-containerd-e7f6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180.scope"),
    );
    expect(c).toMatchObject({ memoryLimitBytes: null, cpuLimitCores: null, cpuWeight: 1, psiIo: { someTotalUsec: 19833, fullTotalUsec: 6708 }, problems: [] });
  });
});

describe("readCounters when files change under it", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "xander-read-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function copy(name: string): string {
    const root = path.join(dir, name);
    cpSync(path.join(fixtures, name), root, { recursive: true, verbatimSymlinks: true });
    return root;
  }

  test("a cgroup that never existed or vanished is gone, not an error", async () => {
    const root = copy("v2-systemd-containerd");
    const layout = await layoutOf(root);
    const pod = "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_4e5f_4a6b_8c7d_9e0f1a2b3c4d.slice";
    const rel = `${pod}/cri-containerd-fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210.scope`;
    expect((await readCounters(layout, rel)).kind).toBe("read");
    rmSync(path.join(root, rel), { recursive: true });
    expect(await readCounters(layout, rel)).toEqual({ kind: "gone", relPath: rel });
    rmSync(path.join(root, pod), { recursive: true });
    expect(await readCounters(layout, `${pod}/anything`)).toEqual({ kind: "gone", relPath: `${pod}/anything` });
  });

  test("a cgroup gone from v1 controllers on a hybrid host is gone", async () => {
    const root = copy("hybrid-systemd-containerd");
    const layout = await layoutOf(root);
    const rel = "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0c9e8d7f_6a5b_4c3d_9e2f_1a0b9c8d7e6f.slice";
    for (const h of ["cpu", "cpuacct", "memory", "unified"]) rmSync(path.join(root, h, rel), { recursive: true });
    expect(await readCounters(layout, rel)).toEqual({ kind: "gone", relPath: rel });
  });

  test("a garbled memory.stat drops only its field and names the file in the problem", async () => {
    const root = copy("v2-systemd-containerd");
    const layout = await layoutOf(root);
    const rel = "kubepods.slice/kubepods-pod5b3e7a9c_2f41_4d8e_b6a0_9c1d2e3f4a5b.slice/cri-containerd-a3f5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5.scope";
    const file = path.join(root, rel, "memory.stat");
    writeFileSync(file, "anon 1\nfile \u0000\u0001garbage\n");
    const c = counters(await readCounters(layout, rel));
    expect(c).not.toHaveProperty("memoryInactiveFileBytes");
    expect(c).toMatchObject({ cpuUsageUsec: 48211093, memoryUsageBytes: 187604992, oomKills: 0 });
    expect(c.problems).toHaveLength(1);
    expect(c.problems[0]).toContain(`cannot parse ${file} line 2`);
  });

  test("a garbled v1 cpu.cfs_quota_us leaves the CPU limit unknown rather than wrong", async () => {
    const root = copy("v1-cgroupfs-docker");
    const layout = await layoutOf(root);
    const rel = "kubepods/pod1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b/5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592";
    writeFileSync(path.join(root, "cpu,cpuacct", rel, "cpu.cfs_quota_us"), "lots\n");
    const c = counters(await readCounters(layout, rel));
    expect(c).not.toHaveProperty("cpuLimitCores");
    expect(c.problems[0]).toContain(path.join(root, "cpu,cpuacct", rel, "cpu.cfs_quota_us"));
  });

  test("a missing file in a live cgroup is a problem naming it, not a vanished cgroup", async () => {
    const root = copy("v2-systemd-containerd");
    const layout = await layoutOf(root);
    const rel = "kubepods.slice/kubepods-pod5b3e7a9c_2f41_4d8e_b6a0_9c1d2e3f4a5b.slice/cri-containerd-a3f5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5.scope";
    unlinkSync(path.join(root, rel, "cpu.max"));
    const c = counters(await readCounters(layout, rel));
    expect(c).not.toHaveProperty("cpuLimitCores");
    expect(c.problems).toEqual([`cannot read ${path.join(root, rel, "cpu.max")}: no such file (is the controller enabled for this cgroup?)`]);
  });

  test("on a hybrid host without cpuacct usage, CPU usage falls back to the unified cpu.stat", async () => {
    const root = copy("hybrid-systemd-containerd");
    const layout = await layoutOf(root);
    const rel = "kubepods.slice/kubepods-pod6f1c2b9e_3d4a_4c8e_9b7a_0e5d2f1a8c43.slice/cri-containerd-3b2f9c1d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c.scope";
    writeFileSync(path.join(root, "cpuacct", rel, "cpuacct.usage"), "garbled\n");
    const c = counters(await readCounters(layout, rel));
    expect(c.cpuUsageUsec).toBe(1213667);
    expect(c.problems).toHaveLength(1);
  });

  test("permission errors name the file and the way out", () => {
    expect(readProblem("/sys/fs/cgroup/cpu/kubepods/cpu.stat", "EACCES")).toBe(
      "cannot read /sys/fs/cgroup/cpu/kubepods/cpu.stat: permission denied (run as root or mount the host cgroupfs read-only)",
    );
    expect(readProblem("/x", "EIO")).toBe("cannot read /x: EIO");
  });
});

describe("readCounters on generated trees", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "xander-read-gen-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ["v2", "systemd", "containerd"],
    ["v2", "cgroupfs", "cri-o"],
    ["v1", "cgroupfs", "docker"],
    ["hybrid", "systemd", "containerd"],
  ] as const)("every container of a generated %s %s %s tree reads exactly its expected counters", async (version, driver, runtime) => {
    const root = path.join(dir, `${version}-${driver}-${runtime}`);
    const tree = await writeFixtureTree(root, { version, driver, runtime, pods: 6, containersPerPod: 2 });
    const layout = await layoutOf(root);
    for (const pod of tree.pods) {
      for (const c of pod.containers) {
        const got = counters(readCountersSync(layout, c.relPath));
        expect(got).toEqual({ ...c.expected, problems: [] });
      }
    }
  });
});

describe("CgroupReader (kept-open files)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "xander-reader-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("reads exactly what the open-per-read path reads, on every fixture tree", async () => {
    const cases = [
      ["v2-systemd-containerd", "kubepods.slice/kubepods-pod5b3e7a9c_2f41_4d8e_b6a0_9c1d2e3f4a5b.slice/cri-containerd-a3f5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5.scope"],
      ["v2-cgroupfs-crio", "kubepods/burstable/podb0a7b0a7-5678-4cde-9f01-23456789abcd/crio-1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"],
      ["v1-cgroupfs-docker", "kubepods/burstable/pod2e3d4c5b-6a79-4881-9a0b-1c2d3e4f5a6b/7d793037a0760186574b0282f2f435e77d793037a0760186574b0282f2f435e7"],
      ["hybrid-systemd-containerd", "kubepods.slice/kubepods-pod6f1c2b9e_3d4a_4c8e_9b7a_0e5d2f1a8c43.slice/cri-containerd-3b2f9c1d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c.scope"],
    ] as const;
    for (const [tree, rel] of cases) {
      const layout = await layoutOf(path.join(fixtures, tree));
      const reader = new CgroupReader(layout);
      try {
        const want = counters(readCountersSync(layout, rel));
        expect(counters(reader.read(rel))).toEqual(want);
        expect(counters(reader.read(rel))).toEqual(want);
        expect(reader.openFiles).toBeGreaterThan(0);
      } finally {
        reader.close();
      }
      expect(reader.openFiles).toBe(0);
    }
  });

  test("a file rewritten in place is read fresh through the kept descriptor", async () => {
    const root = path.join(dir, "tree");
    const tree = await writeFixtureTree(root, { version: "v2", driver: "systemd", runtime: "containerd", pods: 1, containersPerPod: 1 });
    const layout = await layoutOf(root);
    const c = tree.pods[0]!.containers[0]!;
    const reader = new CgroupReader(layout);
    try {
      expect(counters(reader.read(c.relPath)).cpuUsageUsec).toBe(c.expected.cpuUsageUsec);
      const next = await writeFixtureTree(root, { version: "v2", driver: "systemd", runtime: "containerd", pods: 1, containersPerPod: 1, tick: 1 });
      const want = next.pods[0]!.containers[0]!.expected.cpuUsageUsec;
      expect(want).not.toBe(c.expected.cpuUsageUsec);
      expect(counters(reader.read(c.relPath)).cpuUsageUsec).toBe(want);
    } finally {
      reader.close();
    }
  });

  test("a vanished cgroup is gone and its descriptors are released", async () => {
    const root = path.join(dir, "tree");
    const tree = await writeFixtureTree(root, { version: "v2", driver: "systemd", runtime: "containerd", pods: 2, containersPerPod: 1 });
    const layout = await layoutOf(root);
    const [a, b] = tree.pods.map((p) => p.containers[0]!.relPath);
    const reader = new CgroupReader(layout);
    try {
      reader.read(a!);
      reader.read(b!);
      const perCgroup = reader.openFiles / 2;
      rmSync(path.join(root, a!), { recursive: true });
      expect(reader.read(a!)).toEqual({ kind: "gone", relPath: a });
      expect(reader.openFiles).toBe(perCgroup);
    } finally {
      reader.close();
    }
  });

  test("retain closes the files of cgroups that are no longer targets", async () => {
    const root = path.join(dir, "tree");
    const tree = await writeFixtureTree(root, { version: "hybrid", driver: "cgroupfs", runtime: "docker", pods: 3, containersPerPod: 1 });
    const layout = await layoutOf(root);
    const rels = tree.pods.map((p) => p.containers[0]!.relPath);
    const reader = new CgroupReader(layout);
    try {
      for (const r of rels) reader.read(r);
      const perCgroup = reader.openFiles / 3;
      reader.retain([rels[1]!]);
      expect(reader.openFiles).toBe(perCgroup);
    } finally {
      reader.close();
    }
  });

  test("no more descriptors than maxOpenFiles are kept, and reads beyond it still work", async () => {
    const root = path.join(dir, "tree");
    const tree = await writeFixtureTree(root, { version: "v2", driver: "systemd", runtime: "containerd", pods: 3, containersPerPod: 2 });
    const layout = await layoutOf(root);
    const reader = new CgroupReader(layout, { maxOpenFiles: 5 });
    try {
      for (const pod of tree.pods) {
        for (const c of pod.containers) expect(counters(reader.read(c.relPath))).toEqual({ ...c.expected, problems: [] });
      }
      expect(reader.openFiles).toBe(5);
    } finally {
      reader.close();
    }
  });
});
